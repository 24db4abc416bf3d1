"""Hardware answers through the admin API, on the seeded example network."""

import httpx
import pytest

from intercarga.app import System
from intercarga.sim.example import seed_example_network
from tests.factories import location_json


@pytest.fixture
async def seeded(system: System) -> System:
    await seed_example_network(system.store)
    return system


async def test_compatibility_of_a_car_at_a_location(
    client: httpx.AsyncClient, seeded: System
) -> None:
    answer = await client.get(
        "/api/v1/compatibility",
        params={"vehicle": "BYD Dolphin", "market": "CL", "location": "CL/ICG/SCL-PROVIDENCIA"},
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["can_charge"] is True
    bare = await client.get(
        "/api/v1/compatibility",
        params={"vehicle": "BYD Dolphin", "market": "CL", "location": "SCL-PROVIDENCIA"},
    )
    assert bare.json() == result


async def test_compatibility_errors_are_problems(client: httpx.AsyncClient, seeded: System) -> None:
    unknown = await client.get(
        "/api/v1/compatibility",
        params={"vehicle": "BYD Dolphn", "market": "CL", "location": "SCL-PROVIDENCIA"},
    )
    assert unknown.status_code == 422
    assert "BYD Dolphin" in unknown.json()["detail"]  # the near match is offered
    missing = await client.get(
        "/api/v1/compatibility",
        params={"vehicle": "BYD Dolphin", "market": "CL", "location": "NOWHERE"},
    )
    assert missing.status_code == 404


async def test_locations_this_car_can_use(client: httpx.AsyncClient, seeded: System) -> None:
    every = (await client.get("/api/v1/locations")).json()
    assert every["total"] == 3
    # A Nissan Leaf sold in Chile has a CHAdeMO DC inlet and a Type 1 AC inlet: only Bogotá has
    # CHAdeMO, while the Type 2 AC sockets of Santiago and São Paulo need a Mode 3 cable.
    usable = (
        await client.get("/api/v1/locations", params={"vehicle": "Nissan Leaf", "market": "CL"})
    ).json()
    assert 1 <= usable["total"] <= 3
    assert {item["id"] for item in usable["items"]} <= {item["id"] for item in every["items"]}
    bad = await client.get("/api/v1/locations", params={"vehicle": "Flying Car", "market": "CL"})
    assert bad.status_code == 422


async def test_compliance_and_coverage(client: httpx.AsyncClient, seeded: System) -> None:
    report = (await client.get("/api/v1/compliance", params={"country": "CO"})).json()
    assert report["country"] == "CO"
    assert report["locations_checked"] == 1
    # The Bogotá example has a CHAdeMO connector beside CCS2: the Colombian rule names Type 2 and CCS2.
    assert isinstance(report["findings"], list)
    indicator = (await client.get("/api/v1/coverage")).json()
    assert indicator["profiles"]


async def test_invalid_ids_are_refused_naming_the_part(client: httpx.AsyncClient) -> None:
    body = location_json()
    body["evses"][0]["evse_id"] = "CL*ICG*X1*1"
    answer = await client.put("/api/v1/locations/CL/ICG/LOC-1", json=body)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "evses.0.evse_id"
    token = {
        "country_code": "CL",
        "party_id": "ICG",
        "uid": "AA11",
        "contract_id": "CL-ICG-C00000001-7",
        "issuer": "Intercarga",
    }
    refused = await client.put("/api/v1/tokens/CL/ICG/AA11", json=token)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "contract_id"
    assert "check character" in refused.json()["detail"]
    accepted = await client.put(
        "/api/v1/tokens/CL/ICG/AA11", json={**token, "contract_id": "CL-ICG-C00000001-Q"}
    )
    assert accepted.status_code == 201


async def test_market_without_a_vehicle_is_422(client: httpx.AsyncClient, seeded: System) -> None:
    """Issue 12: ``?market=CL`` alone was a KeyError (500)."""
    answer = await client.get("/api/v1/locations", params={"market": "CL"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"] == [{"field": "market", "message": "is only used with vehicle"}]
