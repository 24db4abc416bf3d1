"""What every functional module shares: the kinds of objects, the sender's paginated list and the
receiver's GET/PUT/DELETE of client-owned objects.

A :class:`Kind` says, for one module, which party role owns the objects, which repository keeps
them and how they map to and from OCPI. The sender list serves only objects of our own parties
(the store also holds what partners pushed to us), its page body joined from each object's JSON
(a module may keep those, :data:`Lister`); the receiver accepts objects only under a
party the calling partner registered, with the URL's ids equal to the body's (else 2001), and
stores nothing that does not validate whole. Nothing here knows a particular module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from intercarga.config import OcpiParty
from intercarga.ocpi import storing
from intercarga.ocpi.api.route import (
    OcpiRoute,
    authenticate,
    json_bytes,
    ocpi_list_response,
    ocpi_response,
    read_json,
)
from intercarga.ocpi.envelope import OcpiError, StatusCode
from intercarga.ocpi.mapping import model_for
from intercarga.ocpi.models import parse
from intercarga.ocpi.nap import NapReceiver
from intercarga.ocpi.registrar import Authenticated, Registrar
from intercarga.ocpi.routing import Party, may_act_for
from intercarga.ocpi.transport import PageRequest, page_headers, page_request
from intercarga.ocpi.versions import require_version
from intercarga.store import Store
from intercarga.store.repositories import Repository

__all__ = [
    "Gate",
    "Kind",
    "ListQuery",
    "Listed",
    "Lister",
    "add_receiver",
    "add_sender_list",
    "check_version",
    "count_refusals",
    "kind_lister",
    "module_router",
    "our_party",
    "parse_body",
    "require_version",
    "same",
]


@dataclass(frozen=True)
class Gate:
    """What every route of a module needs: who calls and which parties we host (the registrar),
    and the longest page we serve."""

    registrar: Registrar
    max_page_size: int

    def ours(self, role: str) -> frozenset[Party]:
        """Our parties of ``role``."""
        return frozenset(
            (p.country_code, p.party_id) for p in self.registrar.parties if p.role == role
        )


@dataclass(frozen=True)
class Kind:
    module: str  # the ModuleID: "tariffs"
    model: str  # the OCPI class: "Tariff"
    owner: str  # the party role that owns the objects: "CPO" (tokens: "EMSP")
    key: str  # the id attribute: "id" (tokens: "uid")
    repository: Callable[[Store], Repository[Any]]
    to_domain: Callable[[Any, tuple[str, str]], Any]
    to_ocpi: Callable[[Gate, Store, Any, str], Awaitable[dict[str, Any]]]
    versions: tuple[str, ...] = ("2.2.1", "2.3.0")


def module_router(role: str, kind: Kind, gate: Gate | None = None) -> APIRouter:
    """The router for one interface: ``/{role}/{version}/{module}`` (prefixed ``/ocpi``).

    With ``gate``, the routes answer only while this platform hosts a party of ``role``
    (interfaces of roles a deployment may not host, like NAP).
    """
    dependencies = []
    if gate is not None:
        parties = gate.registrar

        async def hosted() -> None:
            if not any(party.role == role for party in parties.parties):
                raise OcpiError(
                    StatusCode.CLIENT_ERROR, f"this platform hosts no {role} party", 404
                )

        dependencies.append(Depends(hosted))
    return APIRouter(
        prefix=f"/{role.lower()}/{{version}}/{kind.module}",
        route_class=OcpiRoute,
        dependencies=dependencies,
    )


def count_refusals(router: APIRouter, nap: NapReceiver, module: str) -> None:
    """Tell the access point of every PUT/PATCH ``router`` refuses under ``module``.

    The route (:class:`OcpiRoute`) turns an error into its envelope inside the dependencies, so
    a dependency sees no exception: it reads the envelope from ``request.state.ocpi_error`` once
    the route is done."""

    async def counted(request: Request) -> AsyncIterator[None]:
        yield
        body = getattr(request.state, "ocpi_error", None)
        if request.method in ("PUT", "PATCH") and isinstance(body, dict):
            partner_id = getattr(request.state, "partner_id", None)
            await nap.refused(module, partner_id, request.path_params, body)

    router.dependencies.append(Depends(counted))


def check_version(kind: Kind, version: str) -> None:
    require_version(kind.module, version, kind.versions)


def our_party(gate: Gate, role: str, request: Request) -> OcpiParty:
    """Which of our parties is addressed: the OCPI-to headers, else the first with ``role``."""
    wanted = (
        request.headers.get("ocpi-to-country-code", "").upper(),
        request.headers.get("ocpi-to-party-id", "").upper(),
    )
    candidates = [party for party in gate.registrar.parties if party.role == role]
    for party in candidates:
        if (party.country_code, party.party_id) == wanted:
            return party
    if not candidates:
        raise OcpiError(StatusCode.CLIENT_ERROR, f"this platform hosts no {role} party", 404)
    return candidates[0]


def parse_body(model: type[BaseModel], body: Any) -> Any:
    """Validate a request body; errors go out as 2001 naming the fields (via the route)."""
    return parse(model, body)


def _owner_checked(who: Authenticated, kind: Kind, country_code: str, party_id: str) -> None:
    if not may_act_for(who.partner, country_code, party_id, kind.owner):
        raise OcpiError(
            StatusCode.CLIENT_ERROR,
            f"{country_code}-{party_id} is not a {kind.owner} party you registered",
            404,
        )


def same(a: str, b: str) -> bool:
    """CiStrings compare without case."""
    return a.upper() == b.upper()


@dataclass(frozen=True, slots=True)
class ListQuery:
    """One page of a sender list, as asked: in which version, of which of our parties."""

    version: str
    party: OcpiParty
    page: PageRequest

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of a repository's ``list`` for this page: ordered by the key
        within our party, a page asked for with the last key of the one before (the next link's
        ``after=``) seeks there instead of counting off ``offset``."""
        page = self.page
        return {
            "offset": 0 if page.after is not None else page.offset,
            "limit": page.limit,
            "filters": {"country_code": self.party.country_code, "party_id": self.party.party_id},
            "updated_from": page.date_from,
            "updated_to": page.date_to,
            "after": page.after,
        }


@dataclass(frozen=True, slots=True)
class Listed:
    """A page of a sender list: each object's JSON (``json_bytes``), how many match in all, and
    the key of the last one given (None for an empty page)."""

    items: list[bytes]
    total: int
    last_key: str | None


Lister = Callable[[ListQuery], Awaitable[Listed]]


def kind_lister(gate: Gate, store: Store, kind: Kind) -> Lister:
    """The list of ``kind`` as its repository reads it, each object written by ``kind.to_ocpi``."""

    async def listed(query: ListQuery) -> Listed:
        found = await kind.repository(store).list(**query.arguments())
        items = [
            json_bytes(await kind.to_ocpi(gate, store, item, query.version)) for item in found.items
        ]
        last_key = str(getattr(found.items[-1], kind.key)) if found.items else None
        return Listed(items, found.total, last_key)

    return listed


def add_sender_list(
    router: APIRouter, gate: Gate, store: Store, kind: Kind, lister: Lister | None = None
) -> None:
    """``GET`` the paginated list of our own objects, filtered by ``date_from``/``date_to``;
    ``lister`` reads and writes a page (else :func:`kind_lister`)."""
    listed = lister or kind_lister(gate, store, kind)

    @router.get("", summary=f"{kind.module}: paginated list (SENDER)")
    async def list_objects(version: str, request: Request) -> Response:
        check_version(kind, version)
        await authenticate(gate.registrar, request, kind.module)
        party = our_party(gate, kind.owner, request)
        params = dict(request.query_params)
        page = page_request(params, max_limit=gate.max_page_size)
        found = await listed(ListQuery(version, party, page))
        url = str(request.url).split("?", 1)[0]
        headers = page_headers(
            url, params, page, len(found.items), found.total, last_key=found.last_key
        )
        return ocpi_list_response(found.items, headers=headers)


def add_receiver(
    router: APIRouter, gate: Gate, store: Store, kind: Kind, *, deletable: bool = False
) -> None:
    """``GET``/``PUT`` (and ``DELETE``) of one object under ``/{country_code}/{party_id}/{id}``."""
    path = "/{country_code}/{party_id}/{object_id}"

    @router.get(path, summary=f"{kind.module}: one object as stored here (RECEIVER)")
    async def get_object(
        version: str, country_code: str, party_id: str, object_id: str, request: Request
    ) -> Response:
        check_version(kind, version)
        who = await authenticate(gate.registrar, request, kind.module)
        _owner_checked(who, kind, country_code, party_id)
        item = await kind.repository(store).get(country_code.upper(), party_id.upper(), object_id)
        return ocpi_response(await kind.to_ocpi(gate, store, item, version))

    @router.put(path, summary=f"{kind.module}: push a new or updated object (RECEIVER)")
    async def put_object(
        version: str, country_code: str, party_id: str, object_id: str, request: Request
    ) -> Response:
        check_version(kind, version)
        who = await authenticate(gate.registrar, request, kind.module)
        _owner_checked(who, kind, country_code, party_id)
        received = parse_body(model_for(version, kind.model), await read_json(request))
        ids = {
            "country_code": country_code,
            "party_id": party_id,
            kind.key: object_id,
        }
        for name, expected in ids.items():
            given = getattr(received, name, expected)
            if not same(given, expected):
                raise OcpiError(
                    StatusCode.INVALID_OR_MISSING_PARAMETERS,
                    f"{name}: {given!r} in the body differs from {expected!r} in the URL",
                )
        item = kind.to_domain(received, (country_code.upper(), party_id.upper()))
        created = await storing.put(kind.repository(store), item)
        return ocpi_response(http_status=201 if created else 200)

    if deletable:

        @router.delete(path, summary=f"{kind.module}: remove an object (RECEIVER)")
        async def delete_object(
            version: str, country_code: str, party_id: str, object_id: str, request: Request
        ) -> Response:
            check_version(kind, version)
            who = await authenticate(gate.registrar, request, kind.module)
            _owner_checked(who, kind, country_code, party_id)
            await kind.repository(store).delete(country_code.upper(), party_id.upper(), object_id)
            return ocpi_response()
