"""The web dashboard: sign-in, the live map, stations with their commands, sessions and CDRs.

Server-rendered pages (Jinja2) in Spanish, Portuguese and English, with small scripts of our own
and Leaflet from its installed xstatic package; nothing loads from the internet. The composition
root builds one :class:`Dashboard` from its collaborators and mounts :attr:`Dashboard.router`.
This package must never write SQL or speak OCPP itself: it asks the store and the CSMS.
"""

from __future__ import annotations

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
from intercarga.ocpi.roaming import Roaming
from intercarga.ocpp.server import CsmsServer
from intercarga.store import Store

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
        views = DashboardViews(
            store=store,
            accounts=self.accounts,
            commands=commands,
            connections=connections,
            live=self.live,
            markers=Markers(store, bus),
            compliance=NetworkCompliance(store),
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

    def close(self) -> None:
        """End the live streams, so that the HTTP server can stop."""
        self.live.close()
