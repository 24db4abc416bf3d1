"""Contract ids (EMAIDs): the ISO 15118 / eMI3 form ``NL-TNM-000122045-U`` and the DIN SPEC 91286
form ``NL-TNM-012204-5``: parse, normalize, validate, and compute either check character.

ISO 15118 EMAID: country code (ISO 3166-1 alpha-2), provider id (3 letters or digits), instance
(9 letters or digits; eMI3 starts it with ``C``), optional check character; ``-`` separators are
optional. DIN SPEC 91286: the same with a 6-character instance and a mandatory mod-11 check digit
(10 is written ``X``). A DIN id maps onto an EMAID whose instance is ``00`` + instance + DIN check
digit, so both forms of one contract compare equal.

The ISO check character detects single errors, adjacent and jump transpositions and twin errors:
each character ``v`` (0-9, A-Z → 0…35) is split into ``q = v // 9`` (two bits) and ``r = v % 9``
(two base-3 digits); the bit pairs are summed against powers of P1 = [[0,1],[1,1]] modulo 2, the
trit pairs against powers of P2 = [[0,1],[1,2]] modulo 3 and multiplied by -P2^-15 = [[0,2],[2,1]];
the result, read back the same way, is the check character. This module must never do I/O.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from intercarga.errors import InvalidInputError
from intercarga.ids._parts import bad_part, check_alphanumeric, check_country_code, parses

__all__ = [
    "ContractId",
    "ContractIdFormat",
    "din_check_digit",
    "is_valid_contract_id",
    "iso_check_character",
    "normalize_contract_id",
    "parse_contract_id",
]

_ALPHABET = string.digits + string.ascii_uppercase  # value of a character = its index
_Matrix = tuple[tuple[int, int], tuple[int, int]]
_P1: _Matrix = ((0, 1), (1, 1))
_P2: _Matrix = ((0, 1), (1, 2))
_MINUS_P2_INVERSE_15: _Matrix = ((0, 2), (2, 1))
_ISO_BODY = 14  # 2 + 3 + 9 characters before the check character
_DIN_BODY = 11  # 2 + 3 + 6


class ContractIdFormat(StrEnum):
    ISO = "ISO 15118 / eMI3"
    DIN = "DIN SPEC 91286"


@dataclass(frozen=True, slots=True)
class ContractId:
    """A contract id, always held as its ISO 15118 EMAID; ``written_as`` says how it came in."""

    country_code: str
    provider_id: str
    instance: str
    check_character: str
    written_as: ContractIdFormat = ContractIdFormat.ISO

    def __str__(self) -> str:
        return f"{self.country_code}-{self.provider_id}-{self.instance}-{self.check_character}"

    @property
    def compact(self) -> str:
        """The 15 characters a vehicle and a charger exchange (ISO 15118-2 allows no separators)."""
        return f"{self.country_code}{self.provider_id}{self.instance}{self.check_character}"

    @property
    def is_emi3(self) -> bool:
        """eMI3 contract ids start the instance with ``C``."""
        return self.instance.startswith("C")

    @property
    def din(self) -> str | None:
        """The DIN SPEC 91286 form, when this EMAID has one (instance ``00`` + 6 + check digit)."""
        if not self.instance.startswith("00"):
            return None
        din_instance, din_digit = self.instance[2:8], self.instance[8]
        body = f"{self.country_code}{self.provider_id}{din_instance}"
        if din_check_digit(body) != din_digit:
            return None
        return f"{self.country_code}-{self.provider_id}-{din_instance}-{din_digit}"


def iso_check_character(body: str) -> str:
    """The ISO 15118 / eMI3 check character of the 14 characters before it."""
    text = check_alphanumeric("contract id", body, _ISO_BODY)
    p1_powers, p2_powers = _powers()
    bits = (0, 0)
    trits = (0, 0)
    for character, p1, p2 in zip(text, p1_powers, p2_powers, strict=True):
        q, r = divmod(_ALPHABET.index(character), 9)
        bits = _add(bits, _times(divmod(q, 2), p1))
        trits = _add(trits, _times(divmod(r, 3), p2))
    trits = _times(trits, _MINUS_P2_INVERSE_15)
    q = (bits[0] % 2) * 2 + bits[1] % 2
    r = (trits[0] % 3) * 3 + trits[1] % 3
    return _ALPHABET[q * 9 + r]


def din_check_digit(body: str) -> str:
    """The DIN SPEC 91286 check digit of the 11 characters before it (``0``-``9`` or ``X``).

    Each digit is weighted by the next power of two; a letter counts as its two decimal digits
    (A = 10 → 1 and 0), each with its own weight; the sum modulo 11 is the check digit.
    """
    text = check_alphanumeric("contract id", body, _DIN_BODY)
    total = 0
    exponent = 0
    for character in text:
        value = _ALPHABET.index(character)
        for digit in divmod(value, 10) if value >= 10 else (value,):
            total += digit * 2**exponent
            exponent += 1
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def parse_contract_id(value: str) -> ContractId:
    """Parse either form; raise :class:`InvalidInputError` naming the part that is wrong."""
    text = value.strip().upper()
    if not text:
        raise InvalidInputError("a contract id cannot be empty", field="contract id")
    separator = "-" if "-" in text else ("*" if "*" in text else "")
    pieces = text.split(separator) if separator else _split_compact(text)
    if len(pieces) not in (3, 4):
        raise bad_part(
            "contract id",
            value,
            "expected country-provider-instance[-check], e.g. NL-TNM-000122045-U",
        )
    country = check_country_code(pieces[0])
    provider = check_alphanumeric("provider id", pieces[1], 3)
    instance = pieces[2]
    given = pieces[3] if len(pieces) == 4 else None
    if given is not None and len(given) != 1:
        raise bad_part("check character", given, "one character expected")
    if len(instance) == 6:
        return _from_din(country, provider, instance, given)
    instance = check_alphanumeric("instance", instance, 9)
    body = f"{country}{provider}{instance}"
    expected = iso_check_character(body)
    if given is not None and given != expected:
        raise bad_part("check character", given, f"the ISO 15118 check character is {expected}")
    return ContractId(country, provider, instance, expected, ContractIdFormat.ISO)


def normalize_contract_id(value: str) -> str:
    """``NL-TNM-000122045-U``: the EMAID with separators and check character."""
    return str(parse_contract_id(value))


def is_valid_contract_id(value: str) -> bool:
    return parses(parse_contract_id, value)


_CONTRACT_SHAPE = re.compile(
    r"^[A-Za-z]{2}([-*]?)[A-Za-z0-9]{3}\1(?:[A-Za-z0-9]{9}|[A-Za-z0-9]{6})(?:\1[A-Za-z0-9])?$"
)


def looks_like_contract_id(value: str) -> bool:
    """Whether ``value`` has the shape of an EMAID (ISO 15118 or DIN), valid or not.

    OCPI only recommends eMI3 contract ids, so partners may use their own; a value in EMAID shape
    must however be a valid one.
    """
    return _CONTRACT_SHAPE.match(value.strip()) is not None


def _from_din(country: str, provider: str, instance: str, given: str | None) -> ContractId:
    instance = check_alphanumeric("instance", instance, 6)
    expected = din_check_digit(f"{country}{provider}{instance}")
    if given is None:
        raise bad_part(
            "check character", instance, f"the DIN SPEC 91286 form needs its check digit {expected}"
        )
    if given != expected:
        raise bad_part("check character", given, f"the DIN SPEC 91286 check digit is {expected}")
    emaid_instance = f"00{instance}{expected}"
    check = iso_check_character(f"{country}{provider}{emaid_instance}")
    return ContractId(country, provider, emaid_instance, check, ContractIdFormat.DIN)


def _split_compact(text: str) -> list[str]:
    if len(text) in (_ISO_BODY, _ISO_BODY + 1):
        pieces = [text[:2], text[2:5], text[5:14]]
        return [*pieces, text[14:]] if len(text) > _ISO_BODY else pieces
    if len(text) in (_DIN_BODY, _DIN_BODY + 1):
        pieces = [text[:2], text[2:5], text[5:11]]
        return [*pieces, text[11:]] if len(text) > _DIN_BODY else pieces
    raise bad_part(
        "contract id",
        text,
        f"{len(text)} characters; an EMAID has 14 or 15 (DIN SPEC 91286: 11 or 12)",
    )


@cache
def _powers() -> tuple[list[_Matrix], list[_Matrix]]:
    p1 = [_P1]
    p2 = [_P2]
    for _ in range(_ISO_BODY - 1):
        p1.append(_mul(p1[-1], _P1, 2))
        p2.append(_mul(p2[-1], _P2, 3))
    return p1, p2


def _mul(a: _Matrix, b: _Matrix, modulus: int) -> _Matrix:
    return (
        ((a[0][0] * b[0][0] + a[0][1] * b[1][0]) % modulus,
         (a[0][0] * b[0][1] + a[0][1] * b[1][1]) % modulus),
        ((a[1][0] * b[0][0] + a[1][1] * b[1][0]) % modulus,
         (a[1][0] * b[0][1] + a[1][1] * b[1][1]) % modulus),
    )  # fmt: skip


def _times(vector: tuple[int, int], matrix: _Matrix) -> tuple[int, int]:
    """Row vector times matrix."""
    return (
        vector[0] * matrix[0][0] + vector[1] * matrix[1][0],
        vector[0] * matrix[0][1] + vector[1] * matrix[1][1],
    )


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return (a[0] + b[0], a[1] + b[1])
