"""The HTTP listener's limits over a real uvicorn on 127.0.0.1, as a client (or an attacker) sees
them: body size, request rate, stalled bodies, request heads that never come."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr

from intercarga.app import System, bind, http_app
from intercarga.config import HttpSettings, Settings
from intercarga.web.limits import RateLimiter
from intercarga.web.listener import http_admission, uvicorn_config
from tests.conftest import ADMIN_TOKEN

MiB = 1024 * 1024


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, **limits: float) -> AsyncIterator[str]:
    """Intercarga's HTTP app on a free port of 127.0.0.1 with these ``[http]`` settings."""
    settings = Settings(
        database_url=SecretStr(f"sqlite+aiosqlite:///{tmp_path / 'intercarga.db'}"),
        admin_token=SecretStr(ADMIN_TOKEN),
        http=HttpSettings(**limits),  # type: ignore[arg-type]
    )
    system = await System.open(settings)
    listener = bind("HTTP", "127.0.0.1", 0)
    admission = http_admission(settings.http)
    server = _Server(uvicorn_config(http_app(system), settings.http, admission))
    task = asyncio.create_task(server.serve(sockets=[listener.socket]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers only a flag)
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{listener.port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        admission.close()
        listener.socket.close()
        await system.close()


async def _chunks(total: int, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


async def test_a_50_mb_body_is_answered_413_before_it_is_read(tmp_path: Path) -> None:
    async with serving(tmp_path) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        body = b"{" + b" " * (50 * MiB) + b"}"
        for headers in ({}, {"Authorization": f"Bearer {ADMIN_TOKEN}"}):
            answer = await client.post("/api/v1/parties", content=body, headers=headers)
            assert answer.status_code == 413
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["detail"] == "the request body is larger than 1048576 bytes"
        # Without a Content-Length (chunked), the body is cut off as it streams in.
        answer = await client.post(
            "/api/v1/parties",
            content=_chunks(50 * MiB),
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert answer.status_code == 413
        assert answer.json()["status"] == 413
        # A body under the limit is still read and judged on its merits.
        small = await client.post(
            "/api/v1/parties", json={}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert small.status_code == 422


async def test_too_many_requests_from_one_address_get_429_with_retry_after(
    tmp_path: Path,
) -> None:
    async with (
        serving(tmp_path, rate_limit=0.5, rate_burst=3) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        answers = [await client.get("/healthz") for _ in range(4)]
        assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["Retry-After"]) <= 2


def test_the_rate_limiter_refills_and_keeps_addresses_apart() -> None:
    limiter = RateLimiter(rate=2, burst=2)
    assert limiter.retry_after("a", 0.0) is None
    assert limiter.retry_after("a", 0.0) is None
    assert limiter.retry_after("a", 0.0) == 1
    assert limiter.retry_after("b", 0.0) is None
    assert limiter.retry_after("a", 0.5) is None  # one token back after half a second


async def test_a_stalled_body_is_answered_408(tmp_path: Path) -> None:
    async with serving(tmp_path, body_timeout=0.5) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                b"POST /api/v1/parties HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + ADMIN_TOKEN.encode() + b"\r\n"
                b"Content-Length: 100\r\n\r\n{"
            )
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), timeout=10)
            assert answer.startswith(b"HTTP/1.1 408")
            assert b"application/problem+json" in answer and answer.endswith(b's"}')
        finally:
            writer.close()


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(1024):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


async def test_half_open_requests_are_closed_and_capped_per_address(tmp_path: Path) -> None:
    async with serving(tmp_path, header_timeout=1, pending_connections_per_address=20) as base:
        port = int(base.rsplit(":", 1)[1])
        connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(30)]
        try:
            started = time.monotonic()
            for _, writer in connections:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
            # The ten over the cap are closed at once, the twenty others at their deadline.
            closed = await asyncio.gather(
                *(_closed_within(reader, 15) for reader, _ in connections)
            )
            assert all(closed)
            assert time.monotonic() - started < 15
            # Meanwhile and afterwards, a real request is answered.
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                assert (await client.get("/healthz")).status_code == 200
        finally:
            for _, writer in connections:
                writer.close()


async def test_a_request_head_sent_a_byte_at_a_time_is_cut_off(tmp_path: Path) -> None:
    async with serving(tmp_path, header_timeout=1) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100

            async def trickle() -> None:
                for byte in head:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(0.05)

            sending = asyncio.create_task(trickle())
            try:
                assert await _closed_within(reader, 10)
            finally:
                sending.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await sending
        finally:
            writer.close()


async def test_kept_alive_connections_still_serve_requests(tmp_path: Path) -> None:
    async with (
        serving(tmp_path, header_timeout=1) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        for _ in range(3):
            assert (await client.get("/healthz")).status_code == 200
            await asyncio.sleep(0.6)  # under keep_alive_timeout, more than half the deadline
