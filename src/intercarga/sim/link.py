"""One simulated station's WebSocket connection: the thin asyncio adapter around the RPC core.

A :class:`StationLink` feeds every text frame from the CSMS to a
:class:`~intercarga.ocpp.rpc.Protocol` playing the station, answers the CSMS's calls at once
through a synchronous ``answer`` callback (the station decides immediately and does the work
afterwards), and lets the station await its own calls. Round-trip times go to
:class:`~intercarga.sim.stats.MessageStats`.

This module moves frames; it must never decide what an OCPP message means, nor reconnect (the
station's supervisor does).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from intercarga.domain.station import OcppVersion
from intercarga.errors import IntercargaError
from intercarga.ocpp.actions import Role
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.rpc import (
    CallCancelled,
    CallErrorReceived,
    CallReceived,
    CallResultReceived,
    CallTimedOut,
    Event,
    Protocol,
    ProtocolViolation,
)
from intercarga.ocpp.schemas import Validator
from intercarga.sim.stats import MessageStats

__all__ = [
    "CallRejectedError",
    "CallTimeoutError",
    "SimulationError",
    "StationLink",
    "StationOfflineError",
    "basic_authorization",
    "open_link",
]

_log = logging.getLogger(__name__)

Answer = Callable[[str, dict[str, Any]], dict[str, Any]]


class SimulationError(IntercargaError):
    """Something a simulated station tried did not work out."""


class StationOfflineError(SimulationError):
    """The station has no connection to the CSMS (or lost it while waiting)."""


class CallTimeoutError(SimulationError):
    """The CSMS did not answer in time."""


class CallRejectedError(SimulationError):
    """The CSMS answered with a CALLERROR (or a CALLRESULT that is not valid)."""

    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.code = code


def basic_authorization(user: str, password: str) -> str:
    """The HTTP Basic header value of security profiles 1 and 2 (user = station id)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


async def open_link(
    url: str,
    station_id: str,
    version: OcppVersion,
    *,
    password: str | None,
    answer: Answer,
    stats: MessageStats,
    validate: bool = True,
    call_timeout: float = 30.0,
    open_timeout: float = 30.0,
    tls: ssl.SSLContext | None = None,
) -> StationLink:
    """Connect ``station_id`` to ``url``/``station_id`` offering ``version``'s subprotocol;
    a wss:// ``url`` uses ``tls`` (security profiles 2 and 3).

    Raises what :func:`websockets.asyncio.client.connect` raises (``OSError``,
    ``InvalidStatus`` for a refused handshake, ``TimeoutError``).
    """
    headers = {}
    if password is not None:
        headers["Authorization"] = basic_authorization(station_id, password)
    websocket = await connect(
        f"{url.rstrip('/')}/{station_id}",
        subprotocols=[Subprotocol(version.value)],
        additional_headers=headers,
        ssl=tls,
        open_timeout=open_timeout,
        compression=None,  # stations rarely negotiate it, and it costs the load client CPU
        proxy=None,
        ping_interval=None,  # the CSMS pings; OCPP's own liveness is the Heartbeat
        max_size=1 << 20,
    )
    if websocket.subprotocol != version.value:
        await websocket.close(1002, "subprotocol not agreed")
        raise SimulationError(f"the CSMS did not agree to {version.value}")
    protocol = Protocol(
        version,
        role=Role.STATION,
        validator=Validator(version) if validate else None,
        call_timeout=call_timeout,
        station_id=station_id,
        now=time.monotonic(),
    )
    return StationLink(station_id, websocket, protocol, answer, stats)


class StationLink:
    """One open connection; :meth:`read` must run while it is used."""

    def __init__(
        self,
        station_id: str,
        websocket: ClientConnection,
        protocol: Protocol,
        answer: Answer,
        stats: MessageStats,
    ) -> None:
        self.station_id = station_id
        self.websocket = websocket
        self.protocol = protocol
        self._answer = answer
        self._stats = stats
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._send_lock = asyncio.Lock()

    @property
    def open(self) -> bool:
        return not self.protocol.closed

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL and return its CALLRESULT payload.

        Raises :class:`StationOfflineError`, :class:`CallTimeoutError`,
        :class:`CallRejectedError`, or ``OutgoingMessageError`` when our own payload is invalid.
        """
        if not self.open:
            raise StationOfflineError(f"{self.station_id} is not connected")
        started = time.perf_counter()
        unique_id = self.protocol.send_call(action, payload, now=time.monotonic())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[unique_id] = future
        self._stats.on_sent(action)
        try:
            await self._flush()
            while not future.done():
                # The protocol keeps the deadlines; whoever waits drives its clock.
                deadline = self.protocol.next_deadline()
                delay = None if deadline is None else max(0.0, deadline - time.monotonic()) + 0.001
                await asyncio.wait({future}, timeout=delay)
                if not future.done():
                    for event in self.protocol.tick(time.monotonic()):
                        self._settle(event)
                    await self._flush()
            result = future.result()
        except SimulationError:
            self._stats.on_error()
            raise
        finally:
            self._pending.pop(unique_id, None)
            if future.done() and not future.cancelled():
                # Settled (the connection dropped) after the caller was cancelled: nobody
                # else will read it.
                future.exception()
        self._stats.on_answered(time.perf_counter() - started)
        return result

    async def read(self) -> None:
        """Receive frames until the connection closes; then every waiting call ends offline."""
        try:
            async for message in self.websocket:
                if isinstance(message, bytes):
                    continue  # OCPP-J is text only; a CSMS that sends binary is ignored
                for event in self.protocol.receive_text(message, now=time.monotonic()):
                    self._on_event(event)
                await self._flush()
        except ConnectionClosed:
            pass
        finally:
            for event in self.protocol.close():
                self._settle(event)

    def abort(self) -> None:
        """Drop the connection without a closing handshake, as a lost network would."""
        self.websocket.transport.abort()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close()

    # -- internals -----------------------------------------------------------------------------

    async def _flush(self) -> None:
        async with self._send_lock:
            for frame in self.protocol.data_to_send():
                try:
                    await self.websocket.send(frame)
                except ConnectionClosed:
                    return

    def _on_event(self, event: Event) -> None:
        if isinstance(event, CallReceived):
            self._stats.received_calls += 1
            try:
                result = self._answer(event.action, event.payload)
            except CallError as error:
                self.protocol.send_error(event.unique_id, error)
                return
            except Exception:
                _log.exception(
                    "simulated station failed to answer %s",
                    event.action,
                    extra={"station_id": self.station_id},
                )
                self.protocol.send_error(event.unique_id, ErrorCode.INTERNAL_ERROR, "simulator bug")
                return
            try:
                self.protocol.send_result(event.unique_id, result)
            except IntercargaError as error:
                _log.error(
                    "simulated answer to %s is invalid: %s",
                    event.action,
                    error,
                    extra={"station_id": self.station_id},
                )
                self.protocol.send_error(
                    event.unique_id, ErrorCode.INTERNAL_ERROR, "invalid answer"
                )
        elif isinstance(event, ProtocolViolation):
            self._stats.on_error()
        else:
            self._settle(event)

    def _settle(self, event: Event) -> None:
        unique_id = getattr(event, "unique_id", None)
        future = self._pending.get(unique_id) if unique_id is not None else None
        if future is None or future.done():
            return
        if isinstance(event, CallResultReceived):
            future.set_result(event.payload)
        elif isinstance(event, CallErrorReceived):
            future.set_exception(
                CallRejectedError(
                    f"the CSMS answered {event.action} with {event.raw_code or event.code.value}:"
                    f" {event.description}",
                    event.code,
                )
            )
        elif isinstance(event, CallTimedOut):
            future.set_exception(
                CallTimeoutError(f"the CSMS did not answer {event.action} in time")
            )
        elif isinstance(event, CallCancelled):
            future.set_exception(
                StationOfflineError(f"{self.station_id} lost its connection during {event.action}")
            )
