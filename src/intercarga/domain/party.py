"""Party: an organisation in the roaming world, named by country code and party id (OCPI 2.2.1)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from intercarga.domain._types import CountryAlpha2, DomainModel, PartyCode, UtcDateTime, utc_now

__all__ = ["Party", "Role"]


class Role(StrEnum):
    """The roles a party plays (OCPI 2.2.1 Role, plus NAP for a national access point)."""

    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class Party(DomainModel):
    """One party: e.g. CL-ICG, an operator in Chile. ``roles`` is never empty."""

    country_code: CountryAlpha2
    party_id: PartyCode
    name: str = Field(min_length=1, max_length=100)
    roles: list[Role] = Field(min_length=1)
    website: str | None = Field(default=None, max_length=255)
    last_updated: UtcDateTime = Field(default_factory=utc_now)

    @property
    def key(self) -> str:
        return f"{self.country_code}-{self.party_id}"
