"""The admin API as a client sees it, on SQLite and on PostgreSQL."""

import copy

import httpx

from intercarga.app import System
from intercarga.sim.example import seed_example_network
from intercarga.web.api import MAX_LIMIT, MAX_OFFSET, RESOURCES
from tests.conftest import ADMIN_TOKEN
from tests.factories import location_json


async def test_location_with_two_evses_and_three_connectors_round_trips_unchanged(
    client: httpx.AsyncClient,
) -> None:
    sent = location_json()
    created = await client.put("/api/v1/locations/CL/ICG/LOC-1", json=sent)
    assert created.status_code == 201
    read = await client.get("/api/v1/locations/CL/ICG/LOC-1")
    assert read.status_code == 200
    assert read.json() == sent
    replaced = await client.put("/api/v1/locations/CL/ICG/LOC-1", json=sent)
    assert replaced.status_code == 200
    assert (await client.get("/api/v1/locations/CL/ICG/LOC-1")).json() == sent


async def test_post_creates_and_refuses_duplicates(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/locations", json=location_json())
    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/locations/CL/ICG/LOC-1"
    again = await client.post("/api/v1/locations", json=location_json(name="Another"))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["detail"] == "location CL/ICG/LOC-1 already exists"


async def test_validation_errors_are_422_problems_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    body = location_json()
    body["evses"][0]["connectors"][1]["power_type"] = "DC_PLASMA"
    answer = await client.post("/api/v1/locations", json=body)
    assert answer.status_code == 422
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 422
    assert problem["detail"].startswith("evses.0.connectors.1.power_type: Input should be")
    assert problem["errors"][0]["field"] == "evses.0.connectors.1.power_type"


async def test_key_in_path_must_match_the_body(client: httpx.AsyncClient) -> None:
    answer = await client.put("/api/v1/locations/CL/ICG/OTHER", json=location_json())
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "id", "message": "is 'LOC-1' in the body but 'OTHER' in the path"}
    ]


async def test_malformed_json_is_a_client_error(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/api/v1/parties", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"


async def test_unknown_ids_are_404_and_deletes_work(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/tokens/CL/ICG/NOPE")).status_code == 404
    await client.put("/api/v1/locations/CL/ICG/LOC-1", json=location_json())
    assert (await client.delete("/api/v1/locations/CL/ICG/LOC-1")).status_code == 204
    missing = await client.get("/api/v1/locations/CL/ICG/LOC-1")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "location CL/ICG/LOC-1 not found"


async def test_no_or_wrong_token_is_401(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/api/v1/locations", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    wrong = await client.get("/api/v1/locations", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


async def test_lists_are_paginated_with_headers_and_filters(client: httpx.AsyncClient) -> None:
    for number in range(5):
        body = location_json(id=f"LOC-{number}", city="Santiago" if number < 3 else "Temuco")
        assert (
            await client.put(f"/api/v1/locations/CL/ICG/LOC-{number}", json=body)
        ).status_code == 201
    first = await client.get("/api/v1/locations", params={"limit": 2, "city": "Santiago"})
    assert first.headers["x-total-count"] == "3"
    assert [item["id"] for item in first.json()["items"]] == ["LOC-0", "LOC-1"]
    next_url = first.headers["link"].split(";")[0].strip("<>")
    assert "city=Santiago" in next_url
    second = await client.get(next_url)
    assert [item["id"] for item in second.json()["items"]] == ["LOC-2"]
    assert "link" not in second.headers
    too_many = await client.get("/api/v1/locations", params={"limit": 100000})
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "limit"


async def test_station_password_is_write_only_and_hashed(
    client: httpx.AsyncClient, system: System
) -> None:
    body = {
        "id": "CS-1",
        "country_code": "CL",
        "party_id": "ICG",
        "password": "a-long-enough-password",
    }
    answer = await client.put("/api/v1/stations/CS-1", json=body)
    assert answer.status_code == 201
    assert "password" not in answer.text
    stored = await system.store.stations.get("CS-1")
    assert stored.password_hash is not None and stored.password_hash.startswith("scrypt$")
    # Replacing without a password keeps the stored one.
    update = copy.deepcopy(body)
    del update["password"]
    update["vendor"] = "ABB"
    assert (await client.put("/api/v1/stations/CS-1", json=update)).status_code == 200
    assert (await system.store.stations.get("CS-1")).password_hash == stored.password_hash
    read = (await client.get("/api/v1/stations/CS-1")).json()
    assert read["vendor"] == "ABB" and "password_hash" not in read
    short = await client.put("/api/v1/stations/CS-1", json={**body, "password": "short"})
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "password"


async def test_seeded_network_is_visible(client: httpx.AsyncClient, system: System) -> None:
    await seed_example_network(system.store)
    locations = (await client.get("/api/v1/locations")).json()
    assert {item["city"] for item in locations["items"]} == {"Santiago", "Bogotá", "São Paulo"}
    assert (await client.get("/api/v1/stations")).json()["total"] == 3
    assert (await client.get("/api/v1/tokens")).json()["total"] == 2
    tariff = (await client.get("/api/v1/tariffs/CL/ICG/CL-DC")).json()
    assert tariff["currency"] == "CLP"


async def test_health_metrics_and_docs(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz", headers={"Authorization": ""})
    assert health.status_code == 200
    assert health.json()["database"] == "ok"
    await client.get("/api/v1/parties")
    metrics = await client.get("/metrics")
    assert (
        'intercarga_http_requests_total{method="GET",route="/api/v1/parties",status="200"} 1.0'
        in metrics.text
    )
    spec = (await client.get("/api/openapi.json")).json()
    assert "/api/v1/locations/{country_code}/{party_id}/{id}" in spec["paths"]
    assert "city" in {p["name"] for p in spec["paths"]["/api/v1/locations"]["get"]["parameters"]}
    assert (await client.get("/api/docs")).status_code == 200


async def test_health_is_503_when_the_database_is_gone(
    client: httpx.AsyncClient, system: System
) -> None:
    await system.engine.dispose()
    system.engine.url  # noqa: B018 - the engine stays configured; the URL below is not
    from intercarga.store import create_engine

    broken = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    original = system.engine
    system.engine = broken
    try:
        answer = await client.get("/healthz")
    finally:
        system.engine = original
        await broken.dispose()
    assert answer.status_code == 503
    assert answer.json()["status"] == "degraded"


async def test_offsets_past_the_databases_integers_are_422_on_every_list(
    client: httpx.AsyncClient,
) -> None:
    """Issue 12: 10²³ overflowed SQLite (a 500) and 2⁶³ dropped the PostgreSQL connection."""
    for resource in RESOURCES:
        for offset in ("99999999999999999999999", str(2**63), str(MAX_OFFSET + 1)):
            answer = await client.get(f"/api/v1/{resource.name}", params={"offset": offset})
            assert answer.status_code == 422, (resource.name, offset, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["errors"][0]["field"] == "offset"
        furthest = await client.get(
            f"/api/v1/{resource.name}", params={"offset": MAX_OFFSET, "limit": MAX_LIMIT}
        )
        assert furthest.status_code == 200, (resource.name, furthest.text)
        assert furthest.json()["items"] == []


async def test_every_paged_route_bounds_its_offset(client: httpx.AsyncClient) -> None:
    """Every GET the OpenAPI lists with an ``offset`` refuses one past 64 bits, so a paged route
    added later (a station's security events, its meter values…) is held to it the day it lands."""
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    paged = [
        path
        for path, operations in paths.items()
        if path.startswith("/api/v1/")
        and any(p["name"] == "offset" for p in operations.get("get", {}).get("parameters", []))
    ]
    assert "/api/v1/stations/{station_id}/meter-values" in paged
    for path in paged:
        url = path
        for name in ("{station_id}", "{country_code}", "{party_id}", "{id}", "{partner_id}"):
            url = url.replace(name, "CL" if name == "{country_code}" else "X")
        answer = await client.get(url, params={"offset": str(2**63)})
        assert answer.status_code == 422, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


async def test_stations_have_no_updated_filter_and_say_so(client: httpx.AsyncClient) -> None:
    """Issue 12: ``updated_from`` was documented on stations, which have no last_updated (500)."""
    answer = await client.get("/api/v1/stations", params={"updated_from": "2025-01-01T00:00:00Z"})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "updated_from", "message": "stations have no last_updated"}
    ]
    listed = (await client.get("/api/openapi.json")).json()["paths"]["/api/v1/stations"]["get"]
    assert "updated_from" not in {parameter["name"] for parameter in listed["parameters"]}
    tokens = await client.get("/api/v1/tokens", params={"updated_from": "2025-01-01T00:00:00Z"})
    assert tokens.status_code == 200


async def test_roaming_lists_bound_their_offset_too(system: System) -> None:
    """Issue 12: the partners, outbox and commands lists took any offset (an overflow, a 500)."""
    from intercarga.app import http_app
    from intercarga.ocpi.api import routers
    from intercarga.ocpi.roaming import Roaming

    roaming = Roaming.build(
        system.settings, system.store, httpx.MockTransport(lambda r: httpx.Response(503))
    )
    invited = await roaming.registrar.invite("someone")
    app = http_app(system, routers=routers(roaming))
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://intercarga.test", headers=headers
    ) as client:
        for path in (
            "/api/v1/partners",
            f"/api/v1/partners/{invited.partner_id}/outbox",
            "/api/v1/roaming/commands",
        ):
            for offset in ("99999999999999999999999", str(2**63), "-1"):
                answer = await client.get(path, params={"offset": offset})
                assert answer.status_code == 422, (path, offset, answer.text)
                assert answer.json()["errors"][0]["field"] == "offset"
            assert (await client.get(path, params={"offset": MAX_OFFSET})).json() == []
            assert (await client.get(path, params={"limit": 0})).status_code == 422
