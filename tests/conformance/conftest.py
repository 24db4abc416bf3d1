"""The CSMS under test for the conformance suites, on SQLite and on PostgreSQL.

``database`` is the root fixture (an empty database of each kind, migrated once per process).
``system`` is the root fixture with conformance settings (short call timeout, a master
pass group); ``csms`` seeds the example network, gives its two stations a password and the suites'
tokens, serves the OCPP endpoint on a free 127.0.0.1 port, and afterwards closes every station
the test opened and fails the test if the CSMS ever sent one of them a schema-invalid call.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from intercarga.app import System
from intercarga.config import OcppSettings, Settings
from intercarga.domain import Token
from intercarga.ocpp.tls import server_context
from intercarga.security import hash_password
from intercarga.sim.example import seed_example_network
from intercarga.store import Store
from tests.conformance.harness import (
    BLOCKED,
    EXPIRED,
    GROUP,
    MASTER,
    MASTER_GROUP,
    PASSWORD,
    STATION_16,
    STATION_201,
    VALID,
    VALID2,
    Csms,
    Station16,
    Station201,
)
from tests.conftest import (
    ADMIN_TOKEN,
)
from tests.pki import certificate, new_key, write_pem

PASSWORD_HASH = hash_password(PASSWORD)  # scrypt is slow: once per run


@pytest.fixture
async def system(database: tuple[str, str | None]) -> AsyncIterator[System]:
    url, schema = database
    settings = Settings(
        database_url=SecretStr(url),
        database_schema=schema,
        admin_token=SecretStr(ADMIN_TOKEN),
        ocpp=OcppSettings(call_timeout=5, ping_interval=0, master_pass_groups=[MASTER_GROUP]),
    )
    system = await System.open(settings, migrate=False)
    try:
        yield system
    finally:
        await system.close()


def _token(uid: str, **changes: object) -> Token:
    values: dict[str, object] = {
        "country_code": "CL",
        "party_id": "ICG",
        "uid": uid,
        "contract_id": "CL-ICG-C00000001-Q",
        "issuer": "Intercarga Conformance",
    }
    return Token.model_validate(values | changes)


async def seed(store: Store) -> None:
    await seed_example_network(store)
    for station_id in (STATION_201, STATION_16):
        station = await store.stations.get(station_id)
        await store.stations.put(station.model_copy(update={"password_hash": PASSWORD_HASH}))
    for token in (
        _token(VALID, group_id=GROUP),
        _token(VALID2, group_id=GROUP),
        _token(BLOCKED, valid=False),
        _token(EXPIRED, expires_at=datetime.now(UTC) - timedelta(days=1)),
        _token(MASTER, group_id=MASTER_GROUP),
    ):
        await store.tokens.put(token)


@asynccontextmanager
async def serving(
    system: System, client: httpx.AsyncClient, tls: ssl.SSLContext | None = None
) -> AsyncIterator[Csms]:
    """The seeded CSMS serving OCPP on a free port (wss:// with ``tls``)."""
    await seed(system.store)
    sock = socket.create_server(("127.0.0.1", 0))
    await system.csms.start(sock, tls)
    port = sock.getsockname()[1]
    url = f"wss://localhost:{port}/ocpp" if tls else f"ws://127.0.0.1:{port}/ocpp"
    under_test = Csms(system, client, url)
    try:
        yield under_test
    finally:
        for station in under_test.stations:
            await station.close()
        await system.csms.stop()
    violations = [v for station in under_test.stations for v in station.violations]
    assert not violations, violations


@pytest.fixture
async def csms(system: System, client: httpx.AsyncClient) -> AsyncIterator[Csms]:
    async with serving(system, client) as under_test:
        yield under_test


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """A CA, the CSMS's certificate (EC, and RSA), and station certificates good and bad."""
    ca_key = new_key()
    ca = certificate("Intercarga Conformance CA", ca_key, None, ca=True)
    signed_by_ca = (ca.subject, ca_key)
    files = {
        "ca": write_pem(tmp_path / "ca.pem", ca),
        "ca_key": write_pem(tmp_path / "ca.key", ca_key),
    }
    for name, kind in (("server", "ec"), ("server_rsa", "rsa")):
        key = new_key(kind)
        files[name] = write_pem(
            tmp_path / f"{name}.pem", certificate("localhost", key, signed_by_ca, ca=False)
        )
        files[f"{name}_key"] = write_pem(tmp_path / f"{name}.key", key)
    stranger_key = new_key()
    stranger = certificate("Stranger CA", stranger_key, None, ca=True)
    for name, subject, issuer, expired in (
        ("station", STATION_201, signed_by_ca, False),
        ("other_station", "CL-ICG-0099", signed_by_ca, False),
        ("expired", STATION_201, signed_by_ca, True),
        ("unknown_ca", STATION_201, (stranger.subject, stranger_key), False),
        ("station_16", STATION_16, signed_by_ca, False),
        ("unknown_ca_16", STATION_16, (stranger.subject, stranger_key), False),
    ):
        key = new_key()
        issued = certificate(subject, key, issuer, ca=False, expired=expired)
        files[name] = write_pem(tmp_path / f"{name}.pem", issued, key)
    return files


@pytest.fixture
async def csms_tls(
    system: System, client: httpx.AsyncClient, pki: dict[str, Path]
) -> AsyncIterator[Csms]:
    """The CSMS on wss:// (EC certificate; station certificates from the test CA accepted)."""
    settings = OcppSettings(
        tls_certificate=pki["server"], tls_private_key=pki["server_key"], tls_client_ca=pki["ca"]
    )
    async with serving(system, client, server_context(settings)) as under_test:
        yield under_test


@pytest.fixture
async def cs(csms: Csms) -> Station201:
    """The 2.0.1 station, connected and in Part 6's reusable state Booted."""
    station = csms.station201()
    await station.connect()
    await station.booted()
    return station


@pytest.fixture
async def cs16(csms: Csms) -> Station16:
    """The 1.6 station, connected and booted (Accepted, connectors Available)."""
    station = csms.station16()
    await station.connect()
    await station.booted()
    return station
