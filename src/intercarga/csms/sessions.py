"""Sessions from OCPP transactions: every start, update and end, of any version, into one Session.

Each transaction fact is run through the transaction state machine
(:mod:`intercarga.ocpp.transaction`), whose effect says what happens to the session: open it,
amend its start, record meter values, close it (and make its priced CDR), or nothing for a
repeat. The session, the machine's record and the CDR are stored before the station is answered
and before the domain events go out. A fact for a station EVSE that no Location EVSE is mapped to
is still stored (``location_id`` UNMAPPED) and logged: nothing a station reports is dropped.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from babel.numbers import get_territory_currencies

from intercarga.billing.cdr import build_cdr
from intercarga.bus import EventBus
from intercarga.csms.authorization import Authorizer
from intercarga.domain import (
    AuthMethod,
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
    advance,
)
from intercarga.store import Store
from intercarga.store.transactions import StoredTransaction

__all__ = ["UNMAPPED", "SessionService", "currency_for"]

log = logging.getLogger(__name__)

UNMAPPED = "UNMAPPED"
_REGISTER = "Energy.Active.Import.Register"
_OPENING = frozenset({Effect.OPEN, Effect.OPEN_IMPLIED, Effect.OPEN_AND_CLOSE})
_CLOSING = frozenset(
    {Effect.CLOSE, Effect.CORRECT_CLOSE, Effect.OPEN_AND_CLOSE, Effect.CLOSE_FORCED}
)

_REMOTE_START_WINDOW = timedelta(minutes=10)

StationFact = TransactionStarted | TransactionUpdated | TransactionEnded


def currency_for(country_code: str) -> str:
    """The legal tender of a country that this system can settle in (CLP for CL, …)."""
    for code in get_territory_currencies(country_code, date.today()):
        if code in MINOR_UNITS:
            return code
    return "USD"


def _with_reading(values: list[MeterValue], at: datetime, wh: Decimal | None, context: str) -> None:
    if wh is None:
        return
    if any(v.timestamp == at and v.measurand == _REGISTER and v.phase is None for v in values):
        return
    values.append(
        MeterValue(timestamp=at, measurand=_REGISTER, value=wh, unit="Wh", context=context)
    )


def _energy_kwh(values: list[MeterValue]) -> Decimal:
    readings = sorted(
        (v for v in values if v.measurand == _REGISTER and v.phase is None and v.unit == "Wh"),
        key=lambda v: v.timestamp,
    )
    if len(readings) < 2:
        return Decimal(0)
    return max(Decimal(0), (readings[-1].value - readings[0].value) / Decimal(1000))


def _merge(values: list[MeterValue], new: tuple[MeterValue, ...]) -> list[MeterValue]:
    seen = {(v.timestamp, v.measurand, v.phase, v.location) for v in values}
    merged = list(values)
    for value in new:
        key = (value.timestamp, value.measurand, value.phase, value.location)
        if key not in seen:
            seen.add(key)
            merged.append(value)
    merged.sort(key=lambda v: v.timestamp)
    return merged


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
        """Store what ``fact`` means for its session; return the station's answer."""
        verdict: AuthorizationResult | None = None
        if fact.id_token is not None:
            verdict = await self._authorizer.authorize(fact.id_token, station)
            if _authorizes_start(fact) and self._authorizer.is_master_pass(verdict):
                # A master pass ends transactions; it never starts one (OCPP 2.0.1 C16).
                verdict = AuthorizationResult(AuthorizationStatus.INVALID, verdict.group_id)
        row = await self._row_for(station, fact)
        assigned = row.transaction_id if fact.transaction_id is None else None
        fact = (
            fact
            if fact.transaction_id is not None
            else replace(fact, transaction_id=row.transaction_id)
        )
        await self._apply(station, row, fact)
        return TransactionDecision(authorization=verdict, transaction_id=assigned)

    async def expire_silent(self, silence: timedelta) -> int:
        """Close the transactions no station has spoken of for ``silence``; how many."""
        now = self._clock()
        closed = 0
        for row in await self._store.transactions.silent_since(now - silence):
            station = await self._store.stations.find(row.station_id)
            if station is None:
                continue
            await self._apply(station, row, Expire(timestamp=now, reason="Timeout"))
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

    async def _apply(self, station: Station, row: StoredTransaction, fact: TransactionFact) -> None:
        record = (
            TransactionRecord.from_snapshot(row.record)
            if row.record
            else TransactionRecord(row.transaction_id)
        )
        record, step = advance(record, fact)
        if step.duplicate:
            return
        session = await self._store.sessions.find(row.country_code, row.party_id, row.session_id)
        if session is None:
            session = await self._open(station, row, fact)
        session = self._update(session, fact, step.effect)
        await self._store.sessions.put(session)
        await self._store.transactions.save(
            row.row_id, record.snapshot(), record.state.value, record.last_activity
        )
        await self._bus.publish(SessionChanged(session))
        if step.effect in _CLOSING:
            await self._make_cdr(session, fact)

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
        changes["meter_values"] = values
        changes["signed_meter_values"] = signed
        changes["kwh"] = _energy_kwh(values)
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

    async def _make_cdr(self, session: Session, fact: TransactionFact) -> None:
        location = await self._location(session)
        if location is None:
            log.error(
                "no CDR: the session's location is not known",
                extra={"session_id": session.id, "station_id": session.station_id},
            )
            return
        tariff = await self._tariff_at(location, session.evse_uid, session.connector_id)
        token = await self._authorizer.find(session.token_uid) if session.token_uid else None
        try:
            cdr = build_cdr(session, location, tariff, token)
        except IntercargaError as error:
            log.error("no CDR: %s", error, extra={"session_id": session.id})
            return
        if isinstance(fact, Expire):
            cdr = cdr.model_copy(
                update={"remark": "closed by the CSMS: the station never ended it"}
            )
        await self._store.cdrs.put(cdr)
        await self._bus.publish(CdrCreated(cdr))
