"""What the benchmarks share: the load client in its own pinned process, process CPU and memory,
medians and spreads. It measures; it must never decide what a good figure is.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.servers import free_cpus, pin
from intercarga.sim.load import LoadConfig, LoadResult, run_load

__all__ = [
    "Spread",
    "bench_arguments",
    "client_pool",
    "cpu_seconds",
    "placement",
    "ratio",
    "resident_bytes",
    "run_client",
    "serving_child",
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


@contextmanager
def serving_child(
    module: str, folder: Path, count: int, *, pinned: bool = False
) -> Iterator[list[str]]:
    """``python -m MODULE serve FOLDER COUNT`` in a child process: yields the fields after its
    ``READY`` line; the child serves until its stdin closes, which leaving the block does.
    ``pinned``: once it is ready, the child runs on one CPU and this process on another
    (:func:`placement`), until the block is left."""
    command = [sys.executable, "-m", module, "serve", str(folder), str(count)]
    root = Path(__file__).resolve().parent.parent
    with subprocess.Popen(  # noqa: S603 (our own argument list)
        command, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        own = os.sched_getaffinity(0)
        try:
            assert child.stdout is not None
            line = child.stdout.readline().split()
            if not line or line[0] != "READY":
                raise RuntimeError(f"{module}: the server did not start")
            server_cpu, client_cpu = placement() if pinned else (None, None)
            if server_cpu is not None and client_cpu is not None:
                os.sched_setaffinity(child.pid, {server_cpu})
                os.sched_setaffinity(0, {client_cpu})
            yield line[1:]
        finally:
            os.sched_setaffinity(0, own)
            assert child.stdin is not None
            child.stdin.close()
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)


def bench_arguments(
    prog: str, argv: list[str] | None, *, locations: int, seconds: float
) -> argparse.Namespace:
    """A seeded-server benchmark's command line: ``run`` (measure) or ``serve FOLDER COUNT``."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "serve"])
    parser.add_argument("folder", nargs="?")
    parser.add_argument("count", nargs="?", type=int)
    parser.add_argument("--locations", type=int, default=locations)
    parser.add_argument("--seconds", type=float, default=seconds)
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)
