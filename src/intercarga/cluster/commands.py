"""Commands across nodes: NATS request-reply to the node that holds the station.

:class:`CommandRouter` is the CSMS's ``RemoteStations`` port: asked for a station this node
does not hold, it reads the holder in :class:`~intercarga.cluster.presence.Presence` and sends
the command on the holder's subject (``{cluster}.commands.{node}``). :class:`CommandResponder`
answers that subject on every node by carrying the command out on its own link. Nobody
holding the station, an expired lease, or a holder that does not answer ("no responders": its
process is gone) is "station offline" at once; a holder that does not reply within
``command_timeout`` is a call timeout. Never a hang.

This module moves commands; it must never decide anything about them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from intercarga.cluster.presence import Presence
from intercarga.cluster.wire import (
    decode_command,
    decode_reply,
    encode_command,
    encode_error,
    encode_result,
)
from intercarga.ocpp.commands import Command, Result
from intercarga.ocpp.errors import CallTimeoutError, StationOfflineError

__all__ = ["CommandResponder", "CommandRouter", "command_subject"]

log = logging.getLogger(__name__)

RunCommand = Callable[[str, Command], Awaitable[Result]]


def command_subject(cluster: str, node: str) -> str:
    return f"{cluster}.commands.{node}"


class CommandRouter:
    """Sends a command to the node holding the station (the CSMS's ``RemoteStations``)."""

    def __init__(
        self, nc: Client, presence: Presence, *, cluster: str, node_id: str, timeout: float
    ) -> None:
        self._nc = nc
        self._presence = presence
        self._cluster = cluster
        self._node_id = node_id
        self._timeout = timeout

    async def run_command(self, station_id: str, command: Command) -> Result:
        try:
            holder = await asyncio.wait_for(self._presence.holder(station_id), self._timeout)
        except Exception as error:
            raise StationOfflineError(
                f"station {station_id} is not connected here and the cluster cannot say where"
                f" it is ({type(error).__name__})"
            ) from None
        if holder is None or holder.node == self._node_id:
            # Held by nobody, or by this node though it has no link (it just went away).
            raise StationOfflineError(f"station {station_id} is not connected")
        try:
            reply = await self._nc.request(
                command_subject(self._cluster, holder.node),
                encode_command(station_id, command),
                timeout=self._timeout,
            )
        except NoRespondersError:
            raise StationOfflineError(
                f"station {station_id} is not connected (its node {holder.node} is gone)"
            ) from None
        except NatsTimeoutError:
            raise CallTimeoutError(
                f"station {station_id} did not answer in time (through node {holder.node})"
            ) from None
        return decode_reply(reply.data)


class CommandResponder:
    """Carries out, with ``run``, the commands other nodes send for the stations held here;
    each in its own task, so that a slow station never holds up the others."""

    def __init__(self, nc: Client, *, cluster: str, node_id: str, run: RunCommand) -> None:
        self._nc = nc
        self._subject = command_subject(cluster, node_id)
        self._run = run
        self._subscription: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._subscription = await self._nc.subscribe(self._subject, cb=self._received)

    async def close(self) -> None:
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
            self._subscription = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)

    async def _received(self, msg: Msg) -> None:
        task = asyncio.create_task(self._answer(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, msg: Msg) -> None:
        try:
            station_id, command = decode_command(msg.data)
            reply = encode_result(await self._run(station_id, command))
        except Exception as error:
            if not isinstance(error, StationOfflineError):
                log.warning("command from another node failed: %s", error)
            reply = encode_error(error)
        with contextlib.suppress(Exception):
            await msg.respond(reply)
