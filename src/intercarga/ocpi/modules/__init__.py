"""The OCPI functional modules (Locations, Tariffs, Sessions, CDRs, Tokens, Commands,
ChargingProfiles, HubClientInfo).

Each module file gives a router for its SENDER and RECEIVER interfaces; :func:`module_routers`
lists them for :func:`intercarga.ocpi.http.ocpi_router`. Routers only translate: OCPI objects to
domain objects (through :mod:`intercarga.ocpi.mapping`) and into the store, and back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from intercarga.ocpi.service import Roaming

__all__ = ["module_routers"]


def module_routers(roaming: Roaming) -> list[APIRouter]:
    from intercarga.ocpi.modules import (
        chargingprofiles,
        commands,
        hubclientinfo,
        locations,
        objects,
        tokens,
    )

    return [
        *locations.routers(roaming),
        *objects.routers(roaming),
        *tokens.routers(roaming),
        *commands.routers(roaming),
        *chargingprofiles.routers(roaming),
        *hubclientinfo.routers(roaming),
    ]
