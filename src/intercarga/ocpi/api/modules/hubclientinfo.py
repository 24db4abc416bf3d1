"""Hub client info, the party side (RECEIVER): a hub tells us which parties it reaches.

What a hub says is kept per hub (``ocpi_client_info``); the outbox then prefers a hub that says
a party is CONNECTED when it must send that party a Session or CDR. A party we hear of for the
first time is sent, through the hub, what it should hold of ours (Locations and Tariffs, or
Tokens): it missed the broadcasts made before it joined. Only hubs may push here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from intercarga.domain.partner import Partner
from intercarga.ocpi import mapping
from intercarga.ocpi.api.modules._common import Gate, parse_body, require_version, same
from intercarga.ocpi.api.route import OcpiRoute, authenticate, ocpi_response, read_json
from intercarga.ocpi.envelope import OcpiError, StatusCode
from intercarga.ocpi.models import format_datetime
from intercarga.ocpi.push import Pusher
from intercarga.ocpi.routing import is_hub
from intercarga.store.roaming import ClientInfo, ClientInfoRepository

__all__ = ["routers"]


def routers(gate: Gate, client_info: ClientInfoRepository, pusher: Pusher) -> list[APIRouter]:
    router = APIRouter(prefix="/{version}/hubclientinfo", route_class=OcpiRoute)
    path = "/{country_code}/{party_id}"

    async def hub_only(version: str, request: Request) -> Partner:
        require_version("hubclientinfo", version)
        who = await authenticate(gate.registrar, request, "hubclientinfo")
        if not is_hub(who.partner):
            raise OcpiError(StatusCode.CLIENT_ERROR, "only a hub sends client info", 404)
        return who.partner

    @router.put(path, summary="Hub client info: a party the hub reaches (RECEIVER)")
    async def put_info(
        version: str, country_code: str, party_id: str, request: Request
    ) -> Response:
        hub = await hub_only(version, request)
        received: Any = parse_body(
            mapping.model_for(version, "ClientInfo"), await read_json(request)
        )
        if not (same(received.country_code, country_code) and same(received.party_id, party_id)):
            raise OcpiError(
                StatusCode.INVALID_OR_MISSING_PARAMETERS,
                "country_code: the party in the body is not the one in the URL",
            )
        info = ClientInfo(
            partner_id=hub.id,
            country_code=country_code.upper(),
            party_id=party_id.upper(),
            role=str(getattr(received.role, "value", received.role)),
            status=received.status.value,
            last_updated=received.last_updated,
        )
        created = await client_info.put(info)
        if created and info.status == "CONNECTED":
            # A party new behind this hub has missed every broadcast made before it came.
            await pusher.introduce(hub, (info.country_code, info.party_id), info.role)
        return ocpi_response(http_status=201 if created else 200)

    @router.get(path, summary="Hub client info as stored here")
    async def get_info(
        version: str, country_code: str, party_id: str, request: Request
    ) -> Response:
        hub = await hub_only(version, request)
        found = [
            info
            for info in await client_info.all(hub.id)
            if (info.country_code, info.party_id) == (country_code.upper(), party_id.upper())
        ]
        if not found:
            raise OcpiError(
                StatusCode.CLIENT_ERROR, f"no client info for {country_code}-{party_id}", 404
            )
        info = found[0]
        return ocpi_response(
            {
                "party_id": info.party_id,
                "country_code": info.country_code,
                "role": info.role,
                "status": info.status,
                "last_updated": format_datetime(info.last_updated),
            }
        )

    return [router]
