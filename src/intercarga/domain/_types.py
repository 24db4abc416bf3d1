"""Constrained value types shared by the domain objects (ids, codes, coordinates, time zones).

Only validation lives here; no I/O, no protocol knowledge.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "Amount",
    "CountryAlpha2",
    "CountryAlpha3",
    "DomainModel",
    "Latitude",
    "Longitude",
    "PartyCode",
    "TimeZoneName",
    "UtcDateTime",
    "utc_now",
]


class DomainModel(BaseModel):
    """Base of every domain object: unknown fields are refused, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def utc_now() -> datetime:
    """Now, in UTC, to the second (the precision OCPI DateTime carries)."""
    return datetime.now(UTC).replace(microsecond=0)


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        # Inside the system every instant is UTC; a naive value can only have come from a store
        # or a peer that dropped the offset, and both are defined to mean UTC.
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _alpha2(value: str) -> str:
    if pycountry.countries.get(alpha_2=value) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return value


def _alpha3(value: str) -> str:
    if pycountry.countries.get(alpha_3=value) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-3 country code")
    return value


_ZONES: frozenset[str] | None = None


def _time_zone(value: str) -> str:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    if value not in _ZONES:
        raise ValueError(f"{value!r} is not an IANA time zone name (e.g. America/Santiago)")
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError as error:  # pragma: no cover - listed zones always load
        raise ValueError(str(error)) from None
    return value


UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]
CountryAlpha2 = Annotated[
    str,
    StringConstraints(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$"),
    AfterValidator(_alpha2),
]
CountryAlpha3 = Annotated[
    str,
    StringConstraints(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$"),
    AfterValidator(_alpha3),
]
PartyCode = Annotated[str, StringConstraints(min_length=3, max_length=3, pattern=r"^[A-Z0-9]{3}$")]
TimeZoneName = Annotated[str, StringConstraints(max_length=255), AfterValidator(_time_zone)]
# OCPI GeoLocation: decimal degrees as strings, up to 7 decimals; kept as strings so that what a
# partner sent round-trips byte for byte.
Latitude = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$")]
Longitude = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$")]
# Decimal amounts are exact; in JSON they are written as strings ("0.25") so no float ever touches
# them. Numbers are accepted on input.
Amount = Annotated[Decimal, Field(allow_inf_nan=False)]
