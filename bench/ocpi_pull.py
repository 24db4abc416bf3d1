"""Benchmark 4: an eMSP pulls every location of a CPO over OCPI 2.2.1, page by page.

The server is Intercarga (SQLite, HTTP with the OCPI routers, its own process on one CPU)
holding ``count`` locations of CL-ICG (copies of the example network's Santiago site, two
EVSEs, three connectors each). Set-up, not measured: the locations are written through the
store, and the eMSP partner is written into the store as REGISTERED with a known token (the
credentials handshake is not what is measured).

The client is Intercarga's own, the one its access point pulls a CPO's Locations with
(:meth:`intercarga.ocpi.client.OcpiClient.pages`, one httpx connection): each request carries
the token, new ``X-Request-ID``/``X-Correlation-ID`` and the ``OCPI-to-*`` routing headers;
each answer is read whole (every page decoded to the Locations' JSON objects, checked to be an
OCPI envelope with status 1000 and nested at most 32 levels), and ``Link: rel="next"`` is
followed from ``/ocpi/cpo/2.2.1/locations`` until the last page. What an importer then does
with each Location (validating it, storing it) is not measured here. The total time is
compared with fetching the same bytes (the concatenated page bodies, fetched again by plain
httpx afterwards, outside the timing) as one raw static response from a plain asyncio HTTP
server on loopback: the ratio says what the OCPI layer costs over moving the bytes. The first
pull after the server starts is kept apart (the sender writes every Location's JSON then, and
keeps it for the pulls after), and so is the time the client's reading of those page bodies
takes (the same ``parse_json`` as in the pull, timed over the bodies after it), which the raw
fetch does not do. The server's per-address request rate limit is raised (a few pulls at full
speed from one address pass the default's 100 a second and its burst of 200).

This module measures; it must never decide what a good figure is.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.common import Spread, placement, spread
from bench.servers import ServerProcess

__all__ = ["TOKEN", "OcpiPullResult", "ocpi_headers", "register_emsp", "run_ocpi_pull", "seed"]

TOKEN = "bench-emsp-token-0123456789abcdef"
LOCATIONS = 10_000


async def seed(store: Any) -> None:
    """``$BENCH_LOCATIONS`` locations (default 10,000) and a registered eMSP partner whose
    token is :data:`TOKEN`."""
    count = int(os.environ.get("BENCH_LOCATIONS", LOCATIONS))
    from intercarga.ocpi.roaming import Roaming  # noqa: F401  (the OCPI layer is installed)
    from intercarga.sim.example import example_network

    template = next(
        location for location in example_network().locations if location.country_code == "CL"
    )
    have = await store.locations.count()
    for number in range(have, count):
        await store.locations.put(
            template.model_copy(
                update={
                    "id": f"BENCH-{number:05d}",
                    "evses": [
                        evse.model_copy(update={"uid": f"{evse.uid}-{number}", "evse_id": None})
                        for evse in template.evses
                    ],
                }
            )
        )
    await register_emsp(store.engine)


async def register_emsp(engine: Any) -> None:
    """The eMSP partner CO-EMS, REGISTERED (OCPI 2.2.1) with the token :data:`TOKEN`."""
    from intercarga.domain.partner import Partner, PartnerRole, PartnerState
    from intercarga.security import hash_token
    from intercarga.store.partners import PartnerRepository

    await PartnerRepository(engine).put(
        Partner(
            id="bench-emsp",
            name="Bench eMSP",
            state=PartnerState.REGISTERED,
            initiated_by="THEM",
            version="2.2.1",
            versions_url="http://127.0.0.1:9/versions",
            token_hash=hash_token(TOKEN),
            outgoing_token="bench-outgoing-token",
            roles=[PartnerRole(country_code="CO", party_id="EMS", role="EMSP", name="Bench")],
        )
    )


@dataclass
class OcpiPullResult:
    locations: int
    pages: int
    bytes: int
    seconds: Spread | None
    raw_seconds: Spread | None
    page_size: int
    error: str | None = None
    first_seconds: float | None = None  # the first pull after the server started
    decode_seconds: Spread | None = None  # of each pull, the client decoding the pages' JSON

    @property
    def ratio(self) -> float | None:
        if self.seconds is None or self.raw_seconds is None or not self.raw_seconds.median:
            return None
        return self.seconds.median / self.raw_seconds.median

    def to_dict(self) -> dict[str, Any]:
        return {
            "locations": self.locations,
            "pages": self.pages,
            "bytes": self.bytes,
            "page_size": self.page_size,
            "seconds": None if self.seconds is None else self.seconds.to_dict(),
            "raw_seconds": None if self.raw_seconds is None else self.raw_seconds.to_dict(),
            "ratio": self.ratio,
            "first_seconds": self.first_seconds,
            "decode_seconds": None
            if self.decode_seconds is None
            else self.decode_seconds.to_dict(),
            "error": self.error,
        }


def ocpi_headers() -> dict[str, str]:
    """What the eMSP of :func:`register_emsp` sends with each request to the CPO CL-ICG."""
    return {
        "Authorization": "Token " + base64.b64encode(TOKEN.encode()).decode(),
        "OCPI-from-country-code": "CO",
        "OCPI-from-party-id": "EMS",
        "OCPI-to-country-code": "CL",
        "OCPI-to-party-id": "ICG",
    }


async def _pull(base: str) -> tuple[int, int]:
    """Locations and pages pulled by Intercarga's own client, as its access point pulls."""
    from intercarga.ocpi.client import OcpiClient

    headers = {k: v for k, v in ocpi_headers().items() if k != "Authorization"}
    client = OcpiClient(timeout=60)
    found = pages = 0
    try:
        async for items in client.pages(
            f"{base}/ocpi/cpo/2.2.1/locations",
            token=TOKEN,
            params={"limit": "1000"},  # capped by the server
            headers=headers,
        ):
            found += len(items)
            pages += 1
    finally:
        await client.aclose()
    return found, pages


async def _bodies(base: str) -> list[bytes]:
    """The page bodies of a pull, fetched as they are (nothing decoded): the raw baseline."""
    url: str | None = f"{base}/ocpi/cpo/2.2.1/locations?limit=1000"
    bodies: list[bytes] = []
    async with httpx.AsyncClient(headers=ocpi_headers(), timeout=60) as client:
        while url:
            response = await client.get(url)
            response.raise_for_status()
            bodies.append(response.content)
            url = response.links.get("next", {}).get("url")
    return bodies


def _decoding(bodies: list[bytes]) -> float:
    """Seconds the client's reading of ``bodies`` takes (what the pull did with each)."""
    from intercarga.ocpi.transport import parse_json

    began = time.perf_counter()
    for body in bodies:
        parse_json(body)
    return time.perf_counter() - began


async def _raw(payload: bytes) -> float:
    """Fetch ``payload`` once from a minimal HTTP/1.1 server on loopback; seconds taken."""
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(payload)}\r\n\r\n".encode()
    )

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(head)
            writer.write(payload)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            began = time.perf_counter()
            response = await client.get(f"http://127.0.0.1:{port}/all")
            assert len(response.content) == len(payload)
            return time.perf_counter() - began
    finally:
        server.close()
        await server.wait_closed()


def run_ocpi_pull(
    count: int = LOCATIONS, runs: int = 3, *, server: ServerProcess | None = None
) -> OcpiPullResult:
    """On a fresh ``intercarga serve`` seeded with ``count`` locations, or on ``server``
    (seeded with :func:`seed`) when given."""
    server_cpu, _ = placement()
    os.environ["BENCH_LOCATIONS"] = str(count)
    fresh = ServerProcess(
        "serve",
        "--database",
        "sqlite+aiosqlite:///bench.db",
        "--seed",
        "bench.ocpi_pull:seed",
        cpu=server_cpu,
        startup_timeout=600,
        # One address pulling at full speed passes the default 100 requests a second (after a
        # burst of 200) within a few pulls, and would be answered 429: not what is measured.
        settings={"INTERCARGA_HTTP__RATE_LIMIT": "100000"},
    )
    with contextlib.nullcontext(server) if server is not None else fresh as server:
        base = f"http://127.0.0.1:{server.http_port}"
        times: list[float] = []
        raw_times: list[float] = []
        decode_times: list[float] = []
        found = pages = size = 0
        for _ in range(runs):
            began = time.perf_counter()
            found, pages = asyncio.run(_pull(base))
            times.append(time.perf_counter() - began)
            bodies = asyncio.run(_bodies(base))
            decode_times.append(_decoding(bodies))
            payload = b"".join(bodies)
            size = len(payload)
            raw_times.append(min(asyncio.run(_raw(payload)) for _ in range(3)))
        return OcpiPullResult(
            locations=found,
            pages=pages,
            bytes=size,
            seconds=spread(times),
            raw_seconds=spread(raw_times),
            page_size=round(found / pages) if pages else 0,
            first_seconds=times[0] if times else None,
            decode_seconds=spread(decode_times),
        )
