from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from intercarga.app import System
from intercarga.config import Settings
from intercarga.web.http import create_http_app

ADMIN_TOKEN = "test-admin-token-0123456789"


@pytest.fixture
async def system(database: tuple[str, str | None]) -> AsyncIterator[System]:
    url, schema = database
    settings = Settings(
        database_url=SecretStr(url), database_schema=schema, admin_token=SecretStr(ADMIN_TOKEN)
    )
    system = await System.open(settings)
    try:
        yield system
    finally:
        await system.close()


@pytest.fixture
async def client(system: System) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_http_app(system))
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://intercarga.test", headers=headers
    ) as client:
        yield client
