"""Benchmark: the open-data API over 100,000 published Locations, against a static file.

A child process opens :class:`intercarga.app.System` on SQLite, writes ``count`` Locations
(copies of the example network's Santiago site, spread over Chile, ``last_updated`` one second
apart) and serves the HTTP app with the open-data router on uvicorn, beside a minimal static
file server on loopback. The parent (httpx, one keep-alive connection; the child on one CPU and
the parent on the other, as in the other benchmarks) then, for ``seconds`` each, repeats:

* a bounding-box query (greater Santiago, 100 Locations a page);
* an ``updated_since`` page (the newest 1 %, 100 a page, as an incremental sync asks);
* each of the two answers' exact bytes, fetched again as a static file from the child;

and reports requests per second and p99 latency for each, and the ratio to the static file.
Then the bulk file: the first request (built then) and the second (cached). The per-client
limit is set out of the way (one client asks as fast as it can); the general listener limits of
``intercarga serve`` are not in front. This module measures; it must never decide what a good
figure is.

``python -m bench.open_data [--locations N] [--seconds S]``, or ``--only open_data`` in
``make bench``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_arguments, serving_child

__all__ = ["OpenDataResult", "Rate", "measure_rate", "run_open_data", "seed_locations"]

LOCATIONS = 100_000
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
BBOX = "-70.80,-33.60,-70.45,-33.30"  # greater Santiago
_BATCH = 1000


# -- the child: seed and serve -------------------------------------------------------------------
async def seed_locations(engine: Any, count: int) -> None:
    """Write ``count`` published copies of the example network's Santiago site, ``OD-000000`` on."""
    from sqlalchemy import insert

    from intercarga.sim.example import example_network
    from intercarga.store import tables
    from intercarga.store.repositories import LocationRepository

    repository = LocationRepository(engine)
    template = next(site for site in example_network().locations if site.country_code == "CL")
    rng = random.Random(13)
    for start in range(0, count, _BATCH):
        batch = []
        for number in range(start, min(count, start + _BATCH)):
            # Chile's length; a quarter in greater Santiago, where the bbox query looks.
            if number % 4 == 0:
                latitude, longitude = rng.uniform(-33.6, -33.3), rng.uniform(-70.8, -70.45)
            else:
                latitude, longitude = rng.uniform(-53.0, -18.5), rng.uniform(-73.5, -68.5)
            moment = EPOCH + timedelta(seconds=number)
            batch.append(
                template.model_copy(
                    update={
                        "id": f"OD-{number:06d}",
                        "coordinates": template.coordinates.model_copy(
                            update={"latitude": f"{latitude:.7f}", "longitude": f"{longitude:.7f}"}
                        ),
                        "last_updated": moment,
                        "evses": [
                            evse.model_copy(update={"uid": f"{evse.uid}-{number}", "evse_id": None})
                            for evse in template.evses
                        ],
                    }
                )
            )
        # Written in bulk (the repository's own row mapping), not one transaction per Location:
        # seeding is set-up, not what is measured.
        async with engine.begin() as connection:
            await connection.execute(
                insert(tables.locations),
                [repository._to_row(site) for site in batch],
            )
            for site in batch:
                await repository._write_children(connection, site)


async def _static(folder: Path) -> asyncio.Server:
    """A keep-alive HTTP/1.1 server answering ``GET /<name>`` with the file's bytes."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                name = head.split(b" ", 2)[1].decode().lstrip("/")
                body = (folder / Path(name).name).read_bytes()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


async def _serve(folder: Path, count: int) -> None:
    from functools import partial

    import uvicorn
    from pydantic import SecretStr

    from intercarga.app import System, bind, http_app
    from intercarga.config import Settings
    from intercarga.ocpi.mapping import location_to_ocpi
    from intercarga.store.open_data import PublishedLocations
    from intercarga.web.api.open_data import OpenDataApi

    settings = Settings(
        database_url=SecretStr(f"sqlite+aiosqlite:///{folder / 'open-data.db'}"),
        admin_token=SecretStr("bench-admin-token-0123456789abcdef"),
        log_level="WARNING",
    )
    system = await System.open(settings)
    try:
        began = time.perf_counter()
        if await system.store.locations.count() < count:
            await seed_locations(system.engine, count)
        seeded = time.perf_counter() - began
        api = OpenDataApi(
            PublishedLocations(system.engine),
            render=partial(location_to_ocpi, version="2.2.1"),
            history=system.store.status_history,
            rate=1e9,
            burst=1_000_000_000,
        )
        app = http_app(system, routers=[api.router()])
        listener = bind("HTTP", "127.0.0.1", 0)
        server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
        static = await _static(folder)
        serving = asyncio.create_task(server.serve(sockets=[listener.socket]))
        while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn has a flag)
            await asyncio.sleep(0.02)
        static_port = static.sockets[0].getsockname()[1]
        print(f"READY {listener.port} {static_port} {seeded:.1f}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # parent gone
        server.should_exit = True
        await serving
        static.close()
        await static.wait_closed()
    finally:
        await system.close()


# -- the parent: measure -------------------------------------------------------------------------
@dataclass
class Rate:
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class OpenDataResult:
    locations: int
    seed_seconds: float
    bbox: Rate
    bbox_static: Rate
    since: Rate
    since_static: Rate
    bulk_first_seconds: float
    bulk_cached_seconds: float
    bulk_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            name: value.to_dict() if isinstance(value, Rate) else value
            for name, value in self.__dict__.items()
        }


async def measure_rate(
    client: httpx.AsyncClient, url: str, seconds: float, *, expect: int = 200, raw: bool = False
) -> tuple[Rate, bytes]:
    """Ask for ``url`` again and again for ``seconds``; ``bytes`` is what came over the wire.

    ``raw``: read the answer as it came (gzipped) without decoding it, so that the client's
    own decompression is not in the time; the body returned is then empty.
    """

    async def fetch() -> tuple[bytes, int]:
        if not raw:
            response = await client.get(url)
            check(response)
            return response.content, response.num_bytes_downloaded
        async with client.stream("GET", url) as streamed:
            check(streamed)
            async for _chunk in streamed.aiter_raw():
                pass
            return b"", streamed.num_bytes_downloaded

    def check(response: httpx.Response) -> None:
        if response.status_code != expect:
            raise RuntimeError(f"{url}: HTTP {response.status_code}, expected {expect}")

    for _ in range(3):  # warm up: catalogues and models load on first use
        await fetch()
    latencies: list[float] = []
    body = b""
    sent = 0
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        body, sent = await fetch()
        latencies.append(time.perf_counter() - start)
    elapsed = time.perf_counter() - began
    latencies.sort()
    return (
        Rate(
            requests=len(latencies),
            per_second=round(len(latencies) / elapsed, 1),
            p50_ms=round(latencies[len(latencies) // 2] * 1000, 2),
            p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
            bytes=sent,
        ),
        body,
    )


async def _measure(
    folder: Path, port: int, static_port: int, count: int, seconds: float, seeded: float
) -> OpenDataResult:
    base = f"http://127.0.0.1:{port}/open-data/v1"
    since = (EPOCH + timedelta(seconds=count - max(1, count // 100))).isoformat()
    async with httpx.AsyncClient(timeout=900) as client:  # the bulk file is built in this request
        # Not gzip: the static file is sent as it is, and so is the API's answer.
        client.headers["Accept-Encoding"] = "identity"
        bbox, bbox_body = await measure_rate(
            client, f"{base}/locations?bbox={BBOX}&limit=100", seconds
        )
        since_url = f"{base}/locations?updated_since={since.replace('+', '%2B')}&limit=100"
        updated, since_body = await measure_rate(client, since_url, seconds)
        (folder / "bbox.json").write_bytes(bbox_body)
        (folder / "since.json").write_bytes(since_body)
        static = f"http://127.0.0.1:{static_port}"
        bbox_static, _ = await measure_rate(client, f"{static}/bbox.json", seconds)
        since_static, _ = await measure_rate(client, f"{static}/since.json", seconds)
        began = time.perf_counter()
        bulk = await client.get(f"{base}/bulk")
        first = time.perf_counter() - began
        began = time.perf_counter()
        await client.get(f"{base}/bulk")
        cached = time.perf_counter() - began
    return OpenDataResult(
        locations=count,
        seed_seconds=seeded,
        bbox=bbox,
        bbox_static=bbox_static,
        since=updated,
        since_static=since_static,
        bulk_first_seconds=round(first, 2),
        bulk_cached_seconds=round(cached, 4),
        bulk_bytes=len(bulk.content),
    )


def run_open_data(count: int = LOCATIONS, seconds: float = 5.0) -> OpenDataResult:
    # Measured with the server on one CPU and this client on the other (seeding used both).
    with (
        tempfile.TemporaryDirectory(prefix="intercarga-bench-open-data-") as name,
        serving_child("bench.open_data", Path(name), count, pinned=True) as ready,
    ):
        port, static_port, seeded = int(ready[0]), int(ready[1]), float(ready[2])
        return asyncio.run(_measure(Path(name), port, static_port, count, seconds, seeded))


def render(result: OpenDataResult) -> str:
    """The Markdown section for docs/benchmarks.md."""

    def row(label: str, rate: Rate, static: Rate) -> str:
        ratio = rate.per_second / static.per_second if static.per_second else 0.0
        return (
            f"| {label} | {rate.per_second:,.0f} | {rate.p99_ms:.1f} | {static.per_second:,.0f} "
            f"| {static.p99_ms:.2f} | {ratio:.3f} | {rate.bytes:,} |"
        )

    return "\n".join(
        [
            f"Open data over {result.locations:,} published Locations (SQLite; seeded in "
            f"{result.seed_seconds:.0f} s), one client on one keep-alive connection:",
            "",
            "| request | API req/s | API p99 ms | static req/s | static p99 ms | ratio | bytes |",
            "|---|---:|---:|---:|---:|---:|---:|",
            row("bbox (greater Santiago, 100 a page)", result.bbox, result.bbox_static),
            row("updated_since (newest 1 %, 100 a page)", result.since, result.since_static),
            "",
            f"Bulk file ({result.bulk_bytes:,} bytes gzipped): first request (built then) "
            f"{result.bulk_first_seconds:.1f} s, cached {result.bulk_cached_seconds * 1000:.0f} ms.",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    args = bench_arguments("python -m bench.open_data", argv, locations=LOCATIONS, seconds=5.0)
    if args.mode == "serve":
        asyncio.run(_serve(Path(args.folder), args.count))
        return
    result = run_open_data(args.locations, args.seconds)
    print(json.dumps(result.to_dict(), indent=2) if args.json else render(result))


if __name__ == "__main__":
    main()
