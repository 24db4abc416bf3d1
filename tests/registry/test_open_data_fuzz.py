"""Schemathesis against the open-data API's own OpenAPI (``/open-data/v1/openapi.json``).

A real ``uvicorn`` serves the app with the open-data router on a free port of 127.0.0.1 (its own
thread and event loop, SQLite, the example network seeded), without any credential: the API
is public. Every operation gets the same bounded, derandomized cases as the whole app's fuzz test
(tests/web/test_openapi_fuzz.py, whose server thread and checks this reuses); no answer may be a
5xx or break its operation's schema. Generated filters are mostly nonsense, so this is
mostly the 400-naming-the-parameter path, which must never become a 500.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from pydantic import SecretStr

from intercarga.app import System
from intercarga.config import Settings
from intercarga.sim.example import seed_example_network
from intercarga.web.http import create_http_app
from tests.registry.test_open_data import open_data_api
from tests.web.test_openapi_fuzz import Live, _fuzz, running, serve_app


async def _serve(folder: Path, up: threading.Event, holder: dict[str, Any]) -> None:
    config = Settings(
        database_url=SecretStr(f"sqlite+aiosqlite:///{folder / 'fuzz.db'}"),
        admin_token=SecretStr("fuzz-admin-token-0123456789"),
    )
    system = await System.open(config)
    try:
        await seed_example_network(system.store)
        # No per-client limit to speak of: the fuzzer is one client sending fast.
        api = open_data_api(system.engine, rate=1e6, burst=1_000_000)
        await serve_app(create_http_app(system, routers=[api.router()]), up, holder)
    finally:
        up.set()
        await system.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running(_serve, tmp_path_factory.mktemp("open-data-fuzz")) as live:
        yield live


def test_no_open_data_answer_is_a_5xx_or_breaks_its_schema(live: Live) -> None:
    document = httpx.get(f"{live.base_url}/open-data/v1/openapi.json", timeout=60).json()
    operations = [
        result.ok() for result in schemathesis.openapi.from_dict(document).get_all_operations()
    ]
    assert len(operations) >= 7
    failed = []
    for operation in operations:
        try:
            _fuzz(operation, live)
        except (Exception, BaseExceptionGroup) as error:  # name it, go on with the others
            first = str(error).strip().splitlines()[:12]
            failed.append(f"{operation.method.upper()} {operation.path}:\n  " + "\n  ".join(first))
    assert failed == [], "\n\n".join(failed)
