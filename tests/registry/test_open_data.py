"""The open-data API as a client without an account sees it: every filter, paging, formats, caching.

A small network on SQLite and PostgreSQL: three published Chilean sites (Santiago DC, Valparaíso
AC, Santiago GB/T), one Colombian, and one Santiago site that is not published and must never be
seen. Requests go through the whole HTTP app, as a browser or a crawler would send them.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.app import System, http_app
from intercarga.domain import Location
from intercarga.ocpi.mapping import location_to_ocpi
from intercarga.registry.ocm import Mapped, location_from_poi, ocm_reference
from intercarga.store.open_data import PublishedLocations
from intercarga.store.registry import EvseKey, StatusChange, StatusHistoryRepository
from intercarga.store.repositories import LocationRepository
from intercarga.web.api.open_data import OpenDataApi
from tests.factories import location_json

BASE = "/open-data/v1"


def _connector(standard: str, power_type: str, volts: int, amps: int, watts: int | None) -> Any:
    return {
        "id": "1",
        "standard": standard,
        "format": "CABLE" if power_type == "DC" else "SOCKET",
        "power_type": power_type,
        "max_voltage": volts,
        "max_amperage": amps,
        "max_electric_power": watts,
        "last_updated": "2026-11-01T12:00:00Z",
    }


def _site(
    id_: str, day: int, latitude: str, longitude: str, status: str, connector: Any, **changes: Any
) -> Location:
    moment = f"2026-11-{day:02d}T12:00:00Z"
    evse = {"uid": "E1", "status": status, "connectors": [connector], "last_updated": moment}
    body = location_json(
        id=id_,
        coordinates={"latitude": latitude, "longitude": longitude},
        evses=[evse],
        last_updated=moment,
        **changes,
    )
    return Location.model_validate(body)


def network() -> list[Location]:
    santiago = Location.model_validate(location_json(id="SCL-DC"))  # CCS2 150 kW, CHAdeMO, T2
    return [
        santiago,
        _site(
            "VAP-AC",
            2,
            "-33.0472000",
            "-71.6127000",
            "OUTOFORDER",
            _connector("IEC_62196_T2", "AC_1_PHASE", 230, 32, 7400),
            city="Valparaíso",
        ),
        _site(
            "SCL-GBT",
            3,
            "-33.4400000",
            "-70.6500000",
            "AVAILABLE",
            _connector("GBT_DC", "DC", 750, 80, 60000),
        ),
        _site(
            "BOG-CCS1",
            4,
            "4.6500000",
            "-74.0800000",
            "AVAILABLE",
            _connector("IEC_62196_T1_COMBO", "DC", 500, 120, 60000),
            country_code="CO",
            party_id="EVL",
            country="COL",
            city="Bogotá",
            time_zone="America/Bogota",
        ),
        _site(
            "SCL-HIDDEN",
            5,
            "-33.4500000",
            "-70.6600000",
            "AVAILABLE",
            _connector("IEC_62196_T2_COMBO", "DC", 920, 200, 150000),
            publish=False,
        ),
    ]


@pytest.fixture
async def seeded(engine: AsyncEngine) -> AsyncEngine:
    repository = LocationRepository(engine)
    for site in network():
        await repository.put(site)
    return engine


def open_data_api(engine: AsyncEngine, **options: Any) -> OpenDataApi:
    """The API as app.py builds it (OCPI 2.2.1 rendering), with ``options`` for the test."""
    return OpenDataApi(
        PublishedLocations(engine),
        render=lambda location: location_to_ocpi(location, "2.2.1"),
        history=StatusHistoryRepository(engine),
        **options,
    )


def _client(api: OpenDataApi, system: System) -> httpx.AsyncClient:
    app = http_app(system, routers=[api.router()])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://od.test")


@pytest.fixture
async def client(system: System) -> AsyncIterator[httpx.AsyncClient]:
    repository = LocationRepository(system.engine)
    for site in network():
        await repository.put(site)
    api = open_data_api(system.engine, rate=1000, burst=1000)
    async with _client(api, system) as client:
        yield client


async def _ids(client: httpx.AsyncClient, **params: str) -> list[str]:
    answer = await client.get(f"{BASE}/locations", params=params)
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["data"]]


async def test_everything_published_and_nothing_else(client: httpx.AsyncClient) -> None:
    answer = await client.get(f"{BASE}/locations")
    body = answer.json()
    assert [item["id"] for item in body["data"]] == ["SCL-DC", "VAP-AC", "SCL-GBT", "BOG-CCS1"]
    assert body["meta"]["licence"]["name"] == "CC BY 4.0"
    assert answer.headers["access-control-allow-origin"] == "*"
    assert 'rel="license"' in answer.headers["link"]
    assert "SCL-HIDDEN" not in answer.text
    one = await client.get(f"{BASE}/locations/CL/ICG/SCL-HIDDEN")
    assert one.status_code == 404
    assert one.headers["content-type"] == "application/problem+json"


async def test_strict_leaves_no_extension_field(client: httpx.AsyncClient) -> None:
    loose = (await client.get(f"{BASE}/locations/CL/ICG/SCL-DC")).json()["data"][0]
    strict = (await client.get(f"{BASE}/locations/CL/ICG/SCL-DC?strict=true")).json()["data"][0]
    assert loose["x_max_power_kw"] == 150.0
    assert not [key for key in strict if key.startswith("x_")]
    assert strict["evses"][0]["connectors"][0]["standard"] == "IEC_62196_T2_COMBO"
    assert {"country_code", "party_id", "publish", "time_zone"} <= set(strict)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"country": "CL"}, ["SCL-DC", "VAP-AC", "SCL-GBT"]),
        ({"country": "col"}, ["BOG-CCS1"]),
        ({"operator": "CO-EVL"}, ["BOG-CCS1"]),
        # Greater Santiago only.
        ({"bbox": "-70.8,-33.6,-70.4,-33.3"}, ["SCL-DC", "SCL-GBT"]),
        # 5 km around Plaza de Armas: Egaña (about 11 km east) is out, the GB/T site in.
        ({"latitude": "-33.4378", "longitude": "-70.6505", "radius": "5000"}, ["SCL-GBT"]),
        ({"standard": "IEC_62196_T2"}, ["SCL-DC", "VAP-AC"]),
        ({"standard": "GBT_DC,IEC_62196_T1_COMBO"}, ["SCL-GBT", "BOG-CCS1"]),
        ({"min_power_kw": "100"}, ["SCL-DC"]),
        ({"status": "OUTOFORDER"}, ["VAP-AC"]),
        # CHARGING is only the AC EVSE of Egaña; with 100 kW asked too, no connector is both.
        ({"status": "CHARGING", "min_power_kw": "100"}, []),
        # A Chilean BYD Dolphin (Type 2 + CCS2): not at the GB/T site, not in Bogotá's CCS1.
        ({"vehicle": "BYD Dolphin", "country": "CL"}, ["SCL-DC", "VAP-AC"]),
        ({"vehicle": "BYD Dolphin", "market": "CL"}, ["SCL-DC", "VAP-AC"]),
        ({"updated_since": "2026-11-03T00:00:00Z"}, ["SCL-GBT", "BOG-CCS1"]),
    ],
)
async def test_each_filter(
    client: httpx.AsyncClient, params: dict[str, str], expected: list[str]
) -> None:
    assert await _ids(client, **params) == expected


async def test_pages_follow_the_link_to_the_end(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    url: str | None = f"{BASE}/locations?limit=1&country=CL"
    while url is not None:
        answer = await client.get(url)
        body = answer.json()
        seen += [item["id"] for item in body["data"]]
        url = body["meta"]["next"]
        if url is not None:
            assert f'<{url}>; rel="next"' in answer.headers["link"]
            assert "country=CL" in url
    assert seen == ["SCL-DC", "VAP-AC", "SCL-GBT"]


async def test_incremental_sync_sees_a_change_after_the_last_page(
    client: httpx.AsyncClient, system: System
) -> None:
    last = (await client.get(f"{BASE}/locations?updated_since=2026-11-04T00:00:00Z")).json()
    assert [item["id"] for item in last["data"]] == ["BOG-CCS1"]
    later = datetime(2026, 11, 6, tzinfo=UTC)
    await LocationRepository(system.engine).set_evse_status(
        ("CL", "ICG", "VAP-AC"), "E1", _status("AVAILABLE"), later
    )
    since = (later - timedelta(seconds=1)).isoformat()
    assert await _ids(client, updated_since=since) == ["VAP-AC"]
    assert await _ids(client, status="OUTOFORDER") == []


async def test_a_page_shows_a_status_change_that_kept_the_time(
    client: httpx.AsyncClient, system: System
) -> None:
    # Pages reuse their rendered Locations; a late status report (an EVSE changed, the
    # Location's last_updated not moved) must still show.
    def statuses(page: Any) -> dict[str, list[str]]:
        return {item["id"]: [evse["status"] for evse in item["evses"]] for item in page["data"]}

    first = await client.get(f"{BASE}/locations?country=CL")
    assert statuses(first.json())["VAP-AC"] == ["OUTOFORDER"]
    assert (await client.get(f"{BASE}/locations?country=CL")).content == first.content
    repository = LocationRepository(system.engine)
    before = await repository.get("CL", "ICG", "VAP-AC")
    evses = [before.evses[0].model_copy(update={"status": _status("AVAILABLE")}), *before.evses[1:]]
    assert await repository.put_statuses(before, before.model_copy(update={"evses": evses}))
    after = await client.get(f"{BASE}/locations?country=CL")
    assert statuses(after.json())["VAP-AC"] == ["AVAILABLE"]
    assert after.headers["etag"] != first.headers["etag"]


def _status(value: str) -> Any:
    from intercarga.domain import EVSEStatus

    return EVSEStatus(value)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"country": "XX"}, "country"),
        ({"standard": "TYPE_9"}, "standard"),
        ({"status": "SLEEPING"}, "status"),
        ({"bbox": "-70.4,-33.6,-70.8,-33.3"}, "bbox"),  # west > east
        ({"bbox": "-70.8,-33.3,-70.4,-33.6"}, "bbox"),  # south > north
        ({"bbox": "1,2,3"}, "bbox"),
        ({"latitude": "-33.4", "longitude": "-70.6", "radius": "250000"}, "radius"),
        ({"latitude": "-33.4", "longitude": "-70.6"}, "radius"),
        ({"min_power_kw": "lots"}, "min_power_kw"),
        ({"vehicle": "Flux Capacitor"}, "vehicle"),
        ({"vehicle": "BYD Dolphin"}, "market"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "2026-11-03T00:00:00"}, "updated_since"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"operator": "Copec"}, "operator"),
        ({"strict": "maybe"}, "strict"),
    ],
)
async def test_a_bad_parameter_is_a_400_naming_it(
    client: httpx.AsyncClient, params: dict[str, str], parameter: str
) -> None:
    answer = await client.get(f"{BASE}/locations", params=params)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["parameter"] == parameter
    assert answer.headers["access-control-allow-origin"] == "*"


async def test_geojson_and_csv(client: httpx.AsyncClient) -> None:
    geo = await client.get(f"{BASE}/locations.geojson", params={"country": "CO"})
    assert geo.headers["content-type"] == "application/geo+json"
    collection = geo.json()
    assert collection["type"] == "FeatureCollection"
    (feature,) = collection["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [-74.08, 4.65]}
    assert feature["properties"]["standards"] == ["IEC_62196_T1_COMBO"]
    assert collection["metadata"]["licence"]["url"].startswith("https://creativecommons.org/")
    table = await client.get(f"{BASE}/locations.csv", params={"operator": "CL-ICG"})
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [(r["location_id"], r["evse_uid"], r["standard"]) for r in rows] == [
        ("SCL-DC", "EVSE-1", "IEC_62196_T2_COMBO"),
        ("SCL-DC", "EVSE-1", "CHADEMO"),
        ("SCL-DC", "EVSE-2", "IEC_62196_T2"),
        ("VAP-AC", "E1", "IEC_62196_T2"),
        ("SCL-GBT", "E1", "GBT_DC"),
    ]
    assert rows[0]["max_power_kw"] == "150.0"
    assert 'rel="license"' in table.headers["link"]


async def test_etag_gzip_and_cache_control(client: httpx.AsyncClient) -> None:
    first = await client.get(f"{BASE}/locations", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["cache-control"].startswith("public, max-age=")
    tag = first.headers["etag"]
    again = await client.get(f"{BASE}/locations", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    other = await client.get(f"{BASE}/locations?country=CO", headers={"If-None-Match": tag})
    assert other.status_code == 200


async def test_a_preflight_is_answered(client: httpx.AsyncClient) -> None:
    answer = await client.options(
        f"{BASE}/locations",
        headers={"Origin": "https://map.example", "Access-Control-Request-Method": "GET"},
    )
    assert answer.status_code == 204
    assert "If-None-Match" in answer.headers["access-control-allow-headers"]


async def test_statistics_per_country(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{BASE}/statistics")).json()
    by_country = {row["country"]: row for row in body["data"]}
    chile = by_country["CHL"]
    assert (chile["sites"], chile["evses"], chile["connectors"]) == (3, 4, 5)
    assert chile["connectors_by_standard"] == {
        "CHADEMO": 1,
        "GBT_DC": 1,
        "IEC_62196_T2": 2,
        "IEC_62196_T2_COMBO": 1,
    }
    # 7.4 kW AC, 22 kW AC (230 V × 32 A × 3), 50 kW CHAdeMO, 60 kW GB/T, 150 kW CCS2.
    assert chile["connectors_by_power_class"] == {
        "below_7_4_kw": 0,
        "7_4_to_22_kw": 2,
        "22_to_50_kw": 0,
        "50_to_150_kw": 2,
        "150_to_350_kw": 1,
        "350_kw_and_over": 0,
    }
    assert chile["share_fresh"] == 0.0  # data from November 2026, read later
    only = (await client.get(f"{BASE}/statistics?country=CO")).json()["data"]
    assert [row["country"] for row in only] == ["COL"]
    assert body["meta"]["licence"]["name"] == "CC BY 4.0"


async def test_bulk_is_the_whole_dataset_and_follows_changes(
    client: httpx.AsyncClient, system: System
) -> None:
    first = await client.get(f"{BASE}/bulk")
    assert first.headers["content-type"] == "application/gzip"
    document = json.loads(gzip.decompress(first.content))
    assert len(document["data"]) == 4
    assert not [key for item in document["data"] for key in item if key.startswith("x_")]
    assert document["meta"]["licence"]["name"] == "CC BY 4.0"
    same = await client.get(f"{BASE}/bulk")
    assert same.headers["etag"] == first.headers["etag"]
    await LocationRepository(system.engine).delete("CO", "EVL", "BOG-CCS1")
    changed = await client.get(f"{BASE}/bulk")
    assert changed.headers["etag"] != first.headers["etag"]
    assert len(json.loads(gzip.decompress(changed.content))["data"]) == 3


async def test_a_client_over_its_rate_gets_429_with_retry_after(system: System) -> None:
    clock = [0.0]
    api = open_data_api(system.engine, rate=1, burst=2, monotonic=lambda: clock[0])
    async with _client(api, system) as client:
        assert (await client.get(f"{BASE}/locations")).status_code == 200
        assert (await client.get(f"{BASE}/statistics")).status_code == 200
        refused = await client.get(f"{BASE}/locations")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        clock[0] = 1.0
        assert (await client.get(f"{BASE}/locations")).status_code == 200


async def test_the_openapi_documents_every_filter(client: httpx.AsyncClient) -> None:
    document = (await client.get(f"{BASE}/openapi.json")).json()
    parameters = {p["name"] for p in document["paths"][f"{BASE}/locations"]["get"]["parameters"]}
    assert {"country", "bbox", "radius", "standard", "vehicle", "updated_since"} <= parameters
    assert all(path.startswith(BASE) for path in document["paths"])


async def test_many_pages_keep_their_order_under_equal_times(
    seeded: AsyncEngine,
) -> None:
    """Keyset order is (last_updated, key): sites updated at the same instant still page
    without loss or repeat."""
    repository = LocationRepository(seeded)
    for index in range(25):
        await repository.put(
            Location.model_validate(location_json(id=f"SAME-{index:02d}"))  # all 2026-11-01
        )
    api = open_data_api(seeded)
    from intercarga.registry.open_data import OpenDataQuery

    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = await api.select(OpenDataQuery(limit=7, cursor=cursor))
        seen += [site.id for site in page]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 29


async def test_the_open_charge_map_export_reads_back_through_the_importer(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get(f"{BASE}/locations.ocm.json", params={"operator": "CL-ICG"})
    pois = answer.json()
    assert 'rel="license"' in answer.headers["link"]
    assert [poi["DataProvidersReference"] for poi in pois] == [
        "CL*ICG*SCL-DC",
        "CL*ICG*VAP-AC",
        "CL*ICG*SCL-GBT",
    ]
    egana = pois[0]
    assert egana["AddressInfo"]["CountryID"] == 49  # Chile in OCM's reference data
    assert egana["NumberOfPoints"] == 2
    assert egana["StatusTypeID"] == 50  # one EVSE available, one charging: operational
    ccs2 = next(c for c in egana["Connections"] if c["ConnectionTypeID"] == 33)
    assert (ccs2["PowerKW"], ccs2["CurrentTypeID"], ccs2["LevelID"], ccs2["StatusTypeID"]) == (
        150.0,
        30,
        3,
        10,
    )
    # What the export says, the importer takes back: same connectors, same power.
    mapped = location_from_poi({**egana, "ID": 1}, ocm_reference(), lambda *_: True)
    assert isinstance(mapped, Mapped)
    back = sorted(
        (c.standard.value, c.max_electric_power)
        for evse in mapped.location.evses
        for c in evse.connectors
    )
    assert back == [("CHADEMO", 50000), ("IEC_62196_T2", 22080), ("IEC_62196_T2_COMBO", 150000)]


async def _uptime_site(system: System) -> None:
    """A site open all hours (no opening_times) whose EVSE was out of order 06:00–12:00 on
    2026-11-10, and available around that."""
    site = _site(
        "UPTIME",
        9,
        "-33.4000000",
        "-70.6000000",
        "AVAILABLE",
        _connector("IEC_62196_T2_COMBO", "DC", 920, 200, 150000),
        opening_times=None,
    )
    await LocationRepository(system.engine).put(site)
    evse = EvseKey("CL", "ICG", "UPTIME", "E1")
    received = datetime(2026, 11, 11, tzinfo=UTC)
    await StatusHistoryRepository(system.engine).record(
        [
            StatusChange(evse, at, _status(status), "CL-ICG", "PUSH", received)
            for at, status in (
                (datetime(2026, 11, 9, 12, tzinfo=UTC), "AVAILABLE"),
                (datetime(2026, 11, 10, 6, tzinfo=UTC), "OUTOFORDER"),
                (datetime(2026, 11, 10, 12, tzinfo=UTC), "AVAILABLE"),
            )
        ]
    )


DAY = {"since": "2026-11-10T00:00:00Z", "until": "2026-11-11T00:00:00Z"}


async def test_status_history_per_evse(client: httpx.AsyncClient, system: System) -> None:
    await _uptime_site(system)
    answer = await client.get(f"{BASE}/evses/CL/ICG/UPTIME/E1/history", params=DAY)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(c["at"], c["status"]) for c in body["data"]] == [
        ("2026-11-09T12:00:00+00:00", "AVAILABLE"),  # the status the day starts in
        ("2026-11-10T06:00:00+00:00", "OUTOFORDER"),
        ("2026-11-10T12:00:00+00:00", "AVAILABLE"),
    ]
    assert body["meta"]["licence"]["name"] == "CC BY 4.0"
    hidden = await client.get(f"{BASE}/evses/CL/ICG/SCL-HIDDEN/E1/history")
    assert hidden.status_code == 404
    unknown = await client.get(f"{BASE}/evses/CL/ICG/UPTIME/E9/history")
    assert unknown.status_code == 404


async def test_reliability_per_evse(client: httpx.AsyncClient, system: System) -> None:
    await _uptime_site(system)
    answer = await client.get(f"{BASE}/evses/CL/ICG/UPTIME/E1/reliability", params=DAY)
    body = answer.json()["data"]
    # 6 of 24 hours out of order: 75 % by both formulas, under both thresholds.
    assert body["uk_reliability"]["percent"] == 75.0
    assert body["uk_reliability"]["below_threshold"] is True
    assert body["uk_reliability"]["threshold_percent"] == 99.0
    assert body["nevi_uptime"]["percent"] == 75.0
    assert body["nevi_uptime"]["total_seconds"] == 86400
    later = await client.get(
        f"{BASE}/evses/CL/ICG/UPTIME/E1/reliability",
        params={"since": "2026-11-10T12:00:00Z", "until": "2026-11-11T00:00:00Z"},
    )
    assert later.json()["data"]["nevi_uptime"]["percent"] == 100.0


@pytest.mark.parametrize(
    ("kind", "params", "parameter"),
    [
        ("history", {"since": "2026-11-11T00:00:00Z", "until": "2026-11-10T00:00:00Z"}, "since"),
        ("history", {"since": "2026-09-01T00:00:00Z", "until": "2026-11-10T00:00:00Z"}, "since"),
        (
            "reliability",
            {"since": "2024-01-01T00:00:00Z", "until": "2026-11-10T00:00:00Z"},
            "since",
        ),
        ("reliability", {"until": "tomorrow"}, "until"),
    ],
)
async def test_a_bad_period_is_a_400_naming_it(
    client: httpx.AsyncClient, kind: str, params: dict[str, str], parameter: str
) -> None:
    answer = await client.get(f"{BASE}/evses/CL/ICG/SCL-DC/EVSE-1/{kind}", params=params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["parameter"] == parameter
