"""ChargingProfiles: the CPO's RECEIVER (``GET``/``PUT``/``DELETE …/chargingprofiles/{session}``)
and the eMSP's SENDER (results at ``POST …/chargingprofiles/results/{id}``, a CPO's own changes
at ``PUT …/chargingprofiles/{session}``). The routes hand over to
:class:`~intercarga.ocpi.profiles.ChargingProfiles`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from intercarga.ocpi.api.modules._common import Gate, our_party, require_version
from intercarga.ocpi.api.route import OcpiRoute, authenticate, ocpi_response, read_json
from intercarga.ocpi.profiles import ChargingProfiles
from intercarga.ocpi.routing import sender_party

__all__ = ["routers"]


def routers(gate: Gate, profiles: ChargingProfiles) -> list[APIRouter]:
    receiver = APIRouter(prefix="/cpo/{version}/chargingprofiles", route_class=OcpiRoute)

    async def receive(version: str, session_id: str, request: Request) -> Response:
        require_version("chargingprofiles", version)
        who = await authenticate(gate.registrar, request, "chargingprofiles")
        party = our_party(gate, "CPO", request)
        body = await read_json(request) if request.method == "PUT" else None
        response = await profiles.receive(
            who.partner,
            version,
            request.method,
            session_id,
            (party.country_code, party.party_id),
            query=dict(request.query_params),
            body=body,
            headers=request.headers,
        )
        return ocpi_response(response)

    # One route per method: one route for several gave them one OpenAPI operationId.
    for method in ("GET", "PUT", "DELETE"):
        receiver.add_api_route(
            "/{session_id}",
            receive,
            methods=[method],
            summary="ChargingProfiles: read, set or clear a session's profile (RECEIVER)",
        )

    sender = APIRouter(prefix="/emsp/{version}/chargingprofiles", route_class=OcpiRoute)

    @sender.post("/results/{record_id}", summary="ChargingProfiles: a CPO's result (SENDER)")
    async def result(version: str, record_id: str, request: Request) -> Response:
        require_version("chargingprofiles", version)
        who = await authenticate(gate.registrar, request, "chargingprofiles")
        await profiles.result_received(who.partner, version, record_id, await read_json(request))
        return ocpi_response()

    @sender.put("/{session_id}", summary="ChargingProfiles: a CPO changed a profile (SENDER)")
    async def changed(version: str, session_id: str, request: Request) -> Response:
        require_version("chargingprofiles", version)
        who = await authenticate(gate.registrar, request, "chargingprofiles")
        cpo = sender_party(who.partner, "CPO") or ("ZZ", "ZZZ")
        await profiles.active_profile_received(
            who.partner, version, session_id, await read_json(request), cpo
        )
        return ocpi_response()

    return [receiver, sender]
