"""Presence: which node holds which station's WebSocket, in a NATS key-value bucket.

Each node claims the stations connected to it: the key is the station id, the value names the
node and the connection, and the revision NATS gives the claim is the connection's
*generation*. A claim lasts the bucket's TTL (``[cluster] lease``) and is renewed every third of
it while the station stays connected, by a conditional update (``last=`` the revision this node
wrote): a renewal that finds another node's claim learns that it lost the station.

A station that reconnects to another node is claimed there with a newer generation. The old
node learns it from its watch of the bucket (or at its next renewal, whichever comes first),
marks its connection *superseded* and closes it; from then on :class:`FencedHandler` refuses
whatever that connection still delivers and never lets its end mark the station offline, so a
late message from the old socket cannot overwrite what the new connection reported. What it
cannot fence is a message the old node received before the watch told it of the takeover (a
few milliseconds, or up to a renewal period while NATS is away): docs/cluster.md says so.

A connection made while NATS was away is served unclaimed (generation 0, never fenced) until
the renewal loop can reach NATS. Its claim then is conditional, because "newer" is claim order
in the bucket, never connection time (the nodes' clocks are not one clock): it is written only
if nobody claimed the station meanwhile (the key is absent, or still holds one of this node's
own earlier connections of it); otherwise the claim found is the newer one, and this connection
is superseded and closed like any other, and its writes are fenced (generation -1, below every
real one). A new connection's claim is compare-and-set too (over whatever claim it read), never
a plain put: the NATS client sends what it kept while NATS was away once NATS is back, and a put
sent that late would overwrite a newer claim.

This module keeps claims and moves no OCPP frame; it must never decide what a station's
message means (the wrapped handler does) nor touch the database.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.payloads import Payload
from intercarga.ocpp.server import StationHandler, StationLink

__all__ = ["Claim", "FencedHandler", "Holder", "Presence", "presence_key"]

log = logging.getLogger(__name__)

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# A superseded connection is told this when it is closed.
SUPERSEDED_REASON = "taken over by another node"
# The generation of a connection superseded before NATS ever stored its claim: below every
# real one (a bucket revision, 1 or more).
NEVER_CLAIMED = -1
# A new connection's claim races another claim of the station at most this often in a row.
_CLAIM_ATTEMPTS = 3


def presence_key(station_id: str) -> str:
    """The bucket key of a station: its id when NATS allows it as a key (readable with
    ``nats kv get``), otherwise ``=`` and its URL-safe base64 (which no plain id starts with)."""
    if _SAFE_KEY.match(station_id):
        return station_id
    encoded = base64.urlsafe_b64encode(station_id.encode()).decode().rstrip("=")
    return "=" + encoded


@dataclass(frozen=True)
class Holder:
    """Who holds a station now: a node, and the generation of its connection there."""

    node: str
    generation: int


@dataclass(eq=False)
class Claim:
    """This node's claim on one station's connection."""

    station_id: str
    link: StationLink
    connection: str = field(default_factory=lambda: uuid.uuid4().hex)
    generation: int = 0  # the bucket revision of the claim; 0 until NATS has stored it
    revision: int = 0  # the last revision this node wrote (renewals move it on)
    superseded: bool = False
    # The connections of this node's earlier claims on the station that this one replaced
    # here since the last one NATS stored: older than this one, whatever the bucket holds.
    follows: frozenset[str] = frozenset()


def _value(node: str, claim: Claim) -> bytes:
    body = {"node": node, "connection": claim.connection, "generation": claim.generation}
    return json.dumps(body, separators=(",", ":")).encode()


def _read(value: bytes | None) -> dict[str, Any] | None:
    try:
        body = json.loads(value or b"")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class Presence:
    """The claims of this node, kept in ``kv`` and renewed until :meth:`close`."""

    def __init__(
        self,
        kv: KeyValue,
        node_id: str,
        *,
        lease: float,
        reachable: Callable[[], bool] = lambda: True,
    ) -> None:
        self._kv = kv
        # Whether NATS is connected now: while it is not, nothing is tried (each request would
        # wait its whole timeout, a station's connection and every renewal with it).
        self._reachable = reachable
        self.node_id = node_id
        self._renew_every = lease / 3
        # The newest claim of each station held here, and the claim of every live link (a
        # superseded one stays until its connection has ended).
        self._claims: dict[str, Claim] = {}
        self._by_link: dict[int, Claim] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        watcher = await self._kv.watchall()
        self._tasks = [
            asyncio.create_task(self._watch(watcher), name="presence-watch"),
            asyncio.create_task(self._renew(), name="presence-renew"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in [*self._tasks, *self._closing]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        self._tasks = []

    # -- claims --------------------------------------------------------------------------------

    def current(self, link: StationLink) -> bool:
        """Whether ``link`` may still speak for its station: no newer connection anywhere is
        known to this node. A link this node never claimed (NATS was away) may."""
        claim = self._by_link.get(id(link))
        return claim is None or not claim.superseded

    def claim_of(self, link: StationLink) -> Claim | None:
        return self._by_link.get(id(link))

    async def claim(self, link: StationLink) -> Claim:
        """Claim ``link``'s station for this node with a new generation (any older claim, of
        this node or another, is superseded)."""
        previous = self._claims.get(link.station_id)
        follows: frozenset[str] = frozenset()
        if previous is not None:
            previous.superseded = True
            follows = frozenset({previous.connection})
            if not previous.revision:
                follows |= previous.follows
        claim = Claim(link.station_id, link, follows=follows)
        self._claims[link.station_id] = claim
        self._by_link[id(link)] = claim
        try:
            if not self._reachable():
                raise ConnectionError("NATS is unreachable")
            await self._store(claim)
        except Exception as error:
            # The station is served all the same; the renewal loop claims it when NATS is back.
            log.error(
                "cannot record the station's presence: %s",
                error,
                extra={"station_id": link.station_id},
            )
        return claim

    async def _store(self, claim: Claim) -> None:
        """Claim the station for a new connection, over any claim found (this connection is
        the newest). Compare-and-set, never a plain put: a write the NATS client kept while
        NATS was away and sends once it is back must not overwrite a claim made meanwhile."""
        for _ in range(_CLAIM_ATTEMPTS):
            with contextlib.suppress(KeyWrongLastSequenceError):  # a claim came in between
                await self._write(claim, await self._latest(claim))
                return
        raise RuntimeError("the station is claimed concurrently again and again")

    async def _claim_again(self, claim: Claim) -> None:
        """Claim the station for ``claim`` after NATS did not store it (or its lease ran out),
        only if nobody claimed it since; a claim of another connection found instead is the
        newer one (claim order), and ``claim`` is superseded."""
        entry = await self._latest(claim)
        if entry is not None:
            body = _read(entry.value) or {}
            connection = body.get("connection")
            if connection != claim.connection and connection not in claim.follows:
                self._supersede(claim, f"node {body.get('node')}")
                return
        # A claim written between the read and the write fails the write
        # (KeyWrongLastSequenceError): the next renewal finds it and steps aside.
        await self._write(claim, entry)

    async def _latest(self, claim: Claim) -> KeyValue.Entry | None:
        try:
            return await self._kv.get(presence_key(claim.station_id))
        except KeyNotFoundError:
            return None

    async def _write(self, claim: Claim, over: KeyValue.Entry | None) -> None:
        """Write ``claim`` if the key still holds ``over`` (None: nothing); the revision
        written is its generation, and its link's."""
        key = presence_key(claim.station_id)
        value = _value(self.node_id, claim)
        if over is None:
            revision = await self._kv.create(key, value)
        else:
            revision = await self._kv.update(key, value, last=over.revision)
        claim.generation = claim.revision = revision
        claim.link.generation = revision  # what the CSMS fences its writes with
        # The generation is written into the value too, so that others can read it.
        claim.revision = await self._kv.update(key, _value(self.node_id, claim), last=revision)

    async def release(self, claim: Claim) -> None:
        """Forget ``claim``; its key is deleted only if it is still this claim's."""
        if self._claims.get(claim.station_id) is claim:
            del self._claims[claim.station_id]
        if self._by_link.get(id(claim.link)) is claim:
            del self._by_link[id(claim.link)]
        if claim.superseded or not claim.revision:
            return
        with contextlib.suppress(Exception):
            # Conditional: a newer claim written since (another node's) stays.
            await self._kv.delete(presence_key(claim.station_id), last=claim.revision)

    async def holder(self, station_id: str) -> Holder | None:
        """The node holding ``station_id`` now, or None (nobody claims it, or the lease ran out)."""
        try:
            entry = await self._kv.get(presence_key(station_id))
        except KeyNotFoundError:
            return None
        body = _read(entry.value)
        if body is None or not isinstance(body.get("node"), str):
            return None
        generation = body.get("generation")
        return Holder(
            body["node"],
            generation if isinstance(generation, int) and generation else entry.revision or 0,
        )

    # -- learning of takeovers -----------------------------------------------------------------

    def _supersede(self, claim: Claim, why: str) -> None:
        if claim.superseded:
            return
        claim.superseded = True
        if not claim.generation:
            # Never claimed (NATS was away at connection): older than every connection of the
            # station the database records, so that its writes are fenced as a superseded
            # connection's are (generation 0 would never be).
            claim.link.generation = NEVER_CLAIMED
        if self._claims.get(claim.station_id) is claim:
            del self._claims[claim.station_id]
        log.info(
            "station taken over elsewhere; closing its connection here (%s)",
            why,
            extra={"station_id": claim.station_id},
        )
        task = asyncio.create_task(claim.link.connection.close(1000, SUPERSEDED_REASON))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _watch(self, watcher: KeyValue.KeyWatcher) -> None:
        try:
            async for entry in watcher:
                if entry is None or entry.operation is not None:
                    continue  # the end of the initial values, or a deletion
                claim = next(
                    (c for c in self._claims.values() if presence_key(c.station_id) == entry.key),
                    None,
                )
                if claim is None or not claim.generation:
                    continue
                body = _read(entry.value)
                if body is None or body.get("connection") == claim.connection:
                    continue
                if (entry.revision or 0) > claim.generation:
                    self._supersede(claim, f"node {body.get('node')}")
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()  # type: ignore[no-untyped-call]

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self._renew_every)
            if not self._reachable():
                continue
            for claim in list(self._claims.values()):
                await self._renew_one(claim)

    async def _renew_one(self, claim: Claim) -> None:
        key = presence_key(claim.station_id)
        try:
            if not claim.revision:
                await self._claim_again(claim)  # never stored: NATS was away at connection
                return
            try:
                claim.revision = await self._kv.update(
                    key, _value(self.node_id, claim), last=claim.revision
                )
            except KeyWrongLastSequenceError:
                try:
                    entry = await self._kv.get(key)
                except KeyNotFoundError:
                    # The lease ran out (NATS was away longer than it): claim again.
                    await self._claim_again(claim)
                    return
                body = _read(entry.value) or {}
                if body.get("connection") != claim.connection:
                    self._supersede(claim, f"node {body.get('node')}")
        except Exception as error:
            log.warning(
                "cannot renew the station's presence: %s",
                error,
                extra={"station_id": claim.station_id},
            )


class FencedHandler:
    """A :class:`StationHandler` that claims each connection in :class:`Presence` and lets only
    the current one speak: a superseded connection's calls are refused (CALLERROR
    GenericError), its SEND messages dropped, and its end is not reported to ``inner`` (the
    station is online elsewhere)."""

    def __init__(self, inner: StationHandler, presence: Presence) -> None:
        self._inner = inner
        self._presence = presence

    async def connected(self, link: StationLink) -> None:
        await self._presence.claim(link)  # gives the link its generation, if NATS is reachable
        await self._inner.connected(link)

    async def handle_call(
        self, link: StationLink, action: str, payload: dict[str, Any] | Payload
    ) -> dict[str, Any]:
        if not self._presence.current(link):
            raise CallError(ErrorCode.GENERIC_ERROR, "this connection was replaced by a newer one")
        return await self._inner.handle_call(link, action, payload)

    async def handle_send(self, link: StationLink, action: str, payload: dict[str, Any]) -> None:
        if self._presence.current(link):
            await self._inner.handle_send(link, action, payload)

    async def disconnected(self, link: StationLink) -> None:
        claim = self._presence.claim_of(link)
        if claim is not None:
            await self._presence.release(claim)
            if claim.superseded:
                return
        await self._inner.disconnected(link)
