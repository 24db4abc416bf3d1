"""The OCPP endpoint over real WebSockets on 127.0.0.1, as a station sees it."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from intercarga.config import OcppSettings, UnknownStationPolicy
from intercarga.domain import OcppVersion, Station
from intercarga.ocpp.auth import StoreAuthenticator
from intercarga.ocpp.errors import CallFailedError, CallTimeoutError
from intercarga.ocpp.server import CsmsServer
from intercarga.security import hash_password
from intercarga.store import Store
from tests.ocpp_handlers import RecordingHandler

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
async def csms(store: Store) -> AsyncIterator[tuple[CsmsServer, RecordingHandler, str]]:
    await store.stations.put(
        Station(id="CS-1", country_code="CL", party_id="ICG", password_hash=hash_password(PASSWORD))
    )
    await store.stations.put(
        Station(id="CS-2", country_code="CL", party_id="ICG", password_hash=hash_password(PASSWORD))
    )
    await store.stations.put(
        Station(id="OPEN-1", country_code="CL", party_id="ICG", security_profile=0)
    )
    await store.stations.put(
        Station(
            id="V201-1",
            country_code="CL",
            party_id="ICG",
            security_profile=0,
            ocpp_version=OcppVersion.V201,
        )
    )
    await store.stations.put(
        Station(
            id="TLS-1",
            country_code="CL",
            party_id="ICG",
            security_profile=2,
            password_hash=hash_password(PASSWORD),
        )
    )
    settings = OcppSettings(max_frame_size=4096, call_timeout=1, auth_failures_allowed=4)
    handler = RecordingHandler()
    server = CsmsServer(settings, StoreAuthenticator(store, settings), handler)
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await server.start(sock)
    try:
        yield server, handler, f"ws://127.0.0.1:{port}/ocpp/"
    finally:
        await server.stop()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def _status(url: str, **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url, **kwargs):
            pass
    return caught.value.response.status_code


async def heartbeat(ws: ClientConnection, unique_id: str = "1") -> list[Any]:
    await ws.send(json.dumps([2, unique_id, "Heartbeat", {}]))
    answer: list[Any] = json.loads(await ws.recv())
    return answer


async def test_station_with_password_connects_and_is_answered(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    server, handler, base = csms
    async with connect(
        base + "CS-1", subprotocols=["ocpp1.6"], additional_headers=basic("CS-1", PASSWORD)
    ) as ws:
        assert ws.subprotocol == "ocpp1.6"
        assert await heartbeat(ws) == [3, "1", {"currentTime": "2026-11-24T12:00:00Z"}]
        assert server.link("CS-1") is not None
    await asyncio.sleep(0.1)
    assert server.link("CS-1") is None
    assert [link.station_id for link in handler.opened] == ["CS-1"]
    assert [link.station_id for link in handler.closed] == ["CS-1"]


async def test_highest_common_version_is_chosen(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    _, _, base = csms
    offered = ["ocpp1.6", "ocpp2.0.1"]
    async with connect(base + "OPEN-1", subprotocols=offered) as ws:  # type: ignore[arg-type]
        assert ws.subprotocol == "ocpp2.0.1"


async def test_hex_form_of_the_authorization_key_is_accepted(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    _, _, base = csms
    hexed = PASSWORD.encode().hex()
    async with connect(
        base + "CS-1", subprotocols=["ocpp1.6"], additional_headers=basic("CS-1", hexed)
    ) as ws:
        assert ws.subprotocol == "ocpp1.6"


async def test_both_forms_of_the_key_open_after_one_was_remembered(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    _, _, base = csms
    for password in (PASSWORD, PASSWORD.encode().hex(), PASSWORD):
        async with connect(
            base + "CS-1", subprotocols=["ocpp1.6"], additional_headers=basic("CS-1", password)
        ) as ws:
            assert ws.subprotocol == "ocpp1.6"


async def test_refused_handshakes(csms: tuple[CsmsServer, RecordingHandler, str]) -> None:
    _, _, base = csms
    assert (
        await _status(
            base + "CS-1", subprotocols=["ocpp1.6"], additional_headers=basic("CS-1", "wrong")
        )
        == 401
    )
    assert await _status(base + "CS-1", subprotocols=["ocpp1.6"]) == 401
    assert (
        await _status(
            base + "CS-1", subprotocols=["ocpp1.6"], additional_headers=basic("CS-2", PASSWORD)
        )
        == 401
    )
    assert await _status(base + "NOBODY", subprotocols=["ocpp1.6"]) == 401
    assert await _status(base + "OPEN-1", subprotocols=["ocpp1.2"]) == 400
    # Profile 2 needs TLS even with the right password.
    assert (
        await _status(
            base + "TLS-1", subprotocols=["ocpp2.0.1"], additional_headers=basic("TLS-1", PASSWORD)
        )
        == 401
    )


async def test_repeated_failures_are_rate_limited(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    _, _, base = csms
    for _ in range(4):
        assert (
            await _status(
                base + "CS-1", subprotocols=["ocpp1.6"], additional_headers=basic("CS-1", "x")
            )
            == 401
        )
    # Even the right password waits out the window now.
    assert (
        await _status(
            base + "CS-1", subprotocols=["ocpp1.6"], additional_headers=basic("CS-1", PASSWORD)
        )
        == 429
    )


async def _refusal(url: str, **kwargs: Any) -> tuple[int, bytes, str | None, str | None]:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url, **kwargs):
            pass
    response = caught.value.response
    return (
        response.status_code,
        bytes(response.body or b""),
        response.headers.get("WWW-Authenticate"),
        response.headers.get("Content-Type"),
    )


async def test_unknown_and_known_station_ids_are_refused_alike(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    _, _, base = csms
    for password in (None, "wrong"):
        refusals = [
            await _refusal(
                base + station_id,
                subprotocols=["ocpp1.6"],
                additional_headers={} if password is None else basic(station_id, password),
            )
            for station_id in ("CS-1", "NOBODY")
        ]
        assert refusals[0] == refusals[1]
        assert refusals[0][0] == 401 and refusals[0][2] is not None


async def test_one_stations_failures_never_lock_out_another_behind_the_same_address(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    _, _, base = csms
    for _ in range(6):
        await _status(
            base + "CS-1", subprotocols=["ocpp1.6"], additional_headers=basic("CS-1", "x")
        )
    with pytest.raises(InvalidStatus) as caught:
        async with connect(
            base + "CS-1", subprotocols=["ocpp1.6"], additional_headers=basic("CS-1", PASSWORD)
        ):
            pass
    assert caught.value.response.status_code == 429
    retry_after = caught.value.response.headers.get("Retry-After")
    assert retry_after is not None and 1 <= int(retry_after) <= 60
    # CS-2 connects from the same address (a carrier NAT) with its right password.
    async with connect(
        base + "CS-2", subprotocols=["ocpp1.6"], additional_headers=basic("CS-2", PASSWORD)
    ) as ws:
        assert (await heartbeat(ws))[0] == 3


async def test_a_station_connects_only_with_its_registered_ocpp_version(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    _, _, base = csms
    status, body, _, _ = await _refusal(base + "V201-1", subprotocols=["ocpp1.6"])
    assert status == 400 and b"registered for ocpp2.0.1" in body
    offered = ["ocpp2.1", "ocpp2.0.1", "ocpp1.6"]
    async with connect(base + "V201-1", subprotocols=offered) as ws:  # type: ignore[arg-type]
        assert ws.subprotocol == "ocpp2.0.1"


async def test_unknown_stations_may_connect_when_configured(store: Store) -> None:
    settings = OcppSettings(unknown_stations=UnknownStationPolicy.PENDING)
    handler = RecordingHandler()
    server = CsmsServer(settings, StoreAuthenticator(store, settings), handler)
    sock = socket.create_server(("127.0.0.1", 0))
    await server.start(sock)
    try:
        async with connect(
            f"ws://127.0.0.1:{sock.getsockname()[1]}/ocpp/NEW-1", subprotocols=["ocpp2.0.1"]
        ) as ws:  # type: ignore[list-item]
            await heartbeat(ws)
        assert handler.opened[0].known is False
    finally:
        await server.stop()


async def test_new_connection_replaces_the_old_one_cleanly(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    server, handler, base = csms
    first = await connect(base + "OPEN-1", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
    second = await connect(base + "OPEN-1", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
    try:
        with pytest.raises(ConnectionClosed) as closed:
            await first.recv()
        assert (
            closed.value.rcvd is not None
            and closed.value.rcvd.reason == "replaced by a new connection"
        )
        await asyncio.sleep(0.05)
        link = server.link("OPEN-1")
        assert link is not None and link.websocket is not None
        assert await heartbeat(second) == [3, "1", {"currentTime": "2026-11-24T12:00:00Z"}]
        assert len(handler.closed) == 1 and server.link("OPEN-1") is link
    finally:
        await second.close()


async def test_bad_frames_get_callerrors_and_the_connection_carries_on(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    _, _, base = csms
    async with connect(base + "OPEN-1", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
        await ws.send('[2, "9", "Heartbeat", {')
        error = json.loads(await ws.recv())
        assert error[0] == 4 and error[1] == "9" and error[2] == "FormatViolation"
        await ws.send(json.dumps([2, "10", "NoSuchAction", {}]))
        assert json.loads(await ws.recv())[2] == "NotImplemented"
        assert (await heartbeat(ws, "11"))[0] == 3


async def test_oversized_and_binary_frames_close_the_connection(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    _, _, base = csms
    async with connect(base + "OPEN-1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps([2, "1", "DataTransfer", {"vendorId": "x", "data": "y" * 5000}]))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    async with connect(base + "OPEN-1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(b"\x00\x01")
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003


async def test_csms_calls_reach_the_station_and_come_back(
    csms: tuple[CsmsServer, RecordingHandler, str],
) -> None:
    server, _, base = csms
    async with connect(base + "OPEN-1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await asyncio.sleep(0.05)
        link = server.require_link("OPEN-1")

        async def station() -> None:
            call = json.loads(await ws.recv())
            assert call[2] == "Reset" and call[3] == {"type": "Soft"}
            await ws.send(json.dumps([3, call[1], {"status": "Accepted"}]))
            second = json.loads(await ws.recv())
            await ws.send(json.dumps([4, second[1], "NotSupported", "no", {}]))
            await ws.recv()  # the third call: never answered

        answering = asyncio.create_task(station())
        assert await link.call("Reset", {"type": "Soft"}) == {"status": "Accepted"}
        with pytest.raises(CallFailedError, match="NotSupported"):
            await link.call("ClearCache", {})
        with pytest.raises(CallTimeoutError):
            await link.call("ClearCache", {})
        await answering


async def test_pending_handshakes_are_capped_per_address(store: Store) -> None:
    settings = OcppSettings(handshake_timeout=30, pending_handshakes_per_address=5)
    await store.stations.put(
        Station(id="OPEN-1", country_code="CL", party_id="ICG", security_profile=0)
    )
    server = CsmsServer(settings, StoreAuthenticator(store, settings), RecordingHandler())
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await server.start(sock)
    half_open: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for _ in range(8):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /ocpp/OPEN-1 HTTP/1.1\r\nHost: x\r\n")  # never finished
            half_open.append((reader, writer))

        async def closed(reader: asyncio.StreamReader) -> bool:
            try:
                return await asyncio.wait_for(reader.read(), timeout=10) == b""
            except TimeoutError:
                return False
            except ConnectionError:
                return True

        # The three over the cap are closed at once; the five others wait for their handshake.
        outcomes = await asyncio.gather(*(closed(reader) for reader, _ in half_open))
        assert outcomes == [False] * 5 + [True] * 3
        for _, writer in half_open:
            writer.close()
        await asyncio.sleep(0.2)
        async with connect(
            f"ws://127.0.0.1:{port}/ocpp/OPEN-1", subprotocols=[Subprotocol("ocpp1.6")]
        ) as ws:
            assert (await heartbeat(ws))[0] == 3
    finally:
        for _, writer in half_open:
            writer.close()
        await server.stop()
