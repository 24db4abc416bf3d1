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
``intercarga serve`` are not in front.

Before that, *page cost by store size* (issue 16: 100,000 Locations must not make a page more
than twice as dear as 10,000 do): the child is first started on the same database holding
``small`` Locations, then again (nothing kept in memory from the first) once it holds
``count``. At each size the parent walks ``PAGES`` pages of 100 of four lists, following their
``Link: rel="next"``: the OCPI 2.2.1 sender's Locations from the middle of the list (an eMSP
registered in the store; the next links say ``after=``) and those changed since the newest
``PAGES`` × 100 (``date_from``), the bounding-box page and an ``updated_since`` page (the
newest ``PAGES`` × 100). The first walk finds nothing kept (each
Location read whole and rendered); ``WALKS`` more walks of the same pages follow. Per walk: the
latency of each page and the server's CPU time per page.

This module measures; it must never decide what a good figure is.

``python -m bench.open_data [--locations N] [--seconds S]``, or ``--only open_data`` in
``make bench``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_arguments, cpu_seconds, serving_child
from bench.ocpi_pull import ocpi_headers

__all__ = [
    "OpenDataResult",
    "PageCost",
    "Rate",
    "measure_rate",
    "run_open_data",
    "seed_locations",
]

LOCATIONS = 100_000
SMALL = 10_000  # the store size the page costs at LOCATIONS are compared with
PAGES = 10  # pages of 100 walked per list and store size
WALKS = 3  # walks of the same pages after the first
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
BBOX = "-70.80,-33.60,-70.45,-33.30"  # greater Santiago
_BATCH = 1000


# -- the child: seed and serve -------------------------------------------------------------------
class _Rows:
    """Collects the rows a repository writes for a Location's children (its own mapping)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}

    async def execute(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        self.rows.setdefault(statement.table.name, []).extend(rows)


async def seed_locations(
    engine: Any, count: int, country: tuple[str, str] = ("CL", "CHL"), *, start: int = 0
) -> None:
    """Write published copies of the example network's Santiago site, ``OD-{start:06d}`` up to
    ``count``, as Locations of ``country`` (party country, ISO alpha-3): where they stand stays
    Chile's. Rows are those the repository writes for the site, each copy's own key, place,
    time and revision put in; written a thousand Locations a statement per table (seeding is
    set-up, not what is measured: a Location at a time took minutes for 100,000)."""
    from sqlalchemy import insert

    from intercarga.sim.example import example_network
    from intercarga.store import tables
    from intercarga.store.repositories import LocationRepository

    repository = LocationRepository(engine)
    site = next(site for site in example_network().locations if site.country_code == "CL")
    site = site.model_copy(update={"country_code": country[0], "country": country[1]})
    site_row = repository._to_row(site)
    children = _Rows()
    await repository._write_children(children, site)  # type: ignore[arg-type]
    evse_rows = children.rows.get(tables.evses.name, [])
    connector_rows = children.rows.get(tables.connectors.name, [])
    rng = random.Random(13 + start)
    for first in range(start, count, _BATCH):
        rows: dict[Any, list[dict[str, Any]]] = {
            tables.locations: [],
            tables.evses: [],
            tables.connectors: [],
        }
        for number in range(first, min(count, first + _BATCH)):
            # Chile's length; a quarter in greater Santiago, where the bbox query looks.
            if number % 4 == 0:
                latitude, longitude = rng.uniform(-33.6, -33.3), rng.uniform(-70.8, -70.45)
            else:
                latitude, longitude = rng.uniform(-53.0, -18.5), rng.uniform(-73.5, -68.5)
            location_id = f"OD-{number:06d}"
            rows[tables.locations].append(
                {
                    **site_row,
                    "id": location_id,
                    "latitude": f"{latitude:.7f}",
                    "longitude": f"{longitude:.7f}",
                    "last_updated": EPOCH + timedelta(seconds=number),
                    "revision": rng.getrandbits(63),
                }
            )
            rows[tables.evses] += [
                {
                    **row,
                    "location_id": location_id,
                    "uid": f"{row['uid']}-{number}",
                    "evse_id": None,
                }
                for row in evse_rows
            ]
            rows[tables.connectors] += [
                {**row, "location_id": location_id, "evse_uid": f"{row['evse_uid']}-{number}"}
                for row in connector_rows
            ]
        async with engine.begin() as connection:
            for table, batch in rows.items():
                if batch:
                    await connection.execute(insert(table), batch)


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

    from bench.ocpi_pull import register_emsp
    from intercarga.app import System, bind, http_app
    from intercarga.config import Settings
    from intercarga.ocpi.api import routers as ocpi_routers
    from intercarga.ocpi.mapping import location_to_ocpi
    from intercarga.ocpi.roaming import RoamingOptions
    from intercarga.store.open_data import PublishedLocations
    from intercarga.web.api.open_data import OpenDataApi

    settings = Settings(
        database_url=SecretStr(f"sqlite+aiosqlite:///{folder / 'open-data.db'}"),
        admin_token=SecretStr("bench-admin-token-0123456789abcdef"),
        log_level="WARNING",
    )
    system = await System.open(settings, roaming=RoamingOptions())
    assert system.roaming is not None  # opened with roaming options
    try:
        began = time.perf_counter()
        have = await system.store.locations.count()
        if have < count:
            await seed_locations(system.engine, count, start=have)
        await register_emsp(system.engine)
        seeded = time.perf_counter() - began
        api = OpenDataApi(
            PublishedLocations(system.engine),
            render=partial(location_to_ocpi, version="2.2.1"),
            history=system.store.status_history,
            rate=1e9,
            burst=1_000_000_000,
        )
        app = http_app(system, routers=[*ocpi_routers(system.roaming), api.router()])
        listener = bind("HTTP", "127.0.0.1", 0)
        server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
        static = await _static(folder)
        serving = asyncio.create_task(server.serve(sockets=[listener.socket]))
        while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn has a flag)
            await asyncio.sleep(0.02)
        static_port = static.sockets[0].getsockname()[1]
        print(f"READY {listener.port} {static_port} {seeded:.1f} {os.getpid()}", flush=True)
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
class PageCost:
    """One list walked page by page at one store size (module docstring)."""

    page: str
    locations: int
    pages: int
    first_ms: float  # mean latency of a page on the first walk (nothing kept yet)
    first_cpu_ms: float  # server CPU per page on the first walk
    later_p50_ms: float  # of every page of the later walks
    later_cpu_ms: float  # server CPU per page on the later walks

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
    pages: list[PageCost] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            name: [cost.to_dict() for cost in value]
            if name == "pages"
            else value.to_dict()
            if isinstance(value, Rate)
            else value
            for name, value in self.__dict__.items()
        }

    def by_size(self) -> dict[str, tuple[PageCost, PageCost]]:
        """Each list's cost at the smallest and the largest store measured."""
        found: dict[str, tuple[PageCost, PageCost]] = {}
        for cost in self.pages:
            small, large = found.get(cost.page, (cost, cost))
            found[cost.page] = (
                cost if cost.locations < small.locations else small,
                cost if cost.locations > large.locations else large,
            )
        return found


OCPI_PAGE = "OCPI 2.2.1 Locations (sender, from the middle)"
OCPI_SINCE_PAGE = f"OCPI 2.2.1 Locations, date_from (newest {PAGES * 100:,})"
BBOX_PAGE = "open data, bbox"
SINCE_PAGE = f"open data, updated_since (newest {PAGES * 100:,})"


async def _walk_pages(port: int, pid: int, count: int) -> list[PageCost]:
    """Each list's page cost at this store size (module docstring)."""
    http = f"http://127.0.0.1:{port}"
    base = f"{http}/open-data/v1"
    middle = count // 2
    since = (EPOCH + timedelta(seconds=max(0, count - PAGES * 100))).isoformat()
    firsts = {
        OCPI_PAGE: f"{http}/ocpi/cpo/2.2.1/locations?offset={middle + 1}&limit=100"
        f"&after=OD-{middle:06d}",
        OCPI_SINCE_PAGE: f"{http}/ocpi/cpo/2.2.1/locations?limit=100"
        f"&date_from={since.replace('+00:00', 'Z')}",
        BBOX_PAGE: f"{base}/locations?bbox={BBOX}&limit=100",
        SINCE_PAGE: f"{base}/locations?updated_since={since.replace('+', '%2B')}&limit=100",
    }
    costs: list[PageCost] = []
    async with httpx.AsyncClient(timeout=300) as client:
        client.headers["Accept-Encoding"] = "identity"
        for page, first in firsts.items():
            headers = ocpi_headers() if page.startswith("OCPI") else {}

            async def fetch(url: str, headers: dict[str, str] = headers) -> httpx.Response:
                response = await client.get(url, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status_code}: {response.text}")
                return response

            urls: list[str] = []
            url: str | None = first
            cpu = cpu_seconds(pid)
            began = time.perf_counter()
            while url is not None and len(urls) < PAGES:
                urls.append(url)
                url = (await fetch(url)).links.get("next", {}).get("url")
            first_s = time.perf_counter() - began
            first_cpu = cpu_seconds(pid) - cpu
            latencies: list[float] = []
            cpu = cpu_seconds(pid)
            for _ in range(WALKS):
                for url in urls:
                    start = time.perf_counter()
                    await fetch(url)
                    latencies.append(time.perf_counter() - start)
            later_cpu = cpu_seconds(pid) - cpu
            latencies.sort()
            costs.append(
                PageCost(
                    page=page,
                    locations=count,
                    pages=len(urls),
                    first_ms=round(first_s / len(urls) * 1000, 2),
                    first_cpu_ms=round(first_cpu / len(urls) * 1000, 2),
                    later_p50_ms=round(latencies[len(latencies) // 2] * 1000, 2),
                    later_cpu_ms=round(later_cpu / len(latencies) * 1000, 2),
                )
            )
    return costs


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


def run_open_data(
    count: int = LOCATIONS, seconds: float = 5.0, small: int = SMALL
) -> OpenDataResult:
    """The measures of the module docstring; the page costs at ``small`` Locations first,
    unless ``small`` is 0 or not below ``count``."""
    # Measured with the server on one CPU and this client on the other (seeding used both).
    with tempfile.TemporaryDirectory(prefix="intercarga-bench-open-data-") as name:
        folder = Path(name)
        pages: list[PageCost] = []
        seeded = 0.0
        if 0 < small < count:
            with serving_child("bench.open_data", folder, small, pinned=True) as ready:
                seeded += float(ready[2])
                pages += asyncio.run(_walk_pages(int(ready[0]), int(ready[3]), small))
        with serving_child("bench.open_data", folder, count, pinned=True) as ready:
            port, static_port = int(ready[0]), int(ready[1])
            seeded += float(ready[2])
            pages += asyncio.run(_walk_pages(port, int(ready[3]), count))
            result = asyncio.run(_measure(folder, port, static_port, count, seconds, seeded))
        result.pages = pages
        return result


def render_page_costs(result: OpenDataResult) -> list[str]:
    """The page-cost-by-store-size table and the ratios (empty without two sizes)."""
    sizes = result.by_size()
    if not sizes or all(small is large for small, large in sizes.values()):
        return []
    counts = sorted({cost.locations for cost in result.pages})
    lines = [
        f"**Page cost by store size** (issue 16 point 5): the same database with "
        f"{counts[0]:,} Locations, then grown to {counts[-1]:,}, the server started afresh "
        f"for each (nothing kept from the other size). At each size {PAGES} pages of 100 of "
        'each list, following `Link: rel="next"`: the OCPI sender\'s Locations of CL-ICG '
        "from the middle of the list (next links with `after=`) and those changed since the "
        f"newest {PAGES * 100:,} (`date_from`, an incremental pull), the open-data bbox page, "
        f"and an `updated_since` page of the newest {PAGES * 100:,}. The *first walk* finds "
        "nothing kept (every Location read whole and rendered); then "
        f"{WALKS} walks of the same pages. CPU: the server process's, per page.",
        "",
        "| page | Locations | first walk ms / page | first walk CPU ms / page | "
        "later walks p50 ms | later walks CPU ms / page |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for cost in result.pages:
        lines.append(
            f"| {cost.page} | {cost.locations:,} | {cost.first_ms:.1f} | {cost.first_cpu_ms:.1f} "
            f"| {cost.later_p50_ms:.1f} | {cost.later_cpu_ms:.1f} |"
        )
    lines += [
        "",
        f"| page | {counts[-1]:,} ÷ {counts[0]:,}: first walk CPU | later CPU | later p50 |",
        "|---|---:|---:|---:|",
    ]
    worst = 0.0
    for page, (small, large) in sizes.items():
        ratios = [
            large.first_cpu_ms / small.first_cpu_ms if small.first_cpu_ms else 0.0,
            large.later_cpu_ms / small.later_cpu_ms if small.later_cpu_ms else 0.0,
            large.later_p50_ms / small.later_p50_ms if small.later_p50_ms else 0.0,
        ]
        worst = max(worst, *ratios)
        lines.append(f"| {page} | " + " | ".join(f"{r:.2f} ×" for r in ratios) + " |")
    verdict = "met" if worst <= 2.0 else "**not met**"
    lines += ["", f"Target: at most 2 × for every page and measure: {verdict}.", ""]
    return lines


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
            *render_page_costs(result),
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
