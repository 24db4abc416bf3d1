"""The roaming admin API: what ``intercarga partners …`` does, over HTTP.

``/api/v1/partners``: invite (a fresh TOKEN_A, shown once), register with a partner's versions
URL and TOKEN_A, list, show (with the partner's push backlog), update and remove; a partner's
outbox (``…/{id}/outbox``), retrying it now, and a full push of our objects (``…/{id}/sync``).
``/api/v1/roaming/commands``: send an OCPI command to a CPO as our eMSP (``…/charging-profiles``:
set, read or clear a session's charging profile), and read its response and result. Requires the admin bearer token; errors are problem JSON like the rest of the admin
API. Tokens are never shown except the TOKEN_A of a new invitation.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from intercarga.domain._types import utc_now
from intercarga.domain.partner import Partner
from intercarga.ocpi.client import PartnerError, is_callable_url
from intercarga.ocpi.commands import Commands
from intercarga.ocpi.envelope import OcpiError
from intercarga.ocpi.outbox import Outbox
from intercarga.ocpi.profiles import ChargingProfiles
from intercarga.ocpi.push import Pusher
from intercarga.ocpi.registrar import Registrar
from intercarga.store.roaming import Backlog, CommandRecord, OutboxEntry
from intercarga.web.api import MAX_OFFSET
from intercarga.web.auth import require_admin
from intercarga.web.problems import problem

__all__ = ["admin_router", "command_view", "commands_router", "entry_view", "partner_view"]


class InviteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=255, description="the partner's versions URL")
    token: str = Field(min_length=1, max_length=64, description="TOKEN_A they gave us")
    name: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("url")
    @classmethod
    def _absolute(cls, url: str) -> str:
        if not is_callable_url(url):
            raise ValueError("must be an absolute http:// or https:// URL")
        return url


class CommandRequest(BaseModel):
    """An OCPI command for a CPO, sent by one of our eMSP parties."""

    model_config = ConfigDict(extra="forbid")

    command: Literal[
        "START_SESSION", "STOP_SESSION", "RESERVE_NOW", "CANCEL_RESERVATION", "UNLOCK_CONNECTOR"
    ]
    country_code: str = Field(pattern=r"^[A-Z]{2}$", description="the CPO's")
    party_id: str = Field(pattern=r"^[A-Z0-9]{3}$", description="the CPO's")
    token_uid: str | None = Field(default=None, max_length=36, description="one of our tokens")
    location_id: str | None = Field(default=None, max_length=36)
    evse_uid: str | None = Field(default=None, max_length=36)
    connector_id: str | None = Field(default=None, max_length=36)
    session_id: str | None = Field(default=None, max_length=36)
    reservation_id: str | None = Field(default=None, max_length=36)
    expiry_date: datetime | None = None


class ProfileRequest(BaseModel):
    """Set, read or clear the charging profile of a session at a CPO, as our eMSP."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["SET_PROFILE", "GET_PROFILE", "CLEAR_PROFILE"]
    country_code: str = Field(pattern=r"^[A-Z]{2}$", description="the CPO's")
    party_id: str = Field(pattern=r"^[A-Z0-9]{3}$", description="the CPO's")
    session_id: str = Field(min_length=1, max_length=36)
    charging_profile: dict[str, Any] | None = Field(
        default=None, description="OCPI ChargingProfile (SET_PROFILE)"
    )
    duration: int | None = Field(default=None, gt=0, description="seconds (GET_PROFILE)")


def partner_view(partner: Partner, backlog: Backlog | None = None) -> dict[str, Any]:
    """A partner as shown to operators: everything but the tokens, and what waits for it."""
    shown = partner.model_dump(mode="json", exclude={"token_hash", "outgoing_token"})
    shown["has_token"] = partner.outgoing_token is not None
    if backlog is not None:
        shown["outbox"] = _json(asdict(backlog))
    return shown


def entry_view(entry: OutboxEntry) -> dict[str, Any]:
    shown = asdict(entry)
    for name in ("payload", "replaces", "headers", "correlation_id", "partner_id"):
        del shown[name]
    return _json(shown)


def command_view(record: CommandRecord) -> dict[str, Any]:
    return _json(asdict(record))


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in values.items()
    }


# Pages of the lists below: bounded at the edge, so no offset can overflow the database.
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Limit200 = Annotated[int, Query(ge=1, le=200)]
Limit500 = Annotated[int, Query(ge=1, le=500)]

_PARTNER_FAILED: dict[int | str, dict[str, Any]] = {
    502: {"description": "The partner could not be reached, or refused (its OCPI status given)"}
}


def _failed(error: Exception) -> JSONResponse:
    code = getattr(error, "status_code", None)
    extra = {"ocpi_status_code": int(code)} if code is not None else {}
    return problem(502, str(error), **extra)


def admin_router(registrar: Registrar, outbox: Outbox, pusher: Pusher) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1/partners", tags=["partners"], dependencies=[Depends(require_admin)]
    )

    @router.get("", summary="List OCPI partners (with their push backlog)")
    async def list_partners(offset: Offset = 0, limit: Limit200 = 50) -> Response:
        page = await registrar.partners.list(offset=offset, limit=limit)
        shown = [partner_view(p, await outbox.repository.backlog(p.id)) for p in page.items]
        return JSONResponse(shown, headers={"X-Total-Count": str(page.total)})

    @router.get("/{partner_id}", summary="Show one partner (with its push backlog)")
    async def get_partner(partner_id: str) -> Response:
        partner = await registrar.partners.get(partner_id)
        return JSONResponse(partner_view(partner, await outbox.repository.backlog(partner_id)))

    @router.get("/{partner_id}/outbox", summary="What was and will be pushed to a partner")
    async def get_outbox(
        partner_id: str,
        state: Literal["PENDING", "SENT", "FAILED"] | None = None,
        offset: Offset = 0,
        limit: Limit500 = 50,
    ) -> Response:
        await registrar.partners.get(partner_id)
        entries, total = await outbox.repository.entries(
            partner_id, state=state, offset=offset, limit=limit
        )
        return JSONResponse([entry_view(e) for e in entries], headers={"X-Total-Count": str(total)})

    @router.post("/{partner_id}/outbox/retry", summary="Try the partner's backlog again now")
    async def retry_outbox(partner_id: str, failed: bool = False) -> Response:
        await registrar.partners.get(partner_id)
        count = await outbox.repository.retry_now(partner_id, utc_now(), failed=failed)
        outbox.wake(partner_id)
        return JSONResponse({"partner_id": partner_id, "due_now": count})

    @router.post("/{partner_id}/sync", summary="Push every Location, Tariff and Token of ours")
    async def sync(partner_id: str) -> Response:
        partner = await registrar.partners.get(partner_id)
        count = await pusher.push_all(partner)
        return JSONResponse({"partner_id": partner_id, "queued": count})

    @router.post("/invitations", status_code=201, summary="Invite a partner: a fresh TOKEN_A")
    async def invite(body: InviteRequest) -> Response:
        invitation = await registrar.invite(body.name)
        return JSONResponse(
            {
                "partner_id": invitation.partner_id,
                "versions_url": invitation.versions_url,
                "token": invitation.token,
            },
            status_code=201,
        )

    @router.post(
        "",
        status_code=201,
        summary="Register with a partner that invited us",
        responses=_PARTNER_FAILED,
    )
    async def register(body: RegisterRequest) -> Response:
        try:
            partner = await registrar.register(body.url, body.token, body.name)
        except (PartnerError, OcpiError) as error:
            return _failed(error)
        return JSONResponse(partner_view(partner), status_code=201)

    @router.put(
        "/{partner_id}/credentials",
        summary="Send new credentials to a partner",
        responses=_PARTNER_FAILED,
    )
    async def update(partner_id: str, version: str | None = None) -> Response:
        try:
            partner = await registrar.update(partner_id, version)
        except (PartnerError, OcpiError) as error:
            return _failed(error)
        return JSONResponse(partner_view(partner))

    @router.delete("/{partner_id}", summary="Remove a partner (unregistering first)")
    async def remove(partner_id: str) -> Response:
        told = await registrar.remove(partner_id)
        return JSONResponse({"partner_id": partner_id, "unregistered": told})

    return router


def commands_router(commands: Commands, profiles: ChargingProfiles) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1/roaming/commands",
        tags=["partners"],
        dependencies=[Depends(require_admin)],
    )

    @router.post("", status_code=201, summary="Send an OCPI command to a CPO (as our eMSP)")
    async def send(body: CommandRequest) -> Response:
        record = await commands.send(
            body.command,
            (body.country_code, body.party_id),
            token_uid=body.token_uid,
            location_id=body.location_id,
            evse_uid=body.evse_uid,
            connector_id=body.connector_id,
            session_id=body.session_id,
            reservation_id=body.reservation_id,
            expiry_date=body.expiry_date,
        )
        return JSONResponse(command_view(record), status_code=201)

    @router.post(
        "/charging-profiles", status_code=201, summary="Set, read or clear a session's profile"
    )
    async def profile(body: ProfileRequest) -> Response:
        record = await profiles.send(
            body.action,
            (body.country_code, body.party_id),
            body.session_id,
            charging_profile=body.charging_profile,
            duration=body.duration,
        )
        return JSONResponse(command_view(record), status_code=201)

    @router.get("", summary="Commands sent, received and routed, newest first")
    async def recent(offset: Offset = 0, limit: Limit200 = 50) -> Response:
        records, total = await commands.records.recent(offset=offset, limit=limit)
        return JSONResponse(
            [command_view(r) for r in records], headers={"X-Total-Count": str(total)}
        )

    @router.get("/{command_id}", summary="One command: its request, response and result")
    async def one(command_id: str) -> Response:
        return JSONResponse(command_view(await commands.records.get(command_id)))

    return router
