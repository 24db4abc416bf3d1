"""The same repository tests on SQLite and PostgreSQL (the ``store`` fixture runs both)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from intercarga.domain import (
    MeterValue,
    Party,
    Role,
    Session,
    SessionStatus,
    Station,
    StationEvse,
    Tariff,
    Token,
)
from intercarga.errors import ConflictError, NotFoundError
from intercarga.sim.example import example_network, seed_example_network
from intercarga.store import Store
from tests.factories import location


async def test_location_with_evses_and_connectors_round_trips(store: Store) -> None:
    original = location()
    assert await store.locations.put(original) is True
    loaded = await store.locations.get("CL", "ICG", "LOC-1")
    assert loaded == original
    assert loaded.model_dump(mode="json") == original.model_dump(mode="json")


async def test_put_replaces_the_whole_aggregate(store: Store) -> None:
    await store.locations.put(location())
    smaller = location()
    smaller.evses = smaller.evses[:1]
    smaller.evses[0].connectors = smaller.evses[0].connectors[1:]
    assert await store.locations.put(smaller) is False
    loaded = await store.locations.get("CL", "ICG", "LOC-1")
    assert [evse.uid for evse in loaded.evses] == ["EVSE-1"]
    assert [connector.id for connector in loaded.evses[0].connectors] == ["2"]


async def test_a_status_only_change_writes_the_statuses_and_nothing_else(store: Store) -> None:
    from intercarga.domain import EVSEStatus

    stored = location()
    await store.locations.put(stored)
    later = stored.last_updated + timedelta(minutes=5)
    first, second = stored.evses[0].uid, stored.evses[1].uid

    def reported(base: Any, uid: str, status: EVSEStatus, at: datetime) -> Any:
        evses = [
            e.model_copy(update={"status": status, "last_updated": at}) if e.uid == uid else e
            for e in base.evses
        ]
        return base.model_copy(update={"evses": evses, "last_updated": max(base.last_updated, at)})

    # Two reports made from the same read, on two EVSEs: both are kept.
    assert await store.locations.put_statuses(
        stored, reported(stored, first, EVSEStatus.CHARGING, later)
    )
    assert await store.locations.put_statuses(
        stored, reported(stored, second, EVSEStatus.OUTOFORDER, later - timedelta(minutes=1))
    )
    loaded = await store.locations.get("CL", "ICG", "LOC-1")
    assert [e.status for e in loaded.evses[:2]] == [EVSEStatus.CHARGING, EVSEStatus.OUTOFORDER]
    assert loaded.last_updated == later  # never moved back by the older report
    expected = reported(
        reported(stored, first, EVSEStatus.CHARGING, later),
        second,
        EVSEStatus.OUTOFORDER,
        later - timedelta(minutes=1),
    )
    assert loaded == expected
    # Anything else changed: nothing written, the caller stores the Location whole.
    renamed = reported(stored, first, EVSEStatus.AVAILABLE, later).model_copy(
        update={"name": "Other"}
    )
    assert await store.locations.put_statuses(stored, renamed) is False
    assert await store.locations.get("CL", "ICG", "LOC-1") == loaded
    # Gone since it was read: nothing written.
    await store.locations.delete("CL", "ICG", "LOC-1")
    assert (
        await store.locations.put_statuses(
            stored, reported(stored, first, EVSEStatus.CHARGING, later)
        )
        is False
    )


async def test_a_page_of_locations_is_read_whole_only_where_the_reader_holds_no_copy(
    store: Store,
) -> None:
    from intercarga.domain import EVSEStatus

    for name in ("LOC-1", "LOC-2"):
        await store.locations.put(location(id=name))
    ours = {"country_code": "CL", "party_id": "ICG"}
    held: dict[tuple[str, ...], int] = {}

    def cached(key: tuple[str, ...], revision: int) -> bool:
        return held.get(key) == revision

    async def page() -> list[Any]:
        found = await store.locations.list_current(cached, limit=10, filters=ours)
        assert found.total == 2
        return found.items

    first = await page()
    assert [item.location for item in first] == [location(id="LOC-1"), location(id="LOC-2")]
    held = {item.key: item.revision for item in first}
    assert [item.location for item in await page()] == [None, None]  # nothing read whole
    # Every write draws a new revision, also one that leaves last_updated where it was: a late
    # status report, a status set, the Location stored again unchanged.
    stored = location(id="LOC-1")
    late = stored.evses[0].model_copy(
        update={
            "status": EVSEStatus.CHARGING,
            "last_updated": stored.last_updated - timedelta(minutes=5),
        }
    )
    reported = stored.model_copy(update={"evses": [late, *stored.evses[1:]]})
    writes = [
        lambda: store.locations.put_statuses(stored, reported),
        lambda: store.locations.set_evse_status(
            ("CL", "ICG", "LOC-1"), "EVSE-1", EVSEStatus.AVAILABLE, stored.last_updated
        ),
        lambda: store.locations.put(location(id="LOC-1", name="Renamed")),
    ]
    for write in writes:
        await write()
        changed, same = await page()
        assert changed.location is not None and changed.revision != held[changed.key]
        assert same.location is None
        assert changed.location == await store.locations.get("CL", "ICG", "LOC-1")
        held[changed.key] = changed.revision
    assert (await page())[0].location is None
    after = await store.locations.list_current(cached, limit=10, filters=ours, after="LOC-1")
    assert [item.key for item in after.items] == [("CL", "ICG", "LOC-2")] and after.total == 2


async def test_create_refuses_an_existing_key_and_keeps_the_first(store: Store) -> None:
    await store.locations.create(location())
    with pytest.raises(ConflictError, match="location CL/ICG/LOC-1 already exists"):
        await store.locations.create(location(name="Other"))
    assert (await store.locations.get("CL", "ICG", "LOC-1")).name == "Mall Plaza Egaña"


async def test_missing_objects_are_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="location CL/ICG/NOPE not found"):
        await store.locations.get("CL", "ICG", "NOPE")
    with pytest.raises(NotFoundError):
        await store.tokens.delete("CL", "ICG", "NOPE")
    assert await store.stations.find("NOPE") is None


async def test_delete_removes_children(store: Store) -> None:
    await store.locations.put(location())
    await store.locations.delete("CL", "ICG", "LOC-1")
    assert await store.locations.count() == 0
    await store.locations.put(location())  # children of the deleted one do not collide
    assert len((await store.locations.get("CL", "ICG", "LOC-1")).evses) == 2


async def test_a_page_of_keys_and_revisions_is_the_page_list_reads(store: Store) -> None:
    """Every kind of sender page (counted off, sought after a key, dated, unlimited, past the
    end, of another party): the same Locations and count as :meth:`list`, each at the revision
    stored (on SQLite read in one statement of its own, not through SQLAlchemy's cursor)."""
    base = datetime(2026, 11, 1, tzinfo=UTC)
    for number in range(7):
        await store.locations.put(
            location(id=f"LOC-{number}", last_updated=base + timedelta(days=number))
        )
    await store.locations.put(location(id="LOC-X", party_id="OTR"))
    ours = {"country_code": "CL", "party_id": "ICG"}
    pages: list[dict[str, Any]] = [
        {"offset": 0, "limit": 3},
        {"offset": 2, "limit": 3},
        {"offset": 0, "limit": 3, "after": "LOC-2"},
        {"offset": 0, "limit": None},
        {"offset": 0, "limit": 3, "updated_from": base + timedelta(days=2)},
        {"offset": 1, "limit": 2, "updated_to": base + timedelta(days=4)},
        {
            "offset": 0,
            "limit": 2,
            "updated_from": base + timedelta(days=1),
            "updated_to": base + timedelta(days=5),
            "after": "LOC-2",
        },
        {"offset": 50, "limit": 3},
        {"offset": 0, "limit": 3, "after": "LOC-6"},
    ]
    for party in (ours, {"country_code": "CL", "party_id": "OTR"}, {"country_code": "XX"}):
        for asked in pages:
            listed = await store.locations.list(filters=party, **asked)
            current = await store.locations.list_current(
                lambda key, revision: False, filters=party, **asked
            )
            assert current.total == listed.total, (party, asked)
            assert [item.location for item in current.items] == listed.items, (party, asked)
            # Held at those revisions: the page's own revisions are the rows' read whole.
            held = {item.key: item.revision for item in current.items}
            kept = await store.locations.list_current(
                lambda key, revision, held=held: held.get(key) == revision, filters=party, **asked
            )
            assert kept.total == listed.total
            assert [(item.key, item.revision, item.location) for item in kept.items] == [
                (key, revision, None) for key, revision in held.items()
            ]


async def test_list_pages_filters_and_dates(store: Store) -> None:
    base = datetime(2026, 11, 1, tzinfo=UTC)
    for number in range(7):
        city = "Santiago" if number % 2 else "Valparaíso"
        await store.locations.put(
            location(id=f"LOC-{number}", city=city, last_updated=base + timedelta(days=number))
        )
    page = await store.locations.list(offset=2, limit=3)
    assert page.total == 7
    assert [item.id for item in page.items] == ["LOC-2", "LOC-3", "LOC-4"]
    assert all(len(item.evses) == 2 for item in page.items)
    santiago = await store.locations.list(filters={"city": "Santiago"})
    assert [item.id for item in santiago.items] == ["LOC-1", "LOC-3", "LOC-5"]
    recent = await store.locations.list(updated_from=base + timedelta(days=5))
    assert [item.id for item in recent.items] == ["LOC-5", "LOC-6"]
    window = await store.locations.list(
        updated_from=base + timedelta(days=1), updated_to=base + timedelta(days=3)
    )
    assert [item.id for item in window.items] == ["LOC-1", "LOC-2"]


async def test_parties_stations_tokens_tariffs(store: Store) -> None:
    party = Party(country_code="CO", party_id="ABC", name="Operador", roles=[Role.CPO, Role.EMSP])
    await store.parties.put(party)
    assert await store.parties.get("CO", "ABC") == party

    station = Station(
        id="CS-1",
        country_code="CO",
        party_id="ABC",
        password_hash="scrypt$1$1$1$AA==$AA==",
        last_seen=datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC),
        evses=[StationEvse(ocpp_evse_id=1, location_id="L", evse_uid="E")],
    )
    await store.stations.put(station)
    assert await store.stations.get("CS-1") == station

    token = Token(
        country_code="CO",
        party_id="ABC",
        uid="AABBCC",
        contract_id="CO-ABC-C12345678-X",
        issuer="Operador",
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    await store.tokens.put(token)
    assert await store.tokens.find_by_uid("AABBCC") == [token]

    tariff = example_network().tariffs[0]
    await store.tariffs.put(tariff)
    loaded: Tariff = await store.tariffs.get("CL", "ICG", "CL-DC")
    assert loaded == tariff
    assert loaded.elements[0].price_components[0].price == Decimal("290")


async def test_session_keeps_its_meter_values_exactly(store: Store) -> None:
    start = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    session = Session(
        country_code="CL",
        party_id="ICG",
        id="S-1",
        start_date_time=start,
        kwh=Decimal("12.345"),
        token_uid="04A1B2C3D4",
        location_id="LOC-1",
        evse_uid="EVSE-1",
        connector_id="1",
        station_id="CS-1",
        transaction_id="42",
        currency="CLP",
        status=SessionStatus.ACTIVE,
        meter_values=[
            MeterValue(timestamp=start, value=Decimal("1000.5")),
            MeterValue(
                timestamp=start + timedelta(minutes=1),
                value=Decimal("13345.5"),
                context="Sample.Periodic",
            ),
        ],
    )
    await store.sessions.put(session)
    loaded = await store.sessions.get("CL", "ICG", "S-1")
    assert loaded == session
    by_token = await store.sessions.list(filters={"token_uid": "04A1B2C3D4"})
    assert [item.id for item in by_token.items] == ["S-1"]


async def test_example_network_seeds_once(store: Store) -> None:
    assert await seed_example_network(store) is True
    assert await seed_example_network(store) is False
    assert await store.locations.count() == 3
    assert await store.stations.count() == 3
