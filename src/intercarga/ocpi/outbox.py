"""The push outbox: every request to a partner is stored first, then delivered in order, retried.

Theory of operation
===================

Whatever this deployment pushes (an EVSE status PATCH, a Session PUT, a CDR POST, a hub's
forward, a command result) is first an :class:`~intercarga.store.roaming.OutboxEntry` in the
store, written before anything leaves. Delivery runs in *lanes*, one asyncio task per partner
with rows waiting: a lane reads the partner's first pending rows (lowest ids first), takes from
the head the longest run of due rows in which no two are about the same object
(:func:`together`: a Location and one of its EVSEs are one object here), leases them in one
statement, renders each in the partner's current OCPI version, sends them at once (at most
``RetryPolicy.window``) and writes what became of them in one transaction before it looks at
the next rows. So a partner receives each object's rows in the order they were stored (rows of
different objects may overtake one another), and one partner's outage never holds up another.

A row that fails is retried with exponential backoff (:class:`RetryPolicy`) and stays at the head
of its lane, so nothing behind it overtakes it; it is then tried alone (a probe) until it goes
through, so a partner that is down is not sent a whole window at every retry. Failures are of two kinds (:func:`classify`):
*transient* (connection refused, timeout, HTTP 5xx, 401 while a partner rotates credentials,
OCPI 3xxx/4xxx) are retried until the policy's ``give_up_after``; a *refusal* (HTTP 4xx, OCPI
2xxx: the partner says this request is wrong) is tried ``refusals`` times and then set aside as
FAILED, visible in the admin API, so the lane moves on. An EVSE PATCH refused because the partner
does not know the Location becomes a PUT of the whole Location (the renderer's fallback).

Exactly once: a row is stored before it is sent and SENT only after the partner's 1xxx answer.
A row that an earlier attempt may have delivered — that attempt failed or its answer was lost,
or its sender died before writing the row SENT (the row's lease ran out unsettled, which
:meth:`~intercarga.store.roaming.OutboxRepository.lease_all` counts as an attempt) — is *in
doubt* (``attempts > 0``). Before sending it again the lane asks the partner with a GET of the
same URL (:mod:`.doubt`): a partner whose copy is at least as new has it, and the row is SENT
without being sent; else it is sent. A CDR's URL at the eMSP comes only in the answer to its
POST: the ``Location`` of each CDR POST answered is kept in the store
(:class:`~intercarga.store.roaming.CdrLocation`, the latest per partner and CPO party, so any
node taking the lane over knows it), and an in-doubt CDR is asked about at the URL the eMSP would
have given it, named the same way (:func:`.doubt.cdr_url`). Where no such URL can be made (no
CDR of that party answered yet, or the eMSP's Location lacks our CDR id), and for a command
result or a hub's forwarded POST, the row is sent again and the receiver recognises the repeat
(a CDR by its id: same CDR, same id, accepted, not stored twice). A GET that gets no answer
(or a transient one) is a failed attempt, retried later; a partner that cannot answer the GET is
sent the row (at least once). A process restart resumes from the store.
Leases make two nodes sharing a database skip a lane another node is sending: in a cluster
(``lanes`` given) a node first leases the whole lane in the database
(:class:`~intercarga.store.leases.LeaseRepository`, ``outbox:{partner id}``), renewing it with
each run of rows it sends, so one node sends a partner's rows while the others leave that
partner alone; the lease of each row stays as a second guard.

This module decides nothing about *what* to push or to whom (:mod:`.push` does); it never
builds an OCPI body itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from intercarga.background import pause, stop_tasks
from intercarga.domain._types import utc_now
from intercarga.domain.partner import Partner, PartnerState
from intercarga.errors import IntercargaError
from intercarga.ocpi.client import (
    OcpiClient,
    PartnerError,
    PartnerRejectedError,
    PartnerUnreachableError,
    Reply,
)
from intercarga.ocpi.doubt import Answer, Verdict, cdr_url, judge, question
from intercarga.store.leases import LeaseRepository
from intercarga.store.partners import PartnerRepository
from intercarga.store.roaming import (
    FAILED,
    PENDING,
    SENT,
    CdrLocation,
    OutboxEntry,
    OutboxRepository,
    Settled,
)

__all__ = [
    "Failure",
    "Outbox",
    "Renderer",
    "Request",
    "RetryPolicy",
    "classify",
    "together",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Request:
    """What leaves for one outbox row: method, absolute URL, JSON body (None: no body)."""

    method: str
    url: str
    body: Any = None


class Renderer(Protocol):
    """Turns a stored row into the request for a partner (in the partner's current version)."""

    async def render(self, entry: OutboxEntry, partner: Partner) -> Request | None:
        """The request; None when there is nothing left to send (the row is done)."""

    async def fallback(
        self, entry: OutboxEntry, partner: Partner, error: PartnerRejectedError
    ) -> Request | None:
        """Another request to try when the partner refused ``entry`` (None: no other way)."""


class Failure(StrEnum):
    TRANSIENT = "TRANSIENT"  # try again later
    REFUSED = "REFUSED"  # the partner refuses this request


def classify(error: PartnerError) -> Failure:
    """Whether a failed push is worth retrying as it is (pure)."""
    if isinstance(error, PartnerUnreachableError):
        return Failure.TRANSIENT
    http, code = error.http_status, error.status_code
    if http >= 500 or http in (401, 408, 425, 429):
        return Failure.TRANSIENT
    if http >= 400:
        return Failure.REFUSED
    if code is not None and 2000 <= code < 3000:
        return Failure.REFUSED
    return Failure.TRANSIENT  # 3xxx (their server, their client API) and 4xxx (a hub's route)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    first_delay: float = 2.0  # seconds before the second attempt
    max_delay: float = 600.0  # backoff stops growing here
    factor: float = 2.0
    refusals: int = 3  # attempts at a request the partner refuses, then FAILED
    give_up_after: timedelta = timedelta(days=7)  # a transient failure this old: FAILED
    lease: float = 60.0  # seconds a sender holds a row (longer than a request may take)
    poll: float = 2.0  # seconds between looks at the store for rows other nodes stored
    # Rows of different objects a lane sends at once: pipelined on one connection
    # (:mod:`.pipeline`), and read, leased and settled in one statement or transaction each.
    window: int = 64

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        exponent = max(0, attempts - 1)
        return float(min(self.max_delay, self.first_delay * self.factor**exponent))


def _related(one: str, other: str) -> bool:
    """Whether two rows are about the same object, or one inside the other (a Location and
    one of its EVSEs): such rows must reach the partner one after the other."""
    return one == other or one.startswith(other + "/") or other.startswith(one + "/")


def together(rows: list[OutboxEntry], now: datetime) -> list[OutboxEntry]:
    """The rows at the head of a lane that may be in flight at the same time (pure).

    The longest run from the first row that is due in which no two rows are about the same
    object (:func:`_related`); a row that failed before goes alone, a probe, so a partner that
    is down is not sent a whole window each time it is tried again."""
    chosen: list[OutboxEntry] = []
    for entry in rows:
        if entry.next_attempt_at is not None and entry.next_attempt_at > now:
            break
        if chosen and (entry.attempts or chosen[0].attempts):
            break
        if any(_related(entry.object_key, other.object_key) for other in chosen):
            break
        chosen.append(entry)
    return chosen


def _is_cdr(entry: OutboxEntry) -> bool:
    return entry.kind == "cdr"


def _cdr_location(entry: OutboxEntry, location: str) -> CdrLocation:
    """What a CDR row's answer (or check) taught of how its eMSP names CDR URLs."""
    payload = entry.payload if isinstance(entry.payload, dict) else {}
    return CdrLocation(
        entry.partner_id,
        str(payload.get("country_code") or ""),
        str(payload.get("party_id") or ""),
        str(payload.get("id") or ""),
        location,
    )


def _lane_name(partner_id: str) -> str:
    return f"outbox:{partner_id}"


class Outbox:
    def __init__(
        self,
        repository: OutboxRepository,
        partners: PartnerRepository,
        client: OcpiClient,
        renderer: Renderer,
        *,
        policy: RetryPolicy | None = None,
        lanes: LeaseRepository | None = None,
        node: str = "",
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """``lanes`` and ``node``: in a cluster, the leases of lanes and this node's name."""
        self.repository = repository
        self._lanes_leased = lanes
        self._node = node
        self._partners = partners
        self._client = client
        self._renderer = renderer
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._wakers: dict[str, asyncio.Event] = {}
        self._running = False
        self._stopping = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self._sent_hooks: list[Callable[[OutboxEntry], Awaitable[None]]] = []
        # In-doubt rows the partner was found to hold, so SENT without being sent again.
        self.checked_not_resent = 0

    # -- storing -----------------------------------------------------------------------------
    async def enqueue(self, entries: list[OutboxEntry]) -> None:
        """Store rows (before anything is sent) and wake their partners' lanes."""
        if not entries:
            return
        await self.repository.enqueue(entries, self._clock())
        for partner_id in {entry.partner_id for entry in entries}:
            self.wake(partner_id)

    def wake(self, partner_id: str) -> None:
        """Look at ``partner_id``'s rows now (new rows, or an operator asked to retry)."""
        if not self._running:
            return
        waker = self._wakers.get(partner_id)
        if waker is not None:
            waker.set()
        lane = self._lanes.get(partner_id)
        if lane is None or lane.done():
            self._wakers[partner_id] = asyncio.Event()
            self._lanes[partner_id] = asyncio.create_task(
                self._lane(partner_id), name=f"ocpi-outbox-{partner_id}"
            )

    def on_sent(self, hook: Callable[[OutboxEntry], Awaitable[None]]) -> None:
        """Call ``hook`` after a row was delivered (the partner answered 1xxx)."""
        self._sent_hooks.append(hook)

    # -- running -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Start delivering: lanes for every partner with rows waiting, and a watcher."""
        if self._running:
            return
        self._running = True
        self._stopping = asyncio.Event()
        self._watcher = asyncio.create_task(self._watch(), name="ocpi-outbox")

    async def stop(self, grace: float | None = None) -> None:
        """Stop every lane once its row in flight is settled.

        Lanes and the watcher are asked to stop and waited for, up to ``grace`` (by default a
        row's lease: longer than a request may take), never cancelled inside a query: see
        :mod:`intercarga.background`. A lane still sending after that is cancelled; its row
        stays leased and is retried after the lease.
        """
        self._running = False
        self._stopping.set()
        for waker in self._wakers.values():
            waker.set()
        tasks = [task for task in (self._watcher, *self._lanes.values()) if task is not None]
        await stop_tasks(tasks, grace=self.policy.lease if grace is None else grace)
        if self._lanes_leased is not None:
            # Another node takes these lanes over at once rather than after the lease.
            for partner_id in self._lanes:
                with contextlib.suppress(Exception):
                    await self._lanes_leased.release(_lane_name(partner_id), self._node)
        self._lanes.clear()
        self._wakers.clear()
        self._watcher = None

    async def _watch(self) -> None:
        """Now and then, lanes for rows this process did not store (other nodes, a restart)."""
        last_cleanup = self._clock()
        while self._running:
            try:
                for partner_id in await self.repository.partners_waiting():
                    lane = self._lanes.get(partner_id)
                    if lane is None or lane.done():
                        self.wake(partner_id)
                now = self._clock()
                if now - last_cleanup > timedelta(hours=1):
                    last_cleanup = now
                    await self.repository.forget_sent(now - timedelta(days=30))
            except IntercargaError as error:
                log.error("outbox: %s", error)
            except Exception:
                log.exception("outbox watcher failed")
            await pause(self._stopping, self.policy.poll)

    async def _lane(self, partner_id: str) -> None:
        waker = self._wakers[partner_id]
        try:
            while self._running:
                waker.clear()
                wait = await self.deliver_next(partner_id)
                if wait is None:
                    if waker.is_set():
                        continue  # rows were stored while we looked
                    if self._lanes_leased is not None:
                        await self._lanes_leased.release(_lane_name(partner_id), self._node)
                    return
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(waker.wait(), timeout=wait)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The watcher starts the lane again; a bug must not stop deliveries for good.
            log.exception("outbox lane of partner %s failed", partner_id)
            await pause(self._stopping, self.policy.poll)

    # -- delivering --------------------------------------------------------------------------
    async def deliver_next(self, partner_id: str) -> float | None:
        """Send the partner's next rows that are due, at most ``policy.window`` at once.

        Returns None when the partner has nothing left, else the seconds until there is
        something to do (0: at once).
        """
        if self._lanes_leased is not None:
            now = self._clock()
            until = now + timedelta(seconds=self.policy.lease)
            if not await self._lanes_leased.take(_lane_name(partner_id), self._node, until, now):
                return self.policy.poll  # another node sends this lane
        rows = await self.repository.pending(partner_id, self.policy.window)
        if not rows:
            return None
        now = self._clock()
        due = rows[0].next_attempt_at or now
        if due > now:
            # Looked at again now and then: another process (the CLI, another node) may have
            # made the row due sooner.
            return min((due - now).total_seconds(), max(self.policy.poll, 1.0))
        window = together(rows, now)
        lease_until = now + timedelta(seconds=self.policy.lease)
        taken = await self.repository.lease_all([entry.id for entry in window], lease_until, now)
        # Each with its attempts as leased: an unsettled earlier lease makes a row in doubt.
        mine = [
            dataclasses.replace(entry, attempts=taken[entry.id])
            for entry in window
            if entry.id in taken
        ]
        if not mine:
            return self.policy.poll  # another node is sending this lane
        partner = await self._partner(partner_id)
        if partner is None or partner.state is not PartnerState.REGISTERED:
            outcomes = [
                Settled(entry.id, FAILED, entry.attempts, error="the partner is not registered")
                for entry in mine
            ]
        else:
            outcomes = list(
                await asyncio.gather(*(self._send(e, partner, lease_until) for e in mine))
            )
        learned = [
            _cdr_location(entry, outcome.location)
            for entry, outcome in zip(mine, outcomes, strict=True)
            if outcome.state == SENT and outcome.location
        ]
        await self.repository.settle(self._clock(), outcomes, lease=lease_until, learned=learned)
        for entry, outcome in zip(mine, outcomes, strict=True):
            if outcome.state == SENT:
                await self._delivered(entry)
        return 0 if window[0].id in taken else self.policy.poll

    async def _delivered(self, entry: OutboxEntry) -> None:
        for hook in self._sent_hooks:
            try:
                await hook(entry)
            except Exception:
                log.exception("outbox: a delivery hook failed")

    async def _partner(self, partner_id: str) -> Partner | None:
        """The partner, from the repository's copy (at once again after a registration
        change here, at most a second old otherwise)."""
        return next((p for p in await self._partners.current() if p.id == partner_id), None)

    async def _send(self, entry: OutboxEntry, partner: Partner, lease_until: datetime) -> Settled:
        """Send one row; what became of it (written by the caller with the others).

        Each request starts only while a quarter of the row's lease is left (the lease is four
        request timeouts): a request this sender makes is over, answered or given up, before
        the next sender may take the row and ask the partner about it."""
        attempts = entry.attempts + 1
        last_start = lease_until - timedelta(seconds=self.policy.lease / 4)
        location: str | None = None
        try:
            request = await self._renderer.render(entry, partner)
            asked = None
            if request is not None and entry.attempts:
                asked = await self._asked_at(entry, partner, request)
            if (
                request is not None
                and asked is not None
                and await self._holds(entry, partner, request, asked, last_start)
            ):
                log.info(
                    "outbox: %s %s was in doubt and %s holds it: not sent again",
                    request.method,
                    entry.object_key,
                    entry.partner_id,
                )
                self.checked_not_resent += 1
                return Settled(entry.id, SENT, location=asked if _is_cdr(entry) else None)
            if request is not None:
                try:
                    reply = await self._call(entry, partner, request, last_start)
                    if _is_cdr(entry) and request.method == "POST":
                        location = reply.headers.get("location")
                except PartnerRejectedError as error:
                    other = await self._renderer.fallback(entry, partner, error)
                    if other is None:
                        raise
                    log.info(
                        "outbox: %s %s refused (%s), sending %s %s instead",
                        request.method,
                        entry.object_key,
                        error,
                        other.method,
                        other.url,
                    )
                    await self._call(entry, partner, other, last_start)
        except PartnerError as error:
            return self._failed(entry, attempts, error)
        except (IntercargaError, ValueError) as error:
            # The row cannot be written for this partner (e.g. its version lacks the module).
            log.error("outbox: row %s cannot be sent: %s", entry.id, error)
            return Settled(entry.id, FAILED, attempts, error=f"cannot be sent: {error}")
        return Settled(entry.id, SENT, location=location)

    async def _asked_at(self, entry: OutboxEntry, partner: Partner, request: Request) -> str | None:
        """The URL to GET to ask whether the partner holds an in-doubt row's push: the push's
        own, a CDR POST's the one the eMSP would have given it (learned from its answer to the
        latest CDR of the same CPO party); None when it cannot be asked (sent again)."""
        if question(request.method, request.body):
            return request.url
        if not (_is_cdr(entry) and request.method == "POST" and isinstance(entry.payload, dict)):
            return None
        country_code, party_id, cdr_id = (
            str(entry.payload.get(name) or "") for name in ("country_code", "party_id", "id")
        )
        known = await self.repository.cdr_location(partner.id, country_code, party_id)
        url = None if known is None else cdr_url(known.location, known.cdr_id, cdr_id)
        if url is None:
            log.warning(
                "outbox: CDR %s to %s is in doubt and its URL there is unknown: sent again",
                cdr_id,
                entry.partner_id,
            )
        return url

    async def _holds(
        self,
        entry: OutboxEntry,
        partner: Partner,
        request: Request,
        url: str,
        last_start: datetime,
    ) -> bool:
        """Whether the partner already holds an in-doubt row's push (:mod:`.doubt`), asked with
        a GET of ``url``; False when it cannot tell.

        Raises :class:`PartnerError` when the GET got no answer or a transient one: the row is
        then retried later like a failed send, still in doubt."""
        self._in_time(last_start)
        if partner.outgoing_token is None:
            raise PartnerUnreachableError("no token to present to the partner")
        try:
            reply = await self._client.call(
                "GET",
                url,
                token=partner.outgoing_token,
                raw=partner.raw_token,
                headers=entry.headers,
                correlation_id=entry.correlation_id or None,
            )
            answer = Answer(reply.http_status, reply.status_code, reply.data)
        except PartnerRejectedError as error:  # an HTTP error without an OCPI body
            answer = Answer(error.http_status, error.status_code)
        code = answer.status_code
        if answer.http_status >= 300 or code is None or not 1000 <= code < 2000:
            refusal = PartnerRejectedError(
                f"in-doubt check: GET {url} answered HTTP {answer.http_status}, OCPI {code}",
                status_code=code,
                http_status=answer.http_status,
                method="GET",
                url=url,
            )
            if classify(refusal) is Failure.TRANSIENT:
                raise refusal
        verdict = judge(request.method, request.body, answer)
        if verdict is Verdict.UNANSWERABLE:
            log.warning(
                "outbox: %s cannot tell whether it holds %s (GET answered HTTP %d, OCPI %s): "
                "sent again",
                entry.partner_id,
                entry.object_key,
                answer.http_status,
                code,
            )
        return verdict is Verdict.HOLDS

    def _in_time(self, last_start: datetime) -> None:
        if self._clock() > last_start:
            raise PartnerUnreachableError("not sent: this sender's lease of the row ran short")

    async def _call(
        self, entry: OutboxEntry, partner: Partner, request: Request, last_start: datetime
    ) -> Reply:
        self._in_time(last_start)
        if partner.outgoing_token is None:
            raise PartnerUnreachableError("no token to present to the partner")
        return await self._client.call_ok(
            request.method,
            request.url,
            token=partner.outgoing_token,
            raw=partner.raw_token,
            json=request.body,
            headers=entry.headers,
            correlation_id=entry.correlation_id or None,
            pipelined=True,
        )

    def _failed(self, entry: OutboxEntry, attempts: int, error: PartnerError) -> Settled:
        kind = classify(error)
        now = self._clock()
        age = now - (entry.created_at or now)
        message = f"{kind.value.lower()}: {error}"
        if (kind is Failure.REFUSED and attempts >= self.policy.refusals) or (
            kind is Failure.TRANSIENT and age >= self.policy.give_up_after
        ):
            log.error("outbox: gave up on %s for %s: %s", entry.object_key, entry.partner_id, error)
            return Settled(entry.id, FAILED, attempts, error=message)
        delay = self.policy.delay(attempts)
        log.warning(
            "outbox: %s to %s failed (attempt %d, next in %.1f s): %s",
            entry.object_key,
            entry.partner_id,
            attempts,
            delay,
            error,
        )
        return Settled(entry.id, PENDING, attempts, now + timedelta(seconds=delay), message)
