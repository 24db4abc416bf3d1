"""Benchmark: the cost of a station whose clock repeats or goes back, next to one whose clock rises.

Intercarga on SQLite (its own process, one CPU) and the load client (another process, the other
CPU). Each station opens one transaction (TransactionEvent Started) and sends ``messages``
TransactionEvent Updated with 10 sampled values, each as soon as the last is answered, while its
energy register counts up. Two runs on the same server, each with its own stations: the
*monotonic* run stamps the meter values one second apart, always later; the *wrapping* run
starts its clock again every ``wrap`` messages (a station with a bad clock, or one replaying),
so its readings land between those already stored, and its register steps back between
timestamps (billing does not bill those steps, and lists them). The *reconnecting* run keeps
its clock rising but drops its connection every ``reconnect`` messages: it connects again (no
boot) and sends first the messages it queued while away, marked offline (a station on a poor
network replaying its queue). Every run stores every message before answering it. Per run: messages per second, latency percentiles and the server's CPU per
message; besides, the rate over the last tenth of each run's messages (the longest sessions)
beside the first tenth, to show whether the cost grows with a session's length.

This module measures; it must never decide what a good figure is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bench.common import client_pool, cpu_seconds, placement, run_client
from bench.servers import ServerProcess
from intercarga.sim.load import LoadConfig, LoadKind, LoadResult
from intercarga.sim.stats import percentile

__all__ = ["CliffResult", "CliffRun", "run_cliff"]


@dataclass
class CliffRun:
    label: str
    wrap: int
    reconnect: int = 0
    messages: int = 0
    rate: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_us_per_message: float | None = None
    first_tenth_p99_ms: float | None = None
    last_tenth_p99_ms: float | None = None
    errors: int = 0
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CliffResult:
    stations: int
    messages_per_station: int
    wrap: int
    reconnect: int = 0
    runs: list[CliffRun] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stations": self.stations,
            "messages_per_station": self.messages_per_station,
            "wrap": self.wrap,
            "reconnect": self.reconnect,
            "runs": [run.to_dict() for run in self.runs],
        }


def _ms(values: list[float], fraction: float) -> float | None:
    found = percentile(sorted(values), fraction)
    return None if found is None else found * 1000


def _summary(run: CliffRun, result: LoadResult, cpu: float) -> CliffRun:
    latencies = result.latencies  # in the order answered: later ones are of longer sessions
    tenth = max(1, len(latencies) // 10)
    return replace(
        run,
        messages=result.answered,
        rate=result.rate,
        p50_ms=result.latency_ms(0.5),
        p99_ms=result.latency_ms(0.99),
        cpu_us_per_message=cpu / result.answered * 1e6 if result.answered else None,
        first_tenth_p99_ms=_ms(latencies[:tenth], 0.99),
        last_tenth_p99_ms=_ms(latencies[-tenth:], 0.99),
        errors=result.errors,
        failures=result.failures[:5],
    )


def run_cliff(
    stations: int = 50,
    messages_per_station: int = 5000,
    wrap: int = 60,
    reconnect: int = 500,
    *,
    progress: Callable[[str], None] = print,
) -> CliffResult:
    """The monotonic run, the wrapping one, then the reconnecting one (unless ``reconnect``
    is 0), against one Intercarga (SQLite)."""
    server_cpu, client_cpu = placement()
    outcome = CliffResult(stations, messages_per_station, wrap, reconnect)
    runs = [CliffRun("monotonic clock", 0), CliffRun(f"clock wrapping every {wrap} messages", wrap)]
    if reconnect:
        runs.append(CliffRun(f"reconnecting every {reconnect} messages, replaying", 0, reconnect))
    options = (
        *("--stations", str(len(runs) * stations)),
        *("--database", "sqlite+aiosqlite:///bench.db"),
    )
    with (
        client_pool() as pool,
        ServerProcess("serve", *options, cpu=server_cpu) as server,
    ):
        for number, run in enumerate(runs):
            first = 1 + number * stations
            progress(f"cliff: {run.label}, {stations} × {messages_per_station} messages")
            config = LoadConfig(
                server.url,
                LoadKind.TRANSACTION_EVENT,
                stations=stations,
                messages=stations * messages_per_station,
                first_station=first,
                clock_wrap=run.wrap,
                reconnect_every=run.reconnect,
                charging=True,
                timeout=120.0,
            )
            before = cpu_seconds(server.pid)
            result = run_client(pool, config, client_cpu).result()
            outcome.runs.append(_summary(run, result, cpu_seconds(server.pid) - before))
            done = outcome.runs[-1]
            progress(f"  {done.rate or 0:,.0f} msg/s, p99 {done.p99_ms or 0:,.1f} ms")
    return outcome


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=5000, help="per station")
    parser.add_argument("--wrap", type=int, default=60)
    parser.add_argument("--reconnect", type=int, default=500, help="0: no reconnecting run")
    args = parser.parse_args()
    found = run_cliff(args.stations, args.messages, args.wrap, args.reconnect)
    print(json.dumps(found.to_dict(), indent=2))
