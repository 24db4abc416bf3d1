"""Sessions from OCPP transactions: every start, update and end, of any version, into one Session.

Each transaction fact is run through the transaction state machine
(:mod:`intercarga.ocpp.transaction`), whose effect says what happens to the session, and the
session's next state is computed once, purely, by :func:`intercarga.csms.lifecycle.next_state`
(open it, amend its start, record meter values, close it, or nothing for a repeat). This module
orders the work around it: it reads what the computation needs, stores the outcome before the
station is answered and before the domain events go out, and keeps the fast path's memory. A
fact for a station EVSE that no Location EVSE is mapped to is still stored (``location_id``
UNMAPPED) and logged: nothing a station reports is dropped.

The hot path: between two messages of an active transaction the service keeps its record and a
summary of its session (without the meter values) in memory, per station, while the station is
connected; when it reconnects or disconnects the summary is set aside (:meth:`park`) and taken back
by its next message if the transaction's stored record is the one set aside (no other node and no
expiry moved it meanwhile), so a station that reconnects and replays its queue does not make the
service read its whole session again. An update that only adds newer meter values (the periodic
TransactionEvent Updated or 1.6 MeterValues) is then stored as one small write: the session's row,
the new meter values and the record, committed with other stations' writes (group commit,
:meth:`Store.write`), whatever the values' timestamps: the summary is indexed (fingerprints of the
values held, the register ordered by time), so a station whose clock repeats or goes back costs no
more per message as its session grows. Anything else (a start, an end, the register's first step
back, a cache miss: whatever :func:`~intercarga.csms.lifecycle.next_state` cannot tell from the
summary) takes the full path, which reads the session whole and stores it, with the record and the
CDR of an end, in one atomic write: a new session whole, a stored one as its row and the meter
values the fact added (it never drops one), not all of them again. The two paths differ only in
what they read and write. A station's messages are handled one at a time. ``SessionChanged`` after
a hot-path update carries the session with the meter values that message added; the store holds
them all.

Billing: kWh and the CDR read the energy register as :mod:`intercarga.billing.readings` does (one
begin, the readings between, one end; steps back not billed and listed in ``Session.warnings``).
A fact stating a value no meter or clock can produce is refused with a CALLERROR before anything
is stored. An ended session is stored with its CDR, made first (:mod:`intercarga.csms.cdrs`),
or with ``no_cdr_reason``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from babel.numbers import get_territory_currencies

from intercarga.billing.readings import ENERGY_REGISTER
from intercarga.bus import EventBus
from intercarga.csms.authorization import Authorizer
from intercarga.csms.cdrs import CdrMaker
from intercarga.csms.lifecycle import SessionState, next_state
from intercarga.domain import AuthMethod, Cdr, Session, SessionStatus, Station, Tariff
from intercarga.domain._types import utc_now
from intercarga.domain.events import CdrCreated, SessionChanged
from intercarga.domain.money import MINOR_UNITS
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.events import (
    AuthorizationResult,
    AuthorizationStatus,
    TransactionDecision,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from intercarga.ocpp.transaction import (
    Expire,
    TransactionFact,
    TransactionRecord,
    TxState,
    advance,
)
from intercarga.store import Store
from intercarga.store.transactions import StoredTransaction

__all__ = ["PARKED", "UNMAPPED", "SessionService", "currency_for"]

log = logging.getLogger(__name__)

UNMAPPED = "UNMAPPED"
_REGISTER = ENERGY_REGISTER

_REMOTE_START_WINDOW = timedelta(minutes=10)
# Transactions whose summaries are kept for stations that reconnected or disconnected
# (SessionService.park): a network blip that drops this many stations at once costs the others
# a read of their whole session on their next message.
PARKED = 2000
# What a station's message may state (see _implausible): a clock at most a year ahead of ours
# (wrong clocks are common, and the simulator's runs --speed times faster than ours; a year
# ahead is no clock at all), none before the Unix epoch, and no value above a terawatt-hour in
# Wh (a fast charger's lifetime is some 3e10 Wh).
_CLOCK_AHEAD = timedelta(days=366)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LARGEST = Decimal(10) ** 12

StationFact = TransactionStarted | TransactionUpdated | TransactionEnded


def currency_for(country_code: str) -> str:
    """The legal tender of a country that this system can settle in (CLP for CL, …)."""
    for code in get_territory_currencies(country_code, date.today()):
        if code in MINOR_UNITS:
            return code
    return "USD"


def _implausible(fact: StationFact, now: datetime) -> str | None:
    """What in ``fact`` no meter or clock can have produced, or None. Such values would be
    stored, billed and priced (a CDR over 8000 years, or of 1e25 Wh, cannot be priced)."""
    latest = now + _CLOCK_AHEAD
    times = [("timestamp", fact.timestamp)]
    times.extend(("meter value timestamp", v.timestamp) for v in fact.meter_values)
    for what, moment in times:
        if moment > latest or moment < _EPOCH:
            return (
                f"{what} {moment.isoformat()} is not plausible: more than a year ahead of the "
                f"CSMS clock ({now.isoformat()}), or before 1970"
            )
    wh = fact.meter_start if isinstance(fact, TransactionStarted) else None
    wh = fact.meter_stop if isinstance(fact, TransactionEnded) else wh
    readings = [(_REGISTER, wh)] if wh is not None else []
    readings.extend((v.measurand, v.value) for v in fact.meter_values)
    for measurand, value in readings:
        if abs(value) > _LARGEST or (measurand.endswith(".Register") and value < 0):
            return f"{measurand} {value.normalize():E} is beyond what any meter reads"
    return None


@dataclass(frozen=True, slots=True)
class _Hot:
    """An active transaction as last stored: what the next update needs without reading it."""

    row: StoredTransaction
    record: TransactionRecord
    state: SessionState  # a summary: its meter values are in the store


def _authorizes_start(fact: StationFact) -> bool:
    """Whether the fact's token is what lets the transaction start (not what ends it)."""
    if isinstance(fact, TransactionStarted):
        return True
    return isinstance(fact, TransactionUpdated) and fact.trigger == "Authorized"


class SessionService:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        authorizer: Authorizer,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._bus = bus
        self._authorizer = authorizer
        self._clock = clock
        self._cdrs = CdrMaker(store, authorizer)
        # Remote starts the CSMS asked for, by (station, token): OCPP 1.6 StartTransaction does
        # not say it follows a RemoteStartTransaction, so the session is matched to it here.
        self._remote_starts: dict[tuple[str, str], datetime] = {}
        # The hot path's memory (module docstring): by station, then by transaction id.
        self._hot: dict[str, dict[str, _Hot]] = {}
        # What was kept of the transactions of stations that (re)connected or disconnected, by
        # (station, transaction id), oldest first: taken back when the transaction's stored
        # record shows nothing happened to it meanwhile (:meth:`park`).
        self._parked: OrderedDict[tuple[str, str], _Hot] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    def forget(self, station_id: str) -> None:
        """Drop what is kept in memory about a station's transactions (its transactions changed
        elsewhere, or a write failed); the next message reads the store."""
        self._hot.pop(station_id, None)
        for key in [key for key in self._parked if key[0] == station_id]:
            del self._parked[key]

    def park(self, station_id: str) -> None:
        """Set aside what is kept about a station's transactions: it (re)connected or
        disconnected, and may speak to another node meanwhile. The next message of such a
        transaction reads its stored record (one row, as any message without memory does) and,
        when it is the very record set aside, the summary is taken back: a station that
        reconnects and replays its queue costs no read of its whole session (issue 16). At most
        :data:`PARKED` transactions are set aside, the oldest dropped first."""
        for transaction_id, hot in self._hot.pop(station_id, {}).items():
            key = (station_id, transaction_id)
            self._parked.pop(key, None)
            self._parked[key] = hot
        while len(self._parked) > PARKED:
            self._parked.popitem(last=False)

    def _resume(self, row: StoredTransaction) -> bool:
        """Take back the parked summary of ``row``'s transaction if ``row`` holds the record it
        was parked with (nobody wrote the transaction since); True: it is in memory again."""
        hot = self._parked.pop((row.station_id, row.transaction_id), None)
        if hot is None or not row.record:
            return False
        stored = TransactionRecord.from_snapshot(row.record).snapshot()
        if stored != hot.record.snapshot():
            return False  # another node, or the expiry, moved it on: the store tells
        self._hot.setdefault(row.station_id, {})[row.transaction_id] = replace(
            hot, row=replace(row, record=stored)
        )
        return True

    def _lock(self, station_id: str) -> asyncio.Lock:
        """The lock that makes a station's transaction messages go one at a time."""
        lock = self._locks.get(station_id)
        if lock is None:
            lock = self._locks[station_id] = asyncio.Lock()
        return lock

    def _unlock(self, station_id: str, lock: asyncio.Lock) -> None:
        lock.release()
        if not lock.locked() and self._locks.get(station_id) is lock:
            del self._locks[station_id]  # nobody waits: keep the dict to the busy stations

    def expect_remote_start(self, station_id: str, token_uid: str) -> None:
        self._remote_starts[(station_id, token_uid)] = self._clock()

    def _was_remote_start(self, station_id: str, fact: TransactionFact) -> bool:
        if isinstance(fact, TransactionStarted) and fact.remote_start_id is not None:
            return True
        token = None if isinstance(fact, Expire) or fact.id_token is None else fact.id_token.value
        asked = self._remote_starts.pop((station_id, token), None) if token else None
        return asked is not None and self._clock() - asked < _REMOTE_START_WINDOW

    # -- entry points --------------------------------------------------------------------------

    async def handle(self, station: Station, fact: StationFact) -> TransactionDecision:
        """Store what ``fact`` means for its session; return the station's answer.

        A fact stating what no meter or clock can produce is refused (:class:`CallError`,
        PropertyConstraintViolation) before anything is stored: the station hears which value.
        """
        implausible = _implausible(fact, self._clock())
        if implausible is not None:
            log.warning(
                "transaction message refused: %s",
                implausible,
                extra={"station_id": station.id, "transaction_id": fact.transaction_id},
            )
            raise CallError(ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, implausible)
        verdict: AuthorizationResult | None = None
        if fact.id_token is not None:
            verdict = await self._authorizer.authorize(fact.id_token, station)
            if _authorizes_start(fact) and self._authorizer.is_master_pass(verdict):
                # A master pass ends transactions; it never starts one (OCPP 2.0.1 C16).
                verdict = AuthorizationResult(AuthorizationStatus.INVALID, verdict.group_id)
        lock = self._lock(station.id)
        await lock.acquire()
        try:
            if await self._hot_update(station, fact, verdict):
                return TransactionDecision(authorization=verdict, transaction_id=None)
            row = await self._row_for(station, fact)
            if self._resume(row) and await self._hot_update(station, fact, verdict):
                return TransactionDecision(authorization=verdict, transaction_id=None)
            assigned = row.transaction_id if fact.transaction_id is None else None
            fact = (
                fact
                if fact.transaction_id is not None
                else replace(fact, transaction_id=row.transaction_id)
            )
            await self._apply(station, row, fact, verdict)
            return TransactionDecision(authorization=verdict, transaction_id=assigned)
        finally:
            self._unlock(station.id, lock)

    async def _hot_update(
        self, station: Station, fact: StationFact, verdict: AuthorizationResult | None = None
    ) -> bool:
        """Store an update that only adds newer meter values, from memory; False: not one."""
        if not isinstance(fact, TransactionUpdated) or fact.transaction_id is None:
            return False
        hot = self._hot.get(station.id, {}).get(fact.transaction_id)
        if hot is None:
            return False
        record, step = advance(hot.record, fact)
        if step.duplicate:
            return True
        following = next_state(hot.state, fact, step.effect, verdict=verdict, now=self._clock())
        if following is None:
            return False  # only the whole session can tell: the full path
        warnings = following.session.warnings
        if len(warnings) > len(hot.state.session.warnings):
            # A new step back (the first was logged by the full path): as it logs them.
            log.warning(
                "session readings not billed: %s",
                "; ".join(warnings),
                extra={"session_id": following.session.id, "station_id": station.id},
            )
        try:
            await self._store.write(
                *self._store.sessions.appending(following.session, following.added),
                self._store.transactions.saving(
                    hot.row.row_id, record.snapshot(), record.state.value, record.last_activity
                ),
            )
        except BaseException:
            self.forget(station.id)
            raise
        self._hot.setdefault(station.id, {})[fact.transaction_id] = _Hot(
            hot.row, record, following.state
        )
        await self._bus.publish(
            SessionChanged(
                following.session.model_copy(update={"meter_values": list(following.added)})
            )
        )
        return True

    async def expire_silent(self, silence: timedelta) -> int:
        """Close the transactions no station has spoken of for ``silence``; how many."""
        now = self._clock()
        closed = 0
        for row in await self._store.transactions.silent_since(now - silence):
            station = await self._store.stations.find(row.station_id)
            if station is None:
                continue
            lock = self._lock(row.station_id)
            await lock.acquire()
            try:
                self.forget(row.station_id)
                await self._apply(station, row, Expire(timestamp=now, reason="Timeout"))
            finally:
                self._unlock(row.station_id, lock)
            closed += 1
        return closed

    # -- the transaction row -------------------------------------------------------------------

    async def _row_for(self, station: Station, fact: StationFact) -> StoredTransaction:
        repository = self._store.transactions
        if fact.transaction_id is not None:
            found = await repository.find(station.id, fact.transaction_id)
            if found is not None:
                return found
            return await repository.create(
                station_id=station.id,
                transaction_id=fact.transaction_id,
                start_key=None,
                country_code=station.country_code,
                party_id=station.party_id,
                session_id=uuid.uuid4().hex,
                state="unknown",
            )
        # OCPP 1.6 StartTransaction: the CSMS assigns the id. A start sent again because its
        # answer was lost has the same facts and must get the same id.
        assert isinstance(fact, TransactionStarted)
        start_key = json.dumps([str(part) for part in fact.dedupe_key])
        found = await repository.find_by_start(station.id, start_key)
        if found is not None:
            return found
        return await repository.create(
            station_id=station.id,
            transaction_id=None,
            start_key=start_key,
            country_code=station.country_code,
            party_id=station.party_id,
            session_id=uuid.uuid4().hex,
            state="unknown",
        )

    async def _apply(
        self,
        station: Station,
        row: StoredTransaction,
        fact: TransactionFact,
        verdict: AuthorizationResult | None = None,
    ) -> None:
        record = (
            TransactionRecord.from_snapshot(row.record)
            if row.record
            else TransactionRecord(row.transaction_id)
        )
        record, step = advance(record, fact)
        if step.duplicate:
            if record.state is TxState.ENDED and isinstance(fact, TransactionEnded):
                await self._ensure_cdr(row, fact)
            return
        hot = self._hot.get(row.station_id)
        if hot is not None:
            hot.pop(row.transaction_id, None)
        session = await self._store.sessions.find(row.country_code, row.party_id, row.session_id)
        stored_before = session is not None
        if session is None:
            session = await self._open(station, row, fact)
        following = next_state(
            SessionState.whole(session), fact, step.effect, verdict=verdict, now=self._clock()
        )
        assert following is not None  # the whole session always tells
        if following.session.warnings != session.warnings and following.session.warnings:
            log.warning(
                "session readings not billed: %s",
                "; ".join(following.session.warnings),
                extra={"session_id": session.id, "station_id": session.station_id},
            )
        session = following.session
        cdr: Cdr | None = None
        if following.closed:
            # Made before anything is stored: the session is stored ended with its CDR, or with
            # the reason it has none, never silently without.
            cdr, reason = await self._cdrs.make(session, expired=isinstance(fact, Expire))
            session = session.model_copy(update={"no_cdr_reason": reason})
        stored = record.snapshot()
        # One atomic write: the session with its meter values, its CDR, the machine's record.
        # A stored session keeps the values it holds (the next state never drops one): only
        # those this fact added are written, not the whole session again.
        await self._store.write(
            *(
                self._store.sessions.appending(session, following.added)
                if stored_before
                else self._store.sessions.putting(session)
            ),
            *(self._store.cdrs.putting(cdr) if cdr is not None else ()),
            self._store.transactions.saving(
                row.row_id, stored, record.state.value, record.last_activity
            ),
        )
        if record.state is TxState.ACTIVE and not isinstance(fact, Expire):
            self._hot.setdefault(row.station_id, {})[row.transaction_id] = _Hot(
                replace(row, record=stored), record, following.state.summary(indexed=True)
            )
        await self._bus.publish(SessionChanged(session))
        if cdr is not None:
            await self._bus.publish(CdrCreated(cdr))

    # -- the session -------------------------------------------------------------------------

    async def _open(
        self, station: Station, row: StoredTransaction, fact: TransactionFact
    ) -> Session:
        evse_number = None if isinstance(fact, Expire) else fact.evse
        connector = None if isinstance(fact, Expire) else fact.connector
        mapping = next((e for e in station.evses if e.ocpp_evse_id == (evse_number or 1)), None)
        if mapping is None:
            log.warning(
                "session on a station EVSE with no Location EVSE mapped",
                extra={"station_id": station.id, "evse": evse_number},
            )
        location_id = mapping.location_id if mapping else UNMAPPED
        evse_uid = mapping.evse_uid if mapping else str(evse_number or 1)
        tariff = await self._tariff(station, location_id, evse_uid, str(connector or 1))
        remote = self._was_remote_start(station.id, fact)
        return Session(
            country_code=row.country_code,
            party_id=row.party_id,
            id=row.session_id,
            start_date_time=fact.timestamp,
            location_id=location_id,
            evse_uid=evse_uid,
            connector_id=str(connector or 1),
            station_id=station.id,
            transaction_id=row.transaction_id,
            currency=tariff.currency if tariff else currency_for(station.country_code),
            status=SessionStatus.ACTIVE,
            auth_method=AuthMethod.COMMAND if remote else AuthMethod.WHITELIST,
        )

    async def _tariff(
        self, station: Station, location_id: str, evse_uid: str, connector_id: str
    ) -> Tariff | None:
        location = await self._store.locations.find(
            station.country_code, station.party_id, location_id
        )
        if location is None:
            return None
        return await self._cdrs.tariff_at(location, evse_uid, connector_id)

    async def _ensure_cdr(self, row: StoredTransaction, fact: TransactionEnded) -> None:
        """An end sent again: make the CDR if the first time stopped before it was stored.

        An end is stored in one write with its CDR (or the reason it has none), but versions
        before that stored the CDR, the session and the record one after the other: a CSMS that
        died (or lost its database) in between left an ended session with neither, and the
        station, which got no answer, sends the same end again.
        """
        session = await self._store.sessions.find(row.country_code, row.party_id, row.session_id)
        if session is None or session.status is not SessionStatus.COMPLETED:
            return
        if session.no_cdr_reason is not None:
            return
        if await self._store.cdrs.exists(session.country_code, session.party_id, session.id):
            return
        log.warning(
            "an ended session had no CDR: made now",
            extra={"session_id": session.id, "station_id": session.station_id},
        )
        cdr, reason = await self._cdrs.make(session, expired=False)
        if cdr is None:
            await self._store.sessions.put(session.model_copy(update={"no_cdr_reason": reason}))
            return
        await self._store.cdrs.put(cdr)
        await self._bus.publish(CdrCreated(cdr))
