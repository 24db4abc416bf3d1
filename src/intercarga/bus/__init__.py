"""The event bus: domain events from where facts are stored to whoever reacts to them.

The in-process bus is the default: subscribers are called in order, on the publisher's task,
after the fact is stored; a failing subscriber is logged and never stops the others or the
publisher. In a cluster the bus of ``intercarga.cluster`` keeps this interface and also hands
the events of the other nodes to the subscribers that asked for them (``everywhere=True``:
what every node must show, such as the dashboard's live view); the others act only on the
events of their own node, so that what must happen once per cluster happens once. This package
must never decide anything about the events it carries.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from intercarga.domain.events import DomainEvent

__all__ = ["EventBus", "Subscriber"]

log = logging.getLogger(__name__)

Subscriber = Callable[[Any], Awaitable[None]]


class EventBus:
    """In-process publish/subscribe by event type."""

    def __init__(self) -> None:
        self._subscribers: dict[type, list[Subscriber]] = {}
        self._everywhere: dict[type, list[Subscriber]] = {}

    def subscribe(
        self, event_type: type, subscriber: Subscriber, *, everywhere: bool = False
    ) -> None:
        """Call ``subscriber`` with each event of ``event_type`` published here; with
        ``everywhere``, with those of the cluster's other nodes too."""
        self._subscribers.setdefault(event_type, []).append(subscriber)
        if everywhere:
            self._everywhere.setdefault(event_type, []).append(subscriber)

    async def publish(self, event: DomainEvent) -> None:
        await self._deliver(event, self._subscribers.get(type(event), ()))

    async def deliver_from_elsewhere(self, event: DomainEvent) -> None:
        """An event another node published: only the ``everywhere`` subscribers get it."""
        await self._deliver(event, self._everywhere.get(type(event), ()))

    async def _deliver(self, event: DomainEvent, subscribers: Iterable[Subscriber]) -> None:
        for subscriber in subscribers:
            try:
                await subscriber(event)
            except Exception:
                log.exception("event subscriber failed", extra={"event": type(event).__name__})
