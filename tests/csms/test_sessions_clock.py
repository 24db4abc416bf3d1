"""A station whose clock starts again (or replays what it sent): its updates are still stored
from memory, one small write each, and the stored session is the one the full path stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from intercarga.billing.readings import register_of
from intercarga.bus import EventBus
from intercarga.csms.authorization import Authorizer
from intercarga.csms.sessions import SessionService
from intercarga.domain import MeterValue, Session, Station
from intercarga.domain.events import SessionChanged
from intercarga.ocpp.events import TransactionStarted, TransactionUpdated
from intercarga.store import Store

START = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
STATION = Station(id="CLOCK-1", country_code="CL", party_id="ICG", security_profile=0)
REGISTER = "Energy.Active.Import.Register"
WRAP = 8


def _update(seq_no: int, wh: int) -> TransactionUpdated:
    # The clock starts again every WRAP messages; power and voltage repeat, the register counts.
    at = START + timedelta(seconds=1 + (seq_no - 1) % WRAP)
    return TransactionUpdated(
        transaction_id="tx-1",
        timestamp=at,
        seq_no=seq_no,
        trigger="MeterValuePeriodic",
        meter_values=(
            MeterValue(timestamp=at, measurand=REGISTER, value=Decimal(wh)),
            MeterValue(
                timestamp=at, measurand="Power.Active.Import", value=Decimal(7000), unit="W"
            ),
            MeterValue(timestamp=at, measurand="Voltage", value=Decimal(230), unit="V"),
        ),
    )


FACTS: list[TransactionStarted | TransactionUpdated] = [
    TransactionStarted(
        evse=1,
        connector=1,
        timestamp=START,
        transaction_id="tx-1",
        meter_start=Decimal(1000),
        seq_no=0,
        meter_values=(
            MeterValue(
                timestamp=START,
                measurand=REGISTER,
                value=Decimal(1000),
                context="Transaction.Begin",
            ),
        ),
    ),
    *(_update(n, 1000 + 10 * n) for n in range(1, 41)),
    _update(12, 1120),  # a message sent again (same seqNo): a repeat
]


async def _play(store: Store, station: Station, *, forget_each_time: bool) -> tuple[Session, int]:
    """The stored session, and how many updates were announced with the whole session (the
    full path) rather than with just the values they added (from memory)."""
    await store.stations.put(station)
    bus = EventBus()
    whole = 0

    async def count(event: SessionChanged) -> None:
        nonlocal whole
        whole += len(event.session.meter_values) > 3

    bus.subscribe(SessionChanged, count)
    service = SessionService(store, bus, Authorizer(store), clock=lambda: START)
    for fact in FACTS:
        if forget_each_time:
            service.forget(station.id)
        await service.handle(station, fact)
    (session,) = (await store.sessions.list(limit=None, filters={"station_id": station.id})).items
    return session, whole


async def test_a_wrapping_clock_is_stored_from_memory_as_the_full_path_stores_it(
    store: Store,
) -> None:
    hot, from_whole = await _play(store, STATION, forget_each_time=False)
    full, _ = await _play(
        store, STATION.model_copy(update={"id": "CLOCK-2"}), forget_each_time=True
    )
    skip = {"id", "last_updated", "station_id"}
    assert hot.model_dump(exclude=skip) == full.model_dump(exclude=skip)
    # The register's first step back is read in full (and logged), nothing after it.
    assert from_whole == 1
    register = register_of(hot.meter_values)
    assert hot.kwh == register.kwh
    assert hot.warnings == register.warnings()
    assert len(hot.warnings) == WRAP - 1  # back at every timestamp boundary
    # Three values a message, the power and voltage of a repeated timestamp kept once.
    assert len(hot.meter_values) == 1 + 40 + 2 * WRAP
