"""The event bus: domain events from where facts are stored to whoever reacts to them.

The in-process bus is the default: subscribers are called in order, on the publisher's task,
after the fact is stored; a failing subscriber is logged and never stops the others or the
publisher. A NATS bus (several nodes) will keep the same interface. This package must never
decide anything about the events it carries.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from intercarga.domain.events import DomainEvent

__all__ = ["EventBus", "Subscriber"]

log = logging.getLogger(__name__)

Subscriber = Callable[[Any], Awaitable[None]]


class EventBus:
    """In-process publish/subscribe by event type."""

    def __init__(self) -> None:
        self._subscribers: dict[type, list[Subscriber]] = {}

    def subscribe(self, event_type: type, subscriber: Subscriber) -> None:
        self._subscribers.setdefault(event_type, []).append(subscriber)

    async def publish(self, event: DomainEvent) -> None:
        for subscriber in self._subscribers.get(type(event), ()):
            try:
                await subscriber(event)
            except Exception:
                log.exception("event subscriber failed", extra={"event": type(event).__name__})
