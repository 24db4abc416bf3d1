"""The typed station seam: a station's CALL in its version, a version-free event to the CSMS, the
CSMS's typed decision back out as that version's answer.

:class:`StationDispatcher` is the :class:`~intercarga.ocpp.server.StationHandler` the endpoint
hands each validated CALL (and SEND) to. It asks the version adapter
(:func:`~intercarga.ocpp.adapter.adapter_for`) for the version-free
:data:`~intercarga.ocpp.events.StationEvent`, gives that to the :class:`StationEventHandler` (the
CSMS), and turns the :data:`~intercarga.ocpp.events.Decision` it returns into the version's
CALLRESULT payload. So control goes one way, ocpp → csms → ocpp, and no payload dict reaches the
CSMS. A :class:`~intercarga.ocpp.errors.CallError` from either side (a value the adapter cannot
use, a message the CSMS refuses) becomes the CALLERROR the endpoint sends, code unchanged.

This module translates and forwards; it must never decide what a message means (the CSMS does),
touch storage, or read a frame (the endpoint does).
"""

from __future__ import annotations

from typing import Any
from typing import Protocol as TypingProtocol

from intercarga.ocpp.adapter import adapter_for
from intercarga.ocpp.events import Decision, StationEvent
from intercarga.ocpp.payloads import Payload
from intercarga.ocpp.server import StationLink

__all__ = ["StationDispatcher", "StationEventHandler"]


class StationEventHandler(TypingProtocol):
    """What the CSMS does with a station's traffic, free of any OCPP version."""

    async def connected(self, link: StationLink) -> None: ...

    async def handle(self, link: StationLink, event: StationEvent) -> Decision | None:
        """Decide on ``event``; raise :class:`~intercarga.ocpp.errors.CallError` to refuse it.
        None answers the events that need no decision (notifications)."""
        ...

    async def disconnected(self, link: StationLink) -> None: ...


class StationDispatcher:
    """Implements :class:`~intercarga.ocpp.server.StationHandler` over a
    :class:`StationEventHandler`; see the module docstring."""

    def __init__(self, handler: StationEventHandler) -> None:
        self._handler = handler

    async def connected(self, link: StationLink) -> None:
        await self._handler.connected(link)

    async def disconnected(self, link: StationLink) -> None:
        await self._handler.disconnected(link)

    async def handle_call(
        self, link: StationLink, action: str, payload: dict[str, Any] | Payload
    ) -> dict[str, Any]:
        adapter = adapter_for(link.version)
        event = adapter.event(action, payload)
        decision = await self._handler.handle(link, event)
        return adapter.response(event, decision)

    async def handle_send(self, link: StationLink, action: str, payload: dict[str, Any]) -> None:
        # A SEND (OCPP 2.1) gets no answer: the decision, if any, goes nowhere.
        await self._handler.handle(link, adapter_for(link.version).event(action, payload))
