"""Live station operations through the admin API, with a real station on a WebSocket."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from intercarga.app import System
from intercarga.config import OcppSettings
from intercarga.domain import Station
from intercarga.ocpp.auth import StoreAuthenticator
from intercarga.ocpp.server import CsmsServer
from tests.ocpp_handlers import RecordingHandler


@pytest.fixture
async def station(system: System) -> AsyncIterator[ClientConnection]:
    await system.store.stations.put(
        Station(id="CS-9", country_code="CL", party_id="ICG", security_profile=0)
    )
    settings = OcppSettings(call_timeout=0.5)
    system.csms = CsmsServer(
        settings, StoreAuthenticator(system.store, settings), RecordingHandler(), links=system.links
    )
    sock = socket.create_server(("127.0.0.1", 0))
    await system.csms.start(sock)
    async with connect(
        f"ws://127.0.0.1:{sock.getsockname()[1]}/ocpp/CS-9", subprotocols=["ocpp1.6"]
    ) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps([2, "hb", "Heartbeat", {}]))
        await ws.recv()
        yield ws
    await system.csms.stop()


async def test_station_shows_its_live_connection(
    client: httpx.AsyncClient, station: ClientConnection
) -> None:
    shown = (await client.get("/api/v1/stations/CS-9")).json()
    assert shown["connection"]["connected"] is True
    assert shown["connection"]["ocpp_version"] == "ocpp1.6"
    frames = (await client.get("/api/v1/stations/CS-9/connection")).json()["recent_frames"]
    assert [frame["direction"] for frame in frames] == ["received", "sent"]
    assert '"Heartbeat"' in frames[0]["frame"]


async def test_raw_call_returns_the_station_answer(
    client: httpx.AsyncClient, station: ClientConnection
) -> None:
    async def answer() -> None:
        call = json.loads(await station.recv())
        assert call[2:] == ["ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}]
        await station.send(json.dumps([3, call[1], {"status": "Scheduled"}]))

    answering = asyncio.create_task(answer())
    reply = await client.post(
        "/api/v1/stations/CS-9/ocpp/ChangeAvailability",
        json={"connectorId": 0, "type": "Inoperative"},
    )
    await answering
    assert reply.status_code == 200
    assert reply.json() == {
        "station_id": "CS-9",
        "action": "ChangeAvailability",
        "response": {"status": "Scheduled"},
    }


async def test_raw_call_errors(client: httpx.AsyncClient, station: ClientConnection) -> None:
    invalid = await client.post("/api/v1/stations/CS-9/ocpp/Reset", json={"type": "Sideways"})
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "type"
    unknown = await client.post("/api/v1/stations/CS-9/ocpp/Teleport", json={})
    assert unknown.status_code == 422
    timeout = await client.post("/api/v1/stations/CS-9/ocpp/ClearCache", json={})
    assert timeout.status_code == 504
    await station.recv()  # the unanswered ClearCache

    async def refuse() -> None:
        call = json.loads(await station.recv())
        await station.send(json.dumps([4, call[1], "NotSupported", "not here", {}]))

    refusing = asyncio.create_task(refuse())
    failed = await client.post("/api/v1/stations/CS-9/ocpp/ClearCache", json={})
    await refusing
    assert failed.status_code == 502
    assert failed.json()["ocpp_error"] == "NotSupported"


async def test_offline_station_is_409(client: httpx.AsyncClient, system: System) -> None:
    await system.store.stations.put(Station(id="CS-OFF", country_code="CL", party_id="ICG"))
    answer = await client.post("/api/v1/stations/CS-OFF/ocpp/Reset", json={"type": "Soft"})
    assert answer.status_code == 409
    assert answer.json()["detail"] == "station CS-OFF is not connected"
    shown = (await client.get("/api/v1/stations/CS-OFF")).json()
    assert shown["connection"]["connected"] is False
