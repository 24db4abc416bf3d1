"""The live view: domain events from the bus, as Server-Sent Events to every open dashboard.

Each browser gets its own bounded queue; a browser too slow to keep up loses events rather than
slowing the publisher (the CSMS), and its stream ends so that ``EventSource`` reconnects and the
page reloads what it shows. A comment line every 15 s keeps proxies from closing an idle
stream. :meth:`LiveFeed.close` ends every stream, so the HTTP server can stop. This module must
never block the bus or decide anything about what it relays.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from intercarga.bus import EventBus
from intercarga.domain.events import (
    CdrCreated,
    EvseStatusChanged,
    SessionChanged,
    StationConnectionChanged,
)

__all__ = ["LiveFeed", "sse"]

_QUEUE_SIZE = 1000
_KEEPALIVE_S = 15.0
_CLOSED = object()


def sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _message(event: object) -> str | None:
    match event:
        case EvseStatusChanged():
            return sse(
                "evse",
                {
                    "location": f"{event.country_code}/{event.party_id}/{event.location_id}",
                    "evse_uid": event.evse_uid,
                    "status": event.status.value,
                    "timestamp": event.timestamp.isoformat(),
                },
            )
        case StationConnectionChanged():
            return sse(
                "station",
                {
                    "station_id": event.station_id,
                    "connected": event.connected,
                    "timestamp": event.timestamp.isoformat(),
                },
            )
        case SessionChanged():
            session = event.session
            return sse(
                "session",
                {
                    "id": session.id,
                    "station_id": session.station_id,
                    "evse_uid": session.evse_uid,
                    "status": session.status.value,
                    "kwh": str(session.kwh),
                },
            )
        case CdrCreated():
            return sse("cdr", {"id": event.cdr.id})
    return None


class LiveFeed:
    def __init__(self, bus: EventBus) -> None:
        self._queues: set[asyncio.Queue[object]] = set()
        self._closed = False
        for kind in (EvseStatusChanged, StationConnectionChanged, SessionChanged, CdrCreated):
            bus.subscribe(kind, self._relay, everywhere=True)  # in a cluster, every node's

    async def _relay(self, event: object) -> None:
        if not self._queues:
            return  # nobody watching: no message built on the OCPP hot path
        message = _message(event)
        if message is None:
            return
        for queue in list(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # This browser fell behind: end its stream; it reconnects and reloads.
                self._queues.discard(queue)
                queue.get_nowait()
                queue.put_nowait(_CLOSED)

    async def stream(self) -> AsyncIterator[str]:
        """One browser's events, until it goes away or the feed is closed."""
        queue: asyncio.Queue[object] = asyncio.Queue(_QUEUE_SIZE)
        if self._closed:
            return
        self._queues.add(queue)
        try:
            # The retry hint: reconnect after 1 s when the stream drops.
            yield "retry: 1000\n: connected\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), _KEEPALIVE_S)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if item is _CLOSED:
                    return
                assert isinstance(item, str)
                yield item
        finally:
            self._queues.discard(queue)

    def close(self) -> None:
        """End every open stream (the server is stopping)."""
        self._closed = True
        for queue in list(self._queues):
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(_CLOSED)
        self._queues.clear()
