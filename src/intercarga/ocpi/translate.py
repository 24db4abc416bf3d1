"""One OCPI version's object as another's: what a hub does when its two sides differ.

A whole object (a Location, Tariff, Session, CDR or Token, or a list of them) written in one
version is read with that version's model, mapped to the domain and written in the other
version (:mod:`.mapping`), so a 2.2.1 CPO and a 2.3.0 eMSP understand each other through a hub.
What the domain does not keep is lost on the way (see ``docs/ocpi.md``). Anything else (a PATCH,
an EVSE, a command) goes as it is: those shapes are the same in 2.2.1 and 2.3.0. Pure.
"""

from __future__ import annotations

from typing import Any

from intercarga.ocpi import mapping
from intercarga.ocpi.models import parse

__all__ = ["object_kind", "translate"]

# (module, path segments after the module) → the OCPI class of the body.
_RECEIVER_OBJECTS = {
    ("locations", 3): "Location",
    ("tariffs", 3): "Tariff",
    ("sessions", 3): "Session",
    ("cdrs", 0): "CDR",
    ("tokens", 3): "Token",
}
_SENDER_OBJECTS = {
    ("locations", 0): "Location",
    ("locations", 1): "Location",
    ("tariffs", 0): "Tariff",
    ("sessions", 0): "Session",
    ("cdrs", 0): "CDR",
    ("tokens", 0): "Token",
}


def object_kind(module: str, interface: str, segments: int) -> str | None:
    """The class a whole-object body or reply has at this place, None for other shapes."""
    table = _RECEIVER_OBJECTS if interface == "RECEIVER" else _SENDER_OBJECTS
    return table.get((module, segments))


def _one(kind: str, data: Any, source: str, target: str) -> Any:
    parsed: Any = parse(mapping.model_for(source, kind), data)
    if kind == "Location":
        return mapping.location_to_ocpi(mapping.location_to_domain(parsed), target)
    if kind == "Tariff":
        return mapping.tariff_to_ocpi(mapping.tariff_to_domain(parsed), target)
    if kind == "Token":
        return mapping.token_to_ocpi(mapping.token_to_domain(parsed), target)
    if kind == "CDR":
        return mapping.cdr_to_ocpi(mapping.cdr_to_domain(parsed), target)
    session, token = mapping.session_to_domain(parsed)
    return mapping.session_to_ocpi(session, token, target)


def translate(kind: str | None, data: Any, source: str | None, target: str | None) -> Any:
    """``data`` (an object or a list of objects of ``kind``) written in ``target``'s version."""
    if kind is None or source is None or target is None or source == target or data is None:
        return data
    if isinstance(data, list):
        return [_one(kind, item, source, target) for item in data]
    return _one(kind, data, source, target)
