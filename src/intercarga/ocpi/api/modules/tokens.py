"""Tokens: the CPO's RECEIVER (eMSPs push their tokens; cached for whitelisting) and the eMSP's
SENDER (the list, and real-time authorization of one token).

Real-time authorization answers from this deployment's own tokens: ALLOWED when the token is
valid, BLOCKED when it is not, EXPIRED past its expiry; an unknown token is HTTP 404 with
status 2004, as the spec says. The token's type comes from ``?type=`` (RFID when absent).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from intercarga import domain
from intercarga.domain._types import utc_now
from intercarga.ocpi import mapping, storing
from intercarga.ocpi.api.modules._common import (
    Gate,
    Kind,
    add_sender_list,
    check_version,
    module_router,
    our_party,
    parse_body,
    same,
)
from intercarga.ocpi.api.route import authenticate, ocpi_response, read_json
from intercarga.ocpi.envelope import OcpiError, StatusCode
from intercarga.ocpi.mapping import model_for
from intercarga.ocpi.models import patch_model
from intercarga.ocpi.routing import may_act_for
from intercarga.store import Store

__all__ = ["TOKENS", "authorization", "routers"]


async def _token_json(gate: Gate, store: Store, item: domain.Token, version: str) -> dict[str, Any]:
    return mapping.token_to_ocpi(item, version)


TOKENS = Kind(
    module="tokens",
    model="Token",
    owner="EMSP",
    key="uid",
    repository=lambda store: store.tokens,
    to_domain=lambda received, party: mapping.token_to_domain(received, party),
    to_ocpi=_token_json,
    versions=("2.1.1", "2.2.1", "2.3.0"),
)


def authorization(token: domain.Token) -> str:
    """The AllowedType for a token of ours (no per-location rules yet)."""
    if token.expires_at is not None and token.expires_at <= utc_now():
        return "EXPIRED"
    return "ALLOWED" if token.valid else "BLOCKED"


def _receiver(gate: Gate, store: Store) -> APIRouter:
    router = module_router("CPO", TOKENS)
    path = "/{country_code}/{party_id}/{token_uid}"

    async def check(request: Request, version: str, country_code: str, party_id: str) -> None:
        check_version(TOKENS, version)
        who = await authenticate(gate.registrar, request, "tokens")
        if not may_act_for(who.partner, country_code, party_id, "EMSP"):
            raise OcpiError(
                StatusCode.CLIENT_ERROR,
                f"{country_code}-{party_id} is not an eMSP you registered",
                404,
            )

    @router.get(path, summary="A token as stored here (RECEIVER)")
    async def get_token(
        version: str, country_code: str, party_id: str, token_uid: str, request: Request
    ) -> Response:
        await check(request, version, country_code, party_id)
        token = await store.tokens.get(country_code.upper(), party_id.upper(), token_uid)
        return ocpi_response(mapping.token_to_ocpi(token, version))

    @router.put(path, summary="Push a new or updated token (RECEIVER)")
    async def put_token(
        version: str, country_code: str, party_id: str, token_uid: str, request: Request
    ) -> Response:
        await check(request, version, country_code, party_id)
        received = parse_body(model_for(version, "Token"), await read_json(request))
        if not same(received.uid, token_uid) or (
            version != "2.1.1"
            and not (
                same(received.country_code, country_code) and same(received.party_id, party_id)
            )
        ):
            raise OcpiError(
                StatusCode.INVALID_OR_MISSING_PARAMETERS,
                "uid: the token in the body is not the one in the URL",
            )
        wanted = request.query_params.get("type", "RFID")
        if str(getattr(received.type, "value", received.type)) != wanted:
            raise OcpiError(
                StatusCode.INVALID_OR_MISSING_PARAMETERS,
                f"type: {received.type!r} differs from {wanted!r} in the URL",
            )
        token = mapping.token_to_domain(received, (country_code.upper(), party_id.upper()))
        created = await storing.put(store.tokens, token)
        return ocpi_response(http_status=201 if created else 200)

    @router.patch(path, summary="Partial update of a token (RECEIVER)")
    async def patch_token(
        version: str, country_code: str, party_id: str, token_uid: str, request: Request
    ) -> Response:
        await check(request, version, country_code, party_id)
        model = model_for(version, "Token")
        changes = parse_body(patch_model(model), await read_json(request))
        token = await store.tokens.get(country_code.upper(), party_id.upper(), token_uid)
        whole = {
            **mapping.token_to_ocpi(token, version),
            **changes.model_dump(mode="json", exclude_unset=True),
        }
        merged = parse_body(model, whole)
        await storing.put(
            store.tokens, mapping.token_to_domain(merged, (country_code.upper(), party_id.upper()))
        )
        return ocpi_response()

    return router


def _sender(gate: Gate, store: Store) -> APIRouter:
    router = module_router("EMSP", TOKENS)
    add_sender_list(router, gate, store, TOKENS)

    @router.post("/{token_uid}/authorize", summary="Real-time authorization (SENDER)")
    async def authorize(version: str, token_uid: str, request: Request) -> Response:
        check_version(TOKENS, version)
        await authenticate(gate.registrar, request, "tokens")
        party = our_party(gate, "EMSP", request)
        raw = await request.body()
        location = None
        if raw.strip():
            location = parse_body(
                model_for(version, "LocationReferences"), await read_json(request)
            )
        token = await store.tokens.find(party.country_code, party.party_id, token_uid)
        wanted = request.query_params.get("type", "RFID")
        if token is None or token.type.value != wanted:
            raise OcpiError(StatusCode.UNKNOWN_TOKEN, f"unknown token {token_uid}", 404)
        allowed = authorization(token)
        info: dict[str, Any] = {
            "allowed": allowed,
            "token": mapping.token_to_ocpi(token, version),
        }
        if allowed == "ALLOWED":
            # The CPO puts it in the Session and the CDR: how we match them to this decision.
            info["authorization_reference"] = uuid.uuid4().hex
        if location is not None:
            info["location"] = location.model_dump(mode="json", exclude_none=True)
        data = parse_body(model_for(version, "AuthorizationInfo"), info)
        return ocpi_response(data.model_dump(mode="json", exclude_none=True))

    return router


def routers(gate: Gate, store: Store) -> list[APIRouter]:
    return [_receiver(gate, store), _sender(gate, store)]
