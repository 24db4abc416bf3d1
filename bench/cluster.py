"""Benchmark: several nodes (issue 17) on PostgreSQL and NATS JetStream.

Three set-ups under the same load (``intercarga.sim.load``, one client process, OCPP messages
to stations registered beforehand): one node alone (no NATS), one node of a cluster (NATS: the
cost of presence and of the event stream), and two nodes as ``serve --workers 2``. For each,
messages per second and the servers' CPU time per message (every worker's, from /proc; the
NATS server's beside it, which other users of that NATS may inflate). Then, with stations
connected to the two workers: the time from one worker's SIGKILL to every one of its stations
being connected again and answered (they try again every 0.1 s, as a station configured to
retry at once would), and the presence renewals every node receives (the bucket's traffic).

This module measures; it must never decide what a good figure is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import nats
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from bench.common import Spread, client_pool, cpu_seconds, run_client, spread
from bench.crash import CsmsProcess, until
from bench.servers import register_stations
from bench.throughput import POSTGRES_DSN, postgres_schema
from intercarga.sim.load import LoadConfig, LoadKind, LoadResult

__all__ = ["ClusterResult", "run_cluster"]

NATS_URL = os.environ.get("INTERCARGA_TEST_NATS", "nats://127.0.0.1:4222")
KINDS = (LoadKind.TRANSACTION_EVENT, LoadKind.HEARTBEAT)


@dataclass(frozen=True)
class Setup:
    key: str
    label: str
    workers: int
    cluster: bool


SETUPS = (
    Setup("single", "one node, no NATS", 1, cluster=False),
    Setup("node", "one node of a cluster", 1, cluster=True),
    Setup("workers", "two nodes (`serve --workers 2`)", 2, cluster=True),
)


@dataclass
class KindFigures:
    rate: Spread | None = None
    cpu_us: Spread | None = None  # every worker's CPU per message
    nats_cpu_us: Spread | None = None
    errors: int = 0


@dataclass
class SetupResult:
    setup: Setup
    kinds: dict[LoadKind, KindFigures] = field(default_factory=dict)


@dataclass
class Failover:
    stations: int
    kills: int = 0
    moved: list[int] = field(default_factory=list)  # stations whose socket the kill closed
    every_s: list[float] = field(default_factory=list)  # kill → the last of them answered
    median_s: list[float] = field(default_factory=list)  # kill → the median one answered


@dataclass
class PresenceTraffic:
    stations: int
    lease: float
    seconds: float
    messages: int
    bytes: int
    nodes: int

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    def per_node_at(self, stations: int) -> float:
        """Renewals a second each node receives with ``stations`` connected (it scales with
        the stations: each renews every lease/3)."""
        return self.per_second * stations / self.stations


_PUBLISHERS = 50


@dataclass
class GroupRate:
    """A consumer group's own pace: events published by one node, handled by ``nodes``
    (subscribers that do nothing), on the real NATS, no database."""

    events: int
    nodes: int
    publish_s: float  # publishing them all, 50 publishers at once (each awaits its acks)
    handled_s: float  # from the first publish to the last event handled
    cpu_us: float  # this process's CPU (the publisher and both nodes' consumers) per event
    nats_cpu_us: float | None  # the NATS server's, per event

    @property
    def per_second(self) -> float:
        return self.events / self.handled_s


@dataclass
class ClusterResult:
    setups: list[SetupResult] = field(default_factory=list)
    failover: Failover | None = None
    presence: PresenceTraffic | None = None
    group: GroupRate | None = None
    skipped: str | None = None


async def group_rate(events: int = 2000, nodes: int = 2) -> GroupRate:
    """How fast the pusher's kind of group hands out events (eight partitions, one event at a
    time each), with ``events`` EVSE status changes of 200 Locations."""
    from datetime import UTC, datetime

    from intercarga.cluster import ClusterBus
    from intercarga.domain.events import EvseStatusChanged
    from intercarga.domain.location import EVSEStatus

    cluster = f"bench{uuid.uuid4().hex[:10]}"
    handled = [0]
    done = asyncio.Event()

    async def handle(_event: EvseStatusChanged) -> None:
        handled[0] += 1
        if handled[0] == events:
            done.set()

    buses: list[tuple[Any, ClusterBus]] = []
    try:
        for n in range(nodes):
            nc = await nats.connect(NATS_URL, connect_timeout=3, allow_reconnect=False)
            bus = ClusterBus(nc, cluster=cluster, node_id=f"n{n}")
            bus.subscribe(EvseStatusChanged, handle, group="bench")
            await bus.start()
            buses.append((nc, bus))
        for _nc, bus in buses:
            await bus.start_groups()
        now = datetime.now(UTC)
        publisher = buses[0][1]

        async def station(first: int) -> None:
            # One publisher per 4 Locations, as stations publish each their own, at once.
            for n in range(first, events, _PUBLISHERS):
                location = f"L{n % 200}"
                await publisher.publish(
                    EvseStatusChanged("CO", "ICG", location, "E1", EVSEStatus.CHARGING, now)
                )

        nats_pid = _nats_pid()
        nats_before = _cpu([nats_pid]) if nats_pid else None
        cpu_before = time.process_time()
        began = time.perf_counter()
        await asyncio.gather(*(station(first) for first in range(_PUBLISHERS)))
        published = time.perf_counter() - began
        await asyncio.wait_for(done.wait(), 300)
        handled = time.perf_counter() - began
        cpu = (time.process_time() - cpu_before) / events * 1e6
        nats_cpu = None
        if nats_pid and nats_before is not None:
            nats_cpu = (_cpu([nats_pid]) - nats_before) / events * 1e6
        return GroupRate(events, nodes, published, handled, cpu, nats_cpu)
    finally:
        for nc, bus in buses:
            await bus.close()
            await nc.close()
        await _drop_streams(cluster)


def _nats_pid() -> int | None:
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == "nats-server":
                return int(comm.parent.name)
    return None


def _pids(csms: CsmsProcess) -> list[int]:
    assert csms.process is not None
    return [csms.process.pid, *csms.worker_pids()]


def _sockets(pid: int) -> int:
    """How many sockets a process holds open (its stations, and a few of its own)."""
    count = 0
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                count += os.readlink(fd).startswith("socket:")
    return count


def _cpu(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


async def _register(url: str, schema: str, count: int) -> None:
    from pydantic import SecretStr

    from intercarga.app import System
    from intercarga.config import Settings

    system = await System.open(Settings(database_url=SecretStr(url), database_schema=schema))
    try:
        await register_stations(system.store, count)
    finally:
        await system.close()


async def _drop_streams(cluster: str) -> None:
    with contextlib.suppress(Exception):
        nc = await nats.connect(NATS_URL, connect_timeout=3, allow_reconnect=False)
        try:
            js = nc.jetstream()
            for stream in await js.streams_info():
                if cluster in stream.config.name:
                    await js.delete_stream(stream.config.name)
        finally:
            await nc.close()


@contextlib.contextmanager
def _running(
    setup: Setup, folder: Path, schema: str, stations: int, lease: float
) -> Iterator[tuple[CsmsProcess, str]]:
    url = POSTGRES_DSN.replace("postgresql://", "postgresql+asyncpg://", 1)
    cluster = f"bench{uuid.uuid4().hex[:10]}"
    asyncio.run(_register(url, schema, stations))
    lines = [f'nats_url = "{NATS_URL}"', f'name = "{cluster}"', f"lease = {lease}"]
    csms = CsmsProcess(
        folder / setup.key,
        url,
        schema,
        cluster=lines if setup.cluster else None,
        workers=setup.workers,
    )
    try:
        asyncio.run(csms.start(timeout=120))
        yield csms, cluster
    finally:
        csms.stop()
        asyncio.run(_drop_streams(cluster))


def _measure(
    pool: ProcessPoolExecutor,
    csms: CsmsProcess,
    kind: LoadKind,
    *,
    stations: int,
    runs: int,
    seconds: float,
    first: int,
    min_messages: int,
) -> tuple[KindFigures, int]:
    nats_pid = _nats_pid()
    config = LoadConfig(csms.ocpp_url, kind, stations=stations, messages=300)
    warm = run_client(pool, replace(config, first_station=first), None).result()
    first += stations
    # Enough messages per station that its connection and boot weigh little in the figures.
    count = max(min_messages, round(warm.rate * seconds))
    results: list[tuple[LoadResult, float, float | None]] = []
    for _ in range(runs):
        pids = _pids(csms)
        before = _cpu(pids)
        nats_before = _cpu([nats_pid]) if nats_pid else None
        run = replace(config, messages=count, first_station=first)
        result = run_client(pool, run, None).result()
        used = _cpu(pids) - before
        nats_used = _cpu([nats_pid]) - nats_before if nats_pid and nats_before else None
        results.append((result, used, nats_used))
        first += stations
    figures = KindFigures(
        rate=spread(r.rate for r, _, _ in results),
        cpu_us=spread(c / r.answered * 1e6 if r.answered else None for r, c, _ in results),
        nats_cpu_us=spread(
            n / r.answered * 1e6 if r.answered and n is not None else None for r, _, n in results
        ),
        errors=sum(r.errors for r, _, _ in results),
    )
    return figures, first


class _Stations:
    """``count`` OCPP 1.6 stations that boot, stay connected, and on losing their connection
    connect again every 0.1 s until a BootNotification is answered; when each did last."""

    def __init__(self, url: str, count: int) -> None:
        self.url = url
        self.ids = [f"LOAD-{n:04d}" for n in range(1, count + 1)]
        self.connected: dict[str, float] = {}  # station → when its last boot was answered
        self.lost: dict[str, float] = {}  # station → when its connection last ended
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(station)) for station in self.ids]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, station: str) -> None:
        while True:
            try:
                async with connect(
                    f"{self.url}/{station}",
                    subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                    open_timeout=10,
                    ping_interval=None,
                ) as ws:
                    boot = {"chargePointVendor": "Bench", "chargePointModel": "Failover"}
                    await ws.send(json.dumps([2, "b", "BootNotification", boot]))
                    async for frame in ws:
                        message = json.loads(frame)
                        if message[0] == 3 and message[1] == "b":
                            self.connected[station] = time.monotonic()
                        elif message[0] == 2:  # the CSMS asks something: not supported here
                            error = [4, message[1], "NotSupported", "bench station", {}]
                            await ws.send(json.dumps(error))
            except (OSError, WebSocketException, TimeoutError):
                pass
            self.lost[station] = time.monotonic()
            await asyncio.sleep(0.1)


async def _failover(csms: CsmsProcess, stations: int, kills: int) -> Failover:
    found = Failover(stations)
    fleet = _Stations(csms.ocpp_url, stations)
    await fleet.start()
    try:
        await until(lambda: len(fleet.connected) == stations, 60, "every station connected")
        for _ in range(kills):
            await until(
                lambda: (
                    len(csms.worker_pids()) == csms.workers
                    and csms.workers_serving() >= csms.workers_started()
                ),
                60,
                "every worker serving",
            )
            await asyncio.sleep(1.0)  # settled
            # The worker holding the most stations (after a kill they are not spread evenly).
            victim = max(csms.worker_pids(), key=_sockets)
            killed = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            await asyncio.sleep(0.5)
            moved = [s for s, at in fleet.lost.items() if at >= killed]

            def back(moved: list[str] = moved, killed: float = killed) -> bool:
                return all(fleet.connected.get(s, 0) > killed for s in moved)

            await until(back, 60, "the killed node's stations connected again")
            times = sorted(fleet.connected[s] - killed for s in moved)
            found.kills += 1
            found.moved.append(len(moved))
            found.every_s.append(times[-1] if times else 0.0)
            found.median_s.append(statistics.median(times) if times else 0.0)
    finally:
        await fleet.stop()
    return found


async def _presence(
    csms: CsmsProcess, cluster: str, stations: int, lease: float, seconds: float
) -> PresenceTraffic:
    fleet = _Stations(csms.ocpp_url, stations)
    await fleet.start()
    try:
        await until(lambda: len(fleet.connected) == stations, 60, "every station connected")
        await asyncio.sleep(lease / 3)  # every claim written once more: renewals under way
        nc = await nats.connect(NATS_URL, connect_timeout=3, allow_reconnect=False)
        counted = [0, 0]

        async def seen(msg: Any) -> None:
            counted[0] += 1
            counted[1] += len(msg.data)

        try:
            await nc.subscribe(f"$KV.{cluster}_presence.>", cb=seen)
            await asyncio.sleep(seconds)
        finally:
            await nc.close()
    finally:
        await fleet.stop()
    return PresenceTraffic(stations, lease, seconds, counted[0], counted[1], csms.workers)


def run_cluster(
    *,
    stations: int = 50,
    runs: int = 3,
    seconds: float = 3.0,
    min_messages: int = 2000,
    failover_stations: int = 200,
    kills: int = 2,
    lease: float = 15.0,
    presence_seconds: float = 15.0,
    group_events: int = 2000,
    progress: Callable[[str], None] = print,
) -> ClusterResult:
    """Every set-up, every kind, then the kill and the presence traffic on two workers, and
    the consumer group's own pace."""
    result = ClusterResult()
    result.group = asyncio.run(group_rate(group_events))
    progress(f"cluster: a consumer group hands out {result.group.per_second:,.0f} events/s")
    registered = stations * len(KINDS) * (runs + 1) + max(stations, failover_stations)
    with TemporaryDirectory(prefix="intercarga-cluster-") as folder, client_pool() as pool:
        for setup in SETUPS:
            with postgres_schema() as schema:
                if schema is None:
                    result.skipped = f"PostgreSQL at {POSTGRES_DSN} does not answer"
                    return result
                progress(f"cluster: {setup.label}")
                outcome = SetupResult(setup)
                result.setups.append(outcome)
                with _running(setup, Path(folder), schema, registered, lease) as (csms, name):
                    first = max(stations, failover_stations) + 1
                    for kind in KINDS:
                        figures, first = _measure(
                            pool, csms, kind, stations=stations, runs=runs, seconds=seconds,
                            first=first, min_messages=min_messages,
                        )  # fmt: skip
                        outcome.kinds[kind] = figures
                        rate = figures.rate.show() if figures.rate else "-"
                        cpu = figures.cpu_us.show() if figures.cpu_us else "-"
                        progress(f"  {kind.value}: {rate} msg/s, {cpu} µs CPU/msg")
                    if setup.workers > 1:
                        result.presence = asyncio.run(
                            _presence(csms, name, failover_stations, lease, presence_seconds)
                        )
                        progress(
                            f"  presence: {result.presence.per_second:,.0f} renewals/s "
                            f"for {failover_stations} stations"
                        )
                        result.failover = asyncio.run(_failover(csms, failover_stations, kills))
                        progress(
                            f"  kill -9: every station back after "
                            f"{', '.join(f'{s:.1f}' for s in result.failover.every_s)} s"
                        )
    return result


def _spread(value: Spread | None) -> dict[str, float] | None:
    return None if value is None else value.to_dict()


def cluster_json(result: ClusterResult) -> dict[str, Any]:
    return {
        "setups": {
            outcome.setup.key: {
                kind.value: {
                    "rate": _spread(figures.rate),
                    "cpu_us_per_message": _spread(figures.cpu_us),
                    "nats_cpu_us_per_message": _spread(figures.nats_cpu_us),
                    "errors": figures.errors,
                }
                for kind, figures in outcome.kinds.items()
            }
            for outcome in result.setups
        },
        "failover": None if result.failover is None else result.failover.__dict__,
        "group": None
        if result.group is None
        else {**result.group.__dict__, "per_second": result.group.per_second},
        "presence": None
        if result.presence is None
        else {**result.presence.__dict__, "per_second": result.presence.per_second},
        "skipped": result.skipped,
    }


def _show(value: Spread | None, pattern: str = "{:,.0f}") -> str:
    return "–" if value is None else value.show(pattern)


def _median(result: ClusterResult, key: str, kind: LoadKind, what: str) -> float | None:
    for outcome in result.setups:
        if outcome.setup.key == key and kind in outcome.kinds:
            value: Spread | None = getattr(outcome.kinds[kind], what)
            return None if value is None else value.median
    return None


def render(result: ClusterResult) -> str:
    """The section of docs/benchmarks.md (its body, without the heading)."""
    out = [
        "`bench/cluster.py`: the same load client (`intercarga.sim.load`, one process, "
        "stations registered beforehand, each run with stations no earlier run used) against "
        "`intercarga serve` on PostgreSQL in three set-ups: one node alone (no NATS), one node "
        "of a cluster (NATS JetStream: presence, the event stream and the OCPI pusher's "
        "consumer group), and two nodes as `serve --workers 2`. Nothing is pinned: the two "
        "workers, the client, PostgreSQL and NATS share the machine's CPUs. CPU per message is "
        "every worker's (from /proc) over the messages answered; NATS's is the NATS server's "
        "over the same messages (other users of that NATS count in it too).",
        "",
        "| set-up | message | msg/s | server CPU µs/msg | NATS CPU µs/msg | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for outcome in result.setups:
        for kind, figures in outcome.kinds.items():
            out.append(
                f"| {outcome.setup.label} | {kind.value} | {_show(figures.rate)} | "
                f"{_show(figures.cpu_us)} | {_show(figures.nats_cpu_us)} | {figures.errors} |"
            )
    out.append("")
    for kind in KINDS:
        single = _median(result, "single", kind, "cpu_us")
        node = _median(result, "node", kind, "cpu_us")
        two = _median(result, "workers", kind, "cpu_us")
        rate1 = _median(result, "single", kind, "rate")
        rate2 = _median(result, "workers", kind, "rate")
        if single and node and two and rate1 and rate2:
            out.append(
                f"- {kind.value}: joining a cluster costs ×{node / single:.2f} the CPU per "
                f"message of a node alone; two workers ×{two / single:.2f}; two workers "
                f"answer ×{rate2 / rate1:.2f} the messages per second of one node alone."
            )
    out += [
        "",
        "**What the figures mean on a bigger machine.** On a 2-CPU VM shared with other work "
        "(the load average in the machine line above) the rates show only that nothing "
        "collapses, not how two nodes scale: two workers, the load client, PostgreSQL and NATS "
        "compete for two cores. The CPU per message is what carries over. A node answers "
        "about one core ÷ its CPU per message; `serve --workers N` on a host with N + 1 cores "
        "(one left to the kernel's network work, PostgreSQL's client side and the balancer) "
        "answers about N times that, and hosts add up the same way, until PostgreSQL (one "
        "commit per transaction message, section 1) or NATS (its CPU per message above, for "
        "each domain event and presence renewal) is the limit. The cost of being in a "
        "cluster is the difference between the first two set-ups' CPU per message; where "
        "the runs' ranges overlap it is within this machine's noise.",
    ]
    failover = result.failover
    if failover is not None and failover.kills:
        out += [
            "",
            f"**A node's kill -9.** {failover.stations} OCPP 1.6 stations connected to the two "
            "workers (the kernel spreads them over the one port); one worker killed with "
            "SIGKILL; each of its stations tries again every 0.1 s and lands on a live worker "
            "(the survivor, or the parent's restart of the dead one). From the kill to every "
            "one of its stations connected again with its BootNotification answered:",
            "",
            "| kill | its stations | median station back | every station back |",
            "|---:|---:|---:|---:|",
        ]
        for n, (moved, median, every) in enumerate(
            zip(failover.moved, failover.median_s, failover.every_s, strict=True), 1
        ):
            out.append(f"| {n} | {moved} | {median:.2f} s | {every:.2f} s |")
        out += [
            "",
            "The time is the surviving worker accepting and booting the dead one's stations "
            "all at once (the first kill moves about half; later kills the worker holding "
            "most of them): the TLS-less handshake, the station's look-up, its presence claim "
            "and its BootNotification, on a CPU shared with the load client (and, on a busy VM, with other work: 8–13 s at a load average of 20–30 in an earlier run, 1–2 s idle). Section 2 "
            "connects and boots 10,000 stations in 27 s on one idle core, about 3 ms each: "
            "a dead node's N stations are back in about N × 3 ms ÷ the cores of the nodes "
            "taking them, plus the stations' own wait before they try again (real stations "
            "wait seconds to minutes; these try every 0.1 s). A worker started again after "
            "the kill takes connections only once it serves (its sockets listen then).",
        ]
    group = result.group
    if group is not None:
        out += [
            "",
            f"**The pusher's consumer group, alone.** {group.events:,} EVSE status events of "
            f"200 Locations published by one node from 50 tasks at once (as stations do; each "
            f"publish awaits the stream's acknowledgement: all published in "
            f"{group.publish_s:.1f} s) and handled by {group.nodes} nodes whose subscriber "
            f"does nothing: {group.per_second:,.0f} events a second through the group (32 "
            "partitions, one event at a time each), at "
            f"{group.cpu_us:,.0f} µs of the nodes' CPU per event (publish, take, acknowledge) "
            f"and {group.nats_cpu_us or 0:,.0f} µs of the NATS server's.",
        ]
    presence = result.presence
    if presence is not None:
        out += [
            "",
            f"**Presence renewals.** With {presence.stations} stations on {presence.nodes} "
            f"nodes and `lease = {presence.lease:g}`, the presence bucket carried "
            f"{presence.per_second:,.1f} messages a second "
            f"({presence.bytes / presence.seconds / 1024:,.1f} KiB/s) over "
            f"{presence.seconds:g} s, and every node receives all of them (each watches the "
            f"whole bucket): at 10,000 stations that is about "
            f"{presence.per_node_at(10_000):,.0f} messages a second to each node.",
        ]
    return "\n".join(out)


if __name__ == "__main__":
    measured = asyncio.run(group_rate())
    print(f"{measured.per_second:,.0f} events/s through the group; all published in "
          f"{measured.publish_s:.1f} s; {measured.cpu_us:,.0f} µs CPU/event here, "
          f"{measured.nats_cpu_us or 0:,.0f} in NATS")  # fmt: skip
