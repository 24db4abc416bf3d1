"""The roaming service of one deployment: registrar, client, outbox and hooks, built once.

:func:`Roaming.build` is called by the composition root (or a test) with the store and settings
of a running system; :meth:`Roaming.attach` wires it to the CSMS (domain events from the bus
become pushes; unknown tokens go to :attr:`Roaming.authorize_unknown`; OCPI commands run on
stations); :meth:`Roaming.start` and :meth:`Roaming.stop` run and stop the outbox's deliveries.
The HTTP routers are :func:`intercarga.ocpi.api.routers`'s, which hands each the few services it
uses. Nothing here is global, and nothing here knows an HTTP framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from intercarga.config import Settings
from intercarga.domain._types import utc_now
from intercarga.ocpi.authorize import RealTimeAuthorization
from intercarga.ocpi.client import OcpiClient
from intercarga.ocpi.commands import ChargingStations, Commands
from intercarga.ocpi.egress import PartnerEgress
from intercarga.ocpi.hub import Hub
from intercarga.ocpi.nap import NapPuller, NapReceiver
from intercarga.ocpi.outbox import Outbox, RetryPolicy
from intercarga.ocpi.profiles import ChargingProfiles
from intercarga.ocpi.push import ChangeWatcher, Pusher, PushRenderer
from intercarga.ocpi.registrar import Registrar
from intercarga.registry import Registry
from intercarga.store import Store
from intercarga.store.leases import LeaseRepository
from intercarga.store.partners import PartnerRepository
from intercarga.store.roaming import ClientInfoRepository, CommandRepository, OutboxRepository

if TYPE_CHECKING:
    from intercarga.bus import EventBus

__all__ = ["Roaming", "TokenAuthorizer"]


class TokenAuthorizer(Protocol):
    """The CSMS authorizer's seam: an attribute that takes the roaming hook."""

    roaming: Any


@dataclass
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
        policy: RetryPolicy | None = None,
        watch_interval: float = 5.0,
        registry: Registry | None = None,
        pull_interval: float = 0.0,
    ) -> Roaming:
        if transport is None:  # the network, through the request-forgery guard
            transport = PartnerEgress(
                allow_http=settings.ocpi.allow_http_partner_urls,
                allow_private=settings.ocpi.allow_private_partner_urls,
            )
        client = OcpiClient(transport, timeout=settings.ocpi.request_timeout)
        partners = PartnerRepository(store.engine)
        registrar = Registrar(partners, settings, client)
        client_info = ClientInfoRepository(store.engine)
        policy = policy or RetryPolicy(
            first_delay=settings.ocpi.push_retry_first,
            max_delay=settings.ocpi.push_retry_max,
            lease=settings.ocpi.request_timeout * 4,
        )
        outbox_rows = OutboxRepository(store.engine)
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
        authorize = RealTimeAuthorization(settings, store, partners, client_info, client)
        commands_store = CommandRepository(store.engine)
        commands = Commands(settings, store, registrar, client, outbox, commands_store)
        hub = Hub(settings, registrar, client, outbox, commands_store)
        registrar.listeners += [pusher.partners_changed, hub.partner_changed]
        puller = nap = None
        if registry is not None:
            nap = NapReceiver(store, registry, partners)
            puller = NapPuller(
                store,
                registry,
                partners,
                client,
                interval=pull_interval,
                nap_party=lambda: next(
                    ((p.country_code, p.party_id) for p in registrar.parties if p.role == "NAP"),
                    None,
                ),
            )
            registrar.listeners.append(puller.partner_changed)
        return cls(
            settings,
            store,
            client,
            registrar,
            outbox,
            pusher,
            commands_store,
            client_info,
            authorize,
            commands,
            hub,
            ChangeWatcher(store, pusher, interval=watch_interval, leases=leases, node=node),
            ChargingProfiles(commands),
            registry,
            puller,
            nap,
        )

    def attach(
        self,
        bus: EventBus | None = None,
        stations: ChargingStations | None = None,
        authorizer: TokenAuthorizer | None = None,
    ) -> None:
        """Wire roaming to the CSMS: events to push, commands to run, tokens to authorize."""
        if bus is not None:
            self.pusher.subscribe(bus)
        if stations is not None:
            self.commands.stations = stations
        if authorizer is not None:
            authorizer.roaming = self.authorize_unknown

    async def start(self) -> None:
        await self.pusher.requeue_missing_cdrs(utc_now() - timedelta(days=7))
        await self.outbox.start()
        await self.watcher.start()
        if self.puller is not None:
            await self.puller.start()

    async def stop(self) -> None:
        if self.puller is not None:
            await self.puller.stop()
        await self.watcher.stop()
        await self.commands.stop()
        await self.outbox.stop()
        await self.client.aclose()
