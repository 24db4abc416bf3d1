"""The HUB role's routing plan: where one request to the hub goes, decided as a pure rule.

From a request's routing headers (``OCPI-to-*``, ``OCPI-from-*``), its module, interface, method
and body, and the table of registered partners, :func:`plan` decides what the hub does with it
(the rules are explained in :mod:`intercarga.ocpi.hub`, which carries the plan out):

- :class:`Forward` to the one partner that hosts the addressed party;
- :class:`Broadcast` to every other partner that receives the module (through the outbox);
- :class:`GetAll`: combine the lists of every partner that owns such objects;
- :class:`AskEveryEmsp`: a real-time authorization without a receiver, asked of every eMSP;
- :class:`CommandResult`: a CPO's result for a command whose response URL the hub keeps;
- :class:`Unroutable`: nobody to send it to (OCPI 2002 *unknown receiver*).

Pure: no I/O, no clock, no HTTP framework. Malformed requests raise :class:`OcpiError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from intercarga.domain.partner import Partner, PartnerState
from intercarga.ocpi.envelope import OcpiError, StatusCode
from intercarga.ocpi.models import format_datetime
from intercarga.ocpi.routing import (
    RECEIVING_ROLES,
    Party,
    Target,
    broadcast_targets,
    is_hub,
    to_party,
)
from intercarga.ocpi.versions import HUB_ROUTED, require_version

__all__ = [
    "ASYNCHRONOUS",
    "AskEveryEmsp",
    "Broadcast",
    "CommandResult",
    "Forward",
    "GetAll",
    "Plan",
    "RoutedRequest",
    "Unroutable",
    "check_routed",
    "client_info_list",
    "hosting",
    "plan",
    "sender_of",
]

# Who owns the objects a module's SENDER lists (whose lists a GET ALL combines).
_OWNER = {
    "locations": "CPO",
    "tariffs": "CPO",
    "sessions": "CPO",
    "cdrs": "CPO",
    "tokens": "EMSP",
}
# Modules whose receiver answers later, at a response URL the hub must stand in for.
ASYNCHRONOUS = frozenset({"commands", "chargingprofiles"})


@dataclass(frozen=True)
class RoutedRequest:
    """One request to the hub, as plain values (header names lower-case)."""

    version: str
    interface: str  # SENDER or RECEIVER
    module: str
    segments: tuple[str, ...]  # the path after the module
    method: str
    headers: Mapping[str, str]
    body: Any
    caller: Partner  # the authenticated partner that sent it
    query: Mapping[str, str] = field(default_factory=dict)
    query_string: str = ""


@dataclass(frozen=True)
class Forward:
    target: Partner
    to: Party
    keeps_response_url: bool  # the hub stands in for the eMSP's response URL


@dataclass(frozen=True)
class Broadcast:
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class GetAll:
    sources: tuple[Partner, ...]


@dataclass(frozen=True)
class AskEveryEmsp:
    asked: tuple[tuple[Partner, Party], ...]


@dataclass(frozen=True)
class CommandResult:
    record_id: str


@dataclass(frozen=True)
class Unroutable:
    message: str


Plan = Forward | Broadcast | GetAll | AskEveryEmsp | CommandResult | Unroutable


def check_routed(version: str, interface: str, module: str) -> str:
    """The interface upper-case; 404 when the hub does not route this module or version."""
    interface = interface.upper()
    if module not in HUB_ROUTED or interface not in ("SENDER", "RECEIVER"):
        raise OcpiError(StatusCode.CLIENT_ERROR, f"no {module} {interface.lower()} here", 404)
    require_version(module, version)
    return interface


def sender_of(headers: Mapping[str, str], caller: Partner) -> Party:
    """The sending party: ``OCPI-from-*``, else the caller's first; it must be the caller's."""
    country, party = headers.get("ocpi-from-country-code"), headers.get("ocpi-from-party-id")
    sender = (country.upper(), party.upper()) if country and party else _first_party(caller)
    if not caller.hosts(*sender) and not is_hub(caller):
        raise OcpiError(
            StatusCode.INVALID_OR_MISSING_PARAMETERS,
            f"OCPI-from: {sender[0]}-{sender[1]} is not a party you registered",
        )
    return sender


def plan(request: RoutedRequest, partners: Sequence[Partner], hub: frozenset[Party]) -> Plan:
    """What the hub (hosting the parties ``hub``) does with ``request``.

    ``partners`` are the registered partners the hub can call.
    """
    sender = sender_of(request.headers, request.caller)
    if (
        request.module in ASYNCHRONOUS
        and request.interface == "SENDER"
        and request.method == "POST"
    ):
        segments = request.segments
        return CommandResult(segments[-1] if len(segments) == 2 else "")
    to = to_party(request.headers)
    if to is not None and to in hub:
        if request.method == "GET":
            return _get_all(request, partners)
        return _broadcast(request, partners, sender)
    if to is None:
        return _open_route(request, partners, sender)
    return _addressed(request, partners, to)


def hosting(
    partners: Sequence[Partner], party: Party, module: str, interface: str
) -> Partner | None:
    """The first partner that hosts ``party`` and offers the module's interface."""
    for partner in partners:
        if partner.hosts(*party) and partner.endpoint(module, interface) is not None:
            return partner
    return None


def _addressed(request: RoutedRequest, partners: Sequence[Partner], to: Party) -> Plan:
    target = hosting(partners, to, request.module, request.interface)
    if target is None:
        return Unroutable(f"no connected party {to[0]}-{to[1]}")
    keeps = (
        request.module in ASYNCHRONOUS
        and request.interface == "RECEIVER"
        and request.method != "PATCH"
    )
    return Forward(target, to, keeps)


def _broadcast(request: RoutedRequest, partners: Sequence[Partner], sender: Party) -> Broadcast:
    if request.interface != "RECEIVER":
        raise OcpiError(
            StatusCode.INVALID_OR_MISSING_PARAMETERS, "a broadcast push goes to a RECEIVER"
        )
    role = _role_of(request.caller, sender)
    targets = broadcast_targets(partners, request.module, role, exclude=request.caller.id)
    return Broadcast(tuple(t for t in targets if not t.hub))  # never into another hub: no loops


def _get_all(request: RoutedRequest, partners: Sequence[Partner]) -> GetAll:
    owner = _OWNER.get(request.module)
    if request.interface != "SENDER" or request.segments or owner is None:
        raise OcpiError(StatusCode.INVALID_OR_MISSING_PARAMETERS, "GET ALL is for a SENDER's list")
    return GetAll(
        tuple(
            partner
            for partner in partners
            if partner.id != request.caller.id
            and partner.endpoint(request.module, "SENDER") is not None
            and any(role.role == owner for role in partner.roles)
        )
    )


def _open_route(request: RoutedRequest, partners: Sequence[Partner], sender: Party) -> Plan:
    if (
        request.module == "tokens"
        and request.interface == "SENDER"
        and request.method == "POST"
        and request.segments[-1:] == ("authorize",)
    ):
        return AskEveryEmsp(
            tuple(
                (partner, (role.country_code, role.party_id))
                for partner in partners
                if partner.id != request.caller.id
                and partner.endpoint("tokens", "SENDER") is not None
                for role in partner.roles
                if role.role == "EMSP"
            )
        )
    body = request.body
    token = body.get("cdr_token") if isinstance(body, dict) else None
    if request.module in ("sessions", "cdrs") and isinstance(token, dict):
        to = (
            str(token.get("country_code", "")).upper(),
            str(token.get("party_id", "")).upper(),
        )
        target = hosting(partners, to, request.module, request.interface)
        if target is None:
            return Unroutable(f"no connected party {to[0]}-{to[1]}")
        return Forward(target, to, keeps_response_url=False)
    if request.method != "GET" and request.interface == "RECEIVER" and request.module != "commands":
        return _broadcast(request, partners, sender)
    return Unroutable("cannot tell where this goes: send OCPI-to headers")


def client_info_list(partners: Sequence[Partner], offline: set[str]) -> list[dict[str, Any]]:
    """ClientInfo objects for every party the hub's partners host."""
    found = []
    for partner in partners:
        if partner.state is PartnerState.REGISTERED:
            status = "OFFLINE" if partner.id in offline else "CONNECTED"
        elif partner.state is PartnerState.UNREGISTERED:
            status = "SUSPENDED"
        else:
            continue
        for role in partner.roles:
            if role.role == "HUB":
                continue
            found.append(
                {
                    "party_id": role.party_id,
                    "country_code": role.country_code,
                    "role": role.role,
                    "status": status,
                    "last_updated": format_datetime(partner.last_updated),
                }
            )
    return found


def _first_party(partner: Partner) -> Party:
    for role in partner.roles:
        return role.country_code, role.party_id
    raise OcpiError(StatusCode.CLIENT_ERROR, "the calling platform registered no party")


def _role_of(partner: Partner, party: Party) -> str:
    """The role ``party`` plays at ``partner`` (CPO when it plays several, for a push)."""
    roles = {r.role for r in partner.roles if (r.country_code, r.party_id) == party}
    for role in ("CPO", "EMSP"):
        if role in roles:
            return role
    return next(iter(roles), "CPO") if roles & set(RECEIVING_ROLES) else "EMSP"
