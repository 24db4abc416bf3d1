"""A party's count of Locations (the total of every OCPI Locations page) is kept by the database,
whoever writes: through the repository, in bulk, by hand; and Locations stored before the
migration that keeps it are counted (issue 16 point 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain import Location
from intercarga.sim.example import example_network
from intercarga.store import Store, create_engine, tables, upgrade


def _site(number: int, party: tuple[str, str] = ("CL", "ICG")) -> Location:
    template = next(site for site in example_network().locations if site.country_code == "CL")
    return template.model_copy(
        update={
            "country_code": party[0],
            "party_id": party[1],
            "id": f"COUNT-{number}",
            "evses": [
                evse.model_copy(update={"uid": f"{evse.uid}-{number}", "evse_id": None})
                for evse in template.evses
            ],
        }
    )


async def _total(store: Store, country_code: str, party_id: str) -> int:
    page = await store.locations.list(
        limit=1, filters={"country_code": country_code, "party_id": party_id}
    )
    return page.total


async def test_the_total_follows_every_write_whoever_writes(store: Store) -> None:
    assert await _total(store, "CL", "ICG") == 0  # a party with none yet
    for number in range(5):
        await store.locations.put(_site(number))
    await store.locations.put(_site(1))  # replaced: still one
    await store.locations.put(_site(9, ("UY", "UTE")))
    await store.locations.delete("CL", "ICG", "COUNT-0")
    assert await _total(store, "CL", "ICG") == 4
    repository = store.locations
    async with store.engine.begin() as connection:  # another writer, in bulk and by hand
        await connection.execute(
            insert(tables.locations), [repository._to_row(_site(n)) for n in range(10, 14)]
        )
        await connection.execute(  # moved to another party (it has no EVSE rows yet)
            update(tables.locations)
            .where(tables.locations.c.id == "COUNT-13")
            .values(party_id="EMS", last_updated=datetime.now(UTC))
        )
        await connection.execute(delete(tables.locations).where(tables.locations.c.id == "COUNT-3"))
    assert await _total(store, "CL", "ICG") == 6  # 1, 2, 4, 10, 11, 12
    assert await _total(store, "CL", "EMS") == 1
    assert await _total(store, "UY", "UTE") == 1
    # Dated pages are counted as ever: what changed within the dates.
    dated = await store.locations.list(
        limit=1,
        filters={"country_code": "CL", "party_id": "ICG"},
        updated_from=datetime(2000, 1, 1, tzinfo=UTC),
    )
    assert dated.total == 6


@pytest.fixture
async def engine_before(empty_database: tuple[str, str | None]) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to the revision before the counts were kept."""
    url, schema = empty_database
    engine = create_engine(url, schema)
    await upgrade(engine, "0016_fail17")
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_locations_stored_before_the_counts_were_kept_are_counted(
    engine_before: AsyncEngine,
) -> None:
    store = Store(engine_before)
    for number in range(3):
        await store.locations.put(_site(number))
    await store.locations.put(_site(7, ("UY", "UTE")))
    await upgrade(engine_before)
    assert await _total(store, "CL", "ICG") == 3
    assert await _total(store, "UY", "UTE") == 1
    await store.locations.put(_site(3))
    assert await _total(store, "CL", "ICG") == 4
