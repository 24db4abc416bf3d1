"""The dashboard's pages over HTTP, in-process: sign-in, rights, and filters that name mistakes.

The browser tests (test_browser.py) show the pages working; these check, quickly and on both
databases, what a browser cannot easily show: refusals and a wrong filter marked and named.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from intercarga.app import System, http_app
from intercarga.dashboard import Dashboard, Role
from intercarga.dashboard.compliance import NetworkCompliance
from intercarga.domain import EVSEStatus
from intercarga.domain._types import utc_now
from intercarga.domain.events import EvseStatusChanged
from intercarga.domain.location import (
    EVSE,
    Connector,
    ConnectorFormat,
    ConnectorStandard,
    GeoLocation,
    Location,
    PowerType,
)
from intercarga.hardware import comply
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


async def test_an_unknown_name_is_refused_as_a_wrong_password_is(
    client: httpx.AsyncClient,
) -> None:
    form = await client.get("/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    data = {"name": "nobody", "password": PASSWORD, "csrf": csrf.group(1)}
    refused = await client.post("/sign-in", data=data)
    assert refused.status_code == 401
    assert "Wrong name or password." in refused.text
    assert "intercarga_session" not in client.cookies


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
    # Not published and not there answer alike: the problem JSON, or a browser's 404 page.
    for path in ("/public/locations/CO/ICG/BOG-USAQUEN", "/public/locations/CO/ICG/NOPE"):
        missing = await client.get(path)
        assert missing.status_code == 404, path
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["detail"] == "no published location " + path.split("/", 3)[3]
        page = await client.get(path, headers={"Accept": "text/html", "Accept-Language": "es"})
        assert page.status_code == 404 and "Página no encontrada" in page.text, path
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


def _site(
    key: tuple[str, str, str], lat: str, standard: ConnectorStandard, **more: object
) -> Location:
    """A one-EVSE AC site at ``lat`` (longitude -56.16), its connector of ``standard``."""
    country, party, ident = key
    connector = Connector(
        id="1", standard=standard, format=ConnectorFormat.SOCKET, power_type=PowerType.AC_3_PHASE,
        max_voltage=230, max_amperage=32, max_electric_power=22000,
    )  # fmt: skip
    return Location(
        country_code=country, party_id=party, id=ident, name=f"Site {ident}",
        address="Av. 18 de Julio 1000", city="Montevideo", country="URY",
        coordinates=GeoLocation(latitude=lat, longitude="-56.1600000"),
        time_zone="America/Montevideo",
        evses=[EVSE(uid=f"{ident}-1", status=EVSEStatus.AVAILABLE, connectors=[connector])],
        **more,
    )  # fmt: skip


async def _markers(client: httpx.AsyncClient, path: str = "/map/locations.json") -> dict[str, Any]:
    return {m["key"]: m for m in (await client.get(path)).json()}


async def test_the_map_data_follows_edits_additions_and_deletions(
    client: httpx.AsyncClient, system: System
) -> None:
    """Markers built before a change show it on the next map data request, all of them."""
    await _sign_in(client)
    assert "CO/ICG/BOG-USAQUEN" in await _markers(client)  # the markers are built now
    site = await system.store.locations.get("CO", "ICG", "BOG-USAQUEN")
    await system.store.locations.put(
        site.model_copy(update={"name": "Usaquén renovada", "last_updated": utc_now()})
    )
    added = _site(("UY", "ICG", "MVD-CENTRO"), "-34.9000000", ConnectorStandard.IEC_62196_T2)
    await system.store.locations.put(added)
    # Stored with a last_updated older than anything seen: found by counting, not by time.
    late = _site(
        ("UY", "ICG", "MVD-LATE"), "-34.9100000", ConnectorStandard.IEC_62196_T2,
        last_updated=utc_now() - timedelta(days=400),
    )  # fmt: skip
    await system.store.locations.put(late)
    markers = await _markers(client)
    assert markers["CO/ICG/BOG-USAQUEN"]["name"] == "Usaquén renovada"
    assert markers["UY/ICG/MVD-CENTRO"]["evses"][0]["standards"] == ["IEC_62196_T2"]
    assert "UY/ICG/MVD-LATE" in markers
    assert list(markers) == sorted(markers, key=lambda k: tuple(k.split("/")))
    await system.store.locations.delete("CL", "ICG", "SCL-PROVIDENCIA")
    await system.store.locations.put(
        added.model_copy(update={"publish": False, "last_updated": utc_now()})
    )
    markers = await _markers(client)
    assert set(markers) == {
        "CO/ICG/BOG-USAQUEN", "BR/ICG/SAO-PAULISTA", "UY/ICG/MVD-CENTRO", "UY/ICG/MVD-LATE"
    }  # fmt: skip
    assert list(markers) == sorted(markers, key=lambda k: tuple(k.split("/")))
    public = await _markers(client, "/public/locations.json")
    assert set(public) == {"CO/ICG/BOG-USAQUEN", "BR/ICG/SAO-PAULISTA", "UY/ICG/MVD-LATE"}
    # A status change after the edits is still patched from the bus.
    at = utc_now() + timedelta(seconds=1)
    key = ("CO", "ICG", "BOG-USAQUEN")
    uid = markers["CO/ICG/BOG-USAQUEN"]["evses"][0]["uid"]
    assert await system.store.locations.set_evse_status(key, uid, EVSEStatus.CHARGING, at)
    await system.bus.publish(EvseStatusChanged(*key, uid, EVSEStatus.CHARGING, at))
    assert (await _markers(client))["CO/ICG/BOG-USAQUEN"]["evses"][0]["status"] == "CHARGING"


async def test_the_compliance_report_follows_an_edit_near_a_site_and_a_deletion(
    system: System,
) -> None:
    """Uruguay admits a Type 1 charger when a Type 2 one of similar power stands within 500 m:
    moving or deleting the Type 2 site changes the verdict on the Type 1 site, which did not
    change itself; each kept report is the one a fresh check of the store gives."""
    compliance = NetworkCompliance(system.store)
    t1, t2 = ConnectorStandard.IEC_62196_T1, ConnectorStandard.IEC_62196_T2
    store = system.store.locations
    await store.put(_site(("UY", "ICG", "A"), "-34.9000000", t1))
    helper = _site(("UY", "ICG", "B"), "-34.9010000", t2)  # about 110 m south
    await store.put(helper)

    async def checked() -> set[str]:
        kept = await compliance.report("UY")
        fresh = comply("UY", (await store.list(limit=None)).items)
        assert kept.model_dump(exclude={"locations_skipped"}) == fresh.model_dump(
            exclude={"locations_skipped"}
        )
        return {f.location_id for f in kept.findings}

    assert await checked() == set()
    await store.put(
        helper.model_copy(
            update={
                "coordinates": GeoLocation(latitude="-30.0000000", longitude="-56.1600000"),
                "last_updated": utc_now(),
            }
        )
    )
    assert await checked() == {"A"}
    await store.put(helper.model_copy(update={"last_updated": utc_now()}))
    assert await checked() == set()
    await store.delete("UY", "ICG", "B")
    assert await checked() == {"A"}
    await store.put(_site(("UY", "ICG", "C"), "-34.9005000", t2))
    assert await checked() == set()


async def test_warmed_at_start_the_first_map_load_and_hardware_page_read_no_locations(
    system: System,
) -> None:
    """``serve`` warms the dashboard as it starts: the first visitor's map data and a mapped
    country's compliance come from what was built then (one watermark query each), not from
    reading every Location (seconds with 10,000)."""
    from sqlalchemy import event

    await seed_example_network(system.store)
    dashboard = Dashboard(
        store=system.store,
        bus=system.bus,
        commands=system.csms_service,
        connections=system.csms,
    )
    await dashboard.accounts.add("ops", Role.OPERATOR, PASSWORD)
    await dashboard.warm()
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    app = http_app(system, routers=[dashboard.router], error_page=dashboard.error_page)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://intercarga.test"
        ) as client:
            await _sign_in(client)
            event.listen(system.store.engine.sync_engine, "before_cursor_execute", count)
            try:
                markers = await _markers(client)
                read_for_map = [s for s in statements if "FROM locations" in s]
                statements.clear()
                page = await client.get("/hardware?country=CO")
                read_for_page = [s for s in statements if "FROM locations" in s]
            finally:
                event.remove(system.store.engine.sync_engine, "before_cursor_execute", count)
    finally:
        dashboard.close()
    assert "CO/ICG/BOG-USAQUEN" in markers
    assert page.status_code == 200
    # The watermark (a count and the newest last_updated), and at most the Locations changed in
    # the last seconds (the seed's, just stored): never every Location.
    for read in (read_for_map, read_for_page):
        assert all(_watermark_or_recent(statement) for statement in read), read


def _watermark_or_recent(statement: str) -> bool:
    text = statement.lower()
    return "count(" in text or "max(" in text or "last_updated >=" in text
