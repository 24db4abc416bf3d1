"""Tariffs, Sessions and CDRs: the CPO's SENDER lists and the eMSP's RECEIVER endpoints.

Tariffs can be deleted by their owner; Sessions can be patched (charging periods, totals); CDRs
are never changed once received (a correction is a credit CDR with an id of its own), so a PUT of
a CDR id that is already stored with different content is refused instead of overwriting it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from intercarga import domain
from intercarga.ocpi import mapping, storing
from intercarga.ocpi.api.modules._common import (
    Gate,
    Kind,
    add_receiver,
    add_sender_list,
    check_version,
    count_refusals,
    module_router,
    parse_body,
)
from intercarga.ocpi.api.route import authenticate, ocpi_response, read_json
from intercarga.ocpi.envelope import OcpiError, StatusCode
from intercarga.ocpi.mapping import model_for
from intercarga.ocpi.models import patch_model
from intercarga.ocpi.nap import NapReceiver
from intercarga.ocpi.routing import may_act_for
from intercarga.ocpi.sessions import session_for_ocpi, session_token
from intercarga.store import Store

__all__ = ["CDRS", "SESSIONS", "TARIFFS", "routers"]


async def _tariff_json(
    gate: Gate, store: Store, item: domain.Tariff, version: str
) -> dict[str, Any]:
    return mapping.tariff_to_ocpi(item, version)


async def _cdr_json(gate: Gate, store: Store, item: domain.Cdr, version: str) -> dict[str, Any]:
    return mapping.cdr_to_ocpi(item, version)


async def _session_json(
    gate: Gate, store: Store, item: domain.Session, version: str
) -> dict[str, Any]:
    token = await session_token(store, item, gate.ours("EMSP"))
    return mapping.session_to_ocpi(session_for_ocpi(item), token, version)


def _session_to_domain(received: Any, party: tuple[str, str]) -> domain.Session:
    session, _token = mapping.session_to_domain(received)
    return session


TARIFFS = Kind(
    module="tariffs",
    model="Tariff",
    owner="CPO",
    key="id",
    repository=lambda store: store.tariffs,
    to_domain=lambda received, party: mapping.tariff_to_domain(received, party),
    to_ocpi=_tariff_json,
)
SESSIONS = Kind(
    module="sessions",
    model="Session",
    owner="CPO",
    key="id",
    repository=lambda store: store.sessions,
    to_domain=_session_to_domain,
    to_ocpi=_session_json,
)
CDRS = Kind(
    module="cdrs",
    model="CDR",
    owner="CPO",
    key="id",
    repository=lambda store: store.cdrs,
    to_domain=lambda received, party: mapping.cdr_to_domain(received),
    to_ocpi=_cdr_json,
)


def _cdr_receiver(router: APIRouter, gate: Gate, store: Store) -> None:
    @router.post("", summary="cdrs: push a new CDR (RECEIVER)", status_code=201)
    async def post_cdr(version: str, request: Request) -> Response:
        check_version(CDRS, version)
        who = await authenticate(gate.registrar, request, "cdrs")
        received = parse_body(model_for(version, "CDR"), await read_json(request))
        if not may_act_for(who.partner, received.country_code, received.party_id, "CPO"):
            raise OcpiError(
                StatusCode.CLIENT_ERROR,
                f"{received.country_code}-{received.party_id} is not a CPO party you registered",
                404,
            )
        cdr = mapping.cdr_to_domain(received)
        stored = await store.cdrs.find(cdr.country_code, cdr.party_id, cdr.id)
        if stored is None:
            await store.cdrs.create(cdr)
        elif stored.model_dump(exclude={"last_updated"}) != cdr.model_dump(
            exclude={"last_updated"}
        ):
            # CDRs are never changed: a repeat is fine, a different CDR under the same id is not.
            raise OcpiError(
                StatusCode.INVALID_OR_MISSING_PARAMETERS,
                f"id: CDR {cdr.id} exists with other content (send a credit CDR instead)",
            )
        location = f"{str(request.url).rstrip('/')}/{cdr.country_code}/{cdr.party_id}/{cdr.id}"
        return ocpi_response(http_status=201, headers={"Location": location})

    @router.get("/{country_code}/{party_id}/{cdr_id}", summary="cdrs: one CDR as stored here")
    async def get_cdr(
        version: str, country_code: str, party_id: str, cdr_id: str, request: Request
    ) -> Response:
        check_version(CDRS, version)
        who = await authenticate(gate.registrar, request, "cdrs")
        if not may_act_for(who.partner, country_code, party_id, "CPO"):
            raise OcpiError(StatusCode.CLIENT_ERROR, "not a CPO party you registered", 404)
        cdr = await store.cdrs.get(country_code.upper(), party_id.upper(), cdr_id)
        return ocpi_response(mapping.cdr_to_ocpi(cdr, version))


def _session_patch(router: APIRouter, gate: Gate, store: Store) -> None:
    @router.patch("/{country_code}/{party_id}/{session_id}", summary="sessions: partial update")
    async def patch_session(
        version: str, country_code: str, party_id: str, session_id: str, request: Request
    ) -> Response:
        check_version(SESSIONS, version)
        who = await authenticate(gate.registrar, request, "sessions")
        if not may_act_for(who.partner, country_code, party_id, "CPO"):
            raise OcpiError(StatusCode.CLIENT_ERROR, "not a CPO party you registered", 404)
        model = model_for(version, "Session")
        changes = parse_body(patch_model(model), await read_json(request))
        stored = await store.sessions.get(country_code.upper(), party_id.upper(), session_id)
        whole = await _session_json(gate, store, stored, version)
        whole.update(changes.model_dump(mode="json", exclude_unset=True))
        merged = parse_body(model, whole)
        await storing.put(store.sessions, _session_to_domain(merged, (country_code, party_id)))
        return ocpi_response()


def routers(gate: Gate, store: Store, nap: NapReceiver | None = None) -> list[APIRouter]:
    found = []
    for kind in (TARIFFS, SESSIONS, CDRS):
        sender = module_router("CPO", kind)
        add_sender_list(sender, gate, store, kind)
        receiver = module_router("EMSP", kind)
        if kind is CDRS:
            _cdr_receiver(receiver, gate, store)
        else:
            if kind is SESSIONS:
                _session_patch(receiver, gate, store)
            add_receiver(receiver, gate, store, kind, deletable=kind is TARIFFS)
        found += [sender, receiver]
    # The national access point receives Tariffs like an eMSP does.
    receiver = module_router("NAP", TARIFFS, gate)
    if nap is not None:  # refused Tariffs count against the CPO (registry/)
        count_refusals(receiver, nap, "tariffs")
    add_receiver(receiver, gate, store, TARIFFS, deletable=True)
    found.append(receiver)
    return found
