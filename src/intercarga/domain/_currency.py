"""A constrained string type for ISO 4217 codes this system can settle money in."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from intercarga.domain.money import MINOR_UNITS

__all__ = ["CurrencyCode"]


def _known(value: str) -> str:
    if value not in MINOR_UNITS:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code Intercarga knows")
    return value


CurrencyCode = Annotated[str, AfterValidator(_known)]
