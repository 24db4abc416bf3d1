"""CDR: the charge detail record of a finished session, with its priced totals."""

from __future__ import annotations

from pydantic import Field

from intercarga.domain._currency import CurrencyCode
from intercarga.domain._types import (
    Amount,
    CountryAlpha2,
    DomainModel,
    PartyCode,
    UtcDateTime,
    utc_now,
)
from intercarga.domain.session import AuthMethod, ChargingPeriod
from intercarga.domain.tariff import Tariff, TaxAmount

__all__ = ["Cdr", "CdrLocation", "CdrToken"]


class CdrToken(DomainModel):
    country_code: CountryAlpha2
    party_id: PartyCode
    uid: str = Field(max_length=36)
    type: str
    contract_id: str = Field(max_length=36)


class CdrLocation(DomainModel):
    """Where the session took place, frozen at the time of the CDR (OCPI CdrLocation)."""

    id: str = Field(max_length=36)
    name: str | None = None
    address: str
    city: str
    postal_code: str | None = None
    state: str | None = None
    country: str = Field(min_length=3, max_length=3)
    latitude: str
    longitude: str
    evse_uid: str
    evse_id: str
    connector_id: str
    connector_standard: str
    connector_format: str
    connector_power_type: str


class Cdr(DomainModel):
    country_code: CountryAlpha2
    party_id: PartyCode
    id: str = Field(min_length=1, max_length=39)
    start_date_time: UtcDateTime
    end_date_time: UtcDateTime
    session_id: str | None = None
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: str | None = Field(default=None, max_length=36)
    cdr_location: CdrLocation
    currency: CurrencyCode
    tariffs: list[Tariff] = Field(default_factory=list)
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    total_cost: TaxAmount
    total_fixed_cost: TaxAmount | None = None
    total_energy: Amount
    total_energy_cost: TaxAmount | None = None
    total_time: Amount
    total_time_cost: TaxAmount | None = None
    total_parking_time: Amount | None = None
    total_parking_cost: TaxAmount | None = None
    total_reservation_cost: TaxAmount | None = None
    remark: str | None = Field(default=None, max_length=255)
    last_updated: UtcDateTime = Field(default_factory=utc_now)
