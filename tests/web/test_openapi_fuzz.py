"""Schemathesis against the OpenAPI the server publishes (issue 12, 14b).

``/api/openapi.json`` describes every HTTP route: the admin API, OCPI, operations. A real
``uvicorn`` serves the app on a free port of 127.0.0.1 (its own thread and event loop, SQLite,
the example network seeded); every operation gets a bounded number of generated requests,
derandomized so that CI is reproducible. Admin routes carry a real admin token, OCPI routes a
registered partner's token. Not one answer may be a 5xx, nor break the schema of its own
operation. The partner's URLs lead nowhere (calls out of the deployment are refused at once) and
no station is connected: the 502 an operation documents for "the partner could not be reached"
is its right answer here, and the only 5xx allowed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from intercarga.app import System, bind, http_app
from intercarga.config import Settings
from intercarga.domain.partner import Partner, PartnerRole, PartnerState
from intercarga.ocpi.api import routers
from intercarga.ocpi.roaming import Roaming
from intercarga.security import hash_token
from intercarga.sim.example import seed_example_network

ADMIN = "fuzz-admin-token-0123456789"
PARTNER = "fuzz-partner-token-0123456789"
EXAMPLES = 8  # per operation: ~130 operations in about 30 s of CPU


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the test's thread, not the main one: no signal handlers


@dataclass
class Live:
    base_url: str
    server: _Server


async def serve_app(app: FastAPI, up: threading.Event, holder: dict[str, Any]) -> None:
    """Serve ``app`` on a free port until asked to stop; ``up`` is set once it listens."""
    listener = bind("HTTP", "127.0.0.1", 0)
    server = _Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    holder["live"] = Live(f"http://127.0.0.1:{listener.port}", server)
    serving = asyncio.create_task(server.serve(sockets=[listener.socket]))
    while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn has a flag)
        await asyncio.sleep(0.02)
    up.set()
    await serving
    listener.socket.close()


async def _serve(folder: Path, up: threading.Event, holder: dict[str, Any]) -> None:
    config = Settings(
        database_url=SecretStr(f"sqlite+aiosqlite:///{folder / 'fuzz.db'}"),
        admin_token=SecretStr(ADMIN),
    )
    system = await System.open(config)
    try:
        await seed_example_network(system.store)
        refuse = httpx.MockTransport(lambda request: httpx.Response(503))
        roaming = Roaming.build(config, system.store, refuse)
        await roaming.registrar.partners.put(
            Partner(
                id="pfuzz",
                name="Fuzz",
                state=PartnerState.REGISTERED,
                initiated_by="THEM",
                version="2.2.1",
                versions_url="https://partner.example/ocpi/versions",
                token_hash=hash_token(PARTNER),
                outgoing_token="our-token-for-the-fuzzer-0123456789",
                roles=[
                    PartnerRole(country_code="CO", party_id="FZZ", role=role, name="Fuzz")
                    for role in ("CPO", "EMSP")
                ],
            )
        )
        await serve_app(http_app(system, routers=routers(roaming)), up, holder)
        await roaming.client.aclose()
    finally:
        up.set()
        await system.close()


Serve = Callable[[Path, threading.Event, dict[str, Any]], Coroutine[Any, Any, None]]


@contextlib.contextmanager
def running(serve: Serve, folder: Path) -> Iterator[Live]:
    """``serve`` in its own thread and event loop until the block ends (the open-data fuzz
    test serves its own app the same way)."""
    holder: dict[str, Any] = {}
    up = threading.Event()
    thread = threading.Thread(target=asyncio.run, args=(serve(folder, up, holder),), daemon=True)
    thread.start()
    assert up.wait(timeout=60), "the server did not start"
    live: Live = holder["live"]
    try:
        yield live
    finally:
        live.server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "the server did not stop"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running(_serve, tmp_path_factory.mktemp("fuzz")) as live:
        yield live


def _authorization(path: str) -> str:
    if path.startswith("/ocpi"):
        return "Token " + base64.b64encode(PARTNER.encode()).decode()
    return f"Bearer {ADMIN}"


@schemathesis.check
def no_undocumented_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx, except the 502/504 an operation documents for a partner or station that is
    down (the fuzzer's partner and stations are): that is the answer, not a fault."""
    if response.status_code >= 500 and str(response.status_code) in set(
        case.operation.responses.status_codes
    ):
        return None
    return not_a_server_error(ctx, response, case)


def _operations(live: Live) -> list[Any]:
    # Read here, with a patient timeout: building the document takes seconds on a busy machine.
    document = httpx.get(f"{live.base_url}/api/openapi.json", timeout=120)
    document.raise_for_status()
    published = schemathesis.openapi.from_dict(document.json())
    # Unregistering the partner would leave every later OCPI case at 401 (its own tests cover it).
    kept = published.exclude(method="DELETE", path="/ocpi/{version}/credentials")
    return [result.ok() for result in kept.get_all_operations()]


def _fuzz(operation: Any, live: Live) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def cases(case: Any) -> None:
        case.call_and_validate(
            base_url=live.base_url,
            headers={"Authorization": _authorization(case.path)},
            checks=[no_undocumented_server_error, response_schema_conformance],
            timeout=30,
        )

    cases()


def test_no_answer_is_a_5xx_or_breaks_its_own_schema(live: Live) -> None:
    """Every operation is fuzzed, and every one that fails is named (not only the first)."""
    operations = _operations(live)
    assert len(operations) > 100
    failed = []
    for operation in operations:
        try:
            _fuzz(operation, live)
        except (Exception, BaseExceptionGroup) as error:  # name it, go on with the others
            first = str(error).strip().splitlines()[:12]
            failed.append(f"{operation.method.upper()} {operation.path}:\n  " + "\n  ".join(first))
    assert failed == [], "\n\n".join(failed)
