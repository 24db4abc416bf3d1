"""The life of one OCPP transaction as the CSMS sees it, written down once as a table.

Theory of operation
===================

A charging station reports a transaction in pieces: a start (1.6 StartTransaction, 2.x
TransactionEvent ``Started``), updates (1.6 MeterValues naming the transaction, 2.x ``Updated``)
and an end (1.6 StopTransaction, 2.x ``Ended``). The adapters have already turned them into
:class:`~intercarga.ocpp.events.TransactionStarted`, ``TransactionUpdated`` and
``TransactionEnded``; this module decides what each one means for the transaction, whatever the
version. The real world is the hard part, and the rules below are all there is:

1. **Repeats change nothing.** A station resends a message whose answer it did not get. A fact
   whose ``seq_no`` was already seen, or (for stations that do not number their messages, 1.6)
   whose kind and timestamp were already seen, is a ``DUPLICATE``: answer it again, store
   nothing new.
2. **Every fact is acknowledged and kept, in any order.** Offline stations replay their queue
   (``offline = True``) and messages can be lost, so an update may arrive before its start, a start
   after its end, a StopTransaction for a transaction we never heard of. None is refused: the
   table says what each means in each state. Facts older than the newest one seen are ``late``.
3. **A transaction ends once.** Nothing reopens an ended transaction; a second end is kept as a late
   record. A transaction that never ends is closed by the CSMS (:class:`Expire`, after a
   configurable silence, see :func:`expire_due`); if the station's own end arrives afterwards,
   it replaces the forced one (``CORRECT_CLOSE``).
4. **Gaps are visible.** 2.x stations number their messages from the start; the record keeps the
   numbers seen, :attr:`TransactionRecord.missing_seq_nos` lists the holes and
   :attr:`TransactionRecord.complete` says when nothing is missing.

States: ``UNKNOWN`` (nothing heard yet), ``ACTIVE``, ``ENDED`` (by the station) and ``EXPIRED``
(closed by the CSMS). Inputs: ``START``, ``UPDATE``, ``END`` (from the station) and ``EXPIRE``
(from the CSMS). :data:`TRANSITIONS` is the whole machine; :func:`advance` is its only
interpreter and the only way a record changes state. A transition that is not in the table cannot
happen: station inputs are defined in every state (rule 2), and ``EXPIRE`` is defined only for an
``ACTIVE`` transaction, so closing anything else raises :class:`IllegalTransitionError`.

===========  ===========================  ===========================  ==========================
state        START                        UPDATE                       END
===========  ===========================  ===========================  ==========================
UNKNOWN      ACTIVE, OPEN                 ACTIVE, OPEN_IMPLIED         ENDED, OPEN_AND_CLOSE
ACTIVE       ACTIVE, AMEND_START          ACTIVE, RECORD               ENDED, CLOSE
ENDED        ENDED, AMEND_START           ENDED, RECORD_LATE           ENDED, RECORD_LATE
EXPIRED      EXPIRED, AMEND_START         EXPIRED, RECORD_LATE         ENDED, CORRECT_CLOSE
===========  ===========================  ===========================  ==========================

and ``ACTIVE`` + ``EXPIRE`` → ``EXPIRED``, ``CLOSE_FORCED``.

:class:`Effect` tells the session service what to do with the fact; storing it before the
station is answered is the service's job. This module is pure: it must never do I/O, read a
clock or know which OCPP version a fact came from.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from intercarga.errors import IntercargaError
from intercarga.ocpp.events import TransactionEnded, TransactionStarted, TransactionUpdated

__all__ = [
    "TRANSITIONS",
    "Effect",
    "Expire",
    "IllegalTransitionError",
    "SeqNos",
    "Step",
    "TransactionFact",
    "TransactionRecord",
    "TxInput",
    "TxState",
    "advance",
    "expire_due",
]


class TxState(StrEnum):
    UNKNOWN = "unknown"
    ACTIVE = "active"
    ENDED = "ended"
    EXPIRED = "expired"


class TxInput(StrEnum):
    START = "start"
    UPDATE = "update"
    END = "end"
    EXPIRE = "expire"


class Effect(StrEnum):
    """What a fact means for the session (see the module docstring's table)."""

    OPEN = "open"  # create the session from the start
    OPEN_IMPLIED = "open_implied"  # create it from an update: the start was missed
    OPEN_AND_CLOSE = "open_and_close"  # an end for a transaction never seen: record it closed
    AMEND_START = "amend_start"  # a start arrived late: fill in start facts, state unchanged
    RECORD = "record"  # add meter values / charging state
    RECORD_LATE = "record_late"  # keep the values, change nothing else
    CLOSE = "close"  # end the session with the station's end facts
    CLOSE_FORCED = "close_forced"  # the CSMS ends a session the station never ended
    CORRECT_CLOSE = "correct_close"  # the station's end replaces the CSMS's forced one
    DUPLICATE = "duplicate"  # seen before: store nothing, answer as before


TRANSITIONS: Final[Mapping[tuple[TxState, TxInput], tuple[TxState, Effect]]] = {
    (TxState.UNKNOWN, TxInput.START): (TxState.ACTIVE, Effect.OPEN),
    (TxState.UNKNOWN, TxInput.UPDATE): (TxState.ACTIVE, Effect.OPEN_IMPLIED),
    (TxState.UNKNOWN, TxInput.END): (TxState.ENDED, Effect.OPEN_AND_CLOSE),
    (TxState.ACTIVE, TxInput.START): (TxState.ACTIVE, Effect.AMEND_START),
    (TxState.ACTIVE, TxInput.UPDATE): (TxState.ACTIVE, Effect.RECORD),
    (TxState.ACTIVE, TxInput.END): (TxState.ENDED, Effect.CLOSE),
    (TxState.ACTIVE, TxInput.EXPIRE): (TxState.EXPIRED, Effect.CLOSE_FORCED),
    (TxState.ENDED, TxInput.START): (TxState.ENDED, Effect.AMEND_START),
    (TxState.ENDED, TxInput.UPDATE): (TxState.ENDED, Effect.RECORD_LATE),
    (TxState.ENDED, TxInput.END): (TxState.ENDED, Effect.RECORD_LATE),
    (TxState.EXPIRED, TxInput.START): (TxState.EXPIRED, Effect.AMEND_START),
    (TxState.EXPIRED, TxInput.UPDATE): (TxState.EXPIRED, Effect.RECORD_LATE),
    (TxState.EXPIRED, TxInput.END): (TxState.ENDED, Effect.CORRECT_CLOSE),
}
"""The transaction state machine: (state, input) → (next state, effect). Nothing else moves it."""


@dataclass(frozen=True, slots=True)
class Expire:
    """The CSMS closes a transaction the station never ended (``reason`` for the record)."""

    timestamp: datetime
    reason: str = "Timeout"


TransactionFact = TransactionStarted | TransactionUpdated | TransactionEnded | Expire

_INPUT: Final[Mapping[type, TxInput]] = {
    TransactionStarted: TxInput.START,
    TransactionUpdated: TxInput.UPDATE,
    TransactionEnded: TxInput.END,
    Expire: TxInput.EXPIRE,
}

# Without seqNo, how many (kind, timestamp) fingerprints a record keeps to recognise repeats.
_FINGERPRINTS_KEPT: Final = 64


class SeqNos(Set[int]):
    """The sequence numbers seen, as sorted disjoint ranges (first, last), both included.

    A station numbers its messages in order, so a transaction's numbers are one range or a few
    whatever its length: adding the next one, testing one and storing them cost the same at the
    5,000th message as at the first (a set of every number grows with the session). Immutable.
    """

    __slots__ = ("_ranges",)

    def __init__(self, numbers: Set[int] | tuple[int, ...] | list[int] = ()) -> None:
        ranges: list[tuple[int, int]] = []
        for number in sorted(set(numbers)):
            if ranges and ranges[-1][1] + 1 == number:
                ranges[-1] = (ranges[-1][0], number)
            else:
                ranges.append((number, number))
        self._ranges: tuple[tuple[int, int], ...] = tuple(ranges)

    @classmethod
    def of_ranges(cls, ranges: tuple[tuple[int, int], ...]) -> SeqNos:
        made = cls()
        made._ranges = ranges
        return made

    @property
    def ranges(self) -> tuple[tuple[int, int], ...]:
        return self._ranges

    @property
    def highest(self) -> int | None:
        return self._ranges[-1][1] if self._ranges else None

    def __contains__(self, number: object) -> bool:
        ranges = self._ranges
        if not isinstance(number, int) or not ranges:
            return False
        if ranges[-1][0] <= number:  # the usual case: the last range
            return number <= ranges[-1][1]
        at = bisect_right(ranges, (number, float("inf"))) - 1
        return at >= 0 and ranges[at][0] <= number <= ranges[at][1]

    def __iter__(self) -> Iterator[int]:
        for first, last in self._ranges:
            yield from range(first, last + 1)

    def __len__(self) -> int:
        return sum(last - first + 1 for first, last in self._ranges)

    def __bool__(self) -> bool:
        return bool(self._ranges)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SeqNos):
            return self._ranges == other._ranges
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(self._ranges)

    def __repr__(self) -> str:
        return f"SeqNos.of_ranges({self._ranges!r})"

    def with_number(self, number: int) -> SeqNos:
        """These numbers and ``number``."""
        ranges = self._ranges
        if ranges and ranges[-1][1] + 1 == number:  # the next one: the last range grows
            return SeqNos.of_ranges((*ranges[:-1], (ranges[-1][0], number)))
        if number in self:
            return self
        return SeqNos((*self, number))

    def missing(self, first: int) -> tuple[int, ...]:
        """The numbers from ``first`` to the highest seen that are not here."""
        found: list[int] = []
        expected = first
        for low, high in self._ranges:
            if high < expected:
                continue
            found.extend(range(expected, low))
            expected = high + 1
        return tuple(found)


class IllegalTransitionError(IntercargaError):
    """The CSMS asked for a transition the table does not have (e.g. expiring an ended one)."""


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """Everything the machine needs to remember about one transaction; store it as is.

    Create one with ``TransactionRecord(transaction_id)``; only :func:`advance` makes the next
    one. :meth:`snapshot` / :meth:`from_snapshot` round-trip it through JSON.
    """

    transaction_id: str
    state: TxState = TxState.UNKNOWN
    # Any set of numbers is taken; the record keeps them as :class:`SeqNos`.
    seq_nos: Set[int] = SeqNos()
    fingerprints: tuple[tuple[str, str], ...] = ()
    start_seq_no: int | None = None
    started: bool = False
    offline: bool = False
    last_activity: datetime | None = None
    newest: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.seq_nos, SeqNos):
            object.__setattr__(self, "seq_nos", SeqNos(self.seq_nos))

    @property
    def seen(self) -> SeqNos:
        """The sequence numbers seen, as ranges."""
        seq_nos = self.seq_nos
        return seq_nos if isinstance(seq_nos, SeqNos) else SeqNos(seq_nos)

    @property
    def missing_seq_nos(self) -> tuple[int, ...]:
        """Sequence numbers between the start (or 0) and the newest one that never arrived."""
        first = self.start_seq_no if self.start_seq_no is not None else 0
        return self.seen.missing(first)

    @property
    def complete(self) -> bool:
        """Ended by the station, its start seen, and no numbered message missing."""
        return self.state is TxState.ENDED and self.started and not self.missing_seq_nos

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready dict of the record."""
        return {
            "transaction_id": self.transaction_id,
            "state": self.state.value,
            "seq_ranges": [list(pair) for pair in self.seen.ranges],
            "fingerprints": [list(f) for f in self.fingerprints],
            "start_seq_no": self.start_seq_no,
            "started": self.started,
            "offline": self.offline,
            "last_activity": self.last_activity.isoformat() if self.last_activity else None,
            "newest": self.newest.isoformat() if self.newest else None,
        }

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> TransactionRecord:
        """The record a :meth:`snapshot` was taken of."""
        return cls(
            transaction_id=data["transaction_id"],
            state=TxState(data["state"]),
            seq_nos=SeqNos.of_ranges(tuple((low, high) for low, high in data["seq_ranges"]))
            if "seq_ranges" in data
            else SeqNos(data.get("seq_nos", [])),  # as records were stored before ranges
            fingerprints=tuple((kind, when) for kind, when in data.get("fingerprints", ())),
            start_seq_no=data.get("start_seq_no"),
            started=data.get("started", False),
            offline=data.get("offline", False),
            last_activity=datetime.fromisoformat(data["last_activity"])
            if data.get("last_activity")
            else None,
            newest=datetime.fromisoformat(data["newest"]) if data.get("newest") else None,
        )


@dataclass(frozen=True, slots=True)
class Step:
    """What one fact did: the effect to carry out and the states around it."""

    effect: Effect
    before: TxState
    after: TxState
    late: bool = False

    @property
    def duplicate(self) -> bool:
        return self.effect is Effect.DUPLICATE


def advance(record: TransactionRecord, fact: TransactionFact) -> tuple[TransactionRecord, Step]:
    """Apply ``fact`` to ``record``: the next record and the step taken. Pure.

    Raises :class:`IllegalTransitionError` only for a CSMS input the table does not allow
    (:class:`Expire` of a transaction that is not active); station facts always have a step.
    """
    kind = _INPUT[type(fact)]
    if not isinstance(fact, Expire) and fact.transaction_id != record.transaction_id:
        raise ValueError(
            f"fact of transaction {fact.transaction_id!r} given to {record.transaction_id!r}"
        )
    seq_no = None if isinstance(fact, Expire) else fact.seq_no
    fingerprint = (kind.value, fact.timestamp.isoformat())
    seen = record.seen
    if (seq_no is not None and seq_no in seen) or (
        seq_no is None and kind is not TxInput.EXPIRE and fingerprint in record.fingerprints
    ):
        return record, Step(Effect.DUPLICATE, record.state, record.state)

    target = TRANSITIONS.get((record.state, kind))
    if target is None:
        raise IllegalTransitionError(
            f"transaction {record.transaction_id} cannot {kind.value} when {record.state.value}"
        )
    state, effect = target
    late = record.newest is not None and fact.timestamp < record.newest
    highest = seen.highest
    if seq_no is not None and highest is not None and seq_no < highest:
        late = True

    changes: dict[str, Any] = {"state": state}
    if kind is not TxInput.EXPIRE:
        assert not isinstance(fact, Expire)
        if seq_no is not None:
            changes["seq_nos"] = seen.with_number(seq_no)
        else:
            changes["fingerprints"] = (*record.fingerprints, fingerprint)[-_FINGERPRINTS_KEPT:]
        if kind is TxInput.START:
            changes["started"] = True
            changes["start_seq_no"] = seq_no
        changes["offline"] = record.offline or fact.offline
        changes["newest"] = max(record.newest, fact.timestamp) if record.newest else fact.timestamp
    changes["last_activity"] = (
        max(record.last_activity, fact.timestamp) if record.last_activity else fact.timestamp
    )
    return replace(record, **changes), Step(effect, record.state, state, late)


def expire_due(record: TransactionRecord, now: datetime, silence: timedelta) -> bool:
    """Whether an active transaction has been silent for ``silence`` and should be expired."""
    return (
        record.state is TxState.ACTIVE
        and record.last_activity is not None
        and now - record.last_activity >= silence
    )
