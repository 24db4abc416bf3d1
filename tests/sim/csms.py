"""A small CSMS for the simulator's tests: the real endpoint with a minimal handler.

The endpoint is :class:`~intercarga.ocpp.server.CsmsServer` (validation, subprotocols, links);
the handler answers what a station sends in a session with valid payloads and records every call,
so a test can check what the CSMS saw. Boot answers Pending the first ``pending_boots`` times.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from intercarga.config import OcppSettings
from intercarga.domain.station import OcppVersion
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.server import (
    CsmsServer,
    HandshakeDecision,
    HandshakeInfo,
    StationLink,
)

__all__ = ["AcceptAll", "Call", "MiniCsms", "running_csms"]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AcceptAll:
    """Accepts every station, or only those with ``password`` when one is set."""

    def __init__(self, password: str | None = None) -> None:
        self.password = password

    async def authenticate(self, info: HandshakeInfo) -> HandshakeDecision:
        from http import HTTPStatus

        from intercarga.sim.link import basic_authorization

        if self.password is not None and info.authorization != basic_authorization(
            info.station_id, self.password
        ):
            return HandshakeDecision.refuse(HTTPStatus.UNAUTHORIZED, "wrong password")
        return HandshakeDecision.accept()


@dataclass(frozen=True)
class Call:
    station_id: str
    version: OcppVersion
    action: str
    payload: dict[str, Any]


@dataclass
class MiniCsms:
    heartbeat_interval: int = 300
    pending_boots: int = 0
    blocked_tokens: frozenset[str] = frozenset()
    # action → how many more of its calls fail with InternalError (a CSMS that cannot store)
    failing: dict[str, int] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    links: dict[str, StationLink] = field(default_factory=dict)
    _transaction_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _boots: int = 0

    def actions(self, station_id: str | None = None) -> list[str]:
        return [c.action for c in self.calls if station_id in (None, c.station_id)]

    def of(self, action: str, station_id: str | None = None) -> list[dict[str, Any]]:
        return [
            c.payload
            for c in self.calls
            if c.action == action and station_id in (None, c.station_id)
        ]

    async def connected(self, link: StationLink) -> None:
        self.links[link.station_id] = link

    async def disconnected(self, link: StationLink) -> None:
        if self.links.get(link.station_id) is link:
            del self.links[link.station_id]

    async def handle_send(self, link: StationLink, action: str, payload: dict[str, Any]) -> None:
        self.calls.append(Call(link.station_id, link.version, action, payload))

    def _status(self, token: str) -> str:
        return "Blocked" if token in self.blocked_tokens else "Accepted"

    async def handle_call(
        self, link: StationLink, action: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        self.calls.append(Call(link.station_id, link.version, action, payload))
        if self.failing.get(action, 0) > 0:
            self.failing[action] -= 1
            raise CallError(ErrorCode.INTERNAL_ERROR, f"{action} could not be stored")
        v16 = link.version is OcppVersion.V16
        if action == "BootNotification":
            self._boots += 1
            status = "Pending" if self._boots <= self.pending_boots else "Accepted"
            return {"currentTime": _now(), "interval": self.heartbeat_interval, "status": status}
        if action == "Heartbeat":
            return {"currentTime": _now()}
        if action in ("StatusNotification", "MeterValues"):
            return {}
        if action == "Authorize":
            if v16:
                return {"idTagInfo": {"status": self._status(payload["idTag"])}}
            return {"idTokenInfo": {"status": self._status(payload["idToken"]["idToken"])}}
        if action == "StartTransaction":
            return {
                "transactionId": next(self._transaction_ids),
                "idTagInfo": {"status": self._status(payload["idTag"])},
            }
        if action == "StopTransaction":
            return {"idTagInfo": {"status": "Accepted"}} if "idTag" in payload else {}
        if action == "TransactionEvent":
            if payload["eventType"] == "Started":
                token = payload["idToken"]["idToken"]
                return {"idTokenInfo": {"status": self._status(token)}}
            return {}
        if action in (
            "FirmwareStatusNotification",
            "DiagnosticsStatusNotification",
            "LogStatusNotification",
        ):
            return {}
        raise CallError(ErrorCode.NOT_SUPPORTED, f"the test CSMS does not handle {action}")


@asynccontextmanager
async def running_csms(
    csms: MiniCsms | None = None, *, password: str | None = None, call_timeout: float = 5
) -> AsyncIterator[tuple[MiniCsms, CsmsServer, str]]:
    """Serve ``csms`` on a free 127.0.0.1 port; yields (handler, server, OCPP base URL)."""
    handler = csms or MiniCsms()
    settings = OcppSettings(ping_interval=0, call_timeout=call_timeout)
    server = CsmsServer(settings, AcceptAll(password), handler)
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await server.start(sock)
    try:
        yield handler, server, f"ws://127.0.0.1:{port}/ocpp"
    finally:
        await server.stop()
