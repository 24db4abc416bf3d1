"""``/api/v1/assessment``: behind the admin token, JSON with live indicators from this
deployment's store, runs stored in a history, and 422 problems naming the valid values."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from intercarga.app import System, http_app
from intercarga.config import Settings
from intercarga.web.api.assessment import assessment_page
from tests.assessment.conftest import clean_co_location, co_location, co_tariff
from tests.conftest import ADMIN_TOKEN
from tests.factories import authorization_record

DATA = Path(__file__).resolve().parents[1] / "data" / "assessment"


@pytest.fixture
async def assessed(
    database: tuple[str, str | None],
) -> AsyncIterator[tuple[System, httpx.AsyncClient]]:
    url, schema = database
    settings = Settings(
        database_url=SecretStr(url),
        database_schema=schema,
        admin_token=SecretStr(ADMIN_TOKEN),
        assessment_data=DATA,
    )
    system = await System.open(settings)
    transport = httpx.ASGITransport(app=http_app(system))
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://intercarga.test", headers=headers
        ) as client:
            yield system, client
    finally:
        await system.close()


async def test_the_assessment_needs_the_admin_token(
    assessed: tuple[System, httpx.AsyncClient],
) -> None:
    _, client = assessed
    response = await client.get("/api/v1/assessment/countries/CO", headers={"Authorization": ""})
    assert response.status_code == 401


async def test_a_country_in_json_with_the_deployment_s_stale_statuses_measured(
    assessed: tuple[System, httpx.AsyncClient],
) -> None:
    system, client = assessed
    await system.store.locations.put(co_location("BOG-1", timedelta(hours=1), datetime.now(UTC)))
    response = await client.get("/api/v1/assessment/countries/co", params={"language": "es"})
    assert response.status_code == 200
    body = response.json()
    information = next(x for x in body["assessment"]["layers"] if x["layer"] == "information")
    status = next(
        c for c in information["criteria"] if c["criterion"] == "information.realtime_status"
    )
    assert status["desk_level"] == 3
    assert status["current"] == 1
    assert status["measurement"]["shown"] == "0% (0 / 2)"
    assert body["assessment"]["live_data"] is True
    assert body["language"] == "es"
    assert body["recommendations"][0]["action_translated"] != body["recommendations"][0]["action"]


async def test_runs_are_stored_and_the_history_shows_how_layers_moved(
    assessed: tuple[System, httpx.AsyncClient],
) -> None:
    system, client = assessed
    first = await client.post("/api/v1/assessment/countries/CO/runs")
    assert first.status_code == 201
    # The deployment now holds stale Colombian statuses: information drops in the next run.
    await system.store.locations.put(co_location("BOG-1", timedelta(days=1), datetime.now(UTC)))
    second = await client.post("/api/v1/assessment/countries/CO/runs")
    assert second.status_code == 201
    history = (await client.get("/api/v1/assessment/countries/CO/history")).json()
    assert [run["live_data"] for run in history] == [False, True]
    assert history[1]["levels"]["information"] < history[0]["levels"]["information"]
    page = await assessment_page(system.store, DATA, "CO", "en")
    assert page.startswith('<article class="ic-assessment" id="assessment-CO">')
    assert "How each layer moved" in page


async def test_the_region_and_its_reports(assessed: tuple[System, httpx.AsyncClient]) -> None:
    _, client = assessed
    region = await client.get("/api/v1/assessment/regions/LAC")
    assert region.status_code == 200
    assert [c["code"] for c in region.json()["countries"]] == ["CO", "CR", "HT"]
    assert region.json()["ranking"][0]["code"] == "CO"
    html = await client.get(
        "/api/v1/assessment/regions/lac", params={"format": "html", "language": "pt"}
    )
    assert html.headers["content-type"].startswith("text/html")
    assert html.text.count("<tr data-country=") == 3
    pdf = await client.get("/api/v1/assessment/countries/CR/report", params={"format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("path", "params", "detail"),
    [
        ("/api/v1/assessment/countries/XX", {}, "country: unknown country 'XX'; valid: CO, CR, HT"),
        (
            "/api/v1/assessment/countries/CO/layers/legal",
            {},
            "layer: unknown layer 'legal'; valid: hardware, communication, information, service, business",
        ),
        (
            "/api/v1/assessment/countries/CO/report",
            {"language": "de"},
            "language: unknown language 'de'; valid: es, pt, en",
        ),
        (
            "/api/v1/assessment/countries/CO/report",
            {"format": "xls"},
            "format: unknown format 'xls'; valid: md, html, json, pdf",
        ),
        ("/api/v1/assessment/regions/EU", {}, "region: unknown region 'EU'; valid: LAC"),
    ],
)
async def test_bad_input_is_a_422_problem_naming_the_valid_values(
    assessed: tuple[System, httpx.AsyncClient], path: str, params: dict[str, str], detail: str
) -> None:
    _, client = assessed
    response = await client.get(path, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == detail


async def test_real_time_authorization_outcomes_and_inlet_coverage_are_measured(
    assessed: tuple[System, httpx.AsyncClient],
) -> None:
    system, client = assessed
    now = datetime.now(UTC)
    for minutes, outcome in enumerate(["accepted"] * 3 + ["timeout"], start=1):
        asked_at = now - timedelta(minutes=minutes)
        await system.store.authorizations.add(authorization_record(asked_at, outcome))
    await system.store.locations.put(co_location("BOG-1", timedelta(seconds=5), now))

    body = (await client.get("/api/v1/assessment/countries/CO")).json()
    criteria = {c["criterion"]: c for x in body["assessment"]["layers"] for c in x["criteria"]}
    rta = criteria["service.realtime_authorization"]["measurement"]
    assert rta["indicator"] == "realtime_authorization_success"
    assert rta["shown"] == "75% (3 / 4)"
    inlets = criteria["hardware.inlet_coverage"]["measurement"]
    assert inlets["indicator"] == "inlets_within_km"
    assert "within 30 km" in inlets["formula"]
    assert 0 < inlets["value"] < 0.4  # one Bogotá site: most places of Colombia are far from it


async def test_the_data_quality_of_the_country_s_locations_is_measured_and_reported(
    assessed: tuple[System, httpx.AsyncClient],
) -> None:
    system, client = assessed
    now = datetime.now(UTC)
    await system.store.tariffs.put(co_tariff())
    await system.store.locations.put(clean_co_location("BOG-1", now))
    await system.store.locations.put(clean_co_location("BOG-2", now))
    # Seeded bad data: no opening hours; a time zone of another country.
    await system.store.locations.put(clean_co_location("BOG-3", now, opening_times=None))
    await system.store.locations.put(clean_co_location("BOG-4", now, time_zone="America/Lima"))

    body = (await client.get("/api/v1/assessment/countries/CO")).json()
    information = next(x for x in body["assessment"]["layers"] if x["layer"] == "information")
    registry = next(c for c in information["criteria"] if c["criterion"] == "information.registry")
    measured = registry["measurement"]
    assert measured["indicator"] == "data_quality"
    assert measured["shown"] == "50% (2 / 4)"
    assert (measured["good"], measured["poor"]) == (0.9, 0.5)
    assert measured["formula"].startswith("locations passing every data quality rule")
    assert (registry["desk_level"], registry["current"]) == (3, 2)  # mandated, not met in practice

    report = await client.get("/api/v1/assessment/countries/CO/report", params={"format": "md"})
    line = next(x for x in report.text.splitlines() if x.startswith("- information.registry "))
    assert "— measured data_quality = 50% (2 / 4) (good ≥ 0.9, poor < 0.5) → 2" in line
    assert "— Measured: locations passing every data quality rule of the access point" in line

    # The dashboard's page shows it too; without the registry it is not measured.
    page = await assessment_page(system.store, DATA, "CO", "en", registry=system.registry)
    assert "data_quality = 50% (2 / 4)" in page
    assert "data_quality" not in await assessment_page(system.store, DATA, "CO", "en")
