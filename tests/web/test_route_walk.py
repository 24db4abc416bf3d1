"""Every route of the HTTP app refuses whoever has no right to it (issue 12, 15a).

The routes come from the app's own route table, so a route added tomorrow is walked the day it
lands: admin API, OCPI, operations, docs. Each is called without credentials, with a wrong one,
with the other API's credential (admin token at OCPI, an OCPI token at the admin API) and, for
OCPI, with a TOKEN_A that opens only registration, and with a registered partner's token on
objects of a party it does not represent. Only the routes in :data:`PUBLIC` may answer.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute

from intercarga.app import System, http_app
from intercarga.config import OcpiParty
from intercarga.dashboard import Dashboard
from intercarga.domain.partner import Partner, PartnerRole, PartnerState
from intercarga.ocpi.api import routers
from intercarga.ocpi.roaming import Roaming
from intercarga.security import hash_token
from tests.conftest import ADMIN_TOKEN
from tests.registry.test_open_data import open_data_api

# The routes anyone may call, and why. Nothing under /ocpi is here: OCPI 2.2.1 and 2.3.0,
# transport_and_format, "Every OCPI HTTP request MUST add an 'Authorization' header", the
# versions and version details endpoints included (TOKEN_A, B or C).
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "liveness for load balancers and orchestrators; says only ok/unavailable",
    ("GET", "/metrics"): "Prometheus scrapes without credentials; counts and latencies, no data",
    ("GET", "/api/openapi.json"): "the API's description, not its data",
    ("GET", "/api/docs"): "the page that renders that description",
    ("GET", "/docs/oauth2-redirect"): "a static helper page of the docs",
    # Open data (issue 13.5): published Locations for anyone, no sign-in by design; nothing
    # unpublished, no token, session or CDR is reachable (tests/registry/test_open_data.py).
    ("GET", "/open-data/v1/locations"): "open data: published Locations, OCPI 2.2.1 JSON",
    ("GET", "/open-data/v1/locations.geojson"): "open data: the same as GeoJSON",
    ("GET", "/open-data/v1/locations.csv"): "open data: the same as CSV",
    ("GET", "/open-data/v1/locations.ocm.json"): "open data: the same as Open Charge Map POIs",
    ("GET", "/open-data/v1/locations/{country_code}/{party_id}/{location_id}"): "open data: one",
    ("GET", "/open-data/v1/statistics"): "open data: counts per country",
    ("GET", "/open-data/v1/evses/{country_code}/{party_id}/{location_id}/{evse_uid}/history"): (
        "open data: a published EVSE's status changes"
    ),
    ("GET", "/open-data/v1/evses/{country_code}/{party_id}/{location_id}/{evse_uid}/reliability"): (
        "open data: a published EVSE's reliability and uptime"
    ),
    ("GET", "/open-data/v1/bulk"): "open data: the whole published dataset, one file",
    ("GET", "/open-data/v1/openapi.json"): "open data: its own API description",
    ("OPTIONS", "/open-data/v1/{path:path}"): "open data: CORS preflight, no data",
    ("GET", "/"): "the dashboard's sign-in page",
    ("POST", "/sign-in"): "signing in to the dashboard (a CSRF cookie and a password)",
    ("GET", "/language/{language}"): "the dashboard's language switcher: sets a cookie",
    ("GET", "/static/{folder}/{path:path}"): "the dashboard's CSS, scripts and Leaflet: no data",
    ("GET", "/public"): "the open map: published locations only",
    ("GET", "/public/locations.json"): "the open map's published locations",
    ("GET", "/public/outlines.json"): "the open map's country outlines (Natural Earth)",
    ("GET", "/public/locations/{country_code}/{party_id}/{location_id}"): "a published location",
}

PARTNER_TOKEN = "registered-partner-token-0123456789"
TOKEN_A = "invited-partner-token-a-0123456789"


@dataclass(frozen=True)
class Route:
    method: str
    path: str

    @property
    def ocpi(self) -> bool:
        return self.path.startswith("/ocpi")

    @property
    def party_scoped(self) -> bool:
        return "{country_code}/{party_id}" in self.path

    def url(self) -> str:
        """The path with every parameter filled: a version we offer, a party no one registered."""
        values = {
            "version": "2.2.1",
            "country_code": "CL",
            "party_id": "XYZ",
            "interface": "receiver",
            "module": "locations",
        }
        return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "X1"), self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _flat(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """The app's routes, included routers opened (FastAPI ≥ 0.16x keeps them nested)."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:
        yield from routes
        return
    yield from contexts(routes)  # each answers .path and .methods like the route


def route_table(app: FastAPI) -> list[Route]:
    table = {
        Route(method, path)
        for route in _flat(app.routes)
        if (path := getattr(route, "path", None))
        for method in (getattr(route, "methods", None) or {"GET"})
        if method != "HEAD"
    }
    return sorted(table, key=str)


@pytest.fixture
async def app(system: System) -> AsyncIterator[FastAPI]:
    # Every role hosted, so that no interface is absent (404) and every route is live.
    parties = [
        OcpiParty(country_code="CL", party_id="ICG", role=role, name="Intercarga")
        for role in ("CPO", "EMSP", "NAP", "HUB")
    ]
    ocpi = system.settings.ocpi.model_copy(update={"parties": parties})
    settings = system.settings.model_copy(update={"ocpi": ocpi})
    refuse = httpx.MockTransport(lambda request: httpx.Response(503))
    roaming = Roaming.build(settings, system.store, refuse)
    partners = roaming.registrar.partners
    await partners.put(
        Partner(
            id="pregistered",
            name="Registered",
            state=PartnerState.REGISTERED,
            initiated_by="THEM",
            version="2.2.1",
            versions_url="https://partner.example/ocpi/versions",
            token_hash=hash_token(PARTNER_TOKEN),
            outgoing_token="our-token-for-them-0123456789",
            roles=[
                PartnerRole(country_code="CO", party_id="EVL", role=role, name="Evil")
                for role in ("CPO", "EMSP")  # a HUB may act for any party
            ],
        )
    )
    await partners.put(
        Partner(
            id="pinvited",
            name="Invited",
            state=PartnerState.INVITED,
            initiated_by="THEM",
            token_hash=hash_token(TOKEN_A),
        )
    )
    dashboard = Dashboard(
        store=system.store,
        bus=system.bus,
        commands=system.csms_service,
        connections=system.csms,
        roaming=roaming,
    )
    open_data = open_data_api(system.engine).router()
    yield http_app(
        system,
        routers=[*routers(roaming), open_data, dashboard.router],
        error_page=dashboard.error_page,
    )
    await roaming.client.aclose()


def _ocpi_token(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


async def _refusals(app: FastAPI, routes: list[Route], authorization: str | None) -> list[str]:
    """What each route answered to ``authorization``: the ones that did not refuse."""
    answered = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intercarga.test") as client:
        for route in routes:
            headers = {} if authorization is None else {"Authorization": authorization}
            body = b"{}" if route.method in ("POST", "PUT", "PATCH") else None
            if body is not None:
                headers["Content-Type"] = "application/json"
            answer = await client.request(route.method, route.url(), headers=headers, content=body)
            if answer.status_code not in (401, 403):
                answered.append(f"{route} -> {answer.status_code} {answer.text[:120]}")
    return answered


async def test_the_walk_covers_every_kind_of_route(app: FastAPI) -> None:
    table = route_table(app)
    assert set(PUBLIC) <= {(route.method, route.path) for route in table}
    for prefix in (
        "/api/v1/",
        "/ocpi/",
        "/ocpi/hub/",
        "/api/v1/partners",
        "/open-data/v1/",
        "/stations/",
    ):
        assert any(route.path.startswith(prefix) for route in table), prefix
    assert len(table) > 100


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token-0123456789", "Token d3Jvbmc=", "Basic YTpi"],
)
async def test_no_route_but_the_public_ones_answers_without_a_valid_credential(
    app: FastAPI, authorization: str | None
) -> None:
    walked = [route for route in route_table(app) if (route.method, route.path) not in PUBLIC]
    refused = await _refusals(app, walked, authorization)
    assert refused == [], "\n".join(refused)


async def test_each_api_refuses_the_other_apis_credential(app: FastAPI) -> None:
    table = route_table(app)
    ocpi = [route for route in table if route.ocpi]
    admin = [
        route for route in table if not route.ocpi and (route.method, route.path) not in PUBLIC
    ]
    assert await _refusals(app, ocpi, f"Bearer {ADMIN_TOKEN}") == []
    assert await _refusals(app, ocpi, _ocpi_token(ADMIN_TOKEN)) == []
    assert await _refusals(app, admin, _ocpi_token(PARTNER_TOKEN)) == []
    assert await _refusals(app, admin, f"Bearer {PARTNER_TOKEN}") == []


async def test_a_token_a_opens_only_versions_and_credentials(app: FastAPI) -> None:
    registration = re.compile(r"^/ocpi/(versions|\{version\}|\{version\}/credentials)$")
    modules = [
        route for route in route_table(app) if route.ocpi and not registration.match(route.path)
    ]
    assert await _refusals(app, modules, _ocpi_token(TOKEN_A)) == []


async def test_a_partner_cannot_act_for_a_party_it_does_not_represent(app: FastAPI) -> None:
    """CL-XYZ is no party of the caller's: its objects are not the caller's to read or change.

    The modules answer 404 there (an object of someone else's is as good as absent), which the
    walk accepts besides 401 and 403; any success is a hole.
    """
    scoped = [route for route in route_table(app) if route.ocpi and route.party_scoped]
    assert scoped
    leaks = [
        line
        for line in await _refusals(app, scoped, _ocpi_token(PARTNER_TOKEN))
        if " -> 404 " not in line
    ]
    assert leaks == [], "\n".join(leaks)
