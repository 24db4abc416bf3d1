"""The CSMS under test for the conformance suites, on SQLite and on PostgreSQL.

``database`` gives each test an empty database of each kind, quicker than the root fixture:
both are migrated once per run (a SQLite file copied per test, a PostgreSQL schema emptied per
test). ``system`` is the root fixture with conformance settings (short call timeout, a master
pass group); ``csms`` seeds the example network, gives its two stations a password and the suites'
tokens, serves the OCPP endpoint on a free 127.0.0.1 port, and afterwards closes every station
the test opened and fails the test if the CSMS ever sent one of them a schema-invalid call.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from intercarga.app import System
from intercarga.config import OcppSettings, Settings
from intercarga.domain import Token
from intercarga.ocpp.tls import server_context
from intercarga.security import hash_password
from intercarga.sim.example import seed_example_network
from intercarga.store import Store, create_engine, upgrade
from intercarga.store.tables import metadata
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
    POSTGRES_DSN,
    POSTGRES_URL,
    _drop_schema,
    service_missing,
)
from tests.pki import certificate, new_key, write_pem

PASSWORD_HASH = hash_password(PASSWORD)  # scrypt is slow: once per run


async def _migrate(url: str, schema: str | None) -> None:
    engine = create_engine(url, schema)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str | None]]:
    """A migrated SQLite file and a migrated PostgreSQL schema (None when the server is down)."""
    sqlite_file = tmp_path_factory.mktemp("conformance") / "migrated.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{sqlite_file}", None))
    schema: str | None = f"conformance_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
        try:
            await connection.execute(f'CREATE SCHEMA "{schema}"')
        finally:
            await connection.close()
        await _migrate(POSTGRES_URL, schema)

    try:
        asyncio.run(create())
    except (OSError, asyncpg.PostgresError):
        schema = None
    try:
        yield {"sqlite": str(sqlite_file), "postgresql": schema}
    finally:
        if schema is not None:
            asyncio.run(_drop_schema(schema))


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, migrated: dict[str, str | None], tmp_path: Path
) -> AsyncIterator[tuple[str, str | None]]:
    """(database URL, schema) of an empty, migrated database of each kind."""
    if request.param == "sqlite":
        copy = tmp_path / "intercarga.db"
        shutil.copyfile(str(migrated["sqlite"]), copy)
        yield f"sqlite+aiosqlite:///{copy}", None
        return
    schema = migrated["postgresql"]
    if schema is None:
        service_missing(f"PostgreSQL at {POSTGRES_DSN} does not answer")
    tables = ", ".join(f'"{schema}"."{table.name}"' for table in metadata.sorted_tables)
    connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
    try:
        await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()
    yield POSTGRES_URL, schema


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
