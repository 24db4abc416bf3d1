"""The CSMS under test for the conformance suites, on SQLite and on PostgreSQL.

``system`` is the root fixture with conformance settings (short call timeout, a master pass
group); ``csms`` seeds the example network, gives its two stations a password and the suites'
tokens, serves the OCPP endpoint on a free 127.0.0.1 port, and afterwards closes every station
the test opened and fails the test if the CSMS ever sent one of them a schema-invalid call.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from intercarga.app import System
from intercarga.config import OcppSettings, Settings
from intercarga.domain import Token
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
from tests.conftest import ADMIN_TOKEN

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
    system = await System.open(settings)
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


@pytest.fixture
async def csms(system: System, client: httpx.AsyncClient) -> AsyncIterator[Csms]:
    await seed(system.store)
    sock = socket.create_server(("127.0.0.1", 0))
    await system.csms.start(sock)
    under_test = Csms(system, client, f"ws://127.0.0.1:{sock.getsockname()[1]}/ocpp")
    try:
        yield under_test
    finally:
        for station in under_test.stations:
            await station.close()
        await system.csms.stop()
    violations = [v for station in under_test.stations for v in station.violations]
    assert not violations, violations


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
