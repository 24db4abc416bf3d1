"""Sessions from OCPP transactions: every start, update and end, of any version, into one Session.

Each transaction fact is run through the transaction state machine
(:mod:`intercarga.ocpp.transaction`), whose effect says what happens to the session: open it,
amend its start, record meter values, close it (and make its priced CDR), or nothing for a
repeat. The session, the machine's record and the CDR are stored before the station is answered
and before the domain events go out. A fact for a station EVSE that no Location EVSE is mapped to
is still stored (``location_id`` UNMAPPED) and logged: nothing a station reports is dropped.

The hot path: between two messages of an active transaction the service keeps its record and
its session (without the meter values) in memory, per station, for as long as the station stays
connected. An update that only adds newer meter values (the periodic TransactionEvent Updated or
1.6 MeterValues) is then stored as one small write: the session's row, the new meter values and
the record, committed with other stations' writes (group commit, :meth:`Store.write`). Anything
else (a start, an end, an old or repeated timestamp, a cache miss) takes the full path, which
reads and rewrites the session whole. Both give the same stored session (the hot path leaves to
the full path any update it cannot count the same way). A station's messages are handled one at
a time. ``SessionChanged`` after a hot-path update carries the session with the meter values that
message added; the store holds them all.

Billing: kWh and the CDR read the energy register as :mod:`intercarga.billing.readings` does (one
begin, the readings between, one end; steps back not billed and listed in ``Session.warnings``).
A fact stating a value no meter or clock can produce is refused with a CALLERROR before anything
is stored. An ended session is stored with its CDR, made first, or with ``no_cdr_reason``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from babel.numbers import get_territory_currencies

from intercarga.billing.cdr import build_cdr
from intercarga.billing.readings import ENERGY_REGISTER, is_register, register_of
from intercarga.bus import EventBus
from intercarga.csms.authorization import Authorizer
from intercarga.domain import (
    AuthMethod,
    Cdr,
    Location,
    MeterValue,
    Session,
    SessionStatus,
    Station,
    Tariff,
)
from intercarga.domain._types import utc_now
from intercarga.domain.events import CdrCreated, SessionChanged
from intercarga.domain.money import MINOR_UNITS
from intercarga.errors import IntercargaError
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
    Effect,
    Expire,
    TransactionFact,
    TransactionRecord,
    TxState,
    advance,
)
from intercarga.store import Store
from intercarga.store.transactions import StoredTransaction

__all__ = ["UNMAPPED", "SessionService", "currency_for"]

log = logging.getLogger(__name__)

UNMAPPED = "UNMAPPED"
_REGISTER = ENERGY_REGISTER
_BOUNDS = frozenset({"Transaction.Begin", "Transaction.End"})
_KILO = Decimal(1000)
_OPENING = frozenset({Effect.OPEN, Effect.OPEN_IMPLIED, Effect.OPEN_AND_CLOSE})
_CLOSING = frozenset(
    {Effect.CLOSE, Effect.CORRECT_CLOSE, Effect.OPEN_AND_CLOSE, Effect.CLOSE_FORCED}
)

_REMOTE_START_WINDOW = timedelta(minutes=10)
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
        MeterValue(timestamp=at, measurand=_REGISTER, value=wh, unit="Wh", context=context)
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


@dataclass(slots=True)
class _Hot:
    """An active transaction as last stored: what the next update needs without reading it."""

    row: StoredTransaction
    record: TransactionRecord
    session: Session  # its meter_values left empty: the store holds them
    newest: datetime | None  # timestamp of the latest meter value stored
    last: MeterValue | None  # the last register reading as billed (billing.readings)
    delivered_wh: Decimal  # the energy the register readings delivered so far

    @classmethod
    def of(cls, row: StoredTransaction, record: TransactionRecord, session: Session) -> _Hot:
        register = register_of(session.meter_values)
        return cls(
            row=row,
            record=record,
            session=session.model_copy(update={"meter_values": []}),
            newest=max((v.timestamp for v in session.meter_values), default=None),
            last=register.last,
            delivered_wh=register.delivered_wh,
        )

    def following(self, readings: list[MeterValue]) -> tuple[MeterValue | None, Decimal] | None:
        """The last reading and the energy after newer register ``readings``, as
        :func:`register_of` over every stored value would give them; None when only the full
        path can tell (a begin or end reading, or a register going back, moves or flags)."""
        last, delivered = self.last, self.delivered_wh
        if last is not None and last.context == "Transaction.End":
            return None  # billing reads it last: newer readings go before it
        for reading in readings:
            if reading.context in _BOUNDS:
                return None
            if last is not None:
                if reading.value < last.value:
                    return None
                delivered += reading.value - last.value
            last = reading
        return last, delivered


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
        # Remote starts the CSMS asked for, by (station, token): OCPP 1.6 StartTransaction does
        # not say it follows a RemoteStartTransaction, so the session is matched to it here.
        self._remote_starts: dict[tuple[str, str], datetime] = {}
        # The hot path's memory (module docstring): by station, then by transaction id.
        self._hot: dict[str, dict[str, _Hot]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def forget(self, station_id: str) -> None:
        """Drop what is kept in memory about a station's transactions (it (re)connected,
        disconnected, or its transactions changed elsewhere); the next message reads the store."""
        self._hot.pop(station_id, None)

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
        if fact.remote_start_id is not None:
            return False  # it changes how the session was authorized: the full path does that
        hot = self._hot.get(station.id, {}).get(fact.transaction_id)
        if hot is None:
            return False
        new = _merge([], fact.meter_values)
        if hot.newest is not None and any(v.timestamp <= hot.newest for v in new):
            return False  # it could repeat a stored value: the full path merges
        record, step = advance(hot.record, fact)
        if step.duplicate:
            return True
        if step.effect is not Effect.RECORD:
            return False
        changes: dict[str, object] = {"last_updated": self._clock()}
        if fact.signed_meter_values:
            signed = list(hot.session.signed_meter_values)
            signed.extend(v for v in fact.signed_meter_values if v not in signed)
            changes["signed_meter_values"] = signed
        if fact.id_token is not None and hot.session.token_uid is None:
            changes["token_uid"] = fact.id_token.value
        changes.update(_authorized_by_emsp(hot.session, verdict))
        register = hot.following([v for v in new if is_register(v)])
        if register is None:
            return False
        last, delivered_wh = register
        following = replace(hot, record=record, last=last, delivered_wh=delivered_wh)
        if new:
            following.newest = new[-1].timestamp
        changes["kwh"] = delivered_wh / _KILO
        following.session = hot.session.model_copy(update=changes)
        row = hot.row
        try:
            await self._store.write(
                *self._store.sessions.appending(following.session, new),
                self._store.transactions.saving(
                    row.row_id, record.snapshot(), record.state.value, record.last_activity
                ),
            )
        except BaseException:
            self.forget(station.id)
            raise
        self._hot.setdefault(station.id, {})[fact.transaction_id] = following
        await self._bus.publish(
            SessionChanged(following.session.model_copy(update={"meter_values": new}))
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
        if session is None:
            session = await self._open(station, row, fact)
        warned = session.warnings
        session = self._update(session, fact, step.effect)
        if verdict is not None:
            session = session.model_copy(update=_authorized_by_emsp(session, verdict))
        if session.warnings != warned and session.warnings:
            log.warning(
                "session readings not billed: %s",
                "; ".join(session.warnings),
                extra={"session_id": session.id, "station_id": session.station_id},
            )
        cdr: Cdr | None = None
        if step.effect in _CLOSING:
            # Made before anything is stored: the session is stored ended with its CDR, or with
            # the reason it has none, never silently without.
            cdr, reason = await self._cdr_for(session, fact)
            session = session.model_copy(update={"no_cdr_reason": reason})
            if cdr is not None:
                await self._store.cdrs.put(cdr)
        await self._store.sessions.put(session)
        stored = record.snapshot()
        await self._store.transactions.save(
            row.row_id, stored, record.state.value, record.last_activity
        )
        if record.state is TxState.ACTIVE and not isinstance(fact, Expire):
            self._hot.setdefault(row.station_id, {})[row.transaction_id] = _Hot.of(
                replace(row, record=stored), record, session
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

    def _update(self, session: Session, fact: TransactionFact, effect: Effect) -> Session:
        values = list(session.meter_values)
        signed = list(session.signed_meter_values)
        changes: dict[str, object] = {"last_updated": self._clock()}
        if not isinstance(fact, Expire):
            values = _merge(values, fact.meter_values)
            signed.extend(v for v in fact.signed_meter_values if v not in signed)
            if fact.id_token is not None and session.token_uid is None:
                changes["token_uid"] = fact.id_token.value
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
        if effect in _CLOSING:
            end = fact.timestamp
            if isinstance(fact, Expire):
                end = max((v.timestamp for v in values), default=session.start_date_time)
            changes["end_date_time"] = max(end, session.start_date_time)
            changes["status"] = SessionStatus.COMPLETED
        register = register_of(values)
        changes["meter_values"] = values
        changes["signed_meter_values"] = signed
        changes["kwh"] = register.kwh
        changes["warnings"] = register.warnings()
        return session.model_copy(update=changes)

    async def _tariff(
        self, station: Station, location_id: str, evse_uid: str, connector_id: str
    ) -> Tariff | None:
        location = await self._store.locations.find(
            station.country_code, station.party_id, location_id
        )
        return None if location is None else await self._tariff_at(location, evse_uid, connector_id)

    async def _tariff_at(
        self, location: Location, evse_uid: str, connector_id: str
    ) -> Tariff | None:
        """The first of the connector's tariffs that we hold."""
        evse = location.evse(evse_uid)
        connector = (
            next((c for c in evse.connectors if c.id == connector_id), None) if evse else None
        )
        for tariff_id in connector.tariff_ids if connector else ():
            tariff = await self._store.tariffs.find(
                location.country_code, location.party_id, tariff_id
            )
            if tariff is not None:
                return tariff
        return None

    async def _location(self, session: Session) -> Location | None:
        return await self._store.locations.find(
            session.country_code, session.party_id, session.location_id
        )

    async def _ensure_cdr(self, row: StoredTransaction, fact: TransactionEnded) -> None:
        """An end sent again: make the CDR if the first time stopped before it was stored.

        The CDR, the session and the record are stored one after the other; a CSMS that died
        (or lost its database) in between can leave an ended session with neither a CDR nor
        the reason it has none, and the station, which got no answer, sends the same end again.
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
        cdr, reason = await self._cdr_for(session, fact)
        if cdr is None:
            await self._store.sessions.put(session.model_copy(update={"no_cdr_reason": reason}))
            return
        await self._store.cdrs.put(cdr)
        await self._bus.publish(CdrCreated(cdr))

    async def _cdr_for(
        self, session: Session, fact: TransactionFact
    ) -> tuple[Cdr, None] | tuple[None, str]:
        """The ended session's CDR, or why it cannot have one (logged)."""
        extra = {"session_id": session.id, "station_id": session.station_id}
        location = await self._location(session)
        if location is None:
            reason = f"the session's location {session.location_id} is not known"
            log.error("no CDR: %s", reason, extra=extra)
            return None, reason
        tariff = await self._tariff_at(location, session.evse_uid, session.connector_id)
        token = await self._authorizer.find(session.token_uid) if session.token_uid else None
        try:
            cdr = build_cdr(session, location, tariff, token)
        except IntercargaError as error:
            log.error("no CDR: %s", error, extra=extra)
            return None, str(error)
        except Exception as error:
            # A fault of ours in pricing: the station's end is still stored, with the reason.
            log.exception("no CDR: pricing failed", extra=extra)
            return None, f"pricing failed: {type(error).__name__}: {error}"
        if isinstance(fact, Expire):
            remark = "; ".join(
                r for r in ("closed by the CSMS: the station never ended it", cdr.remark) if r
            )
            cdr = cdr.model_copy(update={"remark": remark[:255]})
        return cdr, None


def _authorized_by_emsp(session: Session, verdict: AuthorizationResult | None) -> dict[str, object]:
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
