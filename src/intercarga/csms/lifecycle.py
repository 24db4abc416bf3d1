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
without its meter values and a :class:`Tally` of its energy register. From a summary the next
state is known only when the fact just records newer readings that move the register forward
(no begin or end reading, nothing back, nothing already stored); otherwise :func:`next_state`
answers None and the caller reads the whole session. Either way the resulting session is the
same (``tests/csms/test_lifecycle.py``, ``tests/csms/test_sessions.py``).

Pure: no I/O, no clock (``now`` is passed in), no logging; this module must never import
``store/``, ``web/`` or a database library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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

_BOUNDS: Final = frozenset({"Transaction.Begin", "Transaction.End"})
_KILO: Final = Decimal(1000)
CLOSING: Final = frozenset(
    {Effect.CLOSE, Effect.CORRECT_CLOSE, Effect.OPEN_AND_CLOSE, Effect.CLOSE_FORCED}
)


@dataclass(frozen=True, slots=True)
class Tally:
    """A session's energy register as billed so far, for the fast path: its last reading, the
    energy its readings delivered, and the newest timestamp among all its meter values."""

    last: MeterValue | None
    delivered_wh: Decimal
    newest: datetime | None

    @classmethod
    def of(cls, values: Sequence[MeterValue]) -> Tally:
        register = register_of(values)
        newest = max((v.timestamp for v in values), default=None)
        return cls(register.last, register.delivered_wh, newest)

    def extended(self, new: Sequence[MeterValue]) -> Tally | None:
        """The tally after ``new`` values (in time order), as :func:`register_of` over every
        value would give it; None when only the whole series can tell: a value not newer than
        every one held (it could repeat one), a begin or end reading (billing moves it), a
        register going back (billing flags it), or a series already closed by an end reading
        (billing reads it last: newer readings go before it)."""
        if self.newest is not None and any(v.timestamp <= self.newest for v in new):
            return None
        last, delivered = self.last, self.delivered_wh
        if last is not None and last.context == "Transaction.End":
            return None
        for reading in new:
            if not is_register(reading):
                continue
            if reading.context in _BOUNDS:
                return None
            if last is not None:
                if reading.value < last.value:
                    return None
                delivered += reading.value - last.value
            last = reading
        return Tally(last, delivered, new[-1].timestamp if new else self.newest)


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

    def summary(self) -> SessionState:
        """The same state without the meter values: what the fast path keeps in memory."""
        if not self.complete:
            return self
        return SessionState(
            self.session.model_copy(update={"meter_values": []}), self.tally, complete=False
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
        tally = last.tally.extended(new)
        if tally is None:
            return None
        changes["kwh"] = tally.delivered_wh / _KILO
        following = _authorized(session.model_copy(update=changes), verdict)
        return Next(SessionState(following, tally, complete=False), tuple(new), closed)

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
