"""The roaming service of one deployment: registrar, client and store, built once and handed down.

:func:`Roaming.build` is called by the composition root (or a test) with the store and settings
of a running system; :func:`routers` gives the FastAPI routers to mount: the OCPI API under
``/ocpi`` and the partners admin API under ``/api/v1/partners``. Nothing here is global.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import APIRouter

from intercarga.config import Settings
from intercarga.ocpi.client import OcpiClient
from intercarga.ocpi.partners import Registrar
from intercarga.store import Store
from intercarga.store.partners import PartnerRepository

__all__ = ["Roaming", "routers"]


@dataclass
class Roaming:
    settings: Settings
    store: Store
    client: OcpiClient
    registrar: Registrar

    @classmethod
    def build(
        cls, settings: Settings, store: Store, transport: httpx.AsyncBaseTransport | None = None
    ) -> Roaming:
        client = OcpiClient(transport, timeout=settings.ocpi.request_timeout)
        registrar = Registrar(PartnerRepository(store.engine), settings, client)
        return cls(settings, store, client, registrar)


def routers(roaming: Roaming) -> list[APIRouter]:
    from intercarga.ocpi.admin import admin_router
    from intercarga.ocpi.http import ocpi_router

    return [ocpi_router(roaming), admin_router(roaming)]
