"""The dashboard's pages over HTTP, in-process: sign-in, rights, and filters that name mistakes.

The browser tests (test_browser.py) show the pages working; these check, quickly and on both
databases, what a browser cannot easily show: refusals and a wrong filter marked and named.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest

from intercarga.app import System, http_app
from intercarga.dashboard import Dashboard, Role
from intercarga.domain import EVSEStatus
from intercarga.domain._types import utc_now
from intercarga.domain.events import EvseStatusChanged
from intercarga.domain.location import ConnectorStandard, PowerType
from intercarga.ocpi.roaming import Roaming
from intercarga.sim.example import seed_example_network

PASSWORD = "a-long-operator-password"


@asynccontextmanager
async def _browser(
    system: System, roaming: Roaming | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The dashboard in-process, with an operator account, and a client speaking English."""
    dashboard = Dashboard(
        store=system.store,
        bus=system.bus,
        commands=system.csms_service,
        connections=system.csms,
        roaming=roaming,
    )
    await dashboard.accounts.add("ops", Role.OPERATOR, PASSWORD)
    app = http_app(system, routers=[dashboard.router], error_page=dashboard.error_page)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://intercarga.test",
            headers={"Accept-Language": "en"},
        ) as client:
            yield client
    finally:
        dashboard.close()


@pytest.fixture
async def client(system: System) -> AsyncIterator[httpx.AsyncClient]:
    await seed_example_network(system.store)
    async with _browser(system) as client:
        yield client


async def _sign_in(client: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    data = {"name": "ops", "password": password, "csrf": csrf.group(1)}
    return await client.post("/sign-in", data=data)


async def test_pages_ask_for_a_sign_in_and_a_wrong_password_opens_nothing(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/map", "/stations", "/sessions", "/cdrs", "/map/locations.json", "/live"):
        assert (await client.get(path)).status_code == 401, path
    refused = await _sign_in(client, "wrong-password-123")
    assert refused.status_code == 401
    assert "Wrong name or password." in refused.text
    assert "intercarga_session" not in client.cookies
    assert (await _sign_in(client)).status_code == 303
    assert (await client.get("/stations")).status_code == 200


async def test_sign_in_needs_its_csrf_token(client: httpx.AsyncClient) -> None:
    await client.get("/")
    forged = await client.post("/sign-in", data={"name": "ops", "password": PASSWORD})
    assert forged.status_code == 403
    assert "intercarga_session" not in client.cookies


async def test_a_wrong_filter_is_marked_and_named(client: httpx.AsyncClient) -> None:
    await _sign_in(client)
    answer = await client.get("/sessions", params={"status": "RUNNING", "country": "chile"})
    assert answer.status_code == 422
    assert 'id="filter-status" name="status" aria-invalid="true"' in answer.text
    assert "Status: Choose a status from the list." in answer.text
    assert "Country: Two capital letters, like CL." in answer.text
    assert (await client.get("/cdrs", params={"country": "c"})).status_code == 422
    fine = await client.get("/sessions", params={"status": "ACTIVE", "country": "CL"})
    assert fine.status_code == 200
    assert "aria-invalid" not in fine.text


async def test_the_map_data_holds_the_example_network(client: httpx.AsyncClient) -> None:
    await _sign_in(client)
    markers = (await client.get("/map/locations.json")).json()
    assert {m["key"] for m in markers} == {
        "CL/ICG/SCL-PROVIDENCIA", "CO/ICG/BOG-USAQUEN", "BR/ICG/SAO-PAULISTA"
    }  # fmt: skip
    outlines = (await client.get("/map/outlines.json")).json()
    assert len(outlines["features"]) == 33
    panel = await client.get(
        "/map/locations/CL/ICG/SCL-PROVIDENCIA", params={"vehicle": "BYD Dolphin"}
    )
    assert "Can my car charge here?" in panel.text
    assert "Yes, up to" in panel.text or "No." in panel.text
    wrong = await client.get("/map/locations/CL/ICG/SCL-PROVIDENCIA", params={"vehicle": "Zzz"})
    assert 'id="vehicle" name="vehicle" list="vehicle-names" value="Zzz" aria-invalid="true"' in (
        wrong.text
    )


async def test_the_public_map_shows_only_published_locations(
    client: httpx.AsyncClient, system: System
) -> None:
    hidden = await system.store.locations.get("CO", "ICG", "BOG-USAQUEN")
    await system.store.locations.put(hidden.model_copy(update={"publish": False}))
    page = await client.get("/public")
    assert page.status_code == 200
    assert "Public charging map" in page.text
    published = (await client.get("/public/locations.json")).json()
    assert {m["key"] for m in published} == {"CL/ICG/SCL-PROVIDENCIA", "BR/ICG/SAO-PAULISTA"}
    assert (await client.get("/public/locations/CO/ICG/BOG-USAQUEN")).status_code == 404
    panel = await client.get("/public/locations/BR/ICG/SAO-PAULISTA")
    assert panel.status_code == 200
    assert "Eletroposto Paulista" in panel.text
    # Nothing operational is public: stations, sessions and the live stream ask for a sign-in.
    assert (await client.get("/live")).status_code == 401


async def test_roaming_invites_and_names_a_bad_registration(system: System) -> None:
    """The roaming page: a TOKEN_A for a new partner once, a bad registration marked and named,
    and nothing for a viewer to change."""
    refuse = httpx.MockTransport(lambda request: httpx.Response(503))
    roaming = Roaming.build(system.settings, system.store, refuse)
    async with _browser(system, roaming) as client:
        await _sign_in(client)
        page = await client.get("/roaming")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        invited = await client.post(
            "/roaming/invite", data={"name": "Movilidad", "csrf": csrf.group(1)}
        )
        assert invited.status_code == 200
        assert "TOKEN_A" in invited.text and "Movilidad" in invited.text
        bad = await client.post(
            "/roaming/register", data={"url": "ftp://x", "token": "", "csrf": csrf.group(1)}
        )
        assert bad.status_code == 422
        assert 'id="register-url" name="url" required aria-invalid="true"' in bad.text
        assert "Token from the partner: The token the partner gave." in bad.text
        partners = await roaming.registrar.partners.list(limit=10)
        assert [p.name for p in partners.items] == ["Movilidad"]  # nothing stored by the mistake
        forged = await client.post("/roaming/invite", data={"name": "Other"})
        assert forged.status_code == 403
    await roaming.client.aclose()


async def test_the_hardware_page_checks_a_countrys_rules(client: httpx.AsyncClient) -> None:
    await _sign_in(client)
    page = await client.get("/hardware", params={"country": "CO"})
    assert page.status_code == 200
    assert 'id="compliance-summary"' in page.text
    assert "1 locations and 1 charging points checked." in page.text
    assert "CCS2" in page.text or "IEC_62196_T2_COMBO" in page.text  # the catalogue
    wrong = await client.get("/hardware", params={"country": "XX"})
    assert wrong.status_code == 422
    assert "Country: Choose a country from the list." in wrong.text


async def test_a_browser_gets_a_404_page_in_its_language_and_an_api_client_problem_json(
    client: httpx.AsyncClient,
) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Language": "es"}
    page = await client.get("/no-such-page", headers=browser)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Página no encontrada" in page.text and 'href="/public"' in page.text
    api = await client.get("/no-such-page")  # httpx asks for */*, as API clients do
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["status"] == 404
    # Signed in, a station that is not there is a page too, with the navigation.
    await _sign_in(client)
    missing = await client.get("/stations/NOPE", headers=browser)
    assert missing.status_code == 404
    assert "Página no encontrada" in missing.text and 'href="/stations"' in missing.text
    assert (await client.get("/stations/NOPE")).json()["detail"] == "station NOPE not found"


async def test_the_compatibility_page_checks_every_connector(client: httpx.AsyncClient) -> None:
    await _sign_in(client)
    empty = await client.get("/compatibility")
    assert empty.status_code == 200 and 'id="verdict"' not in empty.text
    query = {"vehicle": "BYD Dolphin", "location": "SAO-PAULISTA"}
    page = await client.get("/compatibility", params=query, headers={"Accept-Language": "pt"})
    assert page.status_code == 200
    assert 'id="verdict"' in page.text and 'id="connectors"' in page.text
    assert "Sim, até" in page.text  # a Dolphin sold in Brazil charges at the São Paulo site
    assert "IEC_62196" not in page.text and "AC_3_PHASE" not in page.text  # names, not codes
    wrong = await client.get("/compatibility", params={"vehicle": "BYD Dolphin", "location": "X"})
    assert wrong.status_code == 422
    assert 'id="filter-location" name="location" value="X" aria-invalid="true"' in wrong.text
    assert "Location ID: No location has this ID." in wrong.text


async def test_findings_and_codes_read_in_the_pages_language(client: httpx.AsyncClient) -> None:
    await _sign_in(client)
    page = await client.get(
        "/hardware", params={"country": "CO"}, headers={"Accept-Language": "es"}
    )
    assert page.status_code == 200
    assert "Reglas de conectores vigentes" in page.text  # the rules' state, not "rules"
    assert "Res. 40559/2025: Tipo 2 y CCS2 obligatorios" in page.text  # the summary
    assert "Infracción" in page.text or "Advertencia" in page.text  # a severity, not its code
    assert "lacks" not in page.text and "the rule requires" not in page.text
    assert "must comply by" not in page.text


async def test_the_map_data_follows_a_status_change_and_is_sent_gzipped(
    client: httpx.AsyncClient, system: System
) -> None:
    await _sign_in(client)
    first = await client.get("/map/locations.json", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    key = ("CL", "ICG", "SCL-PROVIDENCIA")
    site = next(m for m in first.json() if m["key"] == "/".join(key))
    uid = site["evses"][0]["uid"]
    assert await system.store.locations.set_evse_status(key, uid, EVSEStatus.OUTOFORDER, utc_now())
    again = (await client.get("/map/locations.json")).json()
    site = next(m for m in again if m["key"] == "/".join(key))
    assert site["evses"][0]["status"] == "OUTOFORDER"
    # As the CSMS does it: written, then told on the bus (the markers are patched in place).
    at = utc_now() + timedelta(seconds=1)
    assert await system.store.locations.set_evse_status(key, uid, EVSEStatus.CHARGING, at)
    await system.bus.publish(EvseStatusChanged(*key, uid, EVSEStatus.CHARGING, at))
    for path in ("/map/locations.json", "/public/locations.json"):
        site = next(m for m in (await client.get(path)).json() if m["key"] == "/".join(key))
        assert site["evses"][0]["status"] == "CHARGING", path


async def test_a_finding_is_said_in_the_pages_language(
    client: httpx.AsyncClient, system: System
) -> None:
    """A Colombian site with only Type 1: Colombia's rule (Type 2, due 2027-05-21) finds it."""
    site = await system.store.locations.get("CO", "ICG", "BOG-USAQUEN")
    T1 = ConnectorStandard.IEC_62196_T1  # noqa: N806 - a constant
    type1 = [
        evse.model_copy(
            update={
                "connectors": [
                    c.model_copy(update={"standard": T1, "power_type": PowerType.AC_1_PHASE})
                    for c in evse.connectors
                ]
            }
        )
        for evse in site.evses
    ]
    await system.store.locations.put(site.model_copy(update={"evses": type1}))
    await _sign_in(client)
    page = await client.get(
        "/hardware", params={"country": "CO"}, headers={"Accept-Language": "es"}
    )
    assert page.status_code == 200
    assert "Este punto de carga en CA ofrece Tipo 1" in page.text
    assert "la regla exige Tipo 2" in page.text
    assert "Debe cumplir a más tardar el 2027-05-21." in page.text
    assert "Instale un tomacorriente o cable Tipo 2" in page.text  # the fix
    assert "the rule requires" not in page.text and "must comply by" not in page.text
