"""The event bus: domain events from where facts are stored to whoever reacts to them.

The in-process bus is the default: subscribers are called in order, on the publisher's task,
after the fact is stored; a failing subscriber is logged and never stops the others or the
publisher. In a cluster the bus of ``intercarga.cluster`` keeps this interface and reaches
three kinds of subscribers differently:

- plain ones act on the events of their own node only, in process;
- ``everywhere`` ones also get the other nodes' events (what every node must show or cache:
  the dashboard's live view, the map's markers);
- a ``group``'s ones act once per cluster: each event reaches the subscribers of the group on
  one node, whichever takes it from the group's durable consumer (the OCPI pusher), so what
  must happen once happens once even when the node of the fact dies before handling it.

Every node must subscribe the same groups: a group's event goes to any node of the cluster.
On one node (and in process) the three kinds are the same. This package must never decide
anything about the events it carries.
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
        self._local: dict[type, list[Subscriber]] = {}
        self._groups: dict[str, dict[type, list[Subscriber]]] = {}

    def subscribe(
        self,
        event_type: type,
        subscriber: Subscriber,
        *,
        everywhere: bool = False,
        group: str | None = None,
    ) -> None:
        """Call ``subscriber`` with each event of ``event_type`` published here; with
        ``everywhere``, with those of the cluster's other nodes too; with ``group`` (a concern
        that acts once per cluster), with the events of any node that this node takes from the
        group."""
        if everywhere and group is not None:
            raise ValueError("a subscriber is either everywhere or in a group")
        self._subscribers.setdefault(event_type, []).append(subscriber)
        if group is None:
            self._local.setdefault(event_type, []).append(subscriber)
        else:
            self._groups.setdefault(group, {}).setdefault(event_type, []).append(subscriber)
        if everywhere:
            self._everywhere.setdefault(event_type, []).append(subscriber)

    async def publish(self, event: DomainEvent) -> None:
        await self._deliver(event, self._subscribers.get(type(event), ()))

    async def deliver_from_elsewhere(self, event: DomainEvent) -> None:
        """An event another node published: only the ``everywhere`` subscribers get it."""
        await self._deliver(event, self._everywhere.get(type(event), ()))

    def groups(self) -> list[str]:
        """The groups subscribed here."""
        return sorted(self._groups)

    async def deliver_to_group(
        self, group: str, event: DomainEvent, *, only: Iterable[Subscriber] | None = None
    ) -> list[Subscriber]:
        """An event this node took from ``group`` (or handles itself, NATS being away), to the
        group's subscribers (``only`` these of them); the subscribers that failed, each failure
        logged."""
        subscribers = self._groups.get(group, {}).get(type(event), ())
        if only is not None:
            chosen = list(only)
            subscribers = [subscriber for subscriber in subscribers if subscriber in chosen]
        return await self._deliver(event, subscribers)

    async def deliver_here(self, event: DomainEvent) -> None:
        """This node's event to its plain and ``everywhere`` subscribers (not the groups')."""
        await self._deliver(event, self._local.get(type(event), ()))

    async def _deliver(
        self, event: DomainEvent, subscribers: Iterable[Subscriber]
    ) -> list[Subscriber]:
        failed: list[Subscriber] = []
        for subscriber in subscribers:
            try:
                await subscriber(event)
            except Exception:
                log.exception("event subscriber failed", extra={"event": type(event).__name__})
                failed.append(subscriber)
        return failed
