"""Commands across nodes: NATS request-reply to the node that holds the station.

:class:`CommandRouter` is the CSMS's ``RemoteStations`` port: asked for a station this node
does not hold, it reads the holder in :class:`~intercarga.cluster.presence.Presence` and sends
the command (or a raw OCPP call, or a question for the connection view) on the holder's subject
(``{cluster}.commands.{node}``). :class:`CommandResponder` answers that subject on every node by
carrying the command out on its own link (or describing that link). Nobody
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
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from intercarga.cluster.presence import Presence
from intercarga.cluster.wire import (
    ConnectionQuery,
    RawCall,
    Request,
    decode_answer,
    decode_command,
    decode_reply,
    encode_answer,
    encode_command,
    encode_error,
    encode_result,
)
from intercarga.ocpp.commands import Command, Result
from intercarga.ocpp.errors import CallTimeoutError, StationOfflineError

__all__ = ["CommandResponder", "CommandRouter", "Describe", "RunCall", "command_subject"]

log = logging.getLogger(__name__)

RunCommand = Callable[[str, Command], Awaitable[Result]]
# A raw OCPP call on this node's link: (station id, action, payload) → the station's answer.
RunCall = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]
# The connection view of a station held here (frames or not), None when it is not.
Describe = Callable[[str, bool], dict[str, Any] | None]


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
        return decode_reply(await self._request(station_id, command))

    async def call(self, station_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send ``action`` as it is (a raw OCPP call) and return the station's answer."""
        answer = decode_answer(await self._request(station_id, RawCall(action, payload)))
        if answer is None:
            raise StationOfflineError(f"station {station_id} is not connected")
        return answer

    async def connection(self, station_id: str, *, frames: bool) -> dict[str, Any] | None:
        """The connection view of the node holding the station; None when no node does."""
        try:
            return decode_answer(await self._request(station_id, ConnectionQuery(frames)))
        except StationOfflineError:
            return None

    async def _request(self, station_id: str, request: Request) -> bytes:
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
                encode_command(station_id, request),
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
        data: bytes = reply.data
        return data


class CommandResponder:
    """Carries out, with ``run`` (``call``), the commands (raw calls) other nodes send for the
    stations held here, each in its own task so that a slow station never holds up the others,
    and answers their questions for a connection view with ``describe``."""

    def __init__(
        self,
        nc: Client,
        *,
        cluster: str,
        node_id: str,
        run: RunCommand,
        call: RunCall,
        describe: Describe,
    ) -> None:
        self._nc = nc
        self._subject = command_subject(cluster, node_id)
        self._run = run
        self._call = call
        self._describe = describe
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
            station_id, request = decode_command(msg.data)
            match request:
                case RawCall(action=action, payload=payload):
                    reply = encode_answer(await self._call(station_id, action, payload))
                case ConnectionQuery(frames=frames):
                    reply = encode_answer(self._describe(station_id, frames))
                case _:
                    reply = encode_result(await self._run(station_id, request))
        except Exception as error:
            if not isinstance(error, StationOfflineError):
                log.warning("command from another node failed: %s", error)
            reply = encode_error(error)
        with contextlib.suppress(Exception):
            await msg.respond(reply)
