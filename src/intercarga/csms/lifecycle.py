"""A session's lifecycle: its next state from its last one and one transaction fact, computed once.

Theory of operation. Every transaction fact a station sends (a start, an update, an end, of any
version) or the CSMS makes (:class:`~intercarga.ocpp.transaction.Expire`) is first run through
the transaction state machine (:func:`intercarga.ocpp.transaction.advance`), whose
:class:`~intercarga.ocpp.transaction.Effect` says what happens to the session: open it, amend
its start, record meter values, close it, or nothing for a repeat. :func:`next_state` then
computes the session that results: meter values merged (a reading sent again is kept once),
1.6's meterStart / meterStop added as the begin / end register reading, the token, how it was
authorized, its stop reason, its end and status, and its kWh and warnings as
:mod:`intercarga.billing.readings` bills the register (one begin, the readings between, one end;
meterStop wins; steps back not billed and listed).

Both of the session service's paths call :func:`next_state`; they differ only in what they hold
and what they write. The full path holds the whole session (:meth:`SessionState.whole`, every
meter value) and stores it whole. The fast path holds a :meth:`SessionState.summary`: the session
without its meter values and a :class:`Tally` of its energy register: the register's readings
grouped by timestamp with the steps between them, so a reading of any timestamp (a station
whose clock repeats or goes back) finds its place and changes only the steps next to it, and,
when the summary is ``indexed``, fingerprints of every value held to recognise one sent again.
From a summary the next state is known when the fact just records readings between the begin
and the end reading (no begin or end reading, and not the register's first step back, which
the full path logs); an unindexed summary also needs them newer than every value held.
Otherwise :func:`next_state` answers None and the caller reads the whole session. Either way
the resulting session is the same (``tests/csms/test_lifecycle.py``,
``tests/csms/test_sessions.py``): the cost of a message does not grow with the session.

Pure: no I/O, no clock (``now`` is passed in), no logging; this module must never import
``store/``, ``web/`` or a database library.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Final

from intercarga.billing.readings import ENERGY_REGISTER, is_register, register_of
from intercarga.domain import AuthMethod, MeterValue, Session, SessionStatus
from intercarga.ocpp.events import (
    AuthorizationResult,
    AuthorizationStatus,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from intercarga.ocpp.transaction import Effect, Expire, TransactionFact

__all__ = ["CLOSING", "Next", "SessionState", "Tally", "authorized_by_emsp", "next_state"]

_BEGIN: Final = "Transaction.Begin"
_END: Final = "Transaction.End"
_BOUNDS: Final = frozenset({_BEGIN, _END})
_KILO: Final = Decimal(1000)
CLOSING: Final = frozenset(
    {Effect.CLOSE, Effect.CORRECT_CLOSE, Effect.OPEN_AND_CLOSE, Effect.CLOSE_FORCED}
)


_WORD: Final = (1 << 64) - 1


def _text(before: Decimal, after: Decimal, at: datetime) -> str:
    # Word for word what :meth:`Register.warnings` says of the same step.
    return (
        f"energy register went back from {before.normalize():f} Wh to "
        f"{after.normalize():f} Wh at {at.isoformat()}: not billed"
    )


class _Held:
    """Fingerprints of the meter values a session holds, to recognise one sent again without
    reading them: 64-bit hashes of each reading's key in an open-addressing table (8 bytes a
    slot, at most half full). Two distinct readings share a fingerprint with a chance of about
    n²/2⁶⁵ (7·10⁻¹¹ for a session of 50,000 values); the string parts of the hash are salted
    per process (PYTHONHASHSEED), so no station can aim for one."""

    __slots__ = ("_count", "_mask", "_slots")

    def __init__(self, values: Sequence[MeterValue]) -> None:
        size = 64
        while size < 2 * len(values):
            size *= 2
        self._slots = array("Q", bytes(8 * size))
        self._mask = size - 1
        self._count = 0
        for value in values:
            self.add(_fingerprint(value))

    def __contains__(self, mark: int) -> bool:
        slots, mask = self._slots, self._mask
        at = mark & mask
        while (held := slots[at]) != 0:
            if held == mark:
                return True
            at = (at + 1) & mask
        return False

    def add(self, mark: int) -> None:
        if 2 * (self._count + 1) > len(self._slots):
            old = self._slots
            self._slots = array("Q", bytes(16 * len(old)))
            self._mask = len(self._slots) - 1
            self._count = 0
            for held in old:
                if held:
                    self._place(held)
        self._place(mark)

    def _place(self, mark: int) -> None:
        slots, mask = self._slots, self._mask
        at = mark & mask
        while (held := slots[at]) != 0:
            if held == mark:
                return
            at = (at + 1) & mask
        slots[at] = mark
        self._count += 1


def _fingerprint(value: MeterValue) -> int:
    return (hash(_reading_key(value)) & _WORD) or 1  # 0 marks an empty slot


@dataclass(slots=True)
class Tally:
    """A session's energy register as billed so far, for the fast path, ordered so that a
    reading of any timestamp finds its place and its neighbours without the whole series.

    The readings between the begin and the end reading are grouped by timestamp (``stamps``,
    ascending; ``groups``: each timestamp's first and last value and how many readings it has):
    a new reading goes last among those of its timestamp, as the stable sort of
    :mod:`intercarga.billing.readings` puts it, so only the steps into and out of it change.
    ``back`` holds the steps back (not billed) by the position of the reading after the step
    (timestamp, index among that timestamp's readings), with the warning billing words for it;
    ``delivered_wh`` is the energy of the steps forward. ``newest``: the latest timestamp
    among all the session's meter values. ``held``: fingerprints of every meter value held,
    to recognise repeats (None: not kept, and any value not newer than ``newest`` could be
    one). A tally moves on when it extends: the one extended, and one that answered None
    after changing, answer None from then on (only the whole session can tell).
    """

    begin: Decimal | None
    closed: bool
    stamps: list[datetime]
    groups: list[tuple[Decimal, Decimal, int]]
    back: dict[tuple[datetime, int], str]
    delivered_wh: Decimal
    newest: datetime | None
    held: _Held | None = field(default=None, compare=False, repr=False)
    spent: bool = field(default=False, compare=False, repr=False)

    @classmethod
    def of(cls, values: Sequence[MeterValue]) -> Tally:
        registers = [v for v in values if is_register(v)]
        begins = [v for v in registers if v.context == _BEGIN]
        ends = [v for v in registers if v.context == _END]
        begin = min(begins, key=_at) if begins else None  # the first of the earliest
        tally = cls(
            begin.value if begin is not None else None,
            bool(ends),
            [],
            [],
            {},
            Decimal(0),
            max((v.timestamp for v in values), default=None),
        )
        for reading in sorted((v for v in registers if v.context not in _BOUNDS), key=_at):
            tally._insert(reading)
        if ends:
            end = max(reversed(ends), key=_at)  # the last given of the latest timestamp
            last = tally.groups[-1][1] if tally.groups else tally.begin
            if last is not None and end.value >= last:
                tally.delivered_wh += end.value - last
        return tally

    def indexed(self, values: Sequence[MeterValue]) -> Tally:
        """This tally keeping the fingerprints of ``values``, the session's meter values."""
        return replace(self, held=_Held(values))

    def warnings(self) -> list[str]:
        """:meth:`Register.warnings` of the series (no end reading: the fast path has none)."""
        return [self.back[position] for position in sorted(self.back)]

    def extended(self, new: Sequence[MeterValue]) -> Tally | None:
        """The tally after ``new`` values (in time order), as :func:`register_of` over every
        value would give it; None when only the whole series can tell (:meth:`grown`)."""
        grown = self.grown(new)
        return grown[0] if grown is not None else None

    def grown(self, new: Sequence[MeterValue]) -> tuple[Tally, list[MeterValue]] | None:
        """The tally after ``new`` values (in time order) and those of them not held before
        (a reading sent again is kept once); None when only the whole series can tell: a
        begin or end reading (billing moves it), a series already closed by an end reading
        (billing reads it last), a value not newer than every one held when the fingerprints
        are not kept (it could repeat one), the first step back of the register (billing
        flags it: the full path reads the whole and logs it), or a tally already moved on."""
        if self.spent or self.closed:
            return None
        if any(is_register(v) and v.context in _BOUNDS for v in new):
            return None
        newest, held = self.newest, self.held
        added: list[MeterValue] = []
        marks: list[int] = []
        for value in new:
            if newest is not None and value.timestamp <= newest:
                if held is None:
                    return None
                mark = _fingerprint(value)
                if mark in held:
                    continue
                marks.append(mark)
            elif held is not None:
                marks.append(_fingerprint(value))
            added.append(value)
        flagged = bool(self.back)
        self.spent = True  # changed below: whatever happens, this tally has moved on
        for reading in added:
            if is_register(reading):
                self._insert(reading)
        if self.back and not flagged:
            return None
        if held is not None:
            for mark in marks:
                held.add(mark)
        if added:
            latest = max(v.timestamp for v in added)
            newest = latest if newest is None else max(newest, latest)
        following = replace(self, newest=newest, spent=False)
        return following, added

    def _insert(self, reading: MeterValue) -> None:
        """Put a reading between begin and end in its place: last among its timestamp's."""
        at, value = reading.timestamp, reading.value
        stamps, groups = self.stamps, self.groups
        index = bisect_right(stamps, at)
        if index and stamps[index - 1] == at:
            index -= 1
            first, last, count = groups[index]
            self._step(last, value, (at, count), at)
            groups[index] = (first, value, count + 1)
        else:
            before = groups[index - 1][1] if index else self.begin
            stamps.insert(index, at)
            groups.insert(index, (value, value, 1))
            if before is not None:
                self._step(before, value, (at, 0), at)
            index += 1
            if index >= len(stamps):
                return
            self._unstep(before, groups[index][0], (stamps[index], 0))
            self._step(value, groups[index][0], (stamps[index], 0), stamps[index])
            return
        if index + 1 < len(stamps):
            following = (stamps[index + 1], 0)
            self._unstep(last, groups[index + 1][0], following)
            self._step(value, groups[index + 1][0], following, stamps[index + 1])

    def _step(
        self, before: Decimal, after: Decimal, position: tuple[datetime, int], at: datetime
    ) -> None:
        if after < before:
            self.back[position] = _text(before, after, at)
        else:
            self.delivered_wh += after - before

    def _unstep(
        self, before: Decimal | None, after: Decimal, position: tuple[datetime, int]
    ) -> None:
        """Take back the step from ``before`` to ``after`` (a reading now goes between)."""
        if before is None:
            return
        if after < before:
            del self.back[position]
        else:
            self.delivered_wh -= after - before


@dataclass(frozen=True, slots=True)
class SessionState:
    """A session as last stored, with as much of it as the holder keeps.

    ``complete``: ``session.meter_values`` holds every value (the full path). Otherwise they are
    left out and ``tally`` stands for them (the fast path's memory)."""

    session: Session
    tally: Tally
    complete: bool

    @classmethod
    def whole(cls, session: Session) -> SessionState:
        return cls(session, Tally.of(session.meter_values), complete=True)

    def summary(self, *, indexed: bool = False) -> SessionState:
        """The same state without the meter values: what the fast path keeps in memory.
        ``indexed``: keeping the fingerprints of the meter values (:class:`Tally`), so that
        values not newer than every one held (a station with a bad clock) are told from
        repeats without the whole session."""
        if not self.complete:
            return self
        tally = self.tally.indexed(self.session.meter_values) if indexed else self.tally
        return SessionState(
            self.session.model_copy(update={"meter_values": []}), tally, complete=False
        )


@dataclass(frozen=True, slots=True)
class Next:
    """What one fact makes of a session: its next state and the meter values the fact added
    (in time order; the fast path appends just these)."""

    state: SessionState
    added: tuple[MeterValue, ...]
    closed: bool

    @property
    def session(self) -> Session:
        return self.state.session


def next_state(
    last: SessionState,
    fact: TransactionFact,
    effect: Effect,
    *,
    verdict: AuthorizationResult | None,
    now: datetime,
) -> Next | None:
    """The session after ``fact``, whose state-machine step had ``effect`` (not a repeat), with
    ``verdict`` on its token; None when ``last`` is a summary and only the whole session can
    tell (module docstring)."""
    session = last.session
    closed = effect in CLOSING
    changes: dict[str, object] = {"last_updated": now}
    signed = list(session.signed_meter_values)
    new: list[MeterValue] = []
    if not isinstance(fact, Expire):
        new = _merge([], fact.meter_values)
        signed.extend(v for v in fact.signed_meter_values if v not in signed)
        if fact.id_token is not None and session.token_uid is None:
            changes["token_uid"] = fact.id_token.value
    changes["signed_meter_values"] = signed
    if not last.complete:
        # The fast path: only an update that records readings is known without the whole.
        if (
            effect is not Effect.RECORD
            or not isinstance(fact, TransactionUpdated)
            or fact.remote_start_id is not None
        ):
            return None
        grown = last.tally.grown(new)
        if grown is None:
            return None
        tally, fresh = grown
        changes["kwh"] = tally.delivered_wh / _KILO
        if tally.back or session.warnings:
            changes["warnings"] = tally.warnings()
        following = _authorized(session.model_copy(update=changes), verdict)
        return Next(SessionState(following, tally, complete=False), tuple(fresh), closed)

    held = list(session.meter_values)
    values = _merge(held, tuple(new))
    if isinstance(fact, TransactionStarted):
        if fact.timestamp < session.start_date_time or effect is Effect.AMEND_START:
            changes["start_date_time"] = min(fact.timestamp, session.start_date_time)
        _with_reading(values, fact.timestamp, fact.meter_start, "Transaction.Begin")
    if (
        isinstance(fact, TransactionStarted | TransactionUpdated)
        and fact.remote_start_id is not None
    ):
        changes["auth_method"] = AuthMethod.COMMAND
    if isinstance(fact, TransactionEnded):
        _with_reading(values, fact.timestamp, fact.meter_stop, "Transaction.End")
        if fact.stop_reason is not None and effect is not Effect.RECORD_LATE:
            changes["stop_reason"] = fact.stop_reason.value
    elif isinstance(fact, Expire):
        changes["stop_reason"] = fact.reason
    values.sort(key=lambda v: v.timestamp)
    if closed:
        end = fact.timestamp
        if isinstance(fact, Expire):
            end = max((v.timestamp for v in values), default=session.start_date_time)
        changes["end_date_time"] = max(end, session.start_date_time)
        changes["status"] = SessionStatus.COMPLETED
    register = register_of(values)
    changes["meter_values"] = values
    changes["kwh"] = register.kwh
    changes["warnings"] = register.warnings()
    following = _authorized(session.model_copy(update=changes), verdict)
    known = {_reading_key(v) for v in held}
    added = tuple(v for v in values if _reading_key(v) not in known)
    return Next(SessionState.whole(following), added, closed)


def authorized_by_emsp(session: Session, verdict: AuthorizationResult | None) -> dict[str, object]:
    """The session's changes when its token's eMSP accepted it in real time: OCPI's
    AUTH_REQUEST (unless a command started it) and the eMSP's authorization_reference, kept
    from the first such answer."""
    if (
        verdict is None
        or not verdict.real_time
        or verdict.status is not AuthorizationStatus.ACCEPTED
        or session.authorization_reference is not None
    ):
        return {}
    changes: dict[str, object] = {"authorization_reference": verdict.authorization_reference}
    if session.auth_method is not AuthMethod.COMMAND:
        changes["auth_method"] = AuthMethod.AUTH_REQUEST
    return changes


def _authorized(session: Session, verdict: AuthorizationResult | None) -> Session:
    changes = authorized_by_emsp(session, verdict)
    return session.model_copy(update=changes) if changes else session


def _with_reading(values: list[MeterValue], at: datetime, wh: Decimal | None, context: str) -> None:
    """Add the start or stop register reading a fact states (1.6 meterStart / meterStop: required,
    the station's own word), unless its meter values hold that very reading (2.x stations send it
    as a Transaction.Begin / End sample stamped when it was read, or unlabelled at the fact's
    time). Added last, a meterStop is the end reading billing reads
    (:mod:`intercarga.billing.readings`)."""
    if wh is None:
        return
    if any(
        is_register(v) and v.value == wh and (v.context == context or v.timestamp == at)
        for v in values
    ):
        return
    values.append(
        MeterValue(timestamp=at, measurand=ENERGY_REGISTER, value=wh, unit="Wh", context=context)
    )


def _reading_key(value: MeterValue) -> tuple[object, ...]:
    # The same reading, sent again: a Begin and an End reading stamped alike are two readings.
    return (
        value.timestamp,
        value.measurand,
        value.phase,
        value.location,
        value.context,
        value.unit,
        value.value,
    )


def _merge(values: list[MeterValue], new: tuple[MeterValue, ...]) -> list[MeterValue]:
    seen = {_reading_key(v) for v in values}
    merged = list(values)
    for value in new:
        key = _reading_key(value)
        if key not in seen:
            seen.add(key)
            merged.append(value)
    merged.sort(key=lambda v: v.timestamp)
    return merged


def _at(value: MeterValue) -> datetime:
    return value.timestamp
