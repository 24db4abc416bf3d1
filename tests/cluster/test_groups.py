"""Issue 17, point 4: what must happen once per cluster happens once, even when a node dies.

Two nodes' event buses (two NATS connections, one cluster of this test's own on the real NATS)
with a subscriber in the same group on each: every event node A publishes is handled by exactly
one of them, each Location's events in the order published; an event whose handling node dies
before acknowledging it is handled by the other node; an event whose subscriber fails (the
database away) is given to it again until it runs, ahead of the Location's later events; and
with NATS away a node handles its own
events itself, as a single node does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import nats
import pytest

from intercarga.cluster import ClusterBus
from intercarga.cluster.events import partition
from intercarga.domain.events import EvseStatusChanged
from intercarga.domain.location import EVSEStatus
from tests.conftest import NATS_URL

GROUP = "pushes"
AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _status(location: int, n: int) -> EvseStatusChanged:
    return EvseStatusChanged(
        "CO", "ICG", f"LOC-{location}", "EVSE-1", EVSEStatus.CHARGING, AT + timedelta(seconds=n)
    )


class Node:
    """One node's bus and what its group subscriber handled (node id, event)."""

    def __init__(self, bus: ClusterBus, nc: nats.NATS) -> None:
        self.bus = bus
        self.nc = nc
        self.handled: list[EvseStatusChanged] = []
        self.hold: asyncio.Event | None = None  # set: the subscriber waits for it (a hang)
        self.holding = asyncio.Event()
        self.failing = 0  # > 0: the subscriber fails that many more times (the database away)
        self.failed = 0

        async def handle(event: EvseStatusChanged) -> None:
            if self.failing > 0:
                self.failing -= 1
                self.failed += 1
                raise ConnectionError("the database is away")
            if self.hold is not None:
                self.holding.set()
                await self.hold.wait()
            self.handled.append(event)

        bus.subscribe(EvseStatusChanged, handle, group=GROUP)


async def _node(stack: AsyncExitStack, cluster: str, node_id: str) -> Node:
    nc = await nats.connect(NATS_URL, connect_timeout=3, allow_reconnect=False)
    stack.push_async_callback(nc.close)
    bus = ClusterBus(nc, cluster=cluster, node_id=node_id, ack_wait=1.0)
    await bus.start()
    stack.push_async_callback(bus.close)
    return Node(bus, nc)


@pytest.fixture
async def nodes(nats_cluster: str) -> AsyncIterator[tuple[Node, Node]]:
    async with AsyncExitStack() as stack:
        yield await _node(stack, nats_cluster, "node-a"), await _node(stack, nats_cluster, "node-b")


async def _until(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.02)


async def test_each_event_is_handled_once_across_the_nodes_in_order(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    await a.bus.start_groups()
    await b.bus.start_groups()
    published = [_status(location, n) for n in range(10) for location in range(6)]
    for event in published:
        await a.bus.publish(event)
    await _until(lambda: len(a.handled) + len(b.handled) >= len(published))
    await asyncio.sleep(0.3)  # anything handled twice would show by now
    handled = a.handled + b.handled
    assert sorted(handled, key=published.index) == published  # each once
    for node in (a, b):  # and one Location's events in the order published, on either node
        for location in range(6):
            times = [e.timestamp for e in node.handled if e.location_id == f"LOC-{location}"]
            assert times == sorted(times)


async def test_an_event_whose_node_dies_while_handling_it_is_handled_by_another(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    b.hold = asyncio.Event()  # node B takes the event, then hangs without acknowledging it
    await b.bus.start_groups()
    first, second = _status(1, 0), _status(1, 1)  # one Location: one partition, in order
    assert partition(first) == partition(second)
    await a.bus.publish(first)
    await a.bus.publish(second)
    await asyncio.wait_for(b.holding.wait(), 10)
    # Node B dies: its connection is gone, its handling never finished.
    for task in b.bus._pulling:
        task.cancel()
    with contextlib.suppress(Exception):
        await b.nc.close()
    await a.bus.start_groups()
    await _until(lambda: len(a.handled) == 2)
    assert a.handled == [first, second]
    assert b.handled == []


async def test_with_nats_away_a_node_handles_its_own_events(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    await a.bus.start_groups()
    await b.bus.start_groups()
    await a.nc.close()
    event = _status(2, 0)
    await a.bus.publish(event)
    assert a.handled == [event]
    await asyncio.sleep(0.3)
    assert b.handled == []


async def test_an_event_whose_subscriber_fails_is_given_again_until_it_runs_once(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    b.failing = 3  # node B takes the first event; storing what it does fails three times
    await b.bus.start_groups()
    first, second = _status(3, 0), _status(3, 1)
    await a.bus.publish(first)
    await _until(lambda: b.failed >= 1)
    await a.bus.start_groups()  # node A could take the event too, were it let go
    await a.bus.publish(second)
    await _until(lambda: len(a.handled) + len(b.handled) == 2)
    await asyncio.sleep(1.5)  # past ack_wait (1 s): an event let go would be handled again
    assert b.failed == 3
    assert b.handled[0] == first  # handled where it was taken, once it could be
    assert sorted(a.handled + b.handled, key=[first, second].index) == [first, second]
