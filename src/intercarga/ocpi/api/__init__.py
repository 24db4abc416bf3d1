"""OCPI over HTTP: the FastAPI routers, and nothing else of OCPI knows FastAPI.

:func:`routers` is what the composition root mounts: the OCPI API under ``/ocpi`` and the
roaming admin API under ``/api/v1``. It hands each router the few services it uses (the
registrar, the store, the commands service, …), never the whole :class:`Roaming`. Routers only
translate HTTP to service calls and back; the rules live below, in the services and pure modules.
"""

from __future__ import annotations

from fastapi import APIRouter

from intercarga.ocpi.api.admin import admin_router, commands_router
from intercarga.ocpi.api.credentials import credentials_router
from intercarga.ocpi.api.hub import hub_router
from intercarga.ocpi.api.modules import (
    chargingprofiles,
    commands,
    hubclientinfo,
    locations,
    objects,
    tokens,
)
from intercarga.ocpi.api.modules._common import Gate
from intercarga.ocpi.api.route import OcpiRoute
from intercarga.ocpi.roaming import Roaming

__all__ = ["routers"]


def routers(roaming: Roaming) -> list[APIRouter]:
    """The routers to mount for ``roaming``: ``/ocpi`` and the admin API."""
    registrar, store = roaming.registrar, roaming.store
    gate = Gate(registrar, roaming.settings.ocpi.max_page_size)
    ocpi = APIRouter(prefix="/ocpi", route_class=OcpiRoute, tags=["OCPI"])
    # The hub's routes and the tokens module first: FastAPI tries routes in order, and these
    # carry the real-time authorizations a station waits for. No two of these routers share a
    # path, so the order decides no request's route.
    for router in (
        hub_router(roaming.hub, registrar, gate.max_page_size),
        *tokens.routers(gate, store),
        credentials_router(registrar),
        *locations.routers(gate, store, roaming.nap),
        *objects.routers(gate, store, roaming.nap),
        *commands.routers(gate, roaming.commands),
        *chargingprofiles.routers(gate, roaming.profiles),
        *hubclientinfo.routers(gate, roaming.client_info, roaming.pusher),
    ):
        ocpi.include_router(router)
    return [
        ocpi,
        admin_router(registrar, roaming.outbox, roaming.pusher),
        commands_router(roaming.commands, roaming.profiles),
    ]
