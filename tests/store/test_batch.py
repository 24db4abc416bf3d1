"""Group commit: concurrent writes are committed together; a failing write fails alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from intercarga.domain import Station
from intercarga.store import Store
from intercarga.store.batch import Write

SEEN = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)


async def test_concurrent_writes_are_all_committed(store: Store) -> None:
    for number in range(20):
        await store.stations.put(
            Station(id=f"B-{number}", country_code="CL", party_id="ICG", security_profile=0)
        )
    await asyncio.gather(
        *(
            store.write(store.stations.touching(f"B-{n}", SEEN + timedelta(seconds=n)))
            for n in range(20)
        )
    )
    for number in range(20):
        station = await store.stations.get(f"B-{number}")
        assert station.last_seen == SEEN + timedelta(seconds=number)


async def test_a_failing_write_fails_alone(store: Store) -> None:
    await store.stations.put(Station(id="OK-1", country_code="CL", party_id="ICG"))
    # Inserting a station that exists: an integrity error in the same batch as a good write.
    bad = Write(
        insert(store.stations.table),
        [{"id": "OK-1", "country_code": "CL", "party_id": "ICG", "security_profile": 1}],
    )
    results = await asyncio.gather(
        store.write(store.stations.touching("OK-1", SEEN)),
        store.write(bad),
        return_exceptions=True,
    )
    assert results[0] is None
    assert isinstance(results[1], IntegrityError)
    assert (await store.stations.get("OK-1")).last_seen == SEEN


async def test_the_recent_copy_of_a_station_follows_writes_through_the_repository(
    store: Store,
) -> None:
    station = Station(id="R-1", country_code="CL", party_id="ICG")
    await store.stations.put(station)
    assert (await store.stations.find_recent("R-1")) == station
    await store.stations.put(station.model_copy(update={"vendor": "ACME"}))
    found = await store.stations.find_recent("R-1")
    assert found is not None and found.vendor == "ACME"
    await store.stations.delete("R-1")
    assert await store.stations.find_recent("R-1") is None


@pytest.mark.parametrize("count", [1, 3])
async def test_writes_without_rows_do_nothing(store: Store, count: int) -> None:
    await asyncio.gather(*(store.write() for _ in range(count)))
