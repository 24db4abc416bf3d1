"""Commands: the CPO's RECEIVER (``POST …/commands/{command}``) and the eMSP's SENDER side, the
URL a CPO POSTs the CommandResult to (``POST …/commands/{command}/{id}``).

The routes only authenticate and hand over to :class:`~intercarga.ocpi.commands.Commands`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from intercarga.ocpi.api.modules._common import Gate, our_party, require_version
from intercarga.ocpi.api.route import OcpiRoute, authenticate, ocpi_response, read_json
from intercarga.ocpi.commands import Commands

__all__ = ["routers"]


def _check(version: str) -> None:
    require_version("commands", version)


def routers(gate: Gate, commands: Commands) -> list[APIRouter]:
    receiver = APIRouter(prefix="/cpo/{version}/commands", route_class=OcpiRoute)

    @receiver.post("/{command}", summary="Commands: an eMSP's command for a station (RECEIVER)")
    async def receive(version: str, command: str, request: Request) -> Response:
        _check(version)
        who = await authenticate(gate.registrar, request, "commands")
        party = our_party(gate, "CPO", request)
        body = await read_json(request)
        response = await commands.receive(
            who.partner,
            version,
            command.upper(),
            body,
            (party.country_code, party.party_id),
            request.headers,
        )
        return ocpi_response(response)

    sender = APIRouter(prefix="/emsp/{version}/commands", route_class=OcpiRoute)

    @sender.post("/{command}/{command_id}", summary="Commands: the CPO's result (SENDER)")
    async def result(version: str, command: str, command_id: str, request: Request) -> Response:
        _check(version)
        who = await authenticate(gate.registrar, request, "commands")
        body = await read_json(request)
        await commands.result_received(who.partner, version, command.upper(), command_id, body)
        return ocpi_response()

    return [receiver, sender]
