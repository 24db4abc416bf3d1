"""EVSE ids: the ISO 15118-2 / eMI3 form (``DE*ICE*E45B*78C``) and the older DIN SPEC 91286 form
(``+49*810*000*438``): parse, normalize, validate.

ISO 15118-2 ABNF: ``<Country Code> <S> <EVSE Operator ID> <S> "E" <Power Outlet ID>`` with ``S``
an optional ``*``, the country code ISO 3166-1 alpha-2, the operator id 3 letters or digits and the
power outlet id one letter or digit followed by up to 30 letters, digits or ``*``. The DIN form
uses the telephone country calling code, a numeric operator id and a numeric outlet id. Ids are
case-insensitive; the normal form is upper case with ``*`` separators. This module is pure: it
must never look ids up anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from intercarga.errors import InvalidInputError
from intercarga.ids._parts import (
    ALPHANUMERIC,
    bad_part,
    check_alphanumeric,
    check_country_code,
    parses,
)

__all__ = [
    "EvseId",
    "EvseIdFormat",
    "is_valid_evse_id",
    "normalize_evse_id",
    "parse_evse_id",
]

_MAX_OUTLET_ISO = 31
_MAX_OUTLET_DIN = 32
_DIN_OPERATOR = re.compile(r"^[0-9]{3,6}$")
_DIN_COUNTRY = re.compile(r"^\+?[0-9]{1,3}$")


class EvseIdFormat(StrEnum):
    ISO = "ISO 15118 / eMI3"
    DIN = "DIN SPEC 91286"


@dataclass(frozen=True, slots=True)
class EvseId:
    """A parsed EVSE id; ``str()`` gives the normal form."""

    format: EvseIdFormat
    country_code: str
    operator_id: str
    power_outlet_id: str

    def __str__(self) -> str:
        if self.format is EvseIdFormat.DIN:
            return f"+{self.country_code}*{self.operator_id}*{self.power_outlet_id}"
        return f"{self.country_code}*{self.operator_id}*E{self.power_outlet_id}"

    @property
    def compact(self) -> str:
        """ISO form without separators (``DEICEE45B78C``); the DIN form keeps its ``*``."""
        if self.format is EvseIdFormat.DIN:
            return str(self)
        return f"{self.country_code}{self.operator_id}E{self.power_outlet_id.replace('*', '')}"

    @property
    def party(self) -> str:
        """``CC-OOO``: the operator as an OCPI-style party, for ISO ids only."""
        return f"{self.country_code}-{self.operator_id}"


def parse_evse_id(value: str) -> EvseId:
    """Parse ``value`` in either form; raise :class:`InvalidInputError` naming the wrong part."""
    text = value.strip()
    if not text:
        raise InvalidInputError("an EVSE id cannot be empty", field="evse id")
    if text[0] == "+" or text[0].isdigit():
        return _parse_din(text)
    return _parse_iso(text)


def normalize_evse_id(value: str) -> str:
    """The normal form of ``value`` (upper case, ``*`` separators); raises when it is invalid."""
    return str(parse_evse_id(value))


def is_valid_evse_id(value: str) -> bool:
    return parses(parse_evse_id, value)


def _parse_iso(text: str) -> EvseId:
    upper = text.upper()
    country = check_country_code(upper[:2])
    position = 2
    # Each separator is optional on its own (ISO 15118-2 ABNF), so they are skipped one by one.
    if upper[position : position + 1] == "*":
        position += 1
    operator = check_alphanumeric("operator id", upper[position : position + 3], 3)
    position += 3
    if upper[position : position + 1] == "*":
        position += 1
    id_type = upper[position : position + 1]
    if id_type != "E":
        raise bad_part(
            "id type", id_type or text, 'an EVSE id has "E" after the operator id (…*ICE*E…)'
        )
    outlet = upper[position + 1 :]
    if not outlet:
        raise bad_part("power outlet id", text, "missing after the E")
    if len(outlet) > _MAX_OUTLET_ISO:
        raise bad_part(
            "power outlet id", outlet, f"at most {_MAX_OUTLET_ISO} characters, got {len(outlet)}"
        )
    if outlet[0] not in ALPHANUMERIC:
        raise bad_part("power outlet id", outlet, "must start with a letter or a digit")
    wrong = sorted({c for c in outlet if c not in ALPHANUMERIC and c != "*"})
    if wrong:
        raise bad_part(
            "power outlet id", outlet, f"only letters, digits and * allowed, not {wrong}"
        )
    return EvseId(EvseIdFormat.ISO, country, operator, outlet)


def _parse_din(text: str) -> EvseId:
    pieces = text.split("*", 2)
    if len(pieces) < 3:
        raise bad_part(
            "evse id", text, "the DIN form is +<calling code>*<operator>*<outlet>, e.g. +49*810*1"
        )
    country, operator, outlet = pieces
    if not _DIN_COUNTRY.match(country):
        raise bad_part("country code", country, "the DIN form starts with a calling code, e.g. +56")
    if not _DIN_OPERATOR.match(operator):
        raise bad_part("operator id", operator, "the DIN form has 3 to 6 digits here")
    if not outlet or len(outlet) > _MAX_OUTLET_DIN:
        raise bad_part("power outlet id", outlet, f"1 to {_MAX_OUTLET_DIN} characters expected")
    if not outlet[0].isdigit() or any(c not in "0123456789*" for c in outlet):
        raise bad_part("power outlet id", outlet, "the DIN form has only digits and * here")
    return EvseId(EvseIdFormat.DIN, country.lstrip("+"), operator, outlet)
