"""Benchmark 1: OCPP message throughput, the same load client against four servers.

(a) a raw ``websockets`` echo server (the ceiling), (b) the usual CSMS on the ``ocpp`` library
with an in-memory store, (c) Intercarga with full validation and persistence on SQLite and on
PostgreSQL. Each server runs in its own process pinned to one CPU, the load client in another
pinned to the other CPU. For each message kind a short warm-up run measures the rate, then each
measured run sends about ``seconds`` worth of messages; each run uses stations (and so
transactions) no earlier run used, so nothing is a repeat. Besides messages per second and
latency, the server's CPU time per message is recorded: it is steadier than wall-clock rates
on a shared machine.

This module measures; it must never decide what a good figure is.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.common import Spread, client_pool, cpu_seconds, placement, run_client, spread
from bench.profiles import Profile, record
from bench.servers import ServerProcess
from intercarga.sim.load import LoadConfig, LoadKind, LoadResult

__all__ = [
    "KINDS",
    "Target",
    "TargetResult",
    "postgres_schema",
    "run_throughput",
    "targets",
]

KINDS: tuple[LoadKind, ...] = (
    LoadKind.TRANSACTION_EVENT,
    LoadKind.METER_VALUES,
    LoadKind.HEARTBEAT,
)
POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Target:
    key: str  # echo, baseline, sqlite, postgresql
    label: str
    mode: str
    options: tuple[str, ...] = ()
    database: str | None = None  # for Intercarga: sqlite or postgresql


@dataclass
class KindResult:
    kind: LoadKind
    rate: Spread | None = None
    p50_ms: Spread | None = None
    p99_ms: Spread | None = None
    cpu_us_per_message: Spread | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    errors: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass
class TargetResult:
    target: Target
    kinds: dict[LoadKind, KindResult] = field(default_factory=dict)
    skipped: str | None = None
    profile: Profile | None = None


@contextmanager
def postgres_schema(dsn: str = POSTGRES_DSN) -> Iterator[str | None]:
    """A fresh schema in the PostgreSQL database ``test`` (None when unreachable), dropped after."""
    import asyncio

    import asyncpg  # type: ignore[import-untyped]

    schema = f"bench_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    try:
        asyncio.run(run(f'CREATE SCHEMA "{schema}"'))
    except (OSError, asyncpg.PostgresError):
        yield None
        return
    try:
        yield schema
    finally:
        asyncio.run(run(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def targets(*, registered: int, postgres_schema_name: str | None) -> list[Target]:
    stations = ("--stations", str(registered))
    found = [
        Target("echo", "(a) raw websockets echo (ceiling)", "echo"),
        Target("baseline", "(b) `ocpp` library CSMS, in-memory store", "baseline"),
        Target(
            "sqlite",
            "(c) Intercarga, SQLite",
            "serve",
            (*stations, "--database", "sqlite+aiosqlite:///bench.db"),
            "sqlite",
        ),
    ]
    if postgres_schema_name is not None:
        found.append(
            Target(
                "postgresql",
                "(c) Intercarga, PostgreSQL",
                "serve",
                (
                    *stations,
                    "--database",
                    POSTGRES_DSN.replace("postgresql://", "postgresql+asyncpg://", 1),
                    "--schema",
                    postgres_schema_name,
                ),
                "postgresql",
            )
        )
    return found


def _summarise(kind: LoadKind, results: Sequence[tuple[LoadResult, float]]) -> KindResult:
    summary = KindResult(kind)
    summary.rate = spread(result.rate for result, _ in results)
    summary.p50_ms = spread(result.latency_ms(0.5) for result, _ in results)
    summary.p99_ms = spread(result.latency_ms(0.99) for result, _ in results)
    summary.cpu_us_per_message = spread(
        cpu / result.answered * 1e6 if result.answered else None for result, cpu in results
    )
    for result, cpu in results:
        summary.errors += result.errors
        summary.failures.extend(result.failures[:5])
        summary.runs.append({**result.to_dict(), "server_cpu_s": round(cpu, 3)})
    return summary


def run_throughput(
    *,
    kinds: Sequence[LoadKind] = KINDS,
    stations: int = 50,
    runs: int = 5,
    seconds: float = 3.0,
    warmup_messages: int = 500,
    min_messages: int = 200,
    only: Sequence[str] | None = None,
    profile_seconds: float = 0.0,
    progress: Callable[[str], None] = print,
    servers: Mapping[str, ServerProcess] | None = None,
) -> list[TargetResult]:
    """Every target, every kind: ``runs`` measured runs each; see the module docstring.

    ``servers`` gives running servers to use for some targets (by key: their stations must be
    registered from 1 on) instead of starting them."""
    server_cpu, client_cpu = placement()
    registered = stations * len(kinds) * (runs + 1) + stations
    results: list[TargetResult] = []
    with postgres_schema() as schema, client_pool() as pool:
        for target in targets(registered=registered, postgres_schema_name=schema):
            if only and target.key not in only:
                continue
            outcome = TargetResult(target)
            results.append(outcome)
            progress(f"throughput: {target.label}")
            given = (servers or {}).get(target.key)
            fresh = ServerProcess(target.mode, *target.options, cpu=server_cpu)
            with contextlib.nullcontext(given) if given is not None else fresh as server:
                first = 1
                for kind in kinds:
                    config = LoadConfig(
                        server.url, kind, stations=stations, messages=warmup_messages
                    )
                    warm = run_client(pool, _at(config, first), client_cpu).result()
                    first += stations
                    count = max(min_messages, round(warm.rate * seconds))
                    measured: list[tuple[LoadResult, float]] = []
                    for _ in range(runs):
                        before = cpu_seconds(server.pid)
                        result = run_client(
                            pool, _at(_sized(config, count), first), client_cpu
                        ).result()
                        measured.append((result, cpu_seconds(server.pid) - before))
                        first += stations
                    outcome.kinds[kind] = _summarise(kind, measured)
                    measured_rate = outcome.kinds[kind].rate
                    shown = measured_rate.show() if measured_rate else "-"
                    progress(f"  {kind.value}: {shown} msg/s")
                if profile_seconds > 0 and target.database == "sqlite":
                    te = outcome.kinds.get(LoadKind.TRANSACTION_EVENT)
                    rate = te.rate.median if te is not None and te.rate is not None else 500.0
                    outcome.profile = _profile(
                        pool, server, client_cpu, first, stations, profile_seconds, rate
                    )
    return results


def _at(config: LoadConfig, first: int) -> LoadConfig:
    from dataclasses import replace

    return replace(config, first_station=first)


def _sized(config: LoadConfig, messages: int) -> LoadConfig:
    from dataclasses import replace

    return replace(config, messages=messages)


def _profile(
    pool: Any,
    server: ServerProcess,
    client_cpu: int | None,
    first: int,
    stations: int,
    seconds: float,
    rate: float,
) -> Profile | None:
    """py-spy on the server while the TransactionEvent load runs (not a measured run)."""
    config = LoadConfig(
        server.url,
        LoadKind.TRANSACTION_EVENT,
        stations=stations,
        messages=max(1000, round(max(rate, 500.0) * (seconds + 4))),
        first_station=first,
    )
    running = run_client(pool, config, client_cpu)
    time.sleep(1.5)  # connected, booted, sending
    profile = record(server.pid, seconds)
    running.result()
    return profile
