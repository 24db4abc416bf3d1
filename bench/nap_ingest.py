"""Benchmark: a national access point ingesting EVSE status PATCHes from a CPO.

The server is ``intercarga serve`` hosting one NAP party (CO-UPM; SQLite, its own process on
one CPU) that holds one location of a registered CPO (CO-ABC, ``EVSES`` EVSEs). Set-up, not
measured: the location and the CPO partner (REGISTERED, a known token) are written into the
store. The client sends ``updates`` OCPI 2.2.1 EVSE PATCHes (``{status, last_updated}``, the
EVSEs in turn, the status alternating) over ``CONCURRENCY`` connections, as a CPO's outbox lanes
would, and counts what the NAP confirmed (status 1000). Each PATCH is merged into the stored
Location, validated whole, stored, and its status report appended to the history.

This module measures; it must never decide what a good figure is.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.common import Spread, placement, spread
from bench.servers import ServerProcess

__all__ = ["CONCURRENCY", "EVSES", "TOKEN", "NapIngestResult", "run_nap_ingest", "seed"]

TOKEN = "bench-cpo-token-0123456789abcdef"
EVSES = 20
CONCURRENCY = 4
LOCATION = "NAP-BENCH"
NAP_SETTINGS = {
    "INTERCARGA_OCPI__PARTIES": '[{"country_code": "CO", "party_id": "UPM", "role": "NAP",'
    ' "name": "Registro"}]',
    "INTERCARGA_REGISTRY__PULL_INTERVAL": "0",
}


async def seed(store: Any) -> None:
    """One location of CO-ABC with :data:`EVSES` EVSEs, and CO-ABC's platform registered with
    the token :data:`TOKEN`."""
    from intercarga.domain.partner import Partner, PartnerRole, PartnerState
    from intercarga.security import hash_token
    from intercarga.sim.example import example_network
    from intercarga.store.partners import PartnerRepository

    template = next(loc for loc in example_network().locations if loc.country_code == "CO")
    evse = template.evses[0]
    await store.locations.put(
        template.model_copy(
            update={
                "party_id": "ABC",
                "id": LOCATION,
                "evses": [
                    evse.model_copy(update={"uid": f"E{n}", "evse_id": None}) for n in range(EVSES)
                ],
            }
        )
    )
    await PartnerRepository(store.engine).put(
        Partner(
            id="bench-cpo",
            name="Bench CPO",
            state=PartnerState.REGISTERED,
            initiated_by="THEM",
            version="2.2.1",
            versions_url="http://127.0.0.1:9/versions",
            token_hash=hash_token(TOKEN),
            outgoing_token="bench-outgoing-token",
            roles=[PartnerRole(country_code="CO", party_id="ABC", role="CPO", name="Bench")],
        )
    )


@dataclass
class NapIngestResult:
    updates: int
    confirmed: int
    per_second: Spread | None
    p50_ms: float | None
    p99_ms: float | None
    concurrency: int = CONCURRENCY
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "updates": self.updates,
            "confirmed": self.confirmed,
            "per_second": None if self.per_second is None else self.per_second.to_dict(),
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "concurrency": self.concurrency,
            "error": self.error,
        }


async def _send(base: str, updates: int, start: datetime) -> tuple[float, int, list[float]]:
    headers = {"Authorization": "Token " + base64.b64encode(TOKEN.encode()).decode()}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(updates):
        queue.put_nowait(number)
    latencies: list[float] = []
    confirmed = 0

    async def lane(client: httpx.AsyncClient) -> None:
        nonlocal confirmed
        while True:
            try:
                number = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            at = start + timedelta(milliseconds=number)
            body = {
                "status": "CHARGING" if (number // EVSES) % 2 == 0 else "AVAILABLE",
                "last_updated": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            }
            url = f"{base}/ocpi/nap/2.2.1/locations/CO/ABC/{LOCATION}/E{number % EVSES}"
            began = time.perf_counter()
            response = await client.patch(url, json=body)
            latencies.append(time.perf_counter() - began)
            if response.json().get("status_code") == 1000:
                confirmed += 1

    clients = [httpx.AsyncClient(headers=headers, timeout=60) for _ in range(CONCURRENCY)]
    try:
        began = time.perf_counter()
        await asyncio.gather(*(lane(client) for client in clients))
        return time.perf_counter() - began, confirmed, latencies
    finally:
        for client in clients:
            await client.aclose()


def run_nap_ingest(updates: int = 2000, runs: int = 3) -> NapIngestResult:
    """On a fresh ``intercarga serve`` hosting a NAP, seeded with :func:`seed`."""
    server_cpu, _ = placement()
    server = ServerProcess(
        "serve",
        "--database",
        "sqlite+aiosqlite:///bench.db",
        "--seed",
        "bench.nap_ingest:seed",
        cpu=server_cpu,
        settings=NAP_SETTINGS,
    )
    rates: list[float] = []
    all_latencies: list[float] = []
    confirmed = 0
    try:
        with server:
            base = f"http://127.0.0.1:{server.http_port}"
            start = datetime.now(UTC)
            for run in range(runs):
                seconds, ok, latencies = asyncio.run(
                    _send(base, updates, start + timedelta(hours=run))
                )
                rates.append(ok / seconds)
                all_latencies += latencies
                confirmed += ok
    except (RuntimeError, httpx.HTTPError, OSError) as error:
        return NapIngestResult(updates, confirmed, None, None, None, error=str(error))
    ordered = sorted(all_latencies)
    with contextlib.suppress(IndexError):
        return NapIngestResult(
            updates=updates * runs,
            confirmed=confirmed,
            per_second=spread(rates),
            p50_ms=ordered[len(ordered) // 2] * 1000,
            p99_ms=ordered[int(0.99 * (len(ordered) - 1))] * 1000,
        )
    return NapIngestResult(updates * runs, confirmed, None, None, None, error="no answers")
