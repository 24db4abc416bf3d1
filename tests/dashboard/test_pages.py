"""The dashboard's pages over HTTP, in-process: sign-in, rights, and filters that name mistakes.

The browser tests (test_browser.py) show the pages working; these check, quickly and on both
databases, what a browser cannot easily show: refusals and a wrong filter marked and named.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from intercarga.app import System, http_app
from intercarga.dashboard import Dashboard, Role
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
    app = http_app(system, routers=[dashboard.router])
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
