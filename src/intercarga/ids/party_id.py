"""OCPI party ids: ``CL-ICG`` = ISO 3166-1 alpha-2 country code + 3-character party id.

OCPI 2.2.1 gives the party id as CiString(3) "following ISO-15118" (letters and digits) and the
country code as ISO 3166-1 alpha-2; they are case-insensitive and kept upper case. Written
together they take ``-``, ``*`` or nothing between them (``CL-ICG``, ``CL*ICG``, ``CLICG``); the
normal form is ``CL-ICG``, as :attr:`intercarga.domain.Party.key` writes it. Pure: no look-ups.
"""

from __future__ import annotations

from dataclasses import dataclass

from intercarga.errors import InvalidInputError
from intercarga.ids._parts import bad_part, check_alphanumeric, check_country_code, parses

__all__ = ["PartyId", "is_valid_party_id", "normalize_party_id", "parse_party_id"]


@dataclass(frozen=True, slots=True)
class PartyId:
    country_code: str
    party_id: str

    def __str__(self) -> str:
        return f"{self.country_code}-{self.party_id}"


def parse_party_id(value: str, party_id: str | None = None) -> PartyId:
    """Parse ``CL-ICG`` (or the two parts given apart); raise naming the wrong part."""
    text = value.strip().upper()
    if party_id is None:
        if not text:
            raise InvalidInputError("a party id cannot be empty", field="party id")
        compact = text.replace("-", "").replace("*", "").replace(" ", "")
        if len(compact) != 5:
            raise bad_part("party id", value, "expected country code + 3 characters, e.g. CL-ICG")
        text, party_id = compact[:2], compact[2:]
    country = check_country_code(text)
    return PartyId(country, check_alphanumeric("party id", party_id.strip(), 3))


def normalize_party_id(value: str) -> str:
    return str(parse_party_id(value))


def is_valid_party_id(value: str) -> bool:
    return parses(parse_party_id, value)
