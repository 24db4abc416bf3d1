"""Who gets a message: partners, hubs, and the OCPI-to/OCPI-from routing headers, as pure rules.

A *target* is a registered partner and the party (country code, party id) a request is addressed
to on that partner's platform. Rules:

- An object of one party for everyone (a Location, a Tariff, a Token): every registered partner
  that offers the module's RECEIVER and hosts a party of a receiving role; a hub gets it once,
  addressed to the hub itself (a *broadcast push*), and forwards it to its clients.
- An object for one party (a Session or CDR for the token's eMSP, a command for a CPO): the
  partner that hosts that party directly; else a hub that says (hub client info) it reaches the
  party; else any hub, addressed to the party (the hub routes it).
- Every request to a functional module carries ``OCPI-from-*`` (the sending party) and
  ``OCPI-to-*`` (the receiving party) headers.

A hub's party is its HUB role (2.2.1 credentials) or ``hub_party_id`` (2.3.0 credentials, where
the HUB role no longer exists). A hub may write under any party it routes for. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from intercarga.config import Settings
from intercarga.domain.partner import Partner, PartnerState

__all__ = [
    "RECEIVING_ROLES",
    "Party",
    "Target",
    "addressed",
    "broadcast_targets",
    "hub_party",
    "is_hub",
    "may_act_for",
    "our_parties",
    "path",
    "routing_headers",
    "sender_party",
    "to_party",
]

Party = tuple[str, str]  # (country code, party id), upper-case

# Roles that receive what a CPO pushes (OCPI "Broadcast Push": eMSP-like roles), and the CPO for
# what an eMSP pushes.
RECEIVING_ROLES: Mapping[str, frozenset[str]] = {
    "CPO": frozenset({"EMSP", "NAP", "NSP", "OTHER", "SCSP"}),
    "EMSP": frozenset({"CPO"}),
}


@dataclass(frozen=True, slots=True)
class Target:
    partner: Partner
    to: Party
    hub: bool = False  # through a hub (broadcast when ``to`` is the hub's own party)


def our_parties(settings: Settings, role: str) -> frozenset[Party]:
    """The parties of ``role`` this deployment hosts."""
    return frozenset((p.country_code, p.party_id) for p in settings.ocpi.parties if p.role == role)


def hub_party(partner: Partner) -> Party | None:
    """The party a hub partner answers as; None when the partner is not a hub."""
    for role in partner.roles:
        if role.role == "HUB":
            return role.country_code, role.party_id
    if partner.hub_party_id and len(partner.hub_party_id) == 5:
        return partner.hub_party_id[:2].upper(), partner.hub_party_id[2:].upper()
    return None


def is_hub(partner: Partner) -> bool:
    return hub_party(partner) is not None


def may_act_for(partner: Partner, country_code: str, party_id: str, role: str) -> bool:
    """Whether ``partner`` may send objects of this party: it hosts it, or it is a hub."""
    return partner.hosts(country_code, party_id, role) or is_hub(partner)


def _active(partners: Iterable[Partner]) -> list[Partner]:
    return [p for p in partners if p.state is PartnerState.REGISTERED and p.outgoing_token]


def broadcast_targets(
    partners: Iterable[Partner], module: str, sender_role: str, *, exclude: str | None = None
) -> list[Target]:
    """Who receives an object every party should know (Locations, Tariffs, Tokens)."""
    receiving = RECEIVING_ROLES.get(sender_role, frozenset())
    found = []
    for partner in _active(partners):
        if partner.id == exclude or partner.endpoint(module, "RECEIVER") is None:
            continue
        hub = hub_party(partner)
        if hub is not None:
            found.append(Target(partner, hub, hub=True))
            continue
        party = next(
            ((r.country_code, r.party_id) for r in partner.roles if r.role in receiving), None
        )
        if party is not None:
            found.append(Target(partner, party))
    return found


def addressed(
    partners: Iterable[Partner],
    party: Party,
    role: str,
    module: str,
    interface: str = "RECEIVER",
    *,
    hubs_reaching: Sequence[str] = (),
) -> Target | None:
    """Where to send a request for one party: directly, else through a hub."""
    active = [p for p in _active(partners) if p.endpoint(module, interface) is not None]
    for partner in active:
        if partner.hosts(party[0], party[1], role):
            return Target(partner, party)
    hubs = [p for p in active if is_hub(p)]
    hubs.sort(key=lambda p: p.id not in hubs_reaching)
    return Target(hubs[0], party, hub=True) if hubs else None


def sender_party(partner: Partner, role: str | None = None) -> Party | None:
    """The party of a partner that sends as ``role`` (its first one when role is None)."""
    for item in partner.roles:
        if role is None or item.role == role:
            return item.country_code, item.party_id
    return hub_party(partner)


def routing_headers(sender: Party, receiver: Party) -> dict[str, str]:
    return {
        "OCPI-from-country-code": sender[0],
        "OCPI-from-party-id": sender[1],
        "OCPI-to-country-code": receiver[0],
        "OCPI-to-party-id": receiver[1],
    }


def to_party(headers: Mapping[str, str]) -> Party | None:
    """The ``OCPI-to-*`` party of a request, when both headers are there."""
    country, party = headers.get("ocpi-to-country-code"), headers.get("ocpi-to-party-id")
    return (country.upper(), party.upper()) if country and party else None


def path(*segments: str) -> str:
    """``/A/B/C`` with every segment percent-encoded (ids may hold any printable character)."""
    return "".join("/" + quote(segment, safe="") for segment in segments)
