"""Several Intercarga deployments in one process, talking OCPI through one routing transport.

``network`` builds deployments on the backend of the ``database`` parameter (each its own SQLite
file or PostgreSQL schema); their OCPI clients share a transport that hands each request to the
ASGI app of the deployment whose host the URL names, so two parties can register with each
other without sockets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from intercarga.app import System
from intercarga.config import OcpiParty, Settings
from intercarga.ocpi.service import Roaming, routers
from intercarga.web.http import create_http_app
from tests.conftest import _drop_schema, _postgres_schema

ADMIN = "test-admin-token-ocpi-0123456789"


class Hosts(httpx.AsyncBaseTransport):
    """Sends each request to the app registered for its host; unknown hosts refuse to connect."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}
        self.down: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down or host not in self.apps:
            raise httpx.ConnectError(f"connection refused: {host}", request=request)
        return await self.apps[host].handle_async_request(request)


@dataclass
class Deployment:
    name: str
    system: System
    roaming: Roaming
    app: FastAPI
    admin: httpx.AsyncClient
    ocpi: httpx.AsyncClient = field(repr=False)

    @property
    def versions_url(self) -> str:
        return self.roaming.registrar.versions_url


Make = Callable[..., Coroutine[Any, Any, Deployment]]


def party(country: str, party_id: str, role: str, name: str | None = None) -> OcpiParty:
    return OcpiParty(country_code=country, party_id=party_id, role=role, name=name or party_id)


@pytest.fixture
async def network(
    database: tuple[str, str | None], tmp_path: Path
) -> AsyncIterator[tuple[Make, Hosts]]:
    url, _schema = database
    hosts = Hosts()
    made: list[Deployment] = []
    schemas: list[str] = []

    async def make(
        name: str, parties: list[OcpiParty], versions: list[str] | None = None
    ) -> Deployment:
        if url.startswith("sqlite"):
            db_url, schema = f"sqlite+aiosqlite:///{tmp_path / name}.db", None
        else:
            db_url, schema = url, await _postgres_schema()
            schemas.append(schema)
        ocpi: dict[str, Any] = {"parties": parties}
        if versions is not None:
            ocpi["versions"] = versions
        settings = Settings(
            database_url=SecretStr(db_url),
            database_schema=schema,
            admin_token=SecretStr(ADMIN),
            public_url=f"http://{name}.test",
            ocpi=ocpi,
        )
        system = await System.open(settings)
        roaming = Roaming.build(settings, system.store, hosts)
        app = create_http_app(system, routers=routers(roaming))
        hosts.apps[f"{name}.test"] = httpx.ASGITransport(app=app)
        admin = httpx.AsyncClient(
            transport=hosts,
            base_url=f"http://{name}.test",
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        ocpi_client = httpx.AsyncClient(transport=hosts, base_url=f"http://{name}.test")
        deployment = Deployment(name, system, roaming, app, admin, ocpi_client)
        made.append(deployment)
        return deployment

    try:
        yield make, hosts
    finally:
        for deployment in made:
            await deployment.admin.aclose()
            await deployment.ocpi.aclose()
            await deployment.system.close()
        for schema in schemas:
            await _drop_schema(schema)


@pytest.fixture
async def cpo_and_emsp(network: tuple[Make, Hosts]) -> tuple[Deployment, Deployment]:
    make, _hosts = network
    cpo = await make("cpo", [party("CO", "CPO", "CPO", "Carga CPO")])
    emsp = await make("emsp", [party("CO", "EMS", "EMSP", "Movilidad eMSP")])
    return cpo, emsp
