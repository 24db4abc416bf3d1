"""Benchmark 2: many stations connected at once to one Intercarga process.

The server (SQLite, its own process, one CPU) registers the stations first (security profile 0,
no password: the handshake looks the station up but verifies no scrypt hash), then the load
client (its own process on the other CPU) connects all of them, boots each (BootNotification
→ Accepted), and, once every one is booted, has each send heartbeats back to back. Measured:
the time until all are connected and Accepted; the server's resident memory before any
connection and its peak while all are connected (the difference per station, state included);
the heartbeats' round trip under that load (p50 / p99) and their rate.

This module measures; it must never decide what a good figure is.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Any

from bench.common import client_pool, placement, resident_bytes, run_client
from bench.servers import ServerProcess
from intercarga.sim.load import LoadConfig, LoadKind, raise_open_files_limit

__all__ = ["ConnectionsResult", "run_connections"]


@dataclass
class ConnectionsResult:
    stations: int
    connected: int
    booted: int
    ready_s: float
    rss_before: int
    rss_peak: int
    heartbeats: int
    heartbeat_rate: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int
    failures: list[str]

    @property
    def bytes_per_station(self) -> float:
        return (self.rss_peak - self.rss_before) / max(1, self.connected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stations": self.stations,
            "connected": self.connected,
            "booted": self.booted,
            "ready_s": round(self.ready_s, 2),
            "rss_before_mib": round(self.rss_before / 2**20, 1),
            "rss_peak_mib": round(self.rss_peak / 2**20, 1),
            "kib_per_station": round(self.bytes_per_station / 1024, 1),
            "heartbeats": self.heartbeats,
            "heartbeats_per_s": round(self.heartbeat_rate, 1),
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "errors": self.errors,
            "failures": self.failures[:10],
        }


class _Sampler:
    """Polls a process's resident memory in a thread; keeps the peak."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.pid = pid
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, resident_bytes(self.pid))
            except OSError:
                return
            self._stop.wait(self.every)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def run_connections(
    stations: int = 10_000,
    heartbeats_per_station: int = 3,
    *,
    connect_concurrency: int = 500,
    timeout: float = 120.0,
    server: ServerProcess | None = None,
    first_station: int = 1,
) -> ConnectionsResult:
    """On a fresh ``intercarga serve``, or on ``server`` (stations registered from
    ``first_station`` on) when given."""
    server_cpu, client_cpu = placement()
    raise_open_files_limit(stations + 1024)
    fresh = ServerProcess(
        "serve",
        "--stations",
        str(stations),
        "--database",
        "sqlite+aiosqlite:///bench.db",
        cpu=server_cpu,
        startup_timeout=300,
    )
    with (
        contextlib.nullcontext(server) if server is not None else fresh as server,
        client_pool() as pool,
    ):
        time.sleep(0.5)
        rss_before = resident_bytes(server.pid)
        config = LoadConfig(
            server.url,
            LoadKind.HEARTBEAT,
            stations=stations,
            messages=stations * heartbeats_per_station,
            connect_concurrency=connect_concurrency,
            timeout=timeout,
            first_station=first_station,
        )
        with _Sampler(server.pid) as sampler:
            result = run_client(pool, config, client_cpu).result()
        return ConnectionsResult(
            stations=stations,
            connected=result.connected,
            booted=result.booted,
            ready_s=result.ready_s,
            rss_before=rss_before,
            rss_peak=max(sampler.peak, rss_before),
            heartbeats=result.answered,
            heartbeat_rate=result.rate,
            p50_ms=result.latency_ms(0.5),
            p99_ms=result.latency_ms(0.99),
            errors=result.errors,
            failures=result.failures,
        )
