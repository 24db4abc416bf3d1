"""Token: what a driver identifies with (RFID card, app, ad hoc), issued by an eMSP party."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from intercarga.domain._types import CountryAlpha2, DomainModel, PartyCode, UtcDateTime, utc_now

__all__ = ["Token", "TokenType", "Whitelist"]


class TokenType(StrEnum):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    EMAID = "EMAID"  # OCPI 2.3.0: an ISO 15118 contract id used as the token (Plug & Charge)
    OTHER = "OTHER"
    RFID = "RFID"


class Whitelist(StrEnum):
    """How a CPO may authorize the token without asking its eMSP (OCPI WhitelistType)."""

    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class Token(DomainModel):
    country_code: CountryAlpha2
    party_id: PartyCode
    uid: str = Field(min_length=1, max_length=36)
    type: TokenType = TokenType.RFID
    contract_id: str = Field(min_length=1, max_length=36)
    visual_number: str | None = Field(default=None, max_length=64)
    issuer: str = Field(min_length=1, max_length=64)
    group_id: str | None = Field(default=None, max_length=36)
    valid: bool = True
    whitelist: Whitelist = Whitelist.ALLOWED
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    expires_at: UtcDateTime | None = None
    last_updated: UtcDateTime = Field(default_factory=utc_now)
