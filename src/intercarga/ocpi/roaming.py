"""The roaming service of one deployment: registrar, client, outbox and hooks, built once.

Built in order, each object given what it needs at construction (nothing is set afterwards):
:class:`PartnerAccess` first (the OCPI client, the partner records and the real-time
authorization of unknown tokens), because the CSMS's authorizer asks it; then, once the CSMS
exists, :meth:`Roaming.build` with the CSMS's stations (OCPI commands run on them) and its event
bus (domain events become pushes). Inside, whoever hears of a partner's registration (pusher,
hub, the access point's puller) is built before the :class:`Registrar` that tells them. The
composition root (``app.System.open``) does this; tests and tools without a CSMS call
:meth:`Roaming.build` alone. :meth:`Roaming.start` and :meth:`Roaming.stop` run and stop the
outbox's deliveries. The HTTP routers are :func:`intercarga.ocpi.api.routers`'s, which hands
each the few services it uses. Nothing here is global, and nothing here knows an HTTP framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx

from intercarga.background import within
from intercarga.config import Settings
from intercarga.domain._types import utc_now
from intercarga.ocpi.authorize import RealTimeAuthorization
from intercarga.ocpi.client import OcpiClient
from intercarga.ocpi.commands import ChargingStations, Commands
from intercarga.ocpi.egress import PartnerEgress
from intercarga.ocpi.hub import Hub
from intercarga.ocpi.nap import LocationWrites, NapPuller, NapReceiver
from intercarga.ocpi.outbox import Outbox, RetryPolicy
from intercarga.ocpi.pipeline import PipelinedTransport
from intercarga.ocpi.profiles import ChargingProfiles
from intercarga.ocpi.push import ChangeWatcher, Pusher, PushRenderer
from intercarga.ocpi.registrar import PartnerListener, Registrar
from intercarga.registry import Registry
from intercarga.store import Store
from intercarga.store.leases import LeaseRepository
from intercarga.store.partners import PartnerRepository
from intercarga.store.roaming import ClientInfoRepository, CommandRepository, OutboxRepository

if TYPE_CHECKING:
    from intercarga.bus import EventBus

__all__ = ["PartnerAccess", "Roaming", "RoamingOptions"]


@dataclass(frozen=True)
class RoamingOptions:
    """How the composition root builds roaming beside the CSMS (tests shorten the waits)."""

    transport: httpx.AsyncBaseTransport | None = None  # None: the network, through the guard
    policy: RetryPolicy | None = None  # None: the settings' retry delays
    watch_interval: float = 5.0
    stations: ChargingStations | None = None  # None: the system's own CSMS (tests: a fake)


@dataclass(frozen=True)
class PartnerAccess:
    """What roaming has before the CSMS exists: the client that calls partners, the partner
    records, and the real-time authorization the CSMS's authorizer asks about unknown tokens."""

    client: OcpiClient
    partners: PartnerRepository
    client_info: ClientInfoRepository
    authorize_unknown: RealTimeAuthorization

    @classmethod
    def build(
        cls, settings: Settings, store: Store, transport: httpx.AsyncBaseTransport | None = None
    ) -> PartnerAccess:
        if transport is None:  # the network, through the request-forgery guard
            transport = PartnerEgress(
                allow_http=settings.ocpi.allow_http_partner_urls,
                allow_private=settings.ocpi.allow_private_partner_urls,
                inner=PipelinedTransport(),
            )
        client = OcpiClient(transport, timeout=settings.ocpi.request_timeout)
        partners = PartnerRepository(store.engine)
        client_info = ClientInfoRepository(store.engine)
        authorize = RealTimeAuthorization(settings, store, partners, client_info, client)
        return cls(client, partners, client_info, authorize)


@dataclass(frozen=True)
class Roaming:
    settings: Settings
    store: Store
    client: OcpiClient
    registrar: Registrar
    outbox: Outbox
    pusher: Pusher
    commands_store: CommandRepository
    client_info: ClientInfoRepository
    authorize_unknown: RealTimeAuthorization
    commands: Commands
    hub: Hub
    watcher: ChangeWatcher
    profiles: ChargingProfiles
    registry: Registry | None = None  # a national access point's (registry/), when it hosts one
    puller: NapPuller | None = None
    nap: NapReceiver | None = None  # what the access point's receivers tell the registry

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: Store,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        access: PartnerAccess | None = None,
        stations: ChargingStations | None = None,
        bus: EventBus | None = None,
        policy: RetryPolicy | None = None,
        watch_interval: float = 5.0,
        registry: Registry | None = None,
        pull_interval: float = 0.0,
    ) -> Roaming:
        """Roaming over ``access`` (or a new one over ``transport``), running OCPI commands on
        ``stations`` and pushing what ``bus`` publishes; without them, roaming alone."""
        access = access or PartnerAccess.build(settings, store, transport)
        client, partners, client_info = access.client, access.partners, access.client_info
        policy = policy or RetryPolicy(
            first_delay=settings.ocpi.push_retry_first,
            max_delay=settings.ocpi.push_retry_max,
            lease=settings.ocpi.request_timeout * 4,
        )
        outbox_rows = OutboxRepository(store.engine, writer=store.batcher)
        # In a cluster, what one node does at a time is leased in the shared database.
        leases = LeaseRepository(store.engine) if settings.cluster.nats_url else None
        node = settings.cluster.node_id
        outbox = Outbox(
            outbox_rows,
            partners,
            client,
            PushRenderer(store),
            policy=policy,
            lanes=leases,
            node=node,
        )
        pusher = Pusher(settings, store, partners, client_info, outbox)
        if bus is not None:
            pusher.subscribe(bus)
        commands_store = CommandRepository(store.engine)
        hub = Hub(settings, partners, client, outbox, commands_store)
        listeners: list[PartnerListener] = [pusher.partners_changed, hub.partner_changed]
        puller = nap = None
        if registry is not None:
            writes = LocationWrites()  # shared: a pull and a push of one Location wait in turn
            nap = NapReceiver(store, registry, partners, writes)
            nap_party = next(
                ((p.country_code, p.party_id) for p in settings.ocpi.parties if p.role == "NAP"),
                None,
            )
            puller = NapPuller(
                store,
                registry,
                partners,
                client,
                interval=pull_interval,
                nap_party=lambda: nap_party,
                writes=writes,
                leases=leases,
                node=node,
                lease=settings.ocpi.request_timeout * 4,
            )
            listeners.append(puller.partner_changed)
        registrar = Registrar(partners, settings, client, listeners=listeners)
        commands = Commands(
            settings, store, registrar, client, outbox, commands_store, stations=stations
        )
        return cls(
            settings,
            store,
            client,
            registrar,
            outbox,
            pusher,
            commands_store,
            client_info,
            access.authorize_unknown,
            commands,
            hub,
            ChangeWatcher(store, pusher, interval=watch_interval, leases=leases, node=node),
            ChargingProfiles(commands),
            registry,
            puller,
            nap,
        )

    async def start(self) -> None:
        # In a cluster the other nodes are queueing their new CDRs meanwhile: only CDRs older
        # than a minute are looked at, or one just stored, whose row its node is writing,
        # would be queued twice (measured: 5 of 120 in a run with two node restarts).
        settled = timedelta(minutes=1) if self.settings.cluster.nats_url else timedelta(0)
        await self.pusher.requeue_missing_cdrs(utc_now() - timedelta(days=7), settled=settled)
        await self.outbox.start()
        await self.watcher.start()
        if self.puller is not None:
            await self.puller.start()

    async def stop(self, grace: float | None = None) -> None:
        """Stop pulling, watching and pushing; ``grace``: how long a push or look in progress
        may still take before it is cancelled (a row's lease when None)."""
        if self.puller is not None:
            # Its pulls are cancelled at once; one inside a query waits for the database.
            await within(self.puller.stop(), 30.0 if grace is None else grace, "NAP pulls")
        await self.watcher.stop(30.0 if grace is None else grace)
        await self.commands.stop()
        await self.outbox.stop(grace)
        await self.client.aclose()
