"""Several Intercarga deployments in one process, talking OCPI through one routing transport.

``network`` builds deployments on the backend of the ``database`` parameter (each its own SQLite
file or PostgreSQL schema); their OCPI clients share a transport that hands each request to the
ASGI app of the deployment whose host the URL names, so two parties can register with each
other without sockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from intercarga.app import System, http_app
from intercarga.config import OcpiParty, Settings
from intercarga.ocpi.api import routers
from intercarga.ocpi.commands import ChargingStations
from intercarga.ocpi.outbox import RetryPolicy
from intercarga.ocpi.roaming import Roaming, RoamingOptions
from intercarga.web.api.registry import registry_router
from tests.conftest import Migrated

ADMIN = "test-admin-token-ocpi-0123456789"


class Hosts(httpx.AsyncBaseTransport):
    """Sends each request to the app registered for its host; unknown hosts refuse to connect,
    hosts ``down`` too, and ``silent`` ones time out.

    ``lose_answers[host] = n``: the next ``n`` POSTs to ``host`` are delivered but their answers
    are lost (the sender sees a timeout); ``lose_answers_of`` names the methods (POST unless
    told). ``delivered`` lists every request a host's app received: method and path."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}
        self.down: set[str] = set()
        self.silent: set[str] = set()
        self.lose_answers: dict[str, int] = {}
        self.lose_answers_of: frozenset[str] = frozenset({"POST"})
        self.delivered: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down or host not in self.apps:
            raise httpx.ConnectError(f"connection refused: {host}", request=request)
        if host in self.silent:
            raise httpx.ReadTimeout(f"no answer from {host}", request=request)
        response = await self.apps[host].handle_async_request(request)
        self.delivered.append((request.method, request.url.path))
        if request.method in self.lose_answers_of and self.lose_answers.get(host, 0) > 0:
            self.lose_answers[host] -= 1
            await response.aread()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


@dataclass
class Deployment:
    name: str
    system: System
    roaming: Roaming
    app: FastAPI
    admin: httpx.AsyncClient
    ocpi: httpx.AsyncClient = field(repr=False)
    settings: Settings = field(repr=False, kw_only=True)
    stations: ChargingStations | None = field(default=None, repr=False, kw_only=True)

    @property
    def versions_url(self) -> str:
        return self.roaming.registrar.versions_url


# Retries within a test's patience: a failed push is tried again after 50 ms, at most 200 ms.
FAST = RetryPolicy(first_delay=0.05, max_delay=0.2, poll=0.05, lease=5)


class Network:
    """Makes deployments (``await network(name, parties)``), stops and restarts them."""

    def __init__(self, url: str, tmp_path: Path, hosts: Hosts, migrated: Migrated) -> None:
        self._url = url
        self._tmp_path = tmp_path
        self.hosts = hosts
        self._migrated = migrated
        self.made: list[Deployment] = []
        self.schemas: list[str] = []

    async def __call__(
        self,
        name: str,
        parties: list[OcpiParty],
        versions: list[str] | None = None,
        policy: RetryPolicy = FAST,
        registry: dict[str, Any] | None = None,
        stations: ChargingStations | None = None,
    ) -> Deployment:
        """A deployment of ``parties``; its OCPI commands run on ``stations`` (a fake) when
        given, else on its own CSMS."""
        # Each deployment its own database, migrated already (tests/conftest.py, Migrated).
        if self._url.startswith("sqlite"):
            db_url = await self._migrated.sqlite_copy(self._tmp_path / f"{name}.db")
            schema = None
        else:
            db_url, schema = self._url, await self._migrated.lend_schema()
            self.schemas.append(schema)
        ocpi: dict[str, Any] = {"parties": parties}
        if versions is not None:
            ocpi["versions"] = versions
        settings = Settings(
            database_url=SecretStr(db_url),
            database_schema=schema,
            admin_token=SecretStr(ADMIN),
            public_url=f"http://{name}.test",
            ocpi=ocpi,
            registry=registry or {"pull_interval": 0},
        )
        return await self._open(name, settings, policy, stations)

    async def _open(
        self,
        name: str,
        settings: Settings,
        policy: RetryPolicy,
        stations: ChargingStations | None = None,
    ) -> Deployment:
        options = RoamingOptions(self.hosts, policy, watch_interval=0.1, stations=stations)
        system = await System.open(settings, migrate=False, roaming=options)  # migrated when lent
        roaming = system.roaming
        assert roaming is not None
        await roaming.start()
        app = http_app(system, routers=[*routers(roaming), registry_router(system.registry)])
        self.hosts.apps[f"{name}.test"] = httpx.ASGITransport(app=app)
        self.hosts.down.discard(f"{name}.test")
        admin = httpx.AsyncClient(
            transport=self.hosts,
            base_url=f"http://{name}.test",
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        ocpi_client = httpx.AsyncClient(transport=self.hosts, base_url=f"http://{name}.test")
        deployment = Deployment(
            name, system, roaming, app, admin, ocpi_client, settings=settings, stations=stations
        )
        self.made.append(deployment)
        return deployment

    async def stop(self, deployment: Deployment) -> None:
        """The deployment's process ends: nothing answers at its host, nothing runs."""
        self.hosts.down.add(f"{deployment.name}.test")
        if deployment in self.made:
            self.made.remove(deployment)
            await _close(deployment)

    async def restart(self, deployment: Deployment, policy: RetryPolicy = FAST) -> Deployment:
        """Stop the deployment and start it again on the same database."""
        await self.stop(deployment)
        return await self._open(deployment.name, deployment.settings, policy, deployment.stations)


async def _close(deployment: Deployment) -> None:
    await deployment.roaming.stop()
    await deployment.admin.aclose()
    await deployment.ocpi.aclose()
    await deployment.system.close()


def party(country: str, party_id: str, role: str, name: str | None = None) -> OcpiParty:
    return OcpiParty(country_code=country, party_id=party_id, role=role, name=name or party_id)


@pytest.fixture
async def network(
    database: tuple[str, str | None], migrated: Migrated, tmp_path: Path
) -> AsyncIterator[tuple[Network, Hosts]]:
    url, _schema = database
    hosts = Hosts()
    made = Network(url, tmp_path, hosts, migrated)
    try:
        yield made, hosts
    finally:
        for deployment in list(made.made):
            await _close(deployment)
        for schema in made.schemas:
            migrated.give_back(schema)


@pytest.fixture
async def cpo_and_emsp(network: tuple[Network, Hosts]) -> tuple[Deployment, Deployment]:
    make, _hosts = network
    cpo = await make("cpo", [party("CO", "CPO", "CPO", "Carga CPO")])
    emsp = await make("emsp", [party("CO", "EMS", "EMSP", "Movilidad eMSP")])
    return cpo, emsp


async def connect(inviter: Deployment, registrant: Deployment, version: str | None = None) -> None:
    """``registrant`` registers with ``inviter`` (TOKEN_A from an invitation), at ``version``."""
    invitation = (await inviter.admin.post("/api/v1/partners/invitations", json={})).json()
    response = await registrant.admin.post(
        "/api/v1/partners", json={"url": invitation["versions_url"], "token": invitation["token"]}
    )
    assert response.status_code == 201, response.text
    if version is not None and response.json()["version"] != version:
        switched = await registrant.admin.put(
            f"/api/v1/partners/{response.json()['id']}/credentials", params={"version": version}
        )
        assert switched.status_code == 200, switched.text


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    """Wait until ``check()`` holds (deliveries are asynchronous); fail after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
