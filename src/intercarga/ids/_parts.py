"""Small checks shared by the id parsers: alphabets, the country code, the one error shape.

Each parser names the part of an id that is wrong ("country code", "operator id", …) so that a
user sees *which* part to fix. This module must never know any protocol or do I/O.
"""

from __future__ import annotations

import string
from collections.abc import Callable

import pycountry

from intercarga.errors import InvalidInputError

__all__ = [
    "ALPHANUMERIC",
    "bad_part",
    "check_alphanumeric",
    "check_country_code",
    "parses",
]

# ISO 15118 and eMI3 ids use only ASCII letters and digits (case-insensitive): unicode digits or
# letters that str.isalnum() would accept are refused on purpose.
ALPHANUMERIC = frozenset(string.ascii_uppercase + string.digits)


def bad_part(part: str, value: str, why: str) -> InvalidInputError:
    """The error for one wrong part of an id: ``part`` names it, ``why`` says what is expected."""
    return InvalidInputError(f"{value!r} is wrong: {why}", field=part)


def check_alphanumeric(part: str, value: str, length: int) -> str:
    """``value`` upper-cased, when it is exactly ``length`` ASCII letters or digits."""
    upper = value.upper()
    if len(upper) != length:
        raise bad_part(part, value, f"expected {length} characters, got {len(upper)}")
    wrong = sorted({c for c in upper if c not in ALPHANUMERIC})
    if wrong:
        raise bad_part(part, value, f"only letters A-Z and digits 0-9 are allowed, not {wrong}")
    return upper


def check_country_code(value: str) -> str:
    """``value`` upper-cased, when it is an ISO 3166-1 alpha-2 country code."""
    upper = value.upper()
    if len(upper) != 2 or not all(c in string.ascii_uppercase for c in upper):
        raise bad_part("country code", value, "expected two letters (ISO 3166-1 alpha-2)")
    if pycountry.countries.get(alpha_2=upper) is None:
        raise bad_part("country code", value, "not an ISO 3166-1 alpha-2 country code")
    return upper


def parses(parse: Callable[[str], object], value: str) -> bool:
    """Whether ``parse`` accepts ``value``: the ``is_valid_*`` predicates in one place."""
    try:
        parse(value)
    except InvalidInputError:
        return False
    return True
