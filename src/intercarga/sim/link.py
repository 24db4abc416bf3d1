"""One simulated station's WebSocket connection, on the same connection driver as the CSMS.

A :class:`CsmsLink` (the station's link to its CSMS; the CSMS's end of a connection is
:class:`~intercarga.ocpp.server.StationLink`) runs a :class:`~intercarga.ocpp.rpc.Protocol`
playing the station over the one asyncio driver (:mod:`intercarga.ocpp.connection`), answers
the CSMS's calls at once
through a synchronous ``answer`` callback (the station decides immediately and does the work
afterwards), and lets the station await its own calls. Round-trip times go to
:class:`~intercarga.sim.stats.MessageStats`.

This module moves frames; it must never decide what an OCPP message means, nor reconnect (the
station's supervisor does).
"""

from __future__ import annotations

import base64
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from intercarga.domain.station import OcppVersion
from intercarga.errors import IntercargaError
from intercarga.ocpp.actions import Role
from intercarga.ocpp.connection import Connection, Ending, Notice
from intercarga.ocpp.errors import ErrorCode
from intercarga.ocpp.rpc import (
    CallCancelled,
    CallErrorReceived,
    CallReceived,
    CallResultReceived,
    CallTimedOut,
    Protocol,
    ProtocolViolation,
)
from intercarga.ocpp.schemas import Validator
from intercarga.sim.stats import MessageStats

__all__ = [
    "CallRejectedError",
    "CallTimeoutError",
    "CsmsLink",
    "SimulationError",
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
) -> CsmsLink:
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
    return CsmsLink(station_id, websocket, protocol, answer, stats)


class CsmsLink:
    """One open connection; :meth:`read` must run while it is used.

    It is the :class:`~intercarga.ocpp.connection.Peer` of its connection: the CSMS's calls are
    answered at once by ``answer``.
    """

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
        # A CSMS that sends binary frames is ignored: the station is lenient about it.
        self._connection = Connection(websocket, protocol, self, binary="ignore")

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
        unique_id = self._connection.send_call(action, payload)
        self._stats.on_sent(action)
        ending = await self._connection.ending(unique_id)
        if not isinstance(ending, CallResultReceived):
            if not (isinstance(ending, CallCancelled) and self._connection.stopped):
                # A call cut off because the station itself stopped is no failure of the CSMS.
                self._stats.on_error()
            raise _error(self.station_id, ending)
        self._stats.on_answered(time.perf_counter() - started)
        return ending.payload

    async def read(self) -> None:
        """Receive frames until the connection closes; then every waiting call ends offline."""
        await self._connection.run()

    def abort(self) -> None:
        """Drop the connection without a closing handshake, as a lost network would."""
        self._connection.abort()

    async def close(self) -> None:
        await self._connection.close()

    # -- the connection's Peer -----------------------------------------------------------------

    def call_received(self, call: CallReceived) -> dict[str, Any]:
        self._stats.received_calls += 1
        # The station's protocol is made without payload decoders: every payload is a dict.
        assert isinstance(call.payload, dict)
        return self._answer(call.action, call.payload)

    def notice_received(self, notice: Notice) -> None:
        if isinstance(notice, ProtocolViolation):
            self._stats.on_error()


def _error(station_id: str, ending: Ending) -> SimulationError:
    """The error a station's caller sees for a call of ours that got no CALLRESULT."""
    if isinstance(ending, CallErrorReceived):
        return CallRejectedError(
            f"the CSMS answered {ending.action} with {ending.raw_code or ending.code.value}:"
            f" {ending.description}",
            ending.code,
        )
    if isinstance(ending, CallTimedOut):
        return CallTimeoutError(f"the CSMS did not answer {ending.action} in time")
    return StationOfflineError(f"{station_id} lost its connection during {ending.action}")
