"""Issue 17, points 2, 3 and 4 in one process: two nodes (two :class:`System`s on one PostgreSQL
schema and one NATS), each with its OCPP endpoint on a free port, and a station played over a
real WebSocket.

What a station and an operator see: the node holding the station is in the presence bucket; a
command given to the other node (the admin API) reaches the station; a reconnect to the other
node takes the station over and the old node closes the old socket, whose end does not mark the
station offline, and a late message from the old socket writes nothing over the new one's
state (fencing by connection generation in the database); a raw OCPP call and the connection view at one node reach the station held by
the other; a station nobody holds, or whose node is gone, is "offline" (HTTP 409) at once;
a status change at a station on one node shows in the other node's live dashboard stream.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect

from intercarga.app import System, http_app
from intercarga.config import ClusterSettings, Settings
from intercarga.dashboard.live import LiveFeed
from intercarga.domain import Station
from intercarga.domain.events import EvseStatusChanged, StationConnectionChanged
from intercarga.domain.station import StationEvse
from intercarga.ocpp.commands import Reset, ResetKind
from intercarga.ocpp.errors import CallError, StationOfflineError
from intercarga.ocpp.events import (
    ConnectorStatus,
    FirmwareStatusChanged,
    StationBooted,
    StatusChanged,
)
from tests.conftest import ADMIN_TOKEN, NATS_URL, POSTGRES_URL
from tests.factories import location

STATION = "CS-NODES-1"
RESET = "/api/v1/stations/" + STATION + "/commands/reset"


class Node:
    """One node: its system, the OCPP port it listens on, what its bus said of connections."""

    def __init__(self, system: System, port: int) -> None:
        self.system = system
        self.port = port
        self.connections: list[tuple[str, bool]] = []

        async def seen(event: StationConnectionChanged) -> None:
            self.connections.append((event.station_id, event.connected))

        system.bus.subscribe(StationConnectionChanged, seen)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/{STATION}"

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=http_app(self.system)),
            base_url="http://intercarga.test",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=10,
        )


async def _node(
    stack: AsyncExitStack, schema: str, cluster: str, node_id: str, nats_url: str = NATS_URL
) -> Node:
    settings = Settings(
        database_url=SecretStr(POSTGRES_URL),
        database_schema=schema,
        admin_token=SecretStr(ADMIN_TOKEN),
        cluster=ClusterSettings(nats_url=nats_url, name=cluster, node_id=node_id, lease=3),
    )
    system = await System.open(settings, join_cluster=True)
    stack.push_async_callback(system.close)
    sock = socket.create_server(("127.0.0.1", 0))
    await system.csms.start(sock)
    stack.push_async_callback(system.csms.stop)
    return Node(system, sock.getsockname()[1])


@pytest.fixture
async def nodes(postgres_schema: str, nats_cluster: str) -> AsyncIterator[tuple[Node, Node]]:
    async with AsyncExitStack() as stack:
        a = await _node(stack, postgres_schema, nats_cluster, "node-a")
        b = await _node(stack, postgres_schema, nats_cluster, "node-b")
        await _register_station(a)
        yield a, b


async def _register_station(a: Node) -> None:
    """The station (one EVSE at LOC-1) in the schema the nodes share."""
    await a.system.store.locations.put(location())
    await a.system.store.stations.put(
        Station(
            id=STATION,
            country_code="CL",
            party_id="ICG",
            security_profile=0,
            evses=[StationEvse(ocpp_evse_id=1, location_id="LOC-1", evse_uid="EVSE-1")],
        )
    )


async def _station(url: str, timeout: float = 5) -> ClientConnection:
    ws = await connect(url, subprotocols=["ocpp1.6"], open_timeout=timeout)  # type: ignore[list-item]
    await ws.send(json.dumps([2, "hb", "Heartbeat", {}]))
    answer = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert answer[0] == 3, answer
    return ws


async def _answer_one(ws: ClientConnection) -> list[Any]:
    """Play the station for one call from the CSMS: answer it Accepted."""
    call = json.loads(await asyncio.wait_for(ws.recv(), 10))
    await ws.send(json.dumps([3, call[1], {"status": "Accepted"}]))
    return list(call)


async def _until(check: Callable[[], Any], seconds: float = 5) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_command_on_one_node_reaches_the_station_on_the_other(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    ws = await _station(b.url)
    try:
        holder = await a.system.cluster.presence.holder(STATION)  # type: ignore[union-attr]
        assert holder is not None and holder.node == "node-b"
        async with a.api() as api:
            answering = asyncio.create_task(_answer_one(ws))
            reply = await api.post(RESET, json={"kind": "Immediate"})
            call = await asyncio.wait_for(answering, 10)
        assert call[2:] == ["Reset", {"type": "Hard"}]
        assert reply.status_code == 200, reply.text
        assert reply.json()["result"] == {"status": "Accepted", "reason": None}
    finally:
        await ws.close()
    # Gone from node B: nobody holds it, and node A says so at once.
    assert await _until(lambda: _offline(a))
    async with a.api() as api:
        started = time.monotonic()
        reply = await api.post(RESET, json={"kind": "Immediate"})
    assert reply.status_code == 409
    assert reply.json()["detail"] == f"station {STATION} is not connected"
    assert time.monotonic() - started < 2


async def test_a_raw_ocpp_call_and_the_connection_view_reach_across_nodes(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    ws = await _station(b.url)
    connection = f"/api/v1/stations/{STATION}/connection"
    try:
        async with a.api() as api:
            # Node A describes the connection node B holds, with its last frames.
            view = (await api.get(connection)).json()
            assert view["connected"] is True
            assert view["ocpp_version"] == "ocpp1.6"
            assert view["remote_address"].startswith("127.0.0.1")
            assert [f["direction"] for f in view["recent_frames"]] == ["received", "sent"]
            assert '"Heartbeat"' in view["recent_frames"][0]["frame"]
            # A raw OCPP call given to node A reaches the station at node B; its answer comes
            # back, and a CALLERROR comes back as one.
            answering = asyncio.create_task(_answer_one(ws))
            reply = await api.post(
                f"/api/v1/stations/{STATION}/ocpp/ChangeAvailability",
                json={"connectorId": 0, "type": "Inoperative"},
            )
            call = await asyncio.wait_for(answering, 10)
            assert call[2:] == ["ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}]
            assert reply.status_code == 200, reply.text
            assert reply.json() == {
                "station_id": STATION,
                "action": "ChangeAvailability",
                "response": {"status": "Accepted"},
            }

            async def refuse() -> None:
                call = json.loads(await asyncio.wait_for(ws.recv(), 10))
                await ws.send(json.dumps([4, call[1], "NotSupported", "no", {}]))

            refusing = asyncio.create_task(refuse())
            reply = await api.post(f"/api/v1/stations/{STATION}/ocpp/ClearCache", json={})
            await asyncio.wait_for(refusing, 10)
            assert reply.status_code == 502, reply.text
            assert reply.json()["ocpp_error"] == "NotSupported"
            # A payload invalid for the station's version is refused by node B, as on one node.
            reply = await api.post(
                f"/api/v1/stations/{STATION}/ocpp/ChangeAvailability", json={"type": "Off"}
            )
            assert reply.status_code == 422, reply.text
    finally:
        await ws.close()
    assert await _until(lambda: _offline(a))
    async with a.api() as api:
        assert (await api.get(connection)).json()["connected"] is False
        reply = await api.post(f"/api/v1/stations/{STATION}/ocpp/ClearCache", json={})
    assert reply.status_code == 409
    assert reply.json()["detail"] == f"station {STATION} is not connected"


async def _offline(node: Node) -> bool:
    cluster = node.system.cluster
    assert cluster is not None
    return await cluster.presence.holder(STATION) is None


async def test_a_reconnect_elsewhere_takes_over_and_fences_the_old_socket(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    old = await _station(a.url)
    new = await _station(b.url)
    try:
        # Node A learns of the takeover and closes the old socket, saying why.
        await asyncio.wait_for(old.wait_closed(), 5)
        assert old.close_code == 1000
        assert old.close_reason == "taken over by another node"
        holder = await a.system.cluster.presence.holder(STATION)  # type: ignore[union-attr]
        assert holder is not None and holder.node == "node-b"
        # The old socket's end did not mark the station offline: it is online at node B.
        await asyncio.sleep(0.2)
        assert (STATION, False) not in a.connections
        assert a.connections == [(STATION, True)]
        assert b.connections == [(STATION, True)]
        # Commands from either node reach the new connection.
        for node in (a, b):
            answering = asyncio.create_task(_answer_one(new))
            result = await node.system.csms_service.run_command(
                STATION, Reset(kind=ResetKind.ON_IDLE)
            )
            assert (await asyncio.wait_for(answering, 10))[2:] == ["Reset", {"type": "Soft"}]
            assert result.status == "Accepted"
    finally:
        await new.close()
        await old.close()


async def _evse_status(node: Node) -> str:
    found = await node.system.store.locations.find("CL", "ICG", "LOC-1")
    assert found is not None
    evse = found.evse("EVSE-1")
    assert evse is not None
    return str(evse.status.value)


async def _firmware_status(node: Node) -> str | None:
    node.system.store.stations.forget(STATION)  # the other node wrote it
    station = await node.system.store.stations.find(STATION)
    assert station is not None
    return station.firmware_status


async def test_a_late_message_from_the_replaced_socket_changes_nothing_in_the_database(
    nodes: tuple[Node, Node],
) -> None:
    """Fencing in the database: a message from the old socket that node A handles before it
    has learned of the takeover (here: handed to its CSMS directly, as it would be in that
    window) writes nothing over what the newer connection at node B wrote."""
    a, b = nodes
    old = await _station(a.url)
    old_link = a.system.links.link(STATION)
    assert old_link is not None and old_link.generation > 0
    new = await _station(b.url)
    try:
        new_link = b.system.links.link(STATION)
        assert new_link is not None and new_link.generation > old_link.generation
        notification = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
        await new.send(json.dumps([2, "st", "StatusNotification", notification]))
        assert json.loads(await asyncio.wait_for(new.recv(), 5)) == [3, "st", {}]
        assert await _evse_status(b) == "CHARGING"
        # The old socket's late "Available" reaches node A's CSMS: not written, no event.
        seen: list[object] = []

        async def note(event: EvseStatusChanged) -> None:
            seen.append(event)

        a.system.bus.subscribe(EvseStatusChanged, note)
        late = StatusChanged(evse=1, connector=1, status=ConnectorStatus.AVAILABLE)
        await a.system.csms_service.handle(old_link, late)
        assert await _evse_status(a) == "CHARGING"
        assert seen == []
        # Nor its firmware's progress over the newer connection's (a security event, a fact the
        # station logged, is kept from either).
        await b.system.csms_service.handle(new_link, FirmwareStatusChanged("Installing"))
        await a.system.csms_service.handle(old_link, FirmwareStatusChanged("Downloading"))
        assert await _firmware_status(a) == "Installing"
        # Nor may it boot (a boot rewrites the station): refused, as the station is told.
        with pytest.raises(CallError, match="replaced by a newer one"):
            await a.system.csms_service.handle(old_link, StationBooted("V", "M"))
        # Its connection, reported late as well, does not take the station back.
        assert not await a.system.store.connections.claim(
            STATION, old_link.generation, "node-a", old_link.connected_at
        )
        # The current connection writes as before.
        await b.system.csms_service.handle(new_link, late)
        assert await _evse_status(b) == "AVAILABLE"
    finally:
        await new.close()
        await old.close()


async def test_a_node_gone_without_a_word_is_offline_at_once(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    ws = await _station(b.url)
    try:
        assert b.system.cluster is not None
        async with b.api() as api:
            assert (await api.get("/healthz")).json()["status"] == "ok"
        # Node B drops off NATS as a killed process would: its claim stays until the lease
        # runs out, but nobody answers on its subject any more.
        await b.system.cluster._nc.close()
        async with b.api() as api:
            health = await api.get("/healthz")
        assert health.status_code == 503
        assert health.json()["cluster"] == "NATS is unreachable; reconnecting"
        started = time.monotonic()
        with pytest.raises(StationOfflineError, match="node-b is gone"):
            await a.system.csms_service.run_command(STATION, Reset())
        assert time.monotonic() - started < 2
        # Once the lease (3 s here) has run out, nobody holds the station.
        assert await _until(lambda: _offline(a), 10)
    finally:
        await ws.close()


async def test_a_status_change_on_one_node_shows_in_the_live_stream_of_the_other(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    feed = LiveFeed(a.system.bus)
    stream = feed.stream()
    try:
        assert (await asyncio.wait_for(anext(stream), 5)).startswith("retry:")
        ws = await _station(b.url)
        try:
            connected = await asyncio.wait_for(anext(stream), 5)
            assert connected.startswith("event: station\n")
            assert json.loads(connected.split("data: ", 1)[1])["connected"] is True
            notification = {"connectorId": 1, "errorCode": "NoError", "status": "Faulted"}
            await ws.send(json.dumps([2, "st", "StatusNotification", notification]))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == [3, "st", {}]
            shown = await asyncio.wait_for(anext(stream), 5)
        finally:
            await ws.close()
    finally:
        feed.close()
        await stream.aclose()
    assert shown.startswith("event: evse\n")
    data = json.loads(shown.split("data: ", 1)[1])
    assert (data["location"], data["evse_uid"], data["status"]) == (
        "CL/ICG/LOC-1",
        "EVSE-1",
        "OUTOFORDER",
    )
