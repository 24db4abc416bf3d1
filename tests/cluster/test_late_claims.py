"""Issue 17: a station that connected while its node's NATS was away, claimed once NATS is back.

Two nodes on one PostgreSQL schema and one NATS, as in test_presence; node A reaches NATS through
a TCP proxy of the test's own (the shared NATS server must not be stopped), which cuts A alone
off NATS and lets it back. What a station and an operator see: a station accepted by A while
A's NATS is away is served there unclaimed; when A's NATS is back, either another node claimed
the station meanwhile (the newer connection, by claim order) and A closes its old socket and
writes nothing over the newer connection's claim or state, or nobody did and A claims it with a
generation of its own, by which a late message of that socket is fenced once it is replaced.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from urllib.parse import urlsplit

import pytest
from bench.crash import PostgresProxy
from websockets.asyncio.client import ClientConnection

from intercarga.cluster import Holder, Presence
from intercarga.ocpp.events import ConnectorStatus, StatusChanged
from intercarga.ocpp.server import StationLink
from tests.cluster.test_presence import (
    STATION,
    Node,
    _evse_status,
    _node,
    _register_station,
    _station,
    _until,
)
from tests.conftest import NATS_URL

# No claim is tried while NATS is away, so the station is accepted at once; generous all the
# same (a claim tried would wait out the NATS client's 5 s request timeout first).
ACCEPTED_WITHIN = 15


class NodesWithANatsCut:
    """Node A (behind the proxy) and node B, and the proxy that cuts A off NATS."""

    def __init__(self, a: Node, b: Node, proxy: PostgresProxy) -> None:
        self.a, self.b, self.proxy = a, b, proxy
        self.is_cut = False

    async def cut(self) -> None:
        await self.proxy.cut()
        self.is_cut = True
        cluster = self.a.system.cluster
        assert cluster is not None

        async def away() -> bool:
            return not cluster._nc.is_connected

        await _until(away, 10)

    async def connect_unclaimed(self) -> tuple[ClientConnection, StationLink]:
        """Cut node A off NATS and connect the station there: accepted, with no claim."""
        await self.cut()
        ws = await _station(self.a.url, ACCEPTED_WITHIN)
        link = self.a.system.links.link(STATION)
        if link is None or link.generation != 0:
            await ws.close()
            raise AssertionError(f"not an unclaimed connection at node A: {link}")
        return ws, link

    async def restore(self) -> None:
        if self.is_cut:
            await self.proxy.restore()
            self.is_cut = False


@pytest.fixture
async def nodes(postgres_schema: str, nats_cluster: str) -> AsyncIterator[NodesWithANatsCut]:
    nats = urlsplit(NATS_URL)
    proxy = PostgresProxy(nats.hostname or "127.0.0.1", nats.port or 4222)
    await proxy.start()
    try:
        async with AsyncExitStack() as stack:
            url = f"nats://127.0.0.1:{proxy.port}"
            a = await _node(stack, postgres_schema, nats_cluster, "node-a", nats_url=url)
            b = await _node(stack, postgres_schema, nats_cluster, "node-b")
            await _register_station(a)
            nodes = NodesWithANatsCut(a, b, proxy)
            yield nodes
            await nodes.restore()  # node A leaves the cluster quickly, as it would in a test
    finally:
        await proxy.stop()


def _presence(node: Node) -> Presence:
    assert node.system.cluster is not None
    return node.system.cluster.presence


async def _charging(ws: ClientConnection) -> None:
    notification = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
    await ws.send(json.dumps([2, "st", "StatusNotification", notification]))
    assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == [3, "st", {}]


async def _claimed_at_a(nodes: NodesWithANatsCut, link: StationLink, *, above: int) -> None:
    """Wait until node A has claimed ``link``'s station for it with a generation above
    ``above``, as node B reads the bucket."""

    async def claimed() -> bool:
        holder = await _presence(nodes.b).holder(STATION)
        return holder == Holder("node-a", link.generation) and link.generation > above

    await _until(claimed, 15)


LATE = StatusChanged(evse=1, connector=1, status=ConnectorStatus.AVAILABLE)


async def test_a_station_claimed_elsewhere_meanwhile_is_closed_here_when_nats_is_back(
    nodes: NodesWithANatsCut,
) -> None:
    a, b = nodes.a, nodes.b
    old, old_link = await nodes.connect_unclaimed()  # served although A cannot claim it
    try:
        # The station moves to node B, whose NATS is up: B claims it and writes its state.
        new = await _station(b.url)
        try:
            new_link = b.system.links.link(STATION)
            assert new_link is not None and new_link.generation > 0
            await _charging(new)
            assert await _evse_status(b) == "CHARGING"
            # A's NATS is back: A finds B's claim, the newer one, and closes its old socket.
            await nodes.restore()
            await asyncio.wait_for(old.wait_closed(), 15)
            assert old.close_code == 1000
            assert old.close_reason == "taken over by another node"
            # B's claim stands, and B's connection is still open.
            holder = await _presence(a).holder(STATION)
            assert holder is not None
            assert (holder.node, holder.generation) == ("node-b", new_link.generation)
            await asyncio.sleep(1.5)  # more than a renewal period of A's
            holder = await _presence(b).holder(STATION)
            assert holder is not None and holder.node == "node-b"
            assert b.system.links.link(STATION) is new_link and new_link.open
            # A late message of the old socket writes nothing over B's state.
            assert old_link.generation == -1  # below every claim's: fenced
            await a.system.csms_service.handle(old_link, LATE)
            assert await _evse_status(a) == "CHARGING"
            # The old socket's end did not mark the station offline.
            assert (STATION, False) not in a.connections
        finally:
            await new.close()
    finally:
        await old.close()


async def test_a_station_nobody_else_claimed_is_claimed_when_nats_is_back(
    nodes: NodesWithANatsCut,
) -> None:
    a, b = nodes.a, nodes.b
    old, old_link = await nodes.connect_unclaimed()
    try:
        await nodes.restore()
        await _claimed_at_a(nodes, old_link, above=0)
        assert old_link.open
        # The station moves to node B: the now-claimed old socket is replaced as usual …
        new = await _station(b.url)
        try:
            await asyncio.wait_for(old.wait_closed(), 5)
            assert old.close_reason == "taken over by another node"
            new_link = b.system.links.link(STATION)
            assert new_link is not None and new_link.generation > old_link.generation
            await _charging(new)
            # … and a late message of it is fenced by its generation.
            await a.system.csms_service.handle(old_link, LATE)
            assert await _evse_status(a) == "CHARGING"
        finally:
            await new.close()
    finally:
        await old.close()


async def test_a_reconnect_to_the_same_node_while_nats_is_away_keeps_the_station_there(
    nodes: NodesWithANatsCut,
) -> None:
    """The bucket still holds this node's own earlier connection of the station: older than the
    one made meanwhile, so that one takes the claim over (no needless reconnect)."""
    a = nodes.a
    first = await _station(a.url)
    try:
        first_link = a.system.links.link(STATION)
        assert first_link is not None and first_link.generation > 0
        # The station reconnects before its first socket's end is seen here (as over a
        # half-open socket): the first claim stays in the bucket, superseded here.
        second, second_link = await nodes.connect_unclaimed()
        try:
            await nodes.restore()
            await _claimed_at_a(nodes, second_link, above=first_link.generation)
            assert second_link.open
        finally:
            await second.close()
    finally:
        await first.close()
