"""What to push to whom when things change, and how a stored push is written for a partner.

:class:`Pusher` turns facts into outbox rows: an EVSE status change becomes a Location/EVSE
PATCH for every partner that receives our Locations; a session change a Session PUT, and a new
CDR a CDR POST, for the eMSP of the session's token (directly or through a hub); a Location,
Tariff or Token of ours a PUT (a Tariff's removal a DELETE) for every partner that receives
them. Only objects of the parties this deployment hosts are pushed: what partners pushed to us
is theirs. Rows keep the domain object (``payload``), and :meth:`Pusher.render` writes it in
the partner's version when it leaves, so a partner that switches version gets the new shape.

The bus calls the ``on_*`` handlers after the fact is stored; they only store rows (fast, on
the publisher's task) and never wait for a partner.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from intercarga import domain
from intercarga.background import pause, stop_tasks
from intercarga.bus import EventBus
from intercarga.config import Settings
from intercarga.domain._types import utc_now
from intercarga.domain.events import (
    CdrCreated,
    EvseStatusChanged,
    ObjectRemoved,
    SessionChanged,
)
from intercarga.domain.partner import Partner
from intercarga.errors import IntercargaError
from intercarga.ocpi import mapping
from intercarga.ocpi.client import PartnerRejectedError
from intercarga.ocpi.envelope import StatusCode
from intercarga.ocpi.models import format_datetime
from intercarga.ocpi.outbox import Outbox, Request
from intercarga.ocpi.routing import (
    RECEIVING_ROLES,
    Party,
    Target,
    addressed,
    broadcast_targets,
    our_parties,
    path,
    routing_headers,
)
from intercarga.ocpi.sessions import session_for_ocpi, session_token
from intercarga.ocpi.translate import object_kind, translate
from intercarga.store import Store
from intercarga.store.leases import LeaseRepository
from intercarga.store.partners import PartnerRepository
from intercarga.store.roaming import ClientInfoRepository, OutboxEntry

__all__ = [
    "PUSH_GROUP",
    "ChangeWatcher",
    "PushRenderer",
    "Pusher",
    "fingerprint",
]

log = logging.getLogger(__name__)

# The consumer group of the pusher in a cluster (docs/cluster.md).
PUSH_GROUP = "ocpi-push"
# What a newer full copy makes stale, by kind.
_REPLACES = {
    "location": frozenset({"location", "evse_status"}),
    "evse_status": frozenset({"evse_status"}),
    "session": frozenset({"session"}),
    "tariff": frozenset({"tariff", "tariff_delete"}),
    "tariff_delete": frozenset({"tariff", "tariff_delete"}),
    "token": frozenset({"token"}),
}
# 2.1.1 partners take Locations and Tokens only (the rest has no 2.1.1 mapping here).
_LEGACY_KINDS = frozenset({"location", "evse_status", "token", "raw"})


class Pusher:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        partners: PartnerRepository,
        client_info: ClientInfoRepository,
        outbox: Outbox,
    ) -> None:
        self._settings = settings
        self._store = store
        self._partners = partners
        self._client_info = client_info
        self.outbox = outbox
        self._tokens: OrderedDict[tuple[str, ...], domain.CdrToken] = OrderedDict()
        self._routes: dict[tuple[Party, str], Target | None] = {}
        self._routes_for: list[Partner] | None = None

    def subscribe(self, bus: EventBus) -> None:
        # Once per cluster: in a cluster whichever node takes an event from the group queues
        # its pushes (CDR delivery included, so a CDR follows its session's last update).
        for kind, handler in (
            (ObjectRemoved, self.on_removed),
            (EvseStatusChanged, self.on_evse_status),
            (SessionChanged, self.on_session),
            (CdrCreated, self.on_cdr),
        ):
            bus.subscribe(kind, handler, group=PUSH_GROUP)

    # -- whose objects -----------------------------------------------------------------------
    def ours(self, role: str) -> frozenset[Party]:
        return our_parties(self._settings, role)

    async def partners_changed(self, _partner: Partner) -> None:
        """A registration changed (a Registrar listener): the routes are worked out again.

        The partners themselves come from the repository's copy, which every write through it
        drops at once."""
        self._routes_for = None

    async def _registered(self) -> list[Partner]:
        """Every partner, from the repository's copy (at most a second old; at once again
        after a registration change here)."""
        return await self._partners.current()

    # -- events ------------------------------------------------------------------------------
    async def on_evse_status(self, event: EvseStatusChanged) -> None:
        owner = (event.country_code, event.party_id)
        if owner not in self.ours("CPO"):
            return
        targets = broadcast_targets(await self._registered(), "locations", "CPO")
        key = path(event.country_code, event.party_id, event.location_id, event.evse_uid)
        await self._enqueue(
            targets,
            owner,
            module="locations",
            method="PATCH",
            suffix=key,
            key="locations" + key,
            kind="evse_status",
            payload={
                "status": event.status.value,
                "last_updated": format_datetime(event.timestamp),
            },
        )

    async def on_session(self, event: SessionChanged) -> None:
        session = event.session
        owner = (session.country_code, session.party_id)
        if owner not in self.ours("CPO"):
            return
        if not any(p.endpoint("sessions", "RECEIVER") for p in await self._registered()):
            return  # nobody to tell: no store look-up for every meter value
        token = await self._session_token(session)
        target = await self._for_emsp((token.country_code, token.party_id), "sessions")
        if target is None:
            return
        key = path(session.country_code, session.party_id, session.id)
        await self._enqueue(
            [target],
            owner,
            module="sessions",
            method="PUT",
            suffix=key,
            key="sessions" + key,
            kind="session",
            payload={
                "session": session.model_dump(mode="json"),
                "cdr_token": token.model_dump(mode="json"),
            },
        )

    async def _session_token(self, session: domain.Session) -> domain.CdrToken:
        """The session's token, looked up once per session (a session keeps its token)."""
        key = (session.country_code, session.party_id, session.id, session.token_uid or "")
        token = self._tokens.get(key)
        if token is None:
            token = await session_token(self._store, session, self.ours("EMSP"))
            self._tokens[key] = token
            if len(self._tokens) > 10_000:
                self._tokens.popitem(last=False)
        else:
            self._tokens.move_to_end(key)
        return token

    async def on_cdr(self, event: CdrCreated) -> None:
        cdr = event.cdr
        owner = (cdr.country_code, cdr.party_id)
        if owner not in self.ours("CPO"):
            return
        emsp = (cdr.cdr_token.country_code, cdr.cdr_token.party_id)
        target = await self._for_emsp(emsp, "cdrs")
        if target is None:
            return
        key = "cdrs" + path(cdr.country_code, cdr.party_id, cdr.id)
        _rows, known = await self.outbox.repository.entries(
            target.partner.id, object_key=key, limit=1
        )
        if known:
            # Queued already: in a cluster an event whose node died before acknowledging it is
            # handled again elsewhere, and a CDR is POSTed once.
            return
        await self._enqueue(
            [target],
            owner,
            module="cdrs",
            method="POST",
            suffix="",
            key=key,
            kind="cdr",
            payload=cdr.model_dump(mode="json"),
        )

    async def requeue_missing_cdrs(
        self, since: datetime, *, settled: timedelta = timedelta(0)
    ) -> int:
        """Queue the CDRs of ours since ``since`` that never got an outbox row for their eMSP,
        leaving out those changed in the last ``settled`` (their row may be on its way).

        Closes the gap between a CDR being stored and its row being stored, should the process
        die in between, and sends CDRs to an eMSP that became reachable only later.
        """
        count = 0
        newest = utc_now() - settled
        for owner in sorted(self.ours("CPO")):
            filters = {"country_code": owner[0], "party_id": owner[1]}
            page = await self._store.cdrs.list(limit=None, filters=filters, updated_from=since)
            for cdr in page.items:
                if settled and cdr.last_updated > newest:
                    continue
                emsp = (cdr.cdr_token.country_code, cdr.cdr_token.party_id)
                target = await self._for_emsp(emsp, "cdrs", quiet=True)
                if target is None:
                    continue
                key = "cdrs" + path(cdr.country_code, cdr.party_id, cdr.id)
                _rows, known = await self.outbox.repository.entries(
                    target.partner.id, object_key=key, limit=1
                )
                if not known:
                    log.warning("CDR %s was never queued for its eMSP: queued now", cdr.id)
                    await self.on_cdr(CdrCreated(cdr))
                    count += 1
        return count

    async def _for_emsp(self, emsp: Party, module: str, *, quiet: bool = False) -> Target | None:
        """Where a session or CDR for ``emsp``'s driver goes; None when the driver is ours."""
        if emsp in self.ours("EMSP"):
            return None
        partners = await self._registered()
        if self._routes_for is not partners:
            # Routes are worked out again whenever the partners were read again (each second).
            self._routes, self._routes_for = {}, partners
        if (emsp, module) in self._routes:
            return self._routes[(emsp, module)]
        hubs = await self._client_info.reachable_through(*emsp, roles=("EMSP",))
        target = addressed(partners, emsp, "EMSP", module, hubs_reaching=hubs)
        self._routes[(emsp, module)] = target
        if target is None and not quiet:
            log.warning("no partner reaches eMSP %s-%s for %s", *emsp, module)
        return target

    # -- objects everyone receives -------------------------------------------------------------
    async def location_changed(
        self, location: domain.Location, *, only: Partner | None = None, to: Party | None = None
    ) -> int:
        owner = (location.country_code, location.party_id)
        key = path(location.country_code, location.party_id, location.id)
        return await self._broadcast(
            owner,
            "CPO",
            "locations",
            "PUT",
            key,
            "location",
            location.model_dump(mode="json"),
            only,
            to=to,
        )

    async def tariff_changed(
        self, tariff: domain.Tariff, *, only: Partner | None = None, to: Party | None = None
    ) -> int:
        owner = (tariff.country_code, tariff.party_id)
        key = path(tariff.country_code, tariff.party_id, tariff.id)
        payload = tariff.model_dump(mode="json")
        return await self._broadcast(
            owner, "CPO", "tariffs", "PUT", key, "tariff", payload, only, to=to
        )

    async def tariff_removed(self, country_code: str, party_id: str, tariff_id: str) -> int:
        key = path(country_code, party_id, tariff_id)
        return await self._broadcast(
            (country_code, party_id), "CPO", "tariffs", "DELETE", key, "tariff_delete", None, None
        )

    async def token_changed(
        self, token: domain.Token, *, only: Partner | None = None, to: Party | None = None
    ) -> int:
        owner = (token.country_code, token.party_id)
        key = path(token.country_code, token.party_id, token.uid)
        return await self._broadcast(
            owner,
            "EMSP",
            "tokens",
            "PUT",
            f"{key}?type={token.type.value}",
            "token",
            token.model_dump(mode="json"),
            only,
            object_key="tokens" + key,
            to=to,
        )

    async def on_removed(self, event: ObjectRemoved) -> None:
        """An operator deleted an object partners hold. OCPI deletes only Tariffs; a Location
        stays with every EVSE REMOVED, a Token stays invalid."""
        item, now = event.item, utc_now()
        if isinstance(item, domain.Tariff):
            await self.tariff_removed(item.country_code, item.party_id, item.id)
        elif isinstance(item, domain.Token):
            await self.token_changed(item.model_copy(update={"valid": False, "last_updated": now}))
        else:
            removed = {"status": domain.EVSEStatus.REMOVED, "last_updated": now}
            evses = [evse.model_copy(update=removed) for evse in item.evses]
            await self.location_changed(
                item.model_copy(update={"evses": evses, "last_updated": now})
            )

    async def push_all(
        self, partner: Partner, *, to: Party | None = None, to_role: str | None = None
    ) -> int:
        """Push every Location, Tariff and Token of ours that ``partner`` receives (a full sync);
        with ``to`` (a party of role ``to_role`` behind a hub), only what that party receives,
        addressed to it alone."""
        count = 0
        if to_role is None or to_role in RECEIVING_ROLES["CPO"]:
            for owner in sorted(self.ours("CPO")):
                filters = {"country_code": owner[0], "party_id": owner[1]}
                locations = await self._store.locations.list(limit=None, filters=filters)
                for location in locations.items:
                    count += await self.location_changed(location, only=partner, to=to)
                for tariff in (await self._store.tariffs.list(limit=None, filters=filters)).items:
                    count += await self.tariff_changed(tariff, only=partner, to=to)
        if to_role is None or to_role in RECEIVING_ROLES["EMSP"]:
            for owner in sorted(self.ours("EMSP")):
                filters = {"country_code": owner[0], "party_id": owner[1]}
                for token in (await self._store.tokens.list(limit=None, filters=filters)).items:
                    count += await self.token_changed(token, only=partner, to=to)
        return count

    async def introduce(self, hub: Partner, party: Party, role: str) -> int:
        """A hub says ``party`` (``role``) has just joined it: push that party, through the hub,
        every object of ours it should hold. Without this a party that joins a hub after us
        would never get the Locations we pushed before it came, and every later EVSE status
        PATCH would meet an unknown Location."""
        if any((p.country_code, p.party_id) == party for p in self._settings.ocpi.parties):
            return 0
        count = await self.push_all(hub, to=party, to_role=role)
        if count:
            log.info("pushing %d objects to %s-%s, new behind hub %s", count, *party, hub.id)
        return count

    async def _broadcast(
        self,
        owner: Party,
        role: str,
        module: str,
        method: str,
        suffix: str,
        kind: str,
        payload: Any,
        only: Partner | None,
        *,
        object_key: str | None = None,
        to: Party | None = None,
    ) -> int:
        if owner not in self.ours(role):
            return 0
        partners = [only] if only is not None else await self._registered()
        targets = broadcast_targets(partners, module, role)
        if to is not None:
            # One party behind a hub: the hub routes by the OCPI-to headers, not to everyone.
            targets = [Target(t.partner, to, hub=True) for t in targets if t.hub]
        return await self._enqueue(
            targets,
            owner,
            module=module,
            method=method,
            suffix=suffix,
            key=object_key or module + suffix,
            kind=kind,
            payload=payload,
        )

    async def _enqueue(
        self,
        targets: list[Target],
        owner: Party,
        *,
        module: str,
        method: str,
        suffix: str,
        key: str,
        kind: str,
        payload: Any,
    ) -> int:
        entries = [
            OutboxEntry(
                partner_id=target.partner.id,
                module=module,
                method=method,
                path=suffix,
                object_key=key,
                kind=kind,
                payload=payload,
                headers=routing_headers(owner, target.to),
                correlation_id=str(uuid.uuid4()),
                replaces=_REPLACES.get(kind, frozenset()),
            )
            for target in targets
            if target.partner.version != "2.1.1" or kind in _LEGACY_KINDS
        ]
        await self.outbox.enqueue(entries)
        return len(entries)


class PushRenderer:
    """The outbox's :class:`~intercarga.ocpi.outbox.Renderer`: a row in the partner's version."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def render(self, entry: OutboxEntry, partner: Partner) -> Request | None:
        url = entry.url or self._url(entry, partner)
        version = partner.version or "2.2.1"
        body = self._body(entry, version)
        return Request(entry.method, url, body)

    async def fallback(
        self, entry: OutboxEntry, partner: Partner, error: PartnerRejectedError
    ) -> Request | None:
        """An EVSE PATCH for a Location the partner lacks: PUT the whole Location instead."""
        unknown = error.status_code == StatusCode.UNKNOWN_LOCATION or error.http_status == 404
        if entry.kind != "evse_status" or not unknown:
            return None
        country_code, party_id, location_id = _location_key(entry.object_key)
        location = await self._store.locations.find(country_code, party_id, location_id)
        if location is None:
            return None
        version = partner.version or "2.2.1"
        base = partner.endpoint("locations", "RECEIVER")
        if base is None:
            return None
        return Request(
            "PUT",
            base.rstrip("/") + path(country_code, party_id, location_id),
            mapping.location_to_ocpi(location, version),
        )

    @staticmethod
    def _url(entry: OutboxEntry, partner: Partner) -> str:
        base = partner.endpoint(entry.module, entry.interface)
        if base is None:
            raise IntercargaError(
                f"the partner offers no {entry.module} {entry.interface.lower()} endpoint"
            )
        return base.rstrip("/") + entry.path

    @staticmethod
    def _body(entry: OutboxEntry, version: str) -> Any:
        payload = entry.payload
        if entry.kind == "raw" and entry.method in ("PUT", "POST"):
            # A hub's forward: a whole object goes in the receiving partner's version.
            segments = len([part for part in entry.path.split("?")[0].split("/") if part])
            kind = object_kind(entry.module, entry.interface, segments)
            return translate(kind, payload, entry.version, version)
        if entry.kind in ("raw", "evse_status"):
            return payload
        if entry.kind == "tariff_delete":
            return None
        if version == "2.1.1" and entry.kind not in _LEGACY_KINDS:
            raise IntercargaError(f"{entry.module} are not pushed to OCPI 2.1.1 partners")
        if entry.kind == "location":
            return mapping.location_to_ocpi(domain.Location.model_validate(payload), version)
        if entry.kind == "tariff":
            return mapping.tariff_to_ocpi(domain.Tariff.model_validate(payload), version)
        if entry.kind == "token":
            return mapping.token_to_ocpi(domain.Token.model_validate(payload), version)
        if entry.kind == "cdr":
            return mapping.cdr_to_ocpi(domain.Cdr.model_validate(payload), version)
        if entry.kind == "session":
            session = session_for_ocpi(domain.Session.model_validate(payload["session"]))
            token = domain.CdrToken.model_validate(payload["cdr_token"])
            return mapping.session_to_ocpi(session, token, version)
        raise IntercargaError(f"unknown outbox row kind {entry.kind!r}")


def _location_key(object_key: str) -> tuple[str, str, str]:
    parts = [unquote(part) for part in object_key.split("/")]
    # "locations/CC/PID/LOCATION[/EVSE]"
    return parts[1], parts[2], parts[3]


def fingerprint(item: domain.Location | domain.Tariff | domain.Token) -> str:
    """What a partner would see change, as a digest: no timestamps, no EVSE statuses (those
    travel as PATCHes of their own)."""
    data = item.model_dump(mode="json", exclude={"last_updated"})
    for evse in data.get("evses") or []:
        evse.pop("status", None)
        evse.pop("last_updated", None)
        for connector in evse.get("connectors") or []:
            connector.pop("last_updated", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


_WATCHER_LEASE = "ocpi-change-watcher"


class ChangeWatcher:
    """Pushes Locations, Tariffs and Tokens of ours that changed without a domain event (an
    operator's edit through the admin API or the CLI).

    Every ``interval`` seconds it reads the objects of our parties updated since it last looked
    and pushes those whose :func:`fingerprint` changed. It starts looking at its own start: what
    changed before is pushed by a partner's full sync (``POST /api/v1/partners/{id}/sync``).
    """

    def __init__(
        self,
        store: Store,
        pusher: Pusher,
        *,
        interval: float = 5.0,
        leases: LeaseRepository | None = None,
        node: str = "",
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._pusher = pusher
        self._leases = leases
        self._node = node
        self.interval = interval
        self._clock = clock
        self._seen: dict[tuple[str, ...], str] = {}
        self._since: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        if self._task is None:
            self._since = self._clock()
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="ocpi-change-watcher")

    async def stop(self, grace: float = 30.0) -> None:
        """Stop once the look in progress (if any) is done: never inside a query."""
        if self._task is not None:
            self._stopping.set()
            await stop_tasks([self._task], grace)
            self._task = None

    async def _run(self) -> None:
        while True:
            await pause(self._stopping, self.interval)
            if self._stopping.is_set():
                if self._leases is not None:
                    with contextlib.suppress(Exception):
                        await self._leases.release(_WATCHER_LEASE, self._node)
                return
            try:
                if not await self._leased():
                    self._since = self._clock()
                    continue
                await self.look()
            except IntercargaError as error:
                log.error("change watcher: %s", error)
            except Exception:
                log.exception("change watcher failed")

    async def _leased(self) -> bool:
        """Whether this node is the one to look (always, for a single node)."""
        if self._leases is None:
            return True
        now = self._clock()
        until = now + timedelta(seconds=self.interval * 3)
        return await self._leases.take(_WATCHER_LEASE, self._node, until, now)

    async def look(self) -> int:
        """Push what changed since the last look; how many objects."""
        since = self._since or self._clock()
        # A little overlap: a write in flight when we last looked is not missed.
        self._since = self._clock()
        after = since - timedelta(seconds=2)
        pushed = 0
        for owner in sorted(self._pusher.ours("CPO")):
            filters = {"country_code": owner[0], "party_id": owner[1]}
            for location in (
                await self._store.locations.list(limit=None, filters=filters, updated_from=after)
            ).items:
                if self._changed(("L", *owner, location.id), location):
                    pushed += bool(await self._pusher.location_changed(location))
            for tariff in (
                await self._store.tariffs.list(limit=None, filters=filters, updated_from=after)
            ).items:
                if self._changed(("T", *owner, tariff.id), tariff):
                    pushed += bool(await self._pusher.tariff_changed(tariff))
        for owner in sorted(self._pusher.ours("EMSP")):
            filters = {"country_code": owner[0], "party_id": owner[1]}
            for token in (
                await self._store.tokens.list(limit=None, filters=filters, updated_from=after)
            ).items:
                if self._changed(("K", *owner, token.uid), token):
                    pushed += bool(await self._pusher.token_changed(token))
        return pushed

    def _changed(
        self, key: tuple[str, ...], item: domain.Location | domain.Tariff | domain.Token
    ) -> bool:
        digest = fingerprint(item)
        if self._seen.get(key) == digest:
            return False
        self._seen[key] = digest
        return True
