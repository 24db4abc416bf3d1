"""The HUB role's HTTP glue: ``/ocpi/hub/{version}/{sender|receiver}/{module}/…``.

Each route checks that the hub routes the module, authenticates the caller, reads the body and
hands a plain :class:`~intercarga.ocpi.hubplan.RoutedRequest` to the
:class:`~intercarga.ocpi.hub.Hub`, whose :class:`~intercarga.ocpi.hub.HubReply` it sends as is.
Routing decisions are :mod:`intercarga.ocpi.hubplan`'s, never this module's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from intercarga.ocpi.api.route import OcpiRoute, authenticate, ocpi_response, read_json
from intercarga.ocpi.envelope import OcpiError, StatusCode
from intercarga.ocpi.hub import Hub
from intercarga.ocpi.hubplan import RoutedRequest, check_routed
from intercarga.ocpi.registrar import Registrar
from intercarga.ocpi.transport import page_headers, page_request
from intercarga.ocpi.versions import require_version

__all__ = ["hub_router"]


def hub_router(hub: Hub, registrar: Registrar, max_page_size: int) -> APIRouter:
    router = APIRouter(prefix="/hub/{version}", route_class=OcpiRoute)

    async def hosted() -> None:
        if not hub.parties:
            raise OcpiError(StatusCode.CLIENT_ERROR, "this platform hosts no HUB party", 404)

    @router.get("/sender/hubclientinfo", summary="Hub client info: the parties this hub reaches")
    async def list_client_info(version: str, request: Request) -> Response:
        await hosted()
        require_version("hubclientinfo", version)
        await authenticate(registrar, request, "hubclientinfo")
        params = dict(request.query_params)
        page = page_request(params, max_limit=max_page_size)
        infos = await hub.client_infos()
        chosen = infos[page.offset : page.offset + page.limit]
        url = str(request.url).split("?", 1)[0]
        return ocpi_response(
            chosen, headers=page_headers(url, params, page, len(chosen), len(infos))
        )

    async def route(
        version: str, interface: str, module: str, request: Request, rest: str = ""
    ) -> Response:
        await hosted()
        interface = check_routed(version, interface, module)
        who = await authenticate(registrar, request, module)
        body = await read_json(request) if (await request.body()).strip() else None
        routed = RoutedRequest(
            version=version,
            interface=interface,
            module=module,
            segments=tuple(part for part in rest.split("/") if part),
            method=request.method,
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
            caller=who.partner,
            query=dict(request.query_params),
            query_string=request.url.query,
        )
        reply = await hub.route(routed)
        return JSONResponse(reply.body, status_code=reply.http_status, headers=reply.headers)

    # One route per method: one route for several gave them one OpenAPI operationId.
    for routed in ("/{interface}/{module}", "/{interface}/{module}/{rest:path}"):
        for method in ("GET", "PUT", "PATCH", "POST", "DELETE"):
            router.add_api_route(routed, route, methods=[method], summary="Routed")
    return router
