"""The national access point's OCPI side: the hooks its RECEIVER calls and the pulls it makes.

- :class:`NapReceiver`: what the NAP's receivers (``ocpi/api/modules``) call; a PUT/PATCH refused
  (an OCPI 2xxx, e.g. 2001 naming the field, or a party the CPO did not register) is told to the
  registry, which counts it against the CPO's quality score, and each stored Location's status
  changes too. Nothing refused is stored: the receiver validates whole before writing.
- :class:`NapPuller`: after a CPO's credentials handshake, a full pull of its Locations and
  Tariffs; then every ``interval`` seconds a pull with ``date_from`` (the last pull's start, less a
  margin) that catches what pushes missed. Pulled objects go through the same checks as pushes.
  In a cluster (``leases`` given) one node runs the periodic pulls (lease
  ``nap-periodic-pull``) and a partner is pulled by one node at a time (lease
  ``nap-pull:{partner id}``, renewed page by page), so several access point nodes neither pull
  a CPO twice nor keep its statuses twice in the history.

Every judgement is the registry's (``registry/``); this module only moves OCPI objects. It must
never decide a rule itself, and never know an HTTP framework (the receivers' hooks are in
``ocpi/api/``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from intercarga import domain
from intercarga.domain._types import utc_now
from intercarga.domain.partner import Partner, PartnerState
from intercarga.ocpi import mapping, storing
from intercarga.ocpi.client import OcpiClient, PartnerError
from intercarga.ocpi.envelope import OcpiError, StatusCode, error_response
from intercarga.ocpi.mapping import model_for
from intercarga.ocpi.models import format_datetime, parse
from intercarga.ocpi.routing import may_act_for, routing_headers
from intercarga.registry import Registry
from intercarga.store import Store
from intercarga.store.leases import LeaseRepository
from intercarga.store.partners import PartnerRepository
from intercarga.store.registry import PullMark, Via, pull_key

__all__ = [
    "PERIODIC_LEASE",
    "LocationWrites",
    "NapPuller",
    "NapReceiver",
    "PulledElsewhereError",
    "pull_lease",
    "store_location",
]

log = logging.getLogger(__name__)

PULLED_VERSIONS = ("2.2.1", "2.3.0")
INITIAL_PULL_RETRIES = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
MARGIN = timedelta(seconds=5)
"""A periodic pull reads from the previous pull's start less this (clocks of two platforms)."""
PERIODIC_LEASE = "nap-periodic-pull"


def pull_lease(partner_id: str) -> str:
    """The lease of one partner's pull in a cluster."""
    return f"nap-pull:{partner_id}"


class PulledElsewhereError(Exception):
    """Another node of the cluster is pulling this partner now."""


class LocationWrites:
    """One write of a partner's Location at a time, per Location, in this process: a pull and a
    push (or two pulls) of one Location at once each found it new and kept its statuses twice.
    The receiver and the puller share one."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        self._users: dict[tuple[str, str, str], int] = {}

    @contextlib.asynccontextmanager
    async def one(self, location: domain.Location) -> AsyncIterator[None]:
        key = (location.country_code, location.party_id, location.id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # nobody holds or waits: forget it
                del self._users[key], self._locks[key]


class NapReceiver:
    """What the access point's RECEIVER tells the registry: the refusals it answers and the
    Locations it stores (``ocpi/api/modules`` calls it; it knows no HTTP)."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        partners: PartnerRepository,
        writes: LocationWrites,
    ) -> None:
        self._store = store
        self._registry = registry
        self._partners = partners
        self._writes = writes

    async def refused(
        self,
        module: str,
        partner_id: str | None,
        ids: Mapping[str, Any],
        body: Mapping[str, Any],
    ) -> None:
        """Count the refusal ``body`` (an OCPI envelope) of a PUT/PATCH under ``module`` with the
        URL's ``ids`` against the CPO: a 2xxx only (not auth, not server trouble)."""
        code = int(body.get("status_code", 0))
        if not 2000 <= code < 3000 or partner_id is None:
            return  # not a refusal of the data (auth, server trouble)
        partner = await self._partners.find(partner_id)
        if partner is None:
            return
        cc = str(ids.get("country_code", "")).upper()
        pid = str(ids.get("party_id", "")).upper()
        if not partner.hosts(cc, pid, "CPO"):  # another party's object: the caller is counted
            own = next((r for r in partner.roles if r.role == "CPO"), None)
            if own is None:
                return
            cc, pid = own.country_code, own.party_id
        object_id = "/".join(
            str(ids[name])
            for name in ("location_id", "evse_uid", "connector_id", "object_id")
            if name in ids
        )
        message = str(body.get("status_message", ""))
        await self._registry.refused(cc, pid, module, object_id, code, message)

    async def location_received(
        self, location: domain.Location, *, before: domain.Location | None
    ) -> bool:
        """Store a pushed Location (validated whole); True if it is new."""
        return await store_location(
            self._store, self._registry, self._writes, location, before=before
        )


async def store_location(
    store: Store,
    registry: Registry,
    writes: LocationWrites,
    location: domain.Location,
    *,
    before: domain.Location | None,
    via: Via = "PUSH",
) -> bool:
    """Store a partner's Location (validated whole) and tell the registry its status changes;
    a copy that differs from ``before`` (what it was made from) only in EVSE statuses writes
    only those. One write of a Location at a time: what is stored is read again under it, so a
    report another write kept meanwhile is not kept twice."""
    async with writes.one(location):
        stored = await store.locations.find(location.country_code, location.party_id, location.id)
        if before is not None and await store.locations.put_statuses(before, location):
            created = False
        else:
            created = await storing.put(store.locations, location)
        await registry.location_received(before, location, via=via, stored=stored)
    return created


class NapPuller:
    """Pulls registered CPOs' Locations and Tariffs: in full after registration, then by date."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        partners: PartnerRepository,
        client: OcpiClient,
        *,
        interval: float,
        nap_party: Callable[[], tuple[str, str] | None],
        writes: LocationWrites,
        clock: Callable[[], datetime] = utc_now,
        leases: LeaseRepository | None = None,
        node: str = "",
        lease: float = 60.0,
    ) -> None:
        """``leases``, ``node``: in a cluster, the shared leases and this node's name; ``lease``:
        seconds a node holds a partner's pull between two pages (longer than a page takes)."""
        self._store = store
        self._leases = leases
        self._node = node
        self._lease = lease
        self._registry = registry
        self._partners = partners
        self._client = client
        self._interval = interval
        self._nap_party = nap_party
        self._clock = clock
        self._writes = writes
        self._tasks: set[asyncio.Task[int]] = set()
        self._loop: asyncio.Task[None] | None = None
        # One pull of a partner at a time: two at once (the full pull after registration and a
        # periodic one, or a registration announced twice) both found a Location new and kept
        # its statuses twice in the history.
        self._pulling: dict[str, asyncio.Lock] = {}

    async def partner_changed(self, partner: Partner) -> None:
        """A Registrar listener: pull a CPO in full as soon as its registration is done."""
        if not self._pullable(partner):
            return
        task = asyncio.create_task(self._initial_pull(partner.id), name="nap-pull")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        if self._nap_party() is not None and self._interval > 0:
            self._loop = asyncio.create_task(self._periodic(), name="nap-periodic-pull")

    async def stop(self) -> None:
        tasks: list[asyncio.Task[Any]] = [*self._tasks, *([self._loop] if self._loop else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = None
        if self._leases is not None:
            # Another node runs the periodic pulls at once rather than after the lease.
            with contextlib.suppress(Exception):
                await self._leases.release(PERIODIC_LEASE, self._node)

    async def settled(self) -> None:
        """Wait for the full pulls under way (tests, and a clean stop)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def pull_all(self, *, full: bool = False) -> int:
        """Pull every registered CPO once (``full``: without ``date_from``); objects read."""
        total = 0
        for partner in (await self._partners.list(limit=None)).items:
            if self._pullable(partner):
                total += await self._pull_guarded(partner, full=full) or 0
        return total

    def _pullable(self, partner: Partner) -> bool:
        return (
            self._nap_party() is not None
            and partner.state is PartnerState.REGISTERED
            and partner.outgoing_token is not None
            and partner.version in PULLED_VERSIONS
            and any(role.role == "CPO" for role in partner.roles)
        )

    async def _initial_pull(self, partner_id: str) -> int:
        """The full pull after a registration, tried again while the partner is not ready (it
        stores its side of the handshake only after our answer reaches it)."""
        for delay in INITIAL_PULL_RETRIES:
            partner = await self._partners.find(partner_id)
            if partner is None or not self._pullable(partner):
                return 0
            try:
                return await self.pull(partner, full=True)
            except (PartnerError, ValueError, PulledElsewhereError) as error:
                log.info("NAP pull of partner %s: %s; again in %s s", partner_id, error, delay)
            await asyncio.sleep(delay)
        log.warning(
            "NAP: the full pull of partner %s failed; the periodic pull goes on", partner_id
        )
        return 0

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                # Held across a whole round (its pulls may take up to a lease each between
                # pages): a node that died gives the rounds up after two intervals and a lease.
                if await self._hold(PERIODIC_LEASE, self._interval * 2 + self._lease):
                    await self.pull_all()
            except Exception:
                log.exception("the periodic pull failed")

    async def _hold(self, name: str, seconds: float) -> bool:
        """Take or renew lease ``name`` for this node (always held by a single node)."""
        if self._leases is None:
            return True
        now = self._clock()
        return await self._leases.take(name, self._node, now + timedelta(seconds=seconds), now)

    async def _pull_guarded(self, partner: Partner, *, full: bool) -> int:
        try:
            return await self.pull(partner, full=full)
        except (PartnerError, ValueError) as error:
            log.warning("NAP pull of partner %s failed: %s", partner.id, error)
            return 0
        except PulledElsewhereError:
            return 0

    async def pull(self, partner: Partner, *, full: bool = False) -> int:
        """Read the partner's Locations and Tariffs (changed since the last pull unless ``full``),
        store what validates, count what does not; the objects read.
        :class:`PulledElsewhereError` when another node of the cluster pulls it now.

        A platform lists the objects of one of its parties at a time (the ``OCPI-to-*``
        headers), so each CPO party it hosts is pulled on its own."""
        ours = self._nap_party()
        if ours is None:
            return 0
        read = 0
        cpos = [(r.country_code, r.party_id) for r in partner.roles if r.role == "CPO"]
        async with self._pulling.setdefault(partner.id, asyncio.Lock()):
            await self._hold_pull(partner)
            try:
                for cpo in cpos:
                    for module in ("tariffs", "locations"):  # tariffs first: locations need them
                        read += await self._pull_module(partner, module, ours, cpo, full=full)
            finally:
                if self._leases is not None:
                    with contextlib.suppress(Exception):
                        await self._leases.release(pull_lease(partner.id), self._node)
        return read

    async def _hold_pull(self, partner: Partner) -> None:
        """Take, or renew between pages, this node's lease on ``partner``'s pull."""
        if not await self._hold(pull_lease(partner.id), self._lease):
            raise PulledElsewhereError(f"another node is pulling partner {partner.id}")

    async def _pull_module(
        self,
        partner: Partner,
        module: str,
        ours: tuple[str, str],
        cpo: tuple[str, str],
        *,
        full: bool,
    ) -> int:
        url = partner.endpoint(module, "SENDER")
        if url is None or partner.outgoing_token is None:
            return 0
        started = self._clock()
        key = pull_key(module, *cpo)
        mark = None if full else await self._store.pull_marks.get(partner.id, key)
        params = {} if mark is None else {"date_from": format_datetime(mark.pulled_at - MARGIN)}
        count = 0
        async for items in self._client.pages(
            url,
            token=partner.outgoing_token,
            raw=partner.raw_token,
            params=params,
            headers=routing_headers(ours, cpo),
        ):
            for item in items:
                count += 1
                await self._take(partner, module, item)
            await self._hold_pull(partner)
        await self._store.pull_marks.put(PullMark(partner.id, key, started, count))
        return count

    async def _take(self, partner: Partner, module: str, item: Any) -> None:
        version = partner.version or "2.2.1"
        name = "Location" if module == "locations" else "Tariff"
        cc = str(item.get("country_code", "")).upper() if isinstance(item, dict) else ""
        pid = str(item.get("party_id", "")).upper() if isinstance(item, dict) else ""
        object_id = str(item.get("id", "")) if isinstance(item, dict) else ""
        try:
            received: Any = parse(model_for(version, name), item)
            if not may_act_for(partner, received.country_code, received.party_id, "CPO"):
                raise OcpiError(
                    StatusCode.CLIENT_ERROR,
                    f"{received.country_code}-{received.party_id} is not a CPO you registered",
                )
            party = (received.country_code.upper(), received.party_id.upper())
            if module == "tariffs":
                await storing.put(self._store.tariffs, mapping.tariff_to_domain(received, party))
                return
            location = mapping.location_to_domain(received, party)
            before = await self._store.locations.find(*party, location.id)
            if before is not None and before.last_updated >= location.last_updated:
                return  # what we hold is as new or newer (a push overtook the pull)
            await store_location(
                self._store, self._registry, self._writes, location, via="PULL", before=before
            )
        except Exception as error:
            reply = error_response(error)
            code = int(reply.body["status_code"])
            if not 2000 <= code < 3000:
                raise
            own = next((r for r in partner.roles if r.role == "CPO"), None)
            if not partner.hosts(cc, pid, "CPO") and own is not None:
                cc, pid = own.country_code, own.party_id
            await self._registry.refused(
                cc, pid, module, object_id, code, str(reply.body.get("status_message", ""))
            )
