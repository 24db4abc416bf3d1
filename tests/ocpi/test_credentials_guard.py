"""Issue 12: the credentials module seen by someone holding only a TOKEN_A.

Whoever holds a TOKEN_A chooses the versions URL this deployment fetches while answering the
POST. These tests play that invitee against a deployment whose OCPI client uses the real
network (no test transport), with an "internal" HTTP server on 127.0.0.1 standing for the
operator's own network: it must not be called, and what it answers must never come back.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from intercarga.app import System, http_app
from intercarga.config import Settings
from intercarga.domain.partner import PartnerState
from intercarga.ocpi.api import routers
from intercarga.ocpi.roaming import Roaming
from tests.conftest import Migrated

SECRET = "SECRET-OF-THE-INTERNAL-SERVICE"


class Internal(ThreadingHTTPServer):
    """A service on the operator's network: counts its requests, answers with a secret."""

    hits = 0


class _Handler(BaseHTTPRequestHandler):
    server: Internal

    def do_GET(self) -> None:
        self.server.hits += 1
        # An OCPI-looking refusal whose message is the secret, and a versions list that is not.
        body = {"status_code": 2000, "status_message": SECRET, "data": [{"version": SECRET}]}
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def internal() -> Iterator[Internal]:
    server = Internal(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class Invitee:
    """The holder of a TOKEN_A, talking to the deployment's OCPI API."""

    def __init__(self, system: System, roaming: Roaming, client: httpx.AsyncClient) -> None:
        self.system = system
        self.roaming = roaming
        self.client = client
        self.token_a = ""

    async def invite(self) -> None:
        self.token_a = (await self.roaming.registrar.invite("invitee")).token

    @property
    def headers(self) -> dict[str, str]:
        encoded = base64.b64encode(self.token_a.encode()).decode()
        return {"Authorization": f"Token {encoded}"}

    async def post(self, content: bytes) -> httpx.Response:
        return await self.client.post(
            "/ocpi/2.2.1/credentials",
            content=content,
            headers={**self.headers, "Content-Type": "application/json"},
        )

    async def register(self, versions_url: str) -> httpx.Response:
        credentials = {
            "token": "token-b-of-the-invitee-0123456789",
            "url": versions_url,
            "roles": [
                {
                    "role": "EMSP",
                    "party_id": "EVL",
                    "country_code": "CO",
                    "business_details": {"name": "Evil"},
                }
            ],
        }
        return await self.post(json.dumps(credentials).encode())


async def _invitee(migrated: Migrated, tmp_path: Path, **ocpi: Any) -> AsyncIterator[Invitee]:
    settings = Settings(
        database_url=SecretStr(await migrated.sqlite_copy(tmp_path / "guard.db")),
        admin_token=SecretStr("guard-admin-token-0123456789"),
        ocpi={"request_timeout": 5, **ocpi},
    )
    system = await System.open(settings, migrate=False)  # a copy of a migrated file
    roaming = Roaming.build(settings, system.store)  # the network: no test transport
    app = http_app(system, routers=routers(roaming))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://cpo.test") as client:
            invitee = Invitee(system, roaming, client)
            await invitee.invite()
            yield invitee
    finally:
        await roaming.client.aclose()
        await system.close()


@pytest.fixture
async def guarded(migrated: Migrated, tmp_path: Path) -> AsyncIterator[Invitee]:
    """The defaults: https only, public addresses only."""
    async for invitee in _invitee(migrated, tmp_path):
        yield invitee


@pytest.fixture
async def http_allowed(migrated: Migrated, tmp_path: Path) -> AsyncIterator[Invitee]:
    async for invitee in _invitee(migrated, tmp_path, allow_http_partner_urls=True):
        yield invitee


@pytest.fixture
async def open_network(migrated: Migrated, tmp_path: Path) -> AsyncIterator[Invitee]:
    """Both switches on, as the multi-process tests and the demo run."""
    async for invitee in _invitee(
        migrated, tmp_path, allow_http_partner_urls=True, allow_private_partner_urls=True
    ):
        yield invitee


def _ocpi(answer: httpx.Response) -> tuple[int, int, str]:
    body = answer.json()
    return answer.status_code, body["status_code"], body.get("status_message", "")


async def _still_invited(invitee: Invitee) -> None:
    [partner] = (await invitee.roaming.registrar.partners.list(limit=None)).items
    assert partner.state is PartnerState.INVITED


async def test_a_50000_deep_body_with_a_valid_token_a_is_400_not_500(guarded: Invitee) -> None:
    answer = await guarded.post(b"[" * 50_000 + b"]" * 50_000)
    assert _ocpi(answer) == (400, 2000, "the request body nests deeper than 32 levels")
    await _still_invited(guarded)
    shallow_but_too_deep = json.dumps({"token": "x", "url": "y", "roles": [[[[[[[[]]]]]]]] * 4})
    nested: Any = {}
    for _ in range(40):
        nested = {"a": nested}
    answer = await guarded.post(json.dumps(nested).encode())
    assert _ocpi(answer)[:2] == (400, 2000)
    answer = await guarded.post(shallow_but_too_deep.encode())
    assert _ocpi(answer)[:2] == (200, 2001)  # deep enough for OCPI, just wrong


async def test_plain_http_partner_urls_are_refused_by_default(
    guarded: Invitee, internal: Internal
) -> None:
    port = internal.server_address[1]
    answer = await guarded.register(f"http://127.0.0.1:{port}/ocpi/versions")
    status, code, message = _ocpi(answer)
    assert (status, code) == (200, 3001)
    assert "http:// partner URLs are not allowed" in message
    assert internal.hits == 0
    await _still_invited(guarded)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",  # a name, resolved: its every address is checked
        "[::1]",
        "[::ffff:127.0.0.1]",
        "169.254.169.254",  # cloud metadata
        "10.0.0.1",
        "192.168.1.1",
        "0.0.0.0",
    ],
)
async def test_loopback_private_and_link_local_targets_are_refused(
    http_allowed: Invitee, internal: Internal, host: str
) -> None:
    port = internal.server_address[1]
    answer = await http_allowed.register(f"http://{host}:{port}/ocpi/versions")
    status, code, message = _ocpi(answer)
    assert (status, code) == (200, 3001), message
    assert "allow_private_partner_urls is off" in message
    assert internal.hits == 0
    await _still_invited(http_allowed)


async def test_what_a_partner_url_answered_is_never_echoed(
    open_network: Invitee, internal: Internal
) -> None:
    """Even where private URLs are allowed, the invitee learns what happened, not the content."""
    port = internal.server_address[1]
    url = f"http://127.0.0.1:{port}/ocpi/versions"
    answer = await open_network.register(url)
    status, code, message = _ocpi(answer)
    assert internal.hits == 1
    assert (status, code) == (200, 3001)
    assert message == f"GET {url} was refused: HTTP 200, OCPI status 2000"
    assert SECRET not in answer.text
    await _still_invited(open_network)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("0", 422),
        ("http://", 422),
        ("https://:0/", 422),
        ("ftp://x.example/", 422),
        ("https://a..b/", 502),  # a URL, with a host name no resolver takes
    ],
)
async def test_a_url_that_cannot_be_called_is_a_clear_error_not_a_500(
    guarded: Invitee, url: str, status: int
) -> None:
    """Schemathesis found ``POST /api/v1/partners {"url": "0"}`` answered 500 (a ValueError)."""
    answer = await guarded.client.post(
        "/api/v1/partners",
        json={"url": url, "token": "token-a-0123456789"},
        headers={"Authorization": "Bearer guard-admin-token-0123456789"},
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if status == 422:
        assert answer.json()["errors"] == [
            {"field": "url", "message": "Value error, must be an absolute http:// or https:// URL"}
        ]
    else:
        assert answer.json()["detail"].startswith("cannot reach https://a..b/: cannot resolve")
    ocpi_status, code, _message = _ocpi(await guarded.register(url))
    assert ocpi_status == 200
    assert code in (2001, 3001)  # not a URL at all (the model says so), or not one to call
