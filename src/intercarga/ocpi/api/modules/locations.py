"""Locations: the CPO's SENDER (list, one Location/EVSE/Connector) and the eMSP's RECEIVER
(GET, PUT and PATCH of a Location, an EVSE or a Connector).

The SENDER's list keeps each Location's JSON per version while the Location is unchanged
(:class:`KeptLocationJson`): a pull of an unchanged network reads no EVSE and writes no JSON.

A PUT or PATCH of an EVSE or Connector changes the stored Location it belongs to (2003 when that
Location is unknown). A PATCH is merged into the stored object written in the caller's version
and the result is validated whole before anything is stored, so a bad PATCH changes nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response

from intercarga import domain
from intercarga.domain.partner import Partner
from intercarga.ocpi import mapping, storing
from intercarga.ocpi.api.modules._common import (
    Gate,
    Kind,
    Listed,
    Lister,
    ListQuery,
    add_sender_list,
    check_version,
    count_refusals,
    module_router,
    our_party,
    parse_body,
    same,
)
from intercarga.ocpi.api.route import authenticate, json_bytes, ocpi_response, read_json
from intercarga.ocpi.envelope import OcpiError, StatusCode
from intercarga.ocpi.mapping import model_for
from intercarga.ocpi.models import patch_model
from intercarga.ocpi.nap import NapReceiver
from intercarga.ocpi.routing import may_act_for
from intercarga.store import Store

__all__ = ["LOCATIONS", "KeptLocationJson", "rendered_lister", "routers"]


async def _location_json(
    gate: Gate, store: Store, item: domain.Location, version: str
) -> dict[str, Any]:
    return mapping.location_to_ocpi(item, version)


LOCATIONS = Kind(
    module="locations",
    model="Location",
    owner="CPO",
    key="id",
    repository=lambda store: store.locations,
    to_domain=lambda received, party: mapping.location_to_domain(received, party),
    to_ocpi=_location_json,
    versions=("2.1.1", "2.2.1", "2.3.0"),
)
RECEIVED = replace(LOCATIONS, versions=("2.2.1", "2.3.0"))


def _pick(data: dict[str, Any], evse_uid: str | None, connector_id: str | None) -> dict[str, Any]:
    """The EVSE or Connector JSON inside a Location's JSON (2.1.1/2.2.1/2.3.0 alike)."""
    if evse_uid is None:
        return data
    evse = next((e for e in data.get("evses", []) if same(e["uid"], evse_uid)), None)
    if evse is None:
        raise OcpiError(StatusCode.CLIENT_ERROR, f"EVSE {evse_uid} not found", 404)
    if connector_id is None:
        return dict(evse)
    connector = next((c for c in evse["connectors"] if same(c["id"], connector_id)), None)
    if connector is None:
        raise OcpiError(StatusCode.CLIENT_ERROR, f"connector {connector_id} not found", 404)
    return dict(connector)


class KeptLocationJson:
    """Each of our Locations' OCPI JSON per version, kept while the Location keeps the revision
    it was written from (the store draws a new one at every write, EVSE statuses included), at
    most ``max_bytes`` of it, the least recently served dropped first.

    Writing a Location as OCPI (read whole from three tables, built as a domain object, mapped,
    checked against the version's model, encoded) cost about 0.5 ms, nearly all of a pull of
    the list; a pull again asks mostly for Locations that did not change since. Not keyed by
    ``last_updated``: a late status report changes an EVSE without moving it.
    """

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._kept: OrderedDict[tuple[tuple[str, str, str], str], tuple[int, bytes]] = OrderedDict()

    def get(self, key: tuple[str, str, str], version: str, revision: int) -> bytes | None:
        """The JSON of ``key`` in ``version`` written from ``revision``; None if not kept."""
        kept = self._kept.get((key, version))
        if kept is None or kept[0] != revision:
            return None
        self._kept.move_to_end((key, version))
        return kept[1]

    def render(self, location: domain.Location, version: str, revision: int) -> bytes:
        """``location`` (read at ``revision``) as ``version``'s JSON, kept for the next time."""
        body = json_bytes(mapping.location_to_ocpi(location, version))
        key = ((location.country_code, location.party_id, location.id), version)
        old = self._kept.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1])
        self._kept[key] = (revision, body)
        self._bytes += len(body)
        while self._bytes > self._max_bytes and self._kept:
            self._bytes -= len(self._kept.popitem(last=False)[1][1])
        return body


def rendered_lister(store: Store, rendered: KeptLocationJson) -> Lister:
    """Pages of our Locations, each Location's JSON taken from ``rendered`` while its revision
    is the one kept; only the others are read whole (EVSEs, connectors) and written anew."""

    async def listed(query: ListQuery) -> Listed:
        kept: dict[tuple[str, ...], bytes] = {}

        def cached(key: tuple[str, ...], revision: int) -> bool:
            # Taken now, not looked up again below: other requests may drop it meanwhile.
            body = rendered.get((key[0], key[1], key[2]), query.version, revision)
            if body is not None:
                kept[key] = body
            return body is not None

        found = await store.locations.list_current(cached, **query.arguments())
        items = [
            kept[item.key]
            if item.location is None
            else rendered.render(item.location, query.version, item.revision)
            for item in found.items
        ]
        return Listed(items, found.total, found.items[-1].key[2] if found.items else None)

    return listed


def _sender(gate: Gate, store: Store) -> APIRouter:
    router = module_router("CPO", LOCATIONS)
    add_sender_list(router, gate, store, LOCATIONS, rendered_lister(store, KeptLocationJson()))

    async def one(
        version: str,
        request: Request,
        location_id: str,
        evse_uid: str | None = None,
        connector_id: str | None = None,
    ) -> Response:
        check_version(LOCATIONS, version)
        await authenticate(gate.registrar, request, "locations")
        party = our_party(gate, "CPO", request)
        location = await store.locations.find(party.country_code, party.party_id, location_id)
        if location is None:
            raise OcpiError(StatusCode.UNKNOWN_LOCATION, f"location {location_id} not found", 404)
        data = mapping.location_to_ocpi(location, version)
        return ocpi_response(_pick(data, evse_uid, connector_id))

    router.add_api_route("/{location_id}", one, methods=["GET"], summary="One Location")
    router.add_api_route("/{location_id}/{evse_uid}", one, methods=["GET"], summary="One EVSE")
    router.add_api_route(
        "/{location_id}/{evse_uid}/{connector_id}", one, methods=["GET"], summary="One Connector"
    )
    return router


def _owned(partner: Partner, country_code: str, party_id: str) -> None:
    if not may_act_for(partner, country_code, party_id, "CPO"):
        raise OcpiError(
            StatusCode.CLIENT_ERROR, f"{country_code}-{party_id} is not a CPO you registered", 404
        )


def _replace(
    location: dict[str, Any], evse_uid: str, connector_id: str | None, value: dict[str, Any]
) -> dict[str, Any]:
    """``location`` with the EVSE (or the EVSE's connector) replaced or added."""
    evses = list(location.get("evses", []))
    index = next((i for i, e in enumerate(evses) if same(e["uid"], evse_uid)), None)
    if connector_id is None:
        if index is None:
            evses.append(value)
        else:
            evses[index] = value
    else:
        if index is None:
            raise OcpiError(StatusCode.CLIENT_ERROR, f"EVSE {evse_uid} not found", 404)
        evse = dict(evses[index])
        connectors = list(evse["connectors"])
        place = next((i for i, c in enumerate(connectors) if same(c["id"], connector_id)), None)
        if place is None:
            connectors.append(value)
        else:
            connectors[place] = value
        evse["connectors"] = connectors
        evse["last_updated"] = max(evse["last_updated"], value["last_updated"])
        evses[index] = evse
    updated = {**location, "evses": evses}
    # "last_updated: Timestamp when this Location or one of its EVSEs or Connectors were last
    # updated": a child's change moves the Location's timestamp too.
    updated["last_updated"] = max(location["last_updated"], value["last_updated"])
    return updated


def _receiver(
    gate: Gate, store: Store, role: str = "EMSP", nap: NapReceiver | None = None
) -> APIRouter:
    """The RECEIVER of an eMSP, or of a NAP (the same: partners' Locations are stored; ``nap``,
    the access point's, keeps each EVSE's status history and counts refusals: registry/)."""
    router = module_router(role, RECEIVED, gate if role != "EMSP" else None)
    if nap is not None:
        count_refusals(router, nap, "locations")

    async def keep(location: domain.Location, before: domain.Location | None) -> bool:
        """Store ``location`` (validated whole); True if it is new."""
        if nap is None:
            return await storing.put(store.locations, location)
        return await nap.location_received(location, before=before)

    async def stored(country_code: str, party_id: str, location_id: str) -> domain.Location:
        location = await store.locations.find(country_code.upper(), party_id.upper(), location_id)
        if location is None:
            raise OcpiError(StatusCode.UNKNOWN_LOCATION, f"location {location_id} not found", 404)
        return location

    async def get(
        version: str,
        country_code: str,
        party_id: str,
        location_id: str,
        request: Request,
        evse_uid: str | None = None,
        connector_id: str | None = None,
    ) -> Response:
        check_version(RECEIVED, version)
        who = await authenticate(gate.registrar, request, "locations")
        _owned(who.partner, country_code, party_id)
        location = await stored(country_code, party_id, location_id)
        data = mapping.location_to_ocpi(location, version)
        return ocpi_response(_pick(data, evse_uid, connector_id))

    async def put(
        version: str,
        country_code: str,
        party_id: str,
        location_id: str,
        request: Request,
        evse_uid: str | None = None,
        connector_id: str | None = None,
    ) -> Response:
        check_version(RECEIVED, version)
        who = await authenticate(gate.registrar, request, "locations")
        _owned(who.partner, country_code, party_id)
        body = await read_json(request)
        party = (country_code.upper(), party_id.upper())
        if evse_uid is None:
            received = parse_body(model_for(version, "Location"), body)
            for name, expected in (
                ("country_code", country_code),
                ("party_id", party_id),
                ("id", location_id),
            ):
                if not same(getattr(received, name), expected):
                    raise OcpiError(
                        StatusCode.INVALID_OR_MISSING_PARAMETERS,
                        f"{name}: {getattr(received, name)!r} differs from {expected!r} in the URL",
                    )
            before = await store.locations.find(*party, location_id) if nap else None
            created = await keep(mapping.location_to_domain(received, party), before)
            return ocpi_response(http_status=201 if created else 200)
        model = model_for(version, "Connector" if connector_id else "EVSE")
        received = parse_body(model, body)
        key, expected = ("id", connector_id) if connector_id else ("uid", evse_uid)
        if not same(getattr(received, key), expected or ""):
            raise OcpiError(
                StatusCode.INVALID_OR_MISSING_PARAMETERS,
                f"{key}: {getattr(received, key)!r} differs from {expected!r} in the URL",
            )
        location = await stored(country_code, party_id, location_id)
        whole = _replace(
            mapping.location_to_ocpi(location, version),
            evse_uid,
            connector_id,
            received.model_dump(mode="json", exclude_none=True),
        )
        merged = parse_body(model_for(version, "Location"), whole)
        after = mapping.location_to_domain(merged, party)
        await keep(after, location)
        return ocpi_response()

    async def patch(
        version: str,
        country_code: str,
        party_id: str,
        location_id: str,
        request: Request,
        evse_uid: str | None = None,
        connector_id: str | None = None,
    ) -> Response:
        check_version(RECEIVED, version)
        who = await authenticate(gate.registrar, request, "locations")
        _owned(who.partner, country_code, party_id)
        name = "Connector" if connector_id else "EVSE" if evse_uid else "Location"
        changes = parse_body(patch_model(model_for(version, name)), await read_json(request))
        location = await stored(country_code, party_id, location_id)
        whole = mapping.location_to_ocpi(location, version)
        target = _pick(whole, evse_uid, connector_id)
        patched = {**target, **changes.model_dump(mode="json", exclude_unset=True)}
        whole = patched if evse_uid is None else _replace(whole, evse_uid, connector_id, patched)
        merged = parse_body(model_for(version, "Location"), whole)
        party = (country_code.upper(), party_id.upper())
        after = mapping.location_to_domain(merged, party)
        await keep(after, location)
        return ocpi_response()

    base = "/{country_code}/{party_id}/{location_id}"
    for suffix, what in (
        ("", "Location"),
        ("/{evse_uid}", "EVSE"),
        ("/{evse_uid}/{connector_id}", "Connector"),
    ):
        router.add_api_route(base + suffix, get, methods=["GET"], summary=f"{what} as stored here")
        router.add_api_route(base + suffix, put, methods=["PUT"], summary=f"Push a {what}")
        router.add_api_route(base + suffix, patch, methods=["PATCH"], summary=f"Patch a {what}")
    return router


def routers(gate: Gate, store: Store, nap: NapReceiver | None = None) -> list[APIRouter]:
    """The CPO's SENDER and the eMSP's and the access point's RECEIVERs (``nap``: the access
    point's hooks, when this deployment hosts one)."""
    return [_sender(gate, store), _receiver(gate, store), _receiver(gate, store, "NAP", nap)]
