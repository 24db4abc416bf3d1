"""The OCPP-J WebSocket endpoint: the thin asyncio adapter around :class:`~intercarga.ocpp.rpc.Protocol`.

``ws[s]://host:port/ocpp/{station_id}``. The handshake negotiates the subprotocol (ocpp2.1,
ocpp2.0.1, ocpp1.6, in our order of preference among those the station offers; none → refused)
and authenticates the station by its security profile (:mod:`intercarga.ocpp.auth`). Each
accepted connection becomes a :class:`StationLink`, driven by the one asyncio connection driver
(:mod:`intercarga.ocpp.connection`): station calls go to the :class:`StationHandler`, and
:meth:`StationLink.call` sends our calls and waits for their answers. The live links are kept in
a :class:`StationLinks` registry, which the CSMS service reads to reach a station.

Until its handshake is done a connection is *pending*: pending connections are capped per
address and in total (:mod:`intercarga.admission`), and one that has not finished its handshake
(authentication included) within ``handshake_timeout`` is closed.

One live connection per station: a new connection for the same id replaces the old one, which is
closed with 1000 "replaced". The old connection's clean-up checks that it is still the current
link before it touches anything, so it can never undo the new one's state.

This module moves frames; it must never decide what an OCPP message means (that is the handler's
job) nor touch storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from typing import Protocol as TypingProtocol
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from intercarga.admission import Admission, BurstLog, Ticket
from intercarga.config import OcppSettings
from intercarga.domain.station import OcppVersion
from intercarga.ocpp.connection import Connection, Notice
from intercarga.ocpp.errors import CallFailedError, CallTimeoutError, StationOfflineError
from intercarga.ocpp.payloads import Payload, payload_decoders
from intercarga.ocpp.rpc import (
    CallErrorReceived,
    CallReceived,
    CallResultReceived,
    CallTimedOut,
    Protocol,
    ProtocolViolation,
    SendReceived,
)
from intercarga.ocpp.schemas import Validator

__all__ = [
    "PREFERENCE",
    "CsmsServer",
    "HandshakeDecision",
    "StationAuthenticator",
    "StationHandler",
    "StationLink",
    "StationLinks",
]

log = logging.getLogger(__name__)

PREFERENCE: tuple[OcppVersion, ...] = (OcppVersion.V21, OcppVersion.V201, OcppVersion.V16)
PATH_PREFIX = "/ocpp/"
RECENT_FRAMES = 20
_EXCERPT = 500


@dataclass(frozen=True)
class HandshakeDecision:
    """The authenticator's answer: accept (with the station's lenience and, when the station is
    registered with one, the OCPP version it must speak) or refuse with a status."""

    accepted: bool
    status: HTTPStatus = HTTPStatus.OK
    reason: str = ""
    lenient: bool = False
    known: bool = True
    version: OcppVersion | None = None

    @classmethod
    def accept(
        cls, *, lenient: bool = False, known: bool = True, version: OcppVersion | None = None
    ) -> HandshakeDecision:
        return cls(True, lenient=lenient, known=known, version=version)

    @classmethod
    def refuse(cls, status: HTTPStatus, reason: str) -> HandshakeDecision:
        return cls(False, status, reason)


@dataclass(frozen=True)
class HandshakeInfo:
    """What the authenticator may look at: never the raw socket."""

    station_id: str
    remote_address: str
    authorization: str | None
    tls: bool
    client_certificate_cn: str | None
    offered: tuple[OcppVersion, ...] = PREFERENCE


class StationAuthenticator(TypingProtocol):
    async def authenticate(self, info: HandshakeInfo) -> HandshakeDecision: ...


class StationHandler(TypingProtocol):
    """What handles a station's traffic, frame by frame (the CSMS's is
    :class:`~intercarga.ocpp.dispatch.StationDispatcher`); the server only moves frames."""

    async def connected(self, link: StationLink) -> None: ...

    async def handle_call(
        self, link: StationLink, action: str, payload: dict[str, Any] | Payload
    ) -> dict[str, Any]:
        """Answer a station's CALL; raise :class:`CallError` for a CALLERROR. The payload is a
        Struct only for a server made with ``payloads=True``."""
        ...

    async def handle_send(
        self, link: StationLink, action: str, payload: dict[str, Any]
    ) -> None: ...

    async def disconnected(self, link: StationLink) -> None: ...


@dataclass
class StationLink:
    """One live OCPP connection of one station, driven by a :class:`Connection`.

    It is the :class:`~intercarga.ocpp.connection.Peer` of its connection: the station's calls
    and SEND messages go to the :class:`StationHandler`, and it keeps the last frames for
    operators.
    """

    station_id: str
    version: OcppVersion
    remote_address: str
    known: bool
    protocol: Protocol
    websocket: ServerConnection
    handler: StationHandler
    tls: bool = False
    client_certificate_cn: str | None = None
    clock: Callable[[], float] = time.monotonic
    # The connection's generation in a cluster (its presence claim's revision), which the
    # CSMS's writes of the station's state are fenced by; 0 on a single node (or until NATS
    # stores the claim): never fenced; -1 once superseded before it was ever claimed.
    generation: int = 0
    connected_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_message_at: datetime | None = None
    recent_frames: deque[tuple[datetime, str, str]] = field(
        default_factory=lambda: deque(maxlen=RECENT_FRAMES)
    )
    connection: Connection = field(init=False)

    def __post_init__(self) -> None:
        self.connection = Connection(
            self.websocket, self.protocol, self, clock=self.clock, on_frame=self._record
        )

    @property
    def open(self) -> bool:
        return not self.protocol.closed

    def describe(self, *, frames: bool) -> dict[str, Any]:
        """The connection as operators see it (the admin API's connection view), in JSON
        types: it crosses between the nodes of a cluster as it is."""
        view: dict[str, Any] = {
            "connected": True,
            "ocpp_version": self.version.value,
            "remote_address": self.remote_address,
            "connected_at": self.connected_at.isoformat(),
            "last_message_at": None
            if self.last_message_at is None
            else self.last_message_at.isoformat(),
        }
        if frames:
            view["recent_frames"] = [
                {"time": moment.isoformat(), "direction": direction, "frame": frame}
                for moment, direction, frame in self.recent_frames
            ]
        return view

    async def call(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send a CALL and wait for its CALLRESULT payload.

        Raises :class:`StationOfflineError` when the connection is gone, :class:`CallTimeoutError`
        when no answer came in time, :class:`CallFailedError` on a CALLERROR, and
        ``OutgoingMessageError`` (an input error) when the payload is not valid for the version.
        """
        if not self.open:
            raise StationOfflineError(f"station {self.station_id} is not connected")
        ending = await self.connection.call(action, payload, timeout=timeout)
        if isinstance(ending, CallResultReceived):
            return ending.payload
        if isinstance(ending, CallErrorReceived):
            raise CallFailedError(
                f"station {self.station_id} answered {ending.action} with {ending.raw_code or ending.code.value}:"
                f" {ending.description}",
                ending.code,
                ending.details,
            )
        if isinstance(ending, CallTimedOut):
            raise CallTimeoutError(
                f"station {self.station_id} did not answer {ending.action} in time"
            )
        raise StationOfflineError(f"station {self.station_id} disconnected before answering")

    def spawn(self, work: Awaitable[None]) -> None:
        """Run ``work`` beside the connection; it is cancelled if the connection ends first."""
        self.connection.spawn(work)

    # -- the connection's Peer -----------------------------------------------------------------

    def call_received(self, call: CallReceived) -> Awaitable[dict[str, Any]]:
        return self.handler.handle_call(self, call.action, call.payload)

    def notice_received(self, notice: Notice) -> None:
        if isinstance(notice, SendReceived):
            self.spawn(self.handler.handle_send(self, notice.action, notice.payload))
        elif isinstance(notice, ProtocolViolation):
            log.warning(
                "OCPP protocol violation: %s",
                notice.description,
                extra={
                    "station_id": self.station_id,
                    "code": notice.code,
                    "replied": notice.replied,
                },
            )
        else:
            log.warning(
                "station could not process our result: %s",
                notice.description,
                extra={"station_id": self.station_id, "action": notice.action},
            )

    def _record(self, direction: str, frame: str) -> None:
        moment = datetime.now(UTC)
        if direction == "received":
            self.last_message_at = moment
        self.recent_frames.append((moment, direction, frame[:_EXCERPT]))


class StationLinks:
    """The live link of each station: kept by the endpoint, read by whoever sends commands.

    Created before both (the composition root hands the same one to :class:`CsmsServer` and to
    the CSMS service), so that neither needs the other to exist first.
    """

    def __init__(self) -> None:
        self._links: dict[str, StationLink] = {}

    def link(self, station_id: str) -> StationLink | None:
        return self._links.get(station_id)

    def require_link(self, station_id: str) -> StationLink:
        link = self._links.get(station_id)
        if link is None or not link.open:
            raise StationOfflineError(f"station {station_id} is not connected")
        return link

    @property
    def links(self) -> dict[str, StationLink]:
        return dict(self._links)

    def _replace(self, link: StationLink) -> StationLink | None:
        previous = self._links.get(link.station_id)
        self._links[link.station_id] = link
        return previous

    def _remove(self, link: StationLink) -> bool:
        """Forget ``link`` if it is still its station's current one; says whether it was."""
        if self._links.get(link.station_id) is not link:
            return False
        del self._links[link.station_id]
        return True


def _offered(request: Request) -> list[str]:
    values = request.headers.get_all("Sec-WebSocket-Protocol")
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _choose(offered: list[str]) -> OcppVersion | None:
    return next((version for version in PREFERENCE if version.value in offered), None)


def _client_cn(connection: ServerConnection) -> str | None:
    ssl_object = connection.transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    certificate = ssl_object.getpeercert()
    if not certificate:
        return None
    for rdn in certificate.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


class _FailureLimiter:
    """Counts failed handshakes per (remote address, station id) in a sliding minute.

    Keyed by both because stations behind a carrier NAT share one address: someone guessing
    one station's password must never lock out the other stations there.
    """

    # Beyond this many keys, expired ones are swept, so guessing across station ids cannot
    # grow the table without bound.
    SWEEP_ABOVE = 10_000

    def __init__(self, allowed: int, window: float = 60.0) -> None:
        self.allowed = allowed
        self.window = window
        self._failures: dict[tuple[str, str], list[float]] = {}

    def retry_after(self, address: str, station_id: str, now: float) -> int | None:
        """Seconds until the next try may be made, or None when it may be made now."""
        key = (address, station_id)
        recent = [moment for moment in self._failures.get(key, []) if now - moment < self.window]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        if len(recent) < self.allowed:
            return None
        # The try is allowed again once enough of the counted failures have aged out.
        frees_at = recent[len(recent) - self.allowed] + self.window
        return max(1, math.ceil(frees_at - now))

    def failed(self, address: str, station_id: str, now: float) -> None:
        if len(self._failures) > self.SWEEP_ABOVE:
            self._failures = {
                key: moments
                for key, moments in self._failures.items()
                if now - moments[-1] < self.window
            }
        self._failures.setdefault((address, station_id), []).append(now)


class CsmsServer:
    """Accepts station connections and keeps the live :class:`StationLink` of each station."""

    def __init__(
        self,
        settings: OcppSettings,
        authenticator: StationAuthenticator,
        handler: StationHandler,
        *,
        links: StationLinks | None = None,
        clock: Callable[[], float] = time.monotonic,
        payloads: bool = False,
    ) -> None:
        self.settings = settings
        # Whether the hot station messages reach the handler as Structs, read in one pass
        # (intercarga.ocpp.payloads); the handler must take them (StationDispatcher does).
        self._payloads = payloads
        self.authenticator = authenticator
        self.handler = handler
        self._clock = clock
        self._links = StationLinks() if links is None else links
        self._decisions: dict[ServerConnection, HandshakeDecision] = {}
        self._limiter = _FailureLimiter(settings.auth_failures_allowed)
        self._server: Server | None = None
        self._admission = Admission(
            "OCPP",
            total=settings.pending_handshakes,
            per_address=settings.pending_handshakes_per_address,
            log=BurstLog(log, "OCPP"),
        )
        self._validators = {version: Validator(version) for version in OcppVersion}
        self._lenient_validators = {
            version: Validator(version, lenient=True) for version in OcppVersion
        }

    # -- the registry of live links ------------------------------------------------------------

    def link(self, station_id: str) -> StationLink | None:
        return self._links.link(station_id)

    def require_link(self, station_id: str) -> StationLink:
        return self._links.require_link(station_id)

    @property
    def links(self) -> dict[str, StationLink]:
        return self._links.links

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, sock: Any, ssl_context: ssl.SSLContext | None = None) -> None:
        self._server = await serve(
            self._connection,
            sock=sock,
            ssl=ssl_context,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            subprotocols=[version.value for version in PREFERENCE],  # type: ignore[misc]
            max_size=self.settings.max_frame_size,
            ping_interval=self.settings.ping_interval or None,
            ping_timeout=self.settings.ping_timeout,
            open_timeout=self.settings.handshake_timeout,
            create_connection=self._admitted_connection(),
            server_header=None,
            # asyncio listens again with its default of 100; keep the backlog the socket has.
            backlog=2048,
        )

    async def stop(self, timeout: float | None = None) -> None:
        """Stop listening and close every station's connection (1001, going away: the station
        reconnects, to another node in a cluster), waiting for their handlers to end.

        ``timeout``: a handler still running after that many seconds (its work waits on a
        database that does not answer; a station that never answers the close) is cancelled
        and its connection dropped; the station's message in it was never acknowledged."""
        if self._server is not None:
            server = self._server
            server.close(close_connections=True)
            try:
                await asyncio.wait_for(asyncio.shield(server.wait_closed()), timeout)
            except TimeoutError:
                late = [task for task in server.handler_tasks if not task.done()]
                log.warning(
                    "%d station connections did not close in %.1f s: dropped", len(late), timeout
                )
                for connection in list(server.connections):
                    connection.transport.abort()
                for task in late:
                    task.cancel()
                if late:
                    await asyncio.wait(late, timeout=1.0)
        self._admission.close()

    def _admitted_connection(self) -> type[ServerConnection]:
        """Connections that count as pending (:mod:`intercarga.admission`) until their
        handshake is over; one over the caps is closed as soon as it is accepted."""
        admission = self._admission
        decisions = self._decisions
        timeout = self.settings.handshake_timeout

        class AdmittedConnection(ServerConnection):
            ticket: Ticket | None = None
            address = "?"

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                peer = transport.get_extra_info("peername")
                self.address = str(peer[0]) if peer else "?"
                self.ticket = admission.admit(self.address)
                super().connection_made(transport)
                if self.ticket is None and isinstance(transport, asyncio.Transport):
                    transport.abort()

            async def handshake(self, *args: Any, **kwargs: Any) -> None:
                try:
                    await super().handshake(*args, **kwargs)
                except asyncio.CancelledError:
                    if self.server.is_serving():
                        # websockets' open_timeout: the handshake took too long.
                        admission.timed_out(
                            self.address, f"closed: no WebSocket handshake in {timeout:g} s"
                        )
                    raise
                finally:
                    if self.ticket is not None:
                        self.ticket.release()

            def connection_lost(self, exc: Exception | None) -> None:
                if self.ticket is not None:
                    self.ticket.release()
                decisions.pop(self, None)
                super().connection_lost(exc)

        return AdmittedConnection

    # -- handshake -----------------------------------------------------------------------------

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        address = str(connection.remote_address[0]) if connection.remote_address else "?"
        now = self._clock()
        path = request.path.split("?", 1)[0]
        if not path.startswith(PATH_PREFIX) or len(path) == len(PATH_PREFIX):
            return connection.respond(HTTPStatus.NOT_FOUND, "OCPP endpoint is /ocpp/{station_id}\n")
        station_id = unquote(path[len(PATH_PREFIX) :]).rstrip("/")
        if "/" in station_id or len(station_id) > 48:
            return connection.respond(HTTPStatus.NOT_FOUND, "not a station id\n")
        offered = _offered(request)
        if _choose(offered) is None:
            log.warning(
                "handshake refused: no supported OCPP subprotocol",
                extra={"station_id": station_id, "offered": ",".join(_offered(request)) or "none"},
            )
            return connection.respond(
                HTTPStatus.BAD_REQUEST,
                "Sec-WebSocket-Protocol must offer ocpp1.6, ocpp2.0.1 or ocpp2.1\n",
            )
        retry_after = self._limiter.retry_after(address, station_id, now)
        if retry_after is not None:
            response = connection.respond(
                HTTPStatus.TOO_MANY_REQUESTS, "too many failed handshakes\n"
            )
            response.headers["Retry-After"] = str(retry_after)
            return response
        info = HandshakeInfo(
            station_id=station_id,
            remote_address=address,
            authorization=request.headers.get("Authorization"),
            tls=connection.transport.get_extra_info("ssl_object") is not None,
            client_certificate_cn=_client_cn(connection),
            offered=tuple(version for version in PREFERENCE if version.value in offered),
        )
        decision = await self.authenticator.authenticate(info)
        if not decision.accepted:
            if decision.status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
                self._limiter.failed(address, station_id, now)
            log.warning(
                "handshake refused: %s",
                decision.reason,
                extra={"station_id": station_id, "remote": address, "status": int(decision.status)},
            )
            # Refusals of credentials say nothing more; anything else is the installer's
            # configuration, so the reason helps whoever reads the station's log.
            credentials = decision.status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
            response = connection.respond(
                decision.status, "" if credentials else decision.reason + "\n"
            )
            if decision.status == HTTPStatus.UNAUTHORIZED:
                response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
            return response
        self._decisions[connection] = decision
        return None

    def _select_subprotocol(self, connection: ServerConnection, subprotocols: Any) -> Any:
        decision = self._decisions.get(connection)
        if decision is not None and decision.version is not None:
            # The authenticator has checked that the station offers its registered version.
            return decision.version.value
        version = _choose(list(subprotocols))
        return None if version is None else version.value

    # -- one connection ------------------------------------------------------------------------

    async def _connection(self, websocket: ServerConnection) -> None:
        decision = self._decisions.pop(websocket, HandshakeDecision.accept())
        request = websocket.request
        assert request is not None and websocket.subprotocol is not None  # the handshake is done
        station_id = unquote(request.path.split("?", 1)[0][len(PATH_PREFIX) :]).rstrip("/")
        version = OcppVersion(websocket.subprotocol)
        validators = self._lenient_validators if decision.lenient else self._validators
        protocol = Protocol(
            version,
            validator=validators[version],
            call_timeout=self.settings.call_timeout,
            station_id=station_id,
            now=self._clock(),
            payloads=payload_decoders(version) if self._payloads else None,
        )
        address = str(websocket.remote_address[0]) if websocket.remote_address else "?"
        link = StationLink(
            station_id,
            version,
            address,
            decision.known,
            protocol,
            websocket,
            self.handler,
            tls=websocket.transport.get_extra_info("ssl_object") is not None,
            client_certificate_cn=_client_cn(websocket),
            clock=self._clock,
        )
        previous = self._links._replace(link)
        if previous is not None:
            log.info(
                "station reconnected; closing its previous connection",
                extra={"station_id": station_id},
            )
            await previous.connection.close(1000, "replaced by a new connection")
        log.info(
            "station connected",
            extra={"station_id": station_id, "ocpp": version.value, "remote": address},
        )
        try:
            await link.connection.run(before_reading=self.handler.connected(link))
        finally:
            current = self._links._remove(link)
            with contextlib.suppress(Exception):
                # The handler learns whether this link was still the current one, so it never
                # marks a station offline that has already reconnected.
                await self.handler.disconnected(link)
            log.info(
                "station disconnected",
                extra={
                    "station_id": station_id,
                    "replaced": not current,
                    "code": websocket.close_code,
                },
            )
