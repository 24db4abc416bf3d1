"""Meter values outside transactions: kept per EVSE, the newest first, bounded (SQLite and
PostgreSQL)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from intercarga.domain import MeterValue
from intercarga.domain.session import SignedMeterValue
from intercarga.store import Store
from intercarga.store.station_meter_values import StationMeterValueRepository, StationMeterValues

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def readings(evse: int, wh: int, station: str = "CS-1") -> StationMeterValues:
    at = T0 + timedelta(minutes=wh)
    return StationMeterValues(
        station_id=station,
        evse=evse,
        received_at=at,
        meter_values=(MeterValue(timestamp=at, value=Decimal(wh), context="Sample.Clock"),),
    )


async def test_the_newest_messages_of_each_evse_are_kept(store: Store) -> None:
    kept = StationMeterValueRepository(store.engine, kept_per_evse=3)
    for wh in range(1, 6):
        await store.write(*kept.adding(readings(1, wh)))
    await store.write(*kept.adding(readings(2, 100)))
    await store.write(*kept.adding(readings(1, 100, station="CS-2")))
    evse_1, total = await kept.list("CS-1", evse=1)
    assert total == 3
    assert [item.meter_values[0].value for item in evse_1] == [5, 4, 3]
    # Another EVSE, or the same EVSE number of another station, keeps its own.
    assert (await kept.list("CS-1", evse=2))[1] == 1
    assert (await kept.list("CS-2"))[1] == 1
    page, total = await kept.list("CS-1", offset=1, limit=2)
    assert total == 4
    assert [(item.evse, item.meter_values[0].value) for item in page] == [(1, 5), (1, 4)]


async def test_readings_round_trip_with_their_signed_form(store: Store) -> None:
    signed = SignedMeterValue(
        timestamp=T0, signed_data="T0NNRnx7fQ==", signing_method="ECDSA", encoding_method="OCMF"
    )
    sent = StationMeterValues(
        station_id="CS-1",
        evse=0,
        connector=None,
        received_at=T0,
        meter_values=(MeterValue(timestamp=T0, value=Decimal("123.456"), phase="L1"),),
        signed_meter_values=(signed,),
    )
    await store.write(*store.station_meter_values.adding(sent))
    [stored], total = await store.station_meter_values.list("CS-1", evse=0)
    assert (stored, total) == (sent, 1)
