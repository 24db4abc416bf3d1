"""What the benchmarks share: the load client in its own pinned process, process CPU and memory,
medians and spreads. It measures; it must never decide what a good figure is.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from bench.servers import free_cpus, pin
from intercarga.sim.load import LoadConfig, LoadResult, run_load

__all__ = [
    "Spread",
    "client_pool",
    "cpu_seconds",
    "placement",
    "ratio",
    "resident_bytes",
    "run_client",
    "spread",
]


def placement() -> tuple[int | None, int | None]:
    """(server CPU, client CPU): one each when the machine has two, else no pinning."""
    cpus = free_cpus()
    if len(cpus) >= 2:
        return cpus[0], cpus[1]
    return None, None


def _client(config: LoadConfig, cpu: int | None) -> LoadResult:
    pin(cpu)
    return asyncio.run(run_load(config))


def client_pool(processes: int = 1) -> ProcessPoolExecutor:
    """Worker processes for the load client (spawned: no loop or socket inherited)."""
    return ProcessPoolExecutor(
        max_workers=processes, mp_context=multiprocessing.get_context("spawn")
    )


def run_client(
    pool: ProcessPoolExecutor, config: LoadConfig, cpu: int | None
) -> Future[LoadResult]:
    return pool.submit(_client, config, cpu)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass(frozen=True)
class Spread:
    """The median of several runs and their range."""

    median: float
    low: float
    high: float
    runs: int

    def show(self, fmt: str = "{:,.0f}") -> str:
        if self.runs <= 1:
            return fmt.format(self.median)
        return f"{fmt.format(self.median)} ({fmt.format(self.low)}–{fmt.format(self.high)})"

    def to_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.low, "max": self.high, "runs": self.runs}


def spread(values: Iterable[float | None]) -> Spread | None:
    numbers = [v for v in values if v is not None]
    if not numbers:
        return None
    return Spread(statistics.median(numbers), min(numbers), max(numbers), len(numbers))


def ratio(numerator: Spread | None, denominator: Spread | None) -> float | None:
    if numerator is None or denominator is None or denominator.median == 0:
        return None
    return numerator.median / denominator.median
