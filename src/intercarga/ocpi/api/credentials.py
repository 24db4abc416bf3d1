"""The OCPI routes every platform has: versions, version details and credentials.

The routes authenticate and hand over to the :class:`~intercarga.ocpi.registrar.Registrar`, which
holds the registration rules; nothing here decides anything.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from intercarga.ocpi.api.route import OcpiRoute, authenticate, ocpi_response, read_json
from intercarga.ocpi.registrar import Registrar

__all__ = ["credentials_router"]


def credentials_router(registrar: Registrar) -> APIRouter:
    """``/versions``, ``/{version}`` and ``/{version}/credentials`` (prefixed ``/ocpi``)."""
    router = APIRouter(route_class=OcpiRoute)

    @router.get("/versions", summary="OCPI versions offered")
    async def get_versions(request: Request) -> Response:
        await authenticate(registrar, request, "versions")
        return ocpi_response(registrar.versions_data())

    @router.get("/{version}", summary="OCPI version details (endpoints)")
    async def get_version_details(version: str, request: Request) -> Response:
        await authenticate(registrar, request, "versions")
        return ocpi_response(registrar.details_data(version))

    @router.get("/{version}/credentials", summary="Our credentials for the caller")
    async def get_credentials(version: str, request: Request) -> Response:
        who = await authenticate(registrar, request, "credentials")
        registrar.details_data(version)
        return ocpi_response(await registrar.credentials_data(version, who.token))

    @router.post("/{version}/credentials", summary="Register (the caller holds TOKEN_A)")
    async def post_credentials(version: str, request: Request) -> Response:
        who = await authenticate(registrar, request, "credentials")
        registrar.details_data(version)
        body = await read_json(request)
        return ocpi_response(await registrar.on_post(who.partner, version, body))

    @router.put("/{version}/credentials", summary="Update credentials or switch version")
    async def put_credentials(version: str, request: Request) -> Response:
        who = await authenticate(registrar, request, "credentials")
        registrar.details_data(version)
        body = await read_json(request)
        return ocpi_response(await registrar.on_put(who.partner, version, body))

    @router.delete("/{version}/credentials", summary="Unregister")
    async def delete_credentials(version: str, request: Request) -> Response:
        who = await authenticate(registrar, request, "credentials")
        registrar.details_data(version)
        await registrar.on_delete(who.partner)
        return ocpi_response()

    return router
