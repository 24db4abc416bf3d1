"""Several nodes on one PostgreSQL and one NATS with JetStream (``[cluster]``, docs/cluster.md).

:class:`Cluster` is one node's membership: its NATS connection, its :class:`Presence` (which
node holds which station, in a key-value bucket), the :class:`CommandRouter` the CSMS asks for
stations held elsewhere, the :class:`CommandResponder` that answers the others for the
stations held here, and the :class:`ClusterBus` that relays events between nodes and shares
the once-per-cluster work among them. The composition root (``app.py``) opens it only when
``nats_url`` is set; without it nothing here runs and a node works alone, in-process.

This package moves claims and commands between nodes; it must never decide what a station's
message or a command means, and never touches the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats
from nats.aio.client import Client
from nats.js.api import KeyValueConfig
from nats.js.errors import BucketNotFoundError

from intercarga.cluster.commands import (
    CommandResponder,
    CommandRouter,
    Describe,
    RunCall,
    RunCommand,
)
from intercarga.cluster.events import ClusterBus, events_stream
from intercarga.cluster.presence import FencedHandler, Holder, Presence, presence_key
from intercarga.config import ClusterSettings
from intercarga.errors import ConfigurationError, DegradedError
from intercarga.ocpp.server import StationHandler

__all__ = [
    "Cluster",
    "ClusterBus",
    "CommandResponder",
    "CommandRouter",
    "FencedHandler",
    "Holder",
    "Presence",
    "events_stream",
    "presence_bucket",
    "presence_key",
]

log = logging.getLogger(__name__)

# Seconds to reach NATS at start: a cluster node that cannot is a configuration error.
_CONNECT_TIMEOUT = 5.0
# Seconds a stopping node gives itself to leave the cluster cleanly.
_LEAVE_TIMEOUT = 8.0


async def _nats_error(error: Exception) -> None:
    # One line per error (the client's default logs a traceback for each reconnection try).
    log.warning("NATS: %s", error or type(error).__name__)


class _Link:
    """What the NATS client's callbacks are told: whether this node is leaving, so that its own
    close is not logged as a lost connection."""

    def __init__(self) -> None:
        self.leaving = False

    async def disconnected(self) -> None:
        if not self.leaving:
            log.warning("NATS connection lost; reconnecting")


async def _nats_reconnected() -> None:
    log.warning("NATS connection back")


def presence_bucket(settings: ClusterSettings) -> str:
    return f"{settings.name}_presence"


class Cluster:
    """This node's part in the cluster; :meth:`open` connects, :meth:`close` leaves."""

    def __init__(
        self,
        settings: ClusterSettings,
        nc: Client,
        presence: Presence,
        bus: ClusterBus,
        link: _Link | None = None,
    ) -> None:
        self.settings = settings
        self.node_id = settings.node_id
        self._nc = nc
        self._link = link or _Link()
        self.presence = presence
        self.bus = bus
        self.router = CommandRouter(
            nc,
            presence,
            cluster=settings.name,
            node_id=settings.node_id,
            timeout=settings.command_timeout,
        )
        self._responders: list[CommandResponder] = []

    @classmethod
    async def open(cls, settings: ClusterSettings) -> Cluster:
        """Connect to NATS and start watching presence; :class:`ConfigurationError` when NATS
        cannot be reached or has no JetStream."""
        assert settings.nats_url is not None
        servers = [server.strip() for server in settings.nats_url.split(",")]
        link = _Link()
        try:
            nc = await nats.connect(
                servers=servers,
                name=settings.node_id,
                connect_timeout=_CONNECT_TIMEOUT,
                # At start each server is tried twice, then the node does not start …
                max_reconnect_attempts=1,
                reconnect_time_wait=1,
                error_cb=_nats_error,
                disconnected_cb=link.disconnected,
                reconnected_cb=_nats_reconnected,
            )
        except Exception as error:
            raise ConfigurationError(
                f"cluster.nats_url: cannot connect to NATS: {error or type(error).__name__}"
            ) from None
        # … once running, the node reconnects for ever (a NATS restart is survived), a second
        # apart. The client reads this option at each reconnection.
        nc.options["max_reconnect_attempts"] = -1
        presence: Presence | None = None
        try:
            js = nc.jetstream()
            bucket = presence_bucket(settings)
            try:
                kv = await js.key_value(bucket)
            except BucketNotFoundError:
                kv = await js.create_key_value(
                    KeyValueConfig(bucket=bucket, history=1, ttl=settings.lease)
                )
            presence = Presence(
                kv, settings.node_id, lease=settings.lease, reachable=lambda: nc.is_connected
            )
            await presence.start()
            bus = ClusterBus(
                nc, cluster=settings.name, node_id=settings.node_id, ack_wait=settings.lease
            )
            await bus.start()
        except Exception as error:
            if presence is not None:
                await presence.close()
            await nc.close()
            raise ConfigurationError(
                f"cluster.nats_url: NATS has no usable JetStream: {error or type(error).__name__}"
            ) from None
        log.info("joined the cluster", extra={"cluster": settings.name, "node": settings.node_id})
        return cls(settings, nc, presence, bus, link)

    def check(self) -> None:
        """:class:`DegradedError` while NATS is away (the client reconnects meanwhile)."""
        if not self._nc.is_connected:
            raise DegradedError("cluster", "NATS is unreachable; reconnecting")

    def fenced(self, handler: StationHandler) -> FencedHandler:
        """``handler`` behind this node's presence: each connection claimed, stale ones fenced."""
        return FencedHandler(handler, self.presence)

    async def responder(
        self, run: RunCommand, call: RunCall, describe: Describe
    ) -> CommandResponder:
        """Answer other nodes' commands (raw calls, questions for a connection view) for the
        stations held here with ``run`` (``call``, ``describe``)."""
        responder = CommandResponder(
            self._nc,
            cluster=self.settings.name,
            node_id=self.node_id,
            run=run,
            call=call,
            describe=describe,
        )
        await responder.start()
        self._responders.append(responder)
        return responder

    async def close(self, timeout: float = _LEAVE_TIMEOUT) -> None:
        """Leave: unsubscribe, stop renewing, drain what is still to publish, all within
        ``timeout`` (after NATS came back, each JetStream call of an unsubscribe may wait
        its own 5 s for an answer, and a drain 30 s: together longer than a service manager
        waits for a stopping node); what is left undone ends with the connection."""
        self._link.leaving = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._leave(), timeout)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._nc.close(), 1.0)

    async def _leave(self) -> None:
        for responder in self._responders:
            await responder.close()
        await self.bus.close()
        await self.presence.close()
        await self._nc.drain()
