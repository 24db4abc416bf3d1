"""The one connection driver, both ends of OCPP over a real WebSocket on 127.0.0.1.

A CSMS :class:`Connection` (server side) and a station :class:`Connection` (client side) talk
through websockets: what one end's caller sees of its calls (answered, refused, timed out, cut
off), what the peer's frames become, and that everything started for a connection is over when
it closes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.actions import Role
from intercarga.ocpp.connection import Connection, Notice
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.rpc import (
    CallCancelled,
    CallErrorReceived,
    CallReceived,
    CallResultReceived,
    CallTimedOut,
    Protocol,
    ProtocolClosedError,
    ProtocolViolation,
)
from intercarga.ocpp.schemas import Validator

V16 = OcppVersion.V16
NOW = {"currentTime": "2026-11-24T12:00:00Z"}
WAIT = 5.0


@dataclass
class Peer:
    """Answers with ``answer`` (a payload, or an awaitable of one) and records what it saw."""

    answer: Callable[[CallReceived], dict[str, Any] | Awaitable[dict[str, Any]]]
    calls: list[CallReceived] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    frames: list[tuple[str, str]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def call_received(self, call: CallReceived) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        self.calls.append(call)
        self.changed.set()
        return self.answer(call)

    def notice_received(self, notice: Notice) -> None:
        self.notices.append(notice)
        self.changed.set()

    def frame(self, direction: str, text: str) -> None:
        self.frames.append((direction, text))
        self.changed.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self.changed.clear()
            await self.changed.wait()


@dataclass
class Ends:
    csms: Connection
    station: Connection
    csms_run: asyncio.Task[None]
    station_run: asyncio.Task[None]


def _protocol(role: Role, call_timeout: float) -> Protocol:
    return Protocol(
        V16, role=role, validator=Validator(V16), call_timeout=call_timeout, station_id="CS-1"
    )


@asynccontextmanager
async def _ends(
    csms_peer: Peer,
    station_peer: Peer,
    *,
    call_timeout: float = WAIT,
    csms_binary: Literal["close", "ignore"] = "close",
) -> AsyncIterator[Ends]:
    """Both ends connected; each ``run`` in a task that the test may watch end."""
    accepted: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()
    csms_ended = asyncio.Event()

    async def handler(websocket: ServerConnection) -> None:
        connection = Connection(
            websocket,
            _protocol(Role.CSMS, call_timeout),
            csms_peer,
            on_frame=csms_peer.frame,
            binary=csms_binary,
        )
        accepted.set_result(connection)
        try:
            await connection.run()
        finally:
            csms_ended.set()

    async with (
        serve(handler, "127.0.0.1", 0, subprotocols=[Subprotocol(V16.value)]) as server,
        connect(
            f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp/CS-1",
            subprotocols=[Subprotocol(V16.value)],
        ) as websocket,
    ):
        station = Connection(
            websocket, _protocol(Role.STATION, call_timeout), station_peer, binary="ignore"
        )
        station_run = asyncio.create_task(station.run())
        csms_run = asyncio.create_task(_wait(csms_ended))
        csms = await asyncio.wait_for(accepted, WAIT)
        try:
            yield Ends(csms, station, csms_run, station_run)
        finally:
            await station.close()
            await asyncio.wait_for(
                asyncio.gather(station_run, csms_run, return_exceptions=True), WAIT
            )


async def _wait(event: asyncio.Event) -> None:
    await event.wait()


def _never(_call: CallReceived) -> Awaitable[dict[str, Any]]:
    return asyncio.Event().wait()  # type: ignore[return-value]


async def test_each_end_calls_the_other_and_gets_the_answer() -> None:
    async def later(call: CallReceived) -> dict[str, Any]:
        await asyncio.sleep(0)
        return NOW

    csms_peer = Peer(later)  # the CSMS answers beside the connection
    station_peer = Peer(lambda call: {"status": "Accepted"})  # the station answers at once
    async with _ends(csms_peer, station_peer) as ends:
        heartbeat = await asyncio.wait_for(ends.station.call("Heartbeat", {}), WAIT)
        cleared = await asyncio.wait_for(ends.csms.call("ClearCache", {}), WAIT)

    assert isinstance(heartbeat, CallResultReceived) and heartbeat.payload == NOW
    assert isinstance(cleared, CallResultReceived) and cleared.payload == {"status": "Accepted"}
    assert [call.action for call in csms_peer.calls] == ["Heartbeat"]
    assert [call.action for call in station_peer.calls] == ["ClearCache"]
    # The CSMS end saw every frame: the station's call, its answer, its own call, the answer.
    kinds = [(direction, json.loads(text)[0]) for direction, text in csms_peer.frames]
    assert kinds == [("received", 2), ("sent", 3), ("sent", 2), ("received", 3)]


async def test_a_refusal_and_a_failure_reach_the_caller_as_callerrors() -> None:
    def refuse(call: CallReceived) -> dict[str, Any]:
        if call.action == "Heartbeat":
            raise CallError(ErrorCode.SECURITY_ERROR, "not accepted yet")
        raise RuntimeError("a bug")

    async with _ends(Peer(refuse), Peer(lambda call: {})) as ends:
        refused = await asyncio.wait_for(ends.station.call("Heartbeat", {}), WAIT)
        failed = await asyncio.wait_for(ends.station.call("Authorize", {"idTag": "TAG-1"}), WAIT)

    assert isinstance(refused, CallErrorReceived)
    assert (refused.code, refused.description) == (ErrorCode.SECURITY_ERROR, "not accepted yet")
    assert isinstance(failed, CallErrorReceived)
    assert failed.code is ErrorCode.INTERNAL_ERROR
    assert failed.description == "Authorize could not be processed"


async def test_an_invalid_answer_is_sent_as_an_internal_error() -> None:
    async with _ends(Peer(lambda call: {"currentTime": "not a time"}), Peer(_never)) as ends:
        ending = await asyncio.wait_for(ends.station.call("Heartbeat", {}), WAIT)

    assert isinstance(ending, CallErrorReceived)
    assert (ending.code, ending.description) == (ErrorCode.INTERNAL_ERROR, "invalid response")


async def test_an_unanswered_call_times_out_and_the_next_one_goes_out() -> None:
    answered = Peer(lambda call: {"status": "Accepted"})
    silent_first = iter([_never, answered.answer])

    def station_answer(call: CallReceived) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        return next(silent_first)(call)

    async with _ends(Peer(_never), Peer(station_answer), call_timeout=0.3) as ends:
        first = asyncio.create_task(ends.csms.call("ClearCache", {}))
        second = asyncio.create_task(ends.csms.call("ClearCache", {}))
        endings = await asyncio.wait_for(asyncio.gather(first, second), WAIT)

    assert isinstance(endings[0], CallTimedOut)
    assert isinstance(endings[1], CallResultReceived)


async def test_a_close_cuts_off_waiting_calls_and_ends_the_work_for_the_peer() -> None:
    csms_peer = Peer(_never)  # its answer never comes: the work waits until it is cancelled
    async with _ends(csms_peer, Peer(_never)) as ends:
        waiting = asyncio.create_task(ends.station.call("Heartbeat", {}))
        await asyncio.wait_for(csms_peer.until(lambda: bool(csms_peer.calls)), WAIT)
        await ends.csms.close()
        ending = await asyncio.wait_for(waiting, WAIT)
        await asyncio.wait_for(ends.csms_run, WAIT)  # the work for the station is over too
        assert not ends.csms.open

    assert isinstance(ending, CallCancelled) and ending.action == "Heartbeat"


async def test_a_binary_frame_closes_the_csms_end_with_1003() -> None:
    async with _ends(Peer(lambda call: NOW), Peer(_never)) as ends:
        await ends.station.websocket.send(b"\x00binary")
        await asyncio.wait_for(ends.station_run, WAIT)
        assert ends.station.websocket.close_code == 1003


async def test_the_station_end_ignores_a_binary_frame() -> None:
    async with _ends(Peer(lambda call: NOW), Peer(lambda call: {"status": "Accepted"})) as ends:
        await ends.csms.websocket.send(b"\x00binary")
        ending = await asyncio.wait_for(ends.csms.call("ClearCache", {}), WAIT)

    assert isinstance(ending, CallResultReceived)


async def test_a_broken_frame_is_a_notice_and_gets_its_callerror() -> None:
    csms_peer = Peer(lambda call: NOW)
    async with _ends(csms_peer, Peer(_never)) as ends:
        await ends.station.websocket.send('[2, "m-1", "Heartbeat", {"extra": 1}')
        answer = json.loads(await asyncio.wait_for(_next_text(csms_peer, "sent"), WAIT))

    assert answer[:2] == [4, "m-1"]
    assert [type(notice) for notice in csms_peer.notices] == [ProtocolViolation]


async def _next_text(peer: Peer, direction: str) -> str:
    await peer.until(lambda: any(seen == direction for seen, _ in peer.frames))
    return next(text for seen, text in peer.frames if seen == direction)


async def test_a_call_after_the_close_is_refused_by_the_protocol() -> None:
    async with _ends(Peer(lambda call: NOW), Peer(_never)) as ends:
        await ends.station.close()
        await asyncio.wait_for(ends.station_run, WAIT)
        with pytest.raises(ProtocolClosedError):
            await ends.station.call("Heartbeat", {})


async def test_a_stop_by_the_owner_is_told_apart_from_a_lost_connection() -> None:
    async with _ends(Peer(_never), Peer(_never)) as ends:
        waiting = asyncio.create_task(ends.station.call("Heartbeat", {}))
        await asyncio.sleep(0)
        ends.station_run.cancel()  # the station stops itself
        ending = await asyncio.wait_for(waiting, WAIT)
        assert ends.station.stopped
        await ends.station.close()
        await asyncio.wait_for(ends.csms_run, WAIT)  # for the CSMS, the station went away
        assert not ends.csms.stopped

    assert isinstance(ending, CallCancelled)
