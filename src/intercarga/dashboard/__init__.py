"""The web dashboard: sign-in, the live map, stations with their commands, sessions and CDRs.

Server-rendered pages (Jinja2) in Spanish, Portuguese and English, with small scripts of our own
and Leaflet from its installed xstatic package; nothing loads from the internet. The composition
root builds one :class:`Dashboard` from its collaborators and mounts :attr:`Dashboard.router`.
This package must never write SQL or speak OCPP itself: it asks the store and the CSMS.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from intercarga.bus import EventBus
from intercarga.csms import CsmsService
from intercarga.dashboard.accounts import Accounts, Role
from intercarga.dashboard.compliance import NetworkCompliance
from intercarga.dashboard.i18n import LANGUAGES, Catalogs, Translator, choose_language
from intercarga.dashboard.live import LiveFeed
from intercarga.dashboard.markers import Markers
from intercarga.dashboard.views import DashboardViews, StaticFolders
from intercarga.geo import outlines_path
from intercarga.hardware.rules import known_countries
from intercarga.ocpi.roaming import Roaming
from intercarga.ocpp.server import CsmsServer
from intercarga.store import Store

log = logging.getLogger(__name__)

__all__ = [
    "LANGUAGES",
    "Accounts",
    "Catalogs",
    "Dashboard",
    "LiveFeed",
    "Role",
    "Translator",
    "choose_language",
]


class Dashboard:
    """The dashboard's router and the live feed it must close when the server stops."""

    def __init__(
        self,
        *,
        store: Store,
        bus: EventBus,
        commands: CsmsService,
        connections: CsmsServer,
        roaming: Roaming | None = None,
    ) -> None:
        self.accounts = Accounts(store.users)
        self.live = LiveFeed(bus)
        self._markers = Markers(store, bus)
        self._compliance = NetworkCompliance(store)
        views = DashboardViews(
            store=store,
            accounts=self.accounts,
            commands=commands,
            connections=connections,
            live=self.live,
            markers=self._markers,
            compliance=self._compliance,
            catalogs=Catalogs(),
            static=StaticFolders.installed(),
            outlines=outlines_path(),
            roaming=roaming,
        )
        self.router: APIRouter = views.router()
        self._views = views

    async def error_page(self, request: Request, status: int) -> Response:
        """The HTML page for ``status`` (404, 405) in the visitor's language, for a browser."""
        return await self._views.error_page(request, status)

    async def warm(self) -> None:
        """Build the map's markers and each mapped country's compliance report before the first
        visitor asks: the first build reads every Location (seconds with 10,000), every later
        one only what changed. A failure is logged; the pages then build on first use."""
        try:
            await self._markers.json(published_only=True)
            for country in sorted(self._markers.countries() & set(known_countries())):
                await self._compliance.report(country)
        except Exception:
            log.warning("the dashboard's map and compliance were not built ahead", exc_info=True)

    def close(self) -> None:
        """End the live streams, so that the HTTP server can stop."""
        self.live.close()
