"""Partners: the platforms this deployment roams with, as plain records.

A partner record holds the state of its credentials registration, the negotiated version, the
roles (parties) it hosts and the endpoints it offers. Of the credentials token the partner
presents to us only a SHA-256 hash is kept (we only verify it); the token we present to the
partner is kept as is, because it has to be sent. The records are plain values: the OCPI layer
fills them and decides on them (registration, routing), store/ persists them. This module must
never do I/O or know an OCPI version.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from intercarga.domain._types import CountryAlpha2, PartyCode, UtcDateTime, utc_now

__all__ = ["Partner", "PartnerEndpoint", "PartnerRole", "PartnerState"]


class PartnerState(StrEnum):
    """Where a partner's credentials registration stands (the OCPI layer's state machine)."""

    INVITED = "INVITED"
    REGISTERING = "REGISTERING"
    REGISTERED = "REGISTERED"
    UNREGISTERED = "UNREGISTERED"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PartnerRole(_Record):
    """One party the partner's platform hosts: e.g. NL-EXA as CPO."""

    country_code: CountryAlpha2
    party_id: PartyCode
    role: str = Field(min_length=1, max_length=8)
    name: str = Field(min_length=1, max_length=100)
    website: str | None = Field(default=None, max_length=255)


class PartnerEndpoint(_Record):
    identifier: str = Field(min_length=1, max_length=64)
    role: str | None = Field(default=None, max_length=8, description="SENDER/RECEIVER")
    url: str = Field(min_length=1, max_length=255)


class Partner(_Record):
    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=100)
    state: PartnerState
    initiated_by: str = Field(pattern=r"^(US|THEM)$", description="who sent the POST")
    version: str | None = Field(default=None, max_length=8)
    versions_url: str | None = Field(default=None, max_length=255)
    token_hash: str | None = Field(default=None, min_length=64, max_length=64)
    outgoing_token: str | None = Field(default=None, max_length=64)
    raw_token: bool = False
    hub_party_id: str | None = Field(default=None, max_length=5)
    roles: list[PartnerRole] = Field(default_factory=list)
    endpoints: list[PartnerEndpoint] = Field(default_factory=list)
    created_at: UtcDateTime = Field(default_factory=utc_now)
    last_updated: UtcDateTime = Field(default_factory=utc_now)

    def endpoint(self, identifier: str, role: str | None = None) -> str | None:
        """The URL of ``identifier`` (for ``role`` when the partner's version has roles)."""
        for endpoint in self.endpoints:
            if endpoint.identifier == identifier and (
                role is None or endpoint.role is None or endpoint.role == role
            ):
                return endpoint.url
        return None

    def hosts(self, country_code: str, party_id: str, role: str | None = None) -> bool:
        """Whether the partner registered this party (case-insensitive, as CiStrings are)."""
        return any(
            item.country_code == country_code.upper()
            and item.party_id == party_id.upper()
            and (role is None or item.role == role)
            for item in self.roles
        )
