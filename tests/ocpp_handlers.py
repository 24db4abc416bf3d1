"""A station handler for tests of the OCPP endpoint: answers every call, records what happens."""

from __future__ import annotations

from typing import Any

from intercarga.ocpp.server import StationLink

HEARTBEAT_ANSWER = {"currentTime": "2026-11-24T12:00:00Z"}


class RecordingHandler:
    """Answers every CALL with a Heartbeat-shaped result and records what the server reports."""

    def __init__(self) -> None:
        self.opened: list[StationLink] = []
        self.closed: list[StationLink] = []
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def connected(self, link: StationLink) -> None:
        self.opened.append(link)

    async def handle_call(
        self, link: StationLink, action: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        self.calls.append((link.station_id, action, payload))
        return HEARTBEAT_ANSWER

    async def handle_send(self, link: StationLink, action: str, payload: dict[str, Any]) -> None:
        self.calls.append((link.station_id, action, payload))

    async def disconnected(self, link: StationLink) -> None:
        self.closed.append(link)
