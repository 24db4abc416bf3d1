"""Sessions from transactions: the hot path (updates from memory) stores what the full path does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from intercarga.bus import EventBus
from intercarga.csms.authorization import Authorizer
from intercarga.csms.sessions import SessionService
from intercarga.domain import MeterValue, Session, Station
from intercarga.domain.events import SessionChanged
from intercarga.ocpp.events import TransactionEnded, TransactionStarted, TransactionUpdated
from intercarga.store import Store

START = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
STATION = Station(id="HOT-1", country_code="CL", party_id="ICG", security_profile=0)
REGISTER = "Energy.Active.Import.Register"


def _values(minute: int, wh: int) -> tuple[MeterValue, ...]:
    at = START + timedelta(minutes=minute)
    return (
        MeterValue(timestamp=at, measurand="Power.Active.Import", value=Decimal(7000), unit="W"),
        MeterValue(timestamp=at, measurand=REGISTER, value=Decimal(wh)),
        MeterValue(
            timestamp=at, measurand="Current.Import", value=Decimal(30), unit="A", phase="L1"
        ),
    )


def _update(seq_no: int, minute: int, wh: int) -> TransactionUpdated:
    return TransactionUpdated(
        transaction_id="tx-1",
        timestamp=START + timedelta(minutes=minute),
        seq_no=seq_no,
        trigger="MeterValuePeriodic",
        meter_values=_values(minute, wh),
    )


FACTS = [
    TransactionStarted(
        evse=1,
        connector=1,
        timestamp=START,
        transaction_id="tx-1",
        meter_start=Decimal(1000),
        seq_no=0,
        meter_values=_values(0, 1000),
    ),
    _update(1, 1, 1100),
    _update(2, 2, 1250),
    _update(2, 2, 1250),  # a repeat: stored once
    _update(3, 3, 1400),
    _update(4, 2, 1250),  # an older timestamp, same values: merged, not doubled
    _update(5, 4, 1600),
]


def _without_clock(session: Session) -> dict[str, object]:
    return session.model_dump(exclude={"id", "last_updated", "station_id"})


async def _play(
    store: Store, station: Station, *, forget_each_time: bool
) -> tuple[Session, list[SessionChanged]]:
    await store.stations.put(station)
    bus = EventBus()
    published: list[SessionChanged] = []

    async def keep(event: SessionChanged) -> None:
        published.append(event)

    bus.subscribe(SessionChanged, keep)
    service = SessionService(store, bus, Authorizer(store), clock=lambda: START)
    for fact in FACTS:
        if forget_each_time:
            service.forget(station.id)  # every message takes the full path
        await service.handle(station, fact)
    page = await store.sessions.list(limit=None, filters={"station_id": station.id})
    assert page.total == 1
    return page.items[0], published


async def test_updates_from_memory_store_the_same_session_as_the_full_path(store: Store) -> None:
    hot, hot_events = await _play(store, STATION, forget_each_time=False)
    other = STATION.model_copy(update={"id": "FULL-1"})
    full, _ = await _play(store, other, forget_each_time=True)
    assert _without_clock(hot) == _without_clock(full)
    assert hot.kwh == Decimal("0.6")  # (1600 - 1000) Wh
    assert len(hot.meter_values) == 3 * 5  # five distinct timestamps, three values each
    # An update from memory announces the session with the values it added.
    assert [len(event.session.meter_values) for event in hot_events[1:3]] == [3, 3]


async def test_an_end_after_updates_from_memory_closes_the_session(store: Store) -> None:
    await store.stations.put(STATION)
    service = SessionService(store, EventBus(), Authorizer(store), clock=lambda: START)
    for fact in FACTS[:3]:
        await service.handle(STATION, fact)
    await service.handle(
        STATION,
        TransactionEnded(
            transaction_id="tx-1",
            timestamp=START + timedelta(minutes=5),
            meter_stop=Decimal(1700),
            seq_no=3,
        ),
    )
    (session,) = (await store.sessions.list(limit=None)).items
    assert session.status.value == "COMPLETED"
    assert session.kwh == Decimal("0.7")
    assert session.end_date_time == START + timedelta(minutes=5)
