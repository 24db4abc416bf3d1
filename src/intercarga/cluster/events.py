"""Events across nodes: the event bus of a cluster node, relayed through a JetStream stream.

:class:`ClusterBus` is an :class:`~intercarga.bus.EventBus`: every event is delivered here, in
process, exactly as on a single node (the OCPI pusher, CDR delivery and the other concerns that
must act once per cluster act on the node where the fact happened, once). It is also published
to ``{cluster}.events.{node}.{EventType}``, kept by the stream ``{cluster}_events`` (an hour);
each node follows that stream with an ordered consumer of its own from the moment it starts and
hands the *other* nodes' events to the subscribers that asked for them (``everywhere=True``:
the dashboard's live view).

The publish is NATS's plain one, buffered by the client and never awaited by the station's
answer: while NATS is away the other nodes' live views miss events (this node's do not), and
what a node missed it reads from the database, as a reloaded page does.

This module carries events; it must never decide anything about them.
"""

from __future__ import annotations

import contextlib
import logging

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import DeliverPolicy, StreamConfig

from intercarga.bus import EventBus
from intercarga.cluster.wire import WireError, decode_event, encode_event
from intercarga.domain.events import DomainEvent

__all__ = ["ClusterBus", "events_stream"]

log = logging.getLogger(__name__)

# Seconds the stream keeps an event: enough for a node restarting to look back, no archive.
_KEEP_EVENTS = 3600.0


def events_stream(cluster: str) -> str:
    return f"{cluster}_events"


class ClusterBus(EventBus):
    """The event bus of one node of ``cluster``; :meth:`start` follows the others' events."""

    def __init__(self, nc: Client, *, cluster: str, node_id: str) -> None:
        super().__init__()
        self._nc = nc
        self._cluster = cluster
        self._node_id = node_id
        self._subscription: Subscription | None = None
        self._failing = False

    async def start(self) -> None:
        js = self._nc.jetstream()
        stream = events_stream(self._cluster)
        subjects = f"{self._cluster}.events.>"
        await js.add_stream(StreamConfig(name=stream, subjects=[subjects], max_age=_KEEP_EVENTS))
        self._subscription = await js.subscribe(
            subjects,
            stream=stream,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            cb=self._received,
        )

    async def close(self) -> None:
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
            self._subscription = None

    async def publish(self, event: DomainEvent) -> None:
        await super().publish(event)
        subject = f"{self._cluster}.events.{self._node_id}.{type(event).__name__}"
        try:
            await self._nc.publish(subject, encode_event(event))
        except Exception as error:
            # This node's own subscribers have the event; only the other nodes' live views miss
            # it. Said once per outage, not once per event.
            if not self._failing:
                log.warning("events not relayed to the other nodes: %s", error)
            self._failing = True
        else:
            self._failing = False

    async def _received(self, msg: Msg) -> None:
        parts = msg.subject.split(".")
        if len(parts) < 4 or parts[2] == self._node_id:
            return  # this node's own: its subscribers had it in process
        try:
            event = decode_event(msg.data)
        except WireError as error:
            log.warning("an event from node %s is not readable here: %s", parts[2], error)
            return
        await self.deliver_from_elsewhere(event)
