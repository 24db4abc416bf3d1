"""Live station operations of the admin API: connection state, raw OCPP calls, commands and
registration, and what the station reported (device model report, meter values outside any
transaction).

``POST /api/v1/stations/{id}/ocpp/{Action}`` sends any action of the station's OCPP version with
the given payload and returns the station's answer: 409 when the station is offline, 504 when it
does not answer in time, 502 when it answers with a CALLERROR, 422 when the payload is not valid
for its version. ``POST …/commands/{name}`` does the same for a version-free command, and
``POST …/registration`` accepts (or holds back, or rejects) a station, asking a connected one
that was waiting to boot again. ``GET …/security-events`` lists the security events the station
reported (SecurityEventNotification), newest first. This module only translates between HTTP and
the CSMS.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter, ValidationError

from intercarga.domain import RegistrationStatus
from intercarga.errors import IntercargaError, InvalidInputError
from intercarga.ocpp.commands import COMMANDS
from intercarga.ocpp.errors import CallFailedError, CallTimeoutError, StationOfflineError
from intercarga.web.api._resource import MAX_LIMIT, MAX_OFFSET, paging_headers
from intercarga.web.api.services import AdminServices
from intercarga.web.problems import problem, validation_problem

__all__ = [
    "ConnectionView",
    "FrameView",
    "RegistrationChange",
    "connection_view",
    "held_connection_view",
    "station_router",
]


class FrameView(BaseModel):
    time: datetime
    direction: Literal["sent", "received"]
    frame: str


class ConnectionView(BaseModel):
    connected: bool
    ocpp_version: str | None = None
    remote_address: str | None = None
    connected_at: datetime | None = None
    last_message_at: datetime | None = None
    recent_frames: list[FrameView] | None = None


class RegistrationChange(BaseModel):
    status: RegistrationStatus


class OcppAnswer(BaseModel):
    station_id: str
    action: str
    response: dict[str, Any]


def _services(request: Request) -> AdminServices:
    services: AdminServices = request.app.state.admin
    return services


def connection_view(request: Request, station_id: str, *, frames: bool) -> dict[str, Any]:
    """The station's connection on this node (a list's, which does not ask the cluster)."""
    link = _services(request).links.link(station_id)
    if link is None or not link.open:
        return {"connected": False}
    return link.describe(frames=frames)


async def held_connection_view(
    request: Request, station_id: str, *, frames: bool
) -> dict[str, Any]:
    """The station's connection as the node holding it sees it (a station read alone): this
    node's link, or the view another node gives; not connected when the cluster cannot say
    (``/connection`` says why)."""
    view = connection_view(request, station_id, frames=frames)
    if view["connected"]:
        return view
    try:
        return await _services(request).csms.connection(station_id, frames=frames)
    except IntercargaError:
        return view


_CALL_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "The station is offline"},
    502: {"description": "The station answered with a CALLERROR"},
    504: {"description": "The station did not answer in time"},
}


async def _answered(work: Awaitable[Any], payload_field: str) -> tuple[Any, JSONResponse | None]:
    """Await a call to the station; a failure becomes its problem response."""
    try:
        return await work, None
    except StationOfflineError as error:
        return None, problem(409, str(error))
    except CallTimeoutError as error:
        return None, problem(504, str(error))
    except CallFailedError as error:
        return None, problem(
            502, str(error), ocpp_error=error.code.value, ocpp_details=error.details
        )
    except InvalidInputError as error:
        field = error.field or payload_field
        return None, problem(422, str(error), errors=[{"field": field, "message": error.reason}])


def station_router() -> APIRouter:
    router = APIRouter(prefix="/stations", tags=["stations"])

    @router.get(
        "/{station_id}/connection", response_model=ConnectionView, summary="Live connection"
    )
    async def connection(request: Request, station_id: Annotated[str, Path()]) -> dict[str, Any]:
        """Whether the station is connected, with which OCPP version, and its last frames
        (in a cluster: as the node holding the station sees it)."""
        await request.app.state.store.stations.get(station_id)
        return await _services(request).csms.connection(station_id, frames=True)

    @router.get("/{station_id}/report", summary="Latest device model report")
    async def report(request: Request, station_id: Annotated[str, Path()]) -> Any:
        """The variables of the station's latest device model report (asked with the
        get_base_report command: OCPP 2.x NotifyReport, OCPP 1.6 its configuration keys);
        ``complete`` once its last part arrived."""
        store = request.app.state.store
        await store.stations.get(station_id)
        found = await store.reports.latest(station_id)
        if found is None:
            return problem(404, f"station {station_id} has sent no device model report")
        return JSONResponse(
            {
                "station_id": station_id,
                "request_id": found.request_id,
                "generated_at": found.generated_at.isoformat(),
                "complete": found.complete,
                "variables": found.variables,
            }
        )

    @router.get("/{station_id}/security-events", summary="Security event log")
    async def security_events(
        request: Request,
        station_id: Annotated[str, Path()],
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    ) -> Any:
        """The security events the station reported (OCPP SecurityEventNotification: a failed
        firmware signature check, a certificate it refused, a reset, …), newest first, with the
        time the station gives (``timestamp``) and the time the CSMS received each."""
        store = request.app.state.store
        await store.stations.get(station_id)
        events, total = await store.security_events.of_station(
            station_id, offset=offset, limit=limit
        )
        return JSONResponse(
            {
                "items": [
                    {
                        "type": event.type,
                        "timestamp": event.occurred_at.isoformat(),
                        "tech_info": event.tech_info,
                        "received_at": event.received_at.isoformat(),
                    }
                    for event in events
                ],
                "total": total,
                "offset": offset,
                "limit": limit,
            },
            headers={"X-Total-Count": str(total), "X-Limit": str(limit)},
        )

    @router.get("/{station_id}/meter-values", summary="Meter values outside transactions")
    async def meter_values(
        request: Request,
        station_id: Annotated[str, Path()],
        evse: Annotated[int | None, Query(ge=0, description="0: the station's meter")] = None,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    ) -> Any:
        """Meter values the station reported outside any transaction (clock-aligned, triggered),
        one item per message, newest first; the newest 1000 messages of each EVSE are kept.
        Paginated like every list (``X-Total-Count``, ``Link: rel=next``)."""
        store = request.app.state.store
        await store.stations.get(station_id)
        items, total = await store.station_meter_values.list(
            station_id, evse=evse, offset=offset, limit=limit
        )
        body = {
            "items": [
                {
                    "evse": item.evse,
                    "connector": item.connector,
                    "received_at": item.received_at.isoformat(),
                    "meter_values": [v.model_dump(mode="json") for v in item.meter_values],
                    "signed_meter_values": [
                        v.model_dump(mode="json") for v in item.signed_meter_values
                    ],
                }
                for item in items
            ],
            "total": total,
            "offset": offset,
            "limit": limit,
        }
        headers = paging_headers(request, offset, len(items), total, limit)
        return JSONResponse(body, headers=headers)

    @router.post(
        "/{station_id}/ocpp/{action}",
        response_model=OcppAnswer,
        summary="Send any OCPP action",
        responses=_CALL_RESPONSES,
    )
    async def raw_call(
        request: Request,
        station_id: Annotated[str, Path()],
        action: Annotated[str, Path(pattern=r"^[A-Za-z0-9]{1,50}$")],
        payload: Annotated[dict[str, Any], Body()],
    ) -> Any:
        """Send ``action`` with ``payload`` as the station's OCPP version defines it (in a
        cluster: through the node holding the station)."""
        csms = _services(request).csms
        response, failed = await _answered(csms.call(station_id, action, payload), "payload")
        if failed is not None:
            return failed
        return JSONResponse({"station_id": station_id, "action": action, "response": response})

    @router.post(
        "/{station_id}/commands/{name}",
        summary="Run a version-free command",
        responses={404: {"description": "No such command"}, **_CALL_RESPONSES},
    )
    async def command(
        request: Request,
        station_id: Annotated[str, Path()],
        name: Annotated[str, Path(description=", ".join(COMMANDS))],
        body: Annotated[dict[str, Any] | None, Body()] = None,
    ) -> Any:
        """Run ``name`` (remote_start, reset, get_variables, …) on the station, in its OCPP version.

        The body holds the command's fields; the answer is the station's result.
        """
        kind = COMMANDS.get(name)
        if kind is None:
            return problem(404, f"no command {name!r}; known: {', '.join(COMMANDS)}")
        try:
            order = TypeAdapter(kind).validate_python(body or {})
        except ValidationError as error:
            return validation_problem([dict(e) for e in error.errors()])
        service = _services(request).csms
        result, failed = await _answered(service.run_command(station_id, order), "body")
        if failed is not None:
            return failed
        return JSONResponse(
            {
                "station_id": station_id,
                "command": name,
                "result": TypeAdapter(type(result)).dump_python(result, mode="json"),
            }
        )

    @router.post(
        "/{station_id}/registration",
        summary="Accept, hold back or reject a station",
        responses=_CALL_RESPONSES,
    )
    async def registration(
        request: Request, station_id: Annotated[str, Path()], body: RegistrationChange
    ) -> Any:
        """Set the answer the station's BootNotification gets (Accepted, Pending, Rejected).

        A connected station that was not accepted and now is gets a TriggerMessage
        BootNotification, so it need not wait for its retry interval; ``boot_requested`` is its
        answer (null when none was sent).
        """
        service = _services(request).csms
        result, failed = await _answered(
            service.set_registration(station_id, body.status), "status"
        )
        if failed is not None:
            return failed
        return JSONResponse(
            {
                "station_id": station_id,
                "registration_status": body.status.value,
                "boot_requested": None if result is None else result.status,
            }
        )

    return router
