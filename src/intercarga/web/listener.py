"""The HTTP listener: uvicorn's h11 protocol with a deadline for every request head.

uvicorn closes a kept-alive connection that stays idle (``timeout_keep_alive``) but gives a
request head no deadline: a connection that never sends one, or sends it a byte at a time, stays
open forever, and twenty thousand of them take every file descriptor of the process (the OCPP
port's with them). Here a connection that is not serving a request must complete a request
head within ``header_timeout`` seconds, counted from its opening or from the end of the previous
response; a request body that sends nothing for ``body_timeout`` seconds is answered 408 and
closed; and connections yet to send their first head are capped per address and in total
(:mod:`intercarga.admission`). Request rate and body size: :mod:`intercarga.web.limits`.

This module configures the listener; it must never look at what a request asks for.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import ClassVar

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from intercarga.admission import Admission, BurstLog, Ticket
from intercarga.config import HttpSettings
from intercarga.web.limits import HttpLimits

__all__ = ["http_admission", "uvicorn_config"]

log = logging.getLogger(__name__)


def http_admission(settings: HttpSettings) -> Admission:
    return Admission(
        "HTTP",
        total=settings.pending_connections,
        per_address=settings.pending_connections_per_address,
        log=BurstLog(log, "HTTP"),
    )


def uvicorn_config(app: ASGIApp, settings: HttpSettings, admission: Admission) -> uvicorn.Config:
    """uvicorn's configuration for Intercarga's HTTP app (no logging or signals of its own)."""

    class Protocol(_DeadlineProtocol):
        pass

    Protocol.admission = admission
    Protocol.header_timeout = settings.header_timeout
    Protocol.body_timeout = settings.body_timeout
    return uvicorn.Config(
        # Outside FastAPI, so that its refusals cost nothing of the app (and are not rewritten
        # by FastAPI's own body limit).
        HttpLimits(app, settings),
        log_config=None,
        lifespan="off",
        server_header=False,
        http=Protocol,
        timeout_keep_alive=settings.keep_alive_timeout,
    )


class _DeadlineProtocol(H11Protocol):
    admission: ClassVar[Admission]
    header_timeout: ClassVar[float]
    body_timeout: ClassVar[float]
    _ticket: Ticket | None = None
    _head_deadline: asyncio.TimerHandle | None = None
    _body_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._ticket = self.admission.admit(self._address)
        if self._ticket is None:
            transport.abort()
            return
        self._watch(received=False)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch(received=True)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch(received=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        self._stop_head()
        self._stop_body()
        super().connection_lost(exc)

    @property
    def _address(self) -> str:
        return str(self.client[0]) if self.client else "?"

    def _release(self) -> None:
        if self._ticket is not None:
            self._ticket.release()

    def _stop_head(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _stop_body(self) -> None:
        if self._body_deadline is not None:
            self._body_deadline.cancel()
            self._body_deadline = None

    def _watch(self, *, received: bool) -> None:
        """Set the deadline the connection is under now: its next request head's while no
        request is being served, its body's while one is being received."""
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            # Closed, or upgraded to a WebSocket (another protocol reads from now on).
            self._release()
            self._stop_head()
            self._stop_body()
            return
        serving = self.cycle is not None and not self.cycle.response_complete
        if not serving:
            self._stop_body()
            if self._head_deadline is None:  # from the first byte on, not from the last
                self._head_deadline = self.loop.call_later(self.header_timeout, self._head_late)
            return
        self._release()
        self._stop_head()
        if self.conn.their_state is h11.SEND_BODY:
            if received or self._body_deadline is None:
                self._stop_body()
                self._body_deadline = self.loop.call_later(self.body_timeout, self._body_late)
        else:
            self._stop_body()

    def _head_late(self) -> None:
        self._head_deadline = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return
        self.admission.timed_out(
            self._address, f"closed: no complete request head in {self.header_timeout:g} s"
        )
        self.transport.close()

    def _body_late(self) -> None:
        self._body_deadline = None
        if self.transport.is_closing() or self.cycle is None or self.cycle.response_complete:
            return
        if self.flow.read_paused:
            # We stopped reading (the app has not taken what came), not the client.
            self._body_deadline = self.loop.call_later(self.body_timeout, self._body_late)
            return
        self.admission.timed_out(
            self._address, f"closed: request body sent nothing for {self.body_timeout:g} s"
        )
        cycle = self.cycle
        if not cycle.response_started and self.conn.our_state is h11.SEND_RESPONSE:
            body = json.dumps(
                {
                    "type": "about:blank",
                    "title": "Request timeout",
                    "status": 408,
                    "detail": f"the request body sent nothing for {self.body_timeout:g} s",
                }
            ).encode()
            headers = [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ]
            self.transport.write(
                self.conn.send(
                    h11.Response(status_code=408, headers=headers, reason=b"Request Timeout")
                )
                + self.conn.send(h11.Data(data=body))
                + self.conn.send(h11.EndOfMessage())
            )
        # The application waiting for the body learns that the client is gone, and whatever it
        # sends from now on is dropped.
        cycle.disconnected = True
        cycle.message_event.set()
        self.transport.close()
