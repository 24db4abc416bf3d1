"""Events across nodes: the event bus of a cluster node, relayed through a JetStream stream.

:class:`ClusterBus` is an :class:`~intercarga.bus.EventBus`. Each event is published to
``{cluster}.events.{node}.{EventType}.{partition}``, kept by the stream ``{cluster}_events``
(an hour); the partition (one of :data:`PARTITIONS`) comes from the Location the event is about,
so the events of one Location (its EVSEs' statuses, its sessions, their CDRs) share one.

- This node's plain and ``everywhere`` subscribers get its events in process, at once.
- Each node follows the stream with an ordered consumer of its own from the moment it starts
  and hands the *other* nodes' events to its ``everywhere`` subscribers (the dashboard's live
  view, the map's markers).
- Each *group* (a concern that acts once per cluster: the OCPI pusher) is a set of durable
  pull consumers, ``{group}-{partition}``, shared by every node: one event is taken by one node
  and acknowledged only once the group's subscribers there have run, so an event whose node
  dies before or while handling it is handled by another node (after ``lease`` seconds, the
  consumers' ``ack_wait``). One event at a time per partition (``max_ack_pending`` 1): the
  events of one Location are handled in the order the stream has them, across nodes and
  across a node's death, while up to :data:`PARTITIONS` are handled at once. A subscriber that
  fails (the database away) is given the event again, with backoff, until it has run: the
  event is acknowledged only then, so a CDR stored just before the database went away still
  gets its outbox row once it is back.

A group's event is acknowledged by the stream before ``publish`` returns. While NATS is away (or
does not acknowledge in time) this node's group subscribers handle the event themselves, as a
single node does; a publish stored but whose acknowledgement was lost is then handled twice
(the pusher's rows are idempotent for the receiver: the same object again).

This module carries events; it must never decide anything about them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from datetime import UTC, datetime

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.client import JetStreamContext

from intercarga.bus import EventBus
from intercarga.cluster.wire import WireError, decode_event, encode_event
from intercarga.domain.events import (
    CdrCreated,
    DomainEvent,
    EvseStatusChanged,
    ObjectRemoved,
    SessionChanged,
    StationConnectionChanged,
)

__all__ = ["PARTITIONS", "ClusterBus", "events_stream", "partition"]

log = logging.getLogger(__name__)

# Seconds the stream keeps an event: enough for a node restarting to look back, and for a
# group's backlog while every node is down for a moment; no archive.
_KEEP_EVENTS = 3600.0
# How many events of different Locations a group handles at once across the cluster.
PARTITIONS = 32
# Seconds a publish waits for the stream's acknowledgement before this node handles the
# group's event itself.
_PUBLISH_TIMEOUT = 2.0
# Seconds a pull waits for an event before asking again (an idle group costs one request each).
_PULL_WAIT = 5.0
# Seconds before a group's subscriber that failed is given the event again, doubling up to the
# last (and at most a third of ``ack_wait``, so the event stays this node's meanwhile).
_RETRY_FIRST, _RETRY_MAX = 0.5, 8.0


def events_stream(cluster: str) -> str:
    return f"{cluster}_events"


def partition(event: DomainEvent) -> int:
    """The partition of ``event``: by the Location it is about (by the station for a
    connection), so that one Location's events keep their order."""
    match event:
        case EvseStatusChanged():
            key = f"{event.country_code}/{event.party_id}/{event.location_id}"
        case SessionChanged(session=s):
            key = f"{s.country_code}/{s.party_id}/{s.location_id}"
        case CdrCreated(cdr=c):
            key = f"{c.country_code}/{c.party_id}/{c.cdr_location.id}"
        case ObjectRemoved(item=item):
            name = getattr(item, "id", None) or getattr(item, "uid", "")
            key = f"{item.country_code}/{item.party_id}/{name}"
        case StationConnectionChanged():
            key = event.station_id
    return zlib.crc32(key.encode()) % PARTITIONS


class ClusterBus(EventBus):
    """The event bus of one node of ``cluster``; :meth:`start` follows the others' events,
    :meth:`start_groups` takes its share of the groups' events."""

    def __init__(self, nc: Client, *, cluster: str, node_id: str, ack_wait: float = 15.0) -> None:
        super().__init__()
        self._nc = nc
        self._cluster = cluster
        self._node_id = node_id
        self._ack_wait = ack_wait
        self._subscription: Subscription | None = None
        self._pulling: list[asyncio.Task[None]] = []
        self._pulls: list[JetStreamContext.PullSubscription] = []
        self._failing = False
        self._closing = False
        self._started = datetime.now(UTC)

    async def start(self) -> None:
        self._started = datetime.now(UTC)
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

    async def start_groups(self) -> None:
        """Take this node's share of each subscribed group's events (once every subscriber is
        wired: an event taken is acknowledged once this node's subscribers have run)."""
        js = self._nc.jetstream()
        for group in self.groups():
            for part in range(PARTITIONS):
                durable, stream = f"{group}-{part}", events_stream(self._cluster)
                config = ConsumerConfig(
                    durable_name=durable,
                    filter_subject=f"{self._cluster}.events.*.*.{part}",
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self._ack_wait,
                    max_ack_pending=1,
                    # A group made now starts at this node's start: what came before was
                    # handled where it happened (a node of a version without groups).
                    deliver_policy=DeliverPolicy.BY_START_TIME,
                    opt_start_time=self._started,
                )
                try:
                    pull = await js.pull_subscribe(
                        config.filter_subject or "", durable=durable, stream=stream, config=config
                    )
                except Exception:
                    # Another node made it this instant: join it.
                    pull = await js.pull_subscribe_bind(durable=durable, stream=stream)
                self._pulls.append(pull)
                self._pulling.append(
                    asyncio.create_task(self._take(group, pull), name=f"events-{group}-{part}")
                )

    async def close(self) -> None:
        await self.stop_groups()
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
            self._subscription = None

    async def stop_groups(self) -> None:
        """Take no more of the groups' events (the other nodes take them, or this node's
        next start): before what handles them stops."""
        self._closing = True  # the NATS client may swallow a cancellation inside a pull
        for task in self._pulling:
            task.cancel()
        if self._pulling:
            await asyncio.wait(self._pulling, timeout=5)
        self._pulling = []
        for pull in self._pulls:
            # Or the connection's drain waits for them (30 s) before it closes.
            with contextlib.suppress(Exception):
                await pull.unsubscribe()
        self._pulls = []

    async def publish(self, event: DomainEvent) -> None:
        await self.deliver_here(event)
        subject = (
            f"{self._cluster}.events.{self._node_id}.{type(event).__name__}.{partition(event)}"
        )
        try:
            if not self._nc.is_connected:
                raise ConnectionError("NATS is unreachable")
            await self._nc.jetstream().publish(
                subject, encode_event(event), timeout=_PUBLISH_TIMEOUT
            )
        except Exception as error:
            # The other nodes' live views miss this event; what must be done once is done
            # here, as on a single node. Said once per outage, not once per event.
            if not self._failing:
                log.warning("events not relayed to the other nodes, handled here: %s", error)
            self._failing = True
            for group in self.groups():
                await self.deliver_to_group(group, event)
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

    async def _take(self, group: str, pull: JetStreamContext.PullSubscription) -> None:
        """Take ``group``'s events of one partition, one at a time, until cancelled."""
        while not self._closing:
            try:
                messages = await pull.fetch(1, timeout=_PULL_WAIT)
            except NatsTimeoutError:
                continue  # nothing new
            except Exception as error:
                if self._closing or self._nc.is_closed:
                    return
                log.warning("events of group %s not taken: %s; again in 1 s", group, error)
                await asyncio.sleep(1)
                continue
            for msg in messages:
                try:
                    event = decode_event(msg.data)
                except WireError as error:
                    log.warning("an event for group %s is not readable here: %s", group, error)
                else:
                    if not await self._handled(group, event, msg):
                        return  # stopping: not acknowledged, so another node handles it
                with contextlib.suppress(Exception):
                    await msg.ack()

    async def _handled(self, group: str, event: DomainEvent, msg: Msg) -> bool:
        """Deliver a group's event here, and again to the subscribers that failed (the
        database away: the pusher could not store its rows) until each has run; False when
        the node stops first. Meanwhile the event stays this node's (``in_progress``), and
        its partition waits: a Location's later events must not overtake it."""
        failed = await self.deliver_to_group(group, event)
        delay = _RETRY_FIRST
        while failed:
            if self._closing:
                return False
            with contextlib.suppress(Exception):
                await msg.in_progress()
            await asyncio.sleep(min(delay, self._ack_wait / 3))
            delay = min(delay * 2, _RETRY_MAX)
            failed = await self.deliver_to_group(group, event, only=failed)
        return True
