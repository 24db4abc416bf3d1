"""The partners admin API (``/api/v1/partners``): what ``intercarga partners …`` does, over HTTP.

Invite (a fresh TOKEN_A, shown once), register with a partner's versions URL and TOKEN_A, list,
show, update and remove. Requires the admin bearer token; errors are problem JSON like the rest
of the admin API. Tokens are never shown except the TOKEN_A of a new invitation.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from intercarga.ocpi.client import PartnerError
from intercarga.ocpi.envelope import OcpiError
from intercarga.ocpi.service import Roaming
from intercarga.store.partners import Partner
from intercarga.web.auth import require_admin
from intercarga.web.problems import problem

__all__ = ["admin_router", "partner_view"]


class InviteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=255, description="the partner's versions URL")
    token: str = Field(min_length=1, max_length=64, description="TOKEN_A they gave us")
    name: str | None = Field(default=None, min_length=1, max_length=100)


def partner_view(partner: Partner) -> dict[str, Any]:
    """A partner as shown to operators: everything but the tokens."""
    shown = partner.model_dump(mode="json", exclude={"token_hash", "outgoing_token"})
    shown["has_token"] = partner.outgoing_token is not None
    return shown


def _failed(error: Exception) -> JSONResponse:
    code = getattr(error, "status_code", None)
    extra = {"ocpi_status_code": int(code)} if code is not None else {}
    return problem(502, str(error), **extra)


def admin_router(roaming: Roaming) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1/partners", tags=["partners"], dependencies=[Depends(require_admin)]
    )
    registrar = roaming.registrar

    @router.get("", summary="List OCPI partners")
    async def list_partners(offset: int = 0, limit: int = 50) -> Response:
        page = await registrar.partners.list(offset=max(offset, 0), limit=min(max(limit, 1), 200))
        return JSONResponse(
            [partner_view(p) for p in page.items], headers={"X-Total-Count": str(page.total)}
        )

    @router.get("/{partner_id}", summary="Show one partner")
    async def get_partner(partner_id: str) -> Response:
        return JSONResponse(partner_view(await registrar.partners.get(partner_id)))

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

    @router.post("", status_code=201, summary="Register with a partner that invited us")
    async def register(body: RegisterRequest) -> Response:
        try:
            partner = await registrar.register(body.url, body.token, body.name)
        except (PartnerError, OcpiError) as error:
            return _failed(error)
        return JSONResponse(partner_view(partner), status_code=201)

    @router.put("/{partner_id}/credentials", summary="Send new credentials to a partner")
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
