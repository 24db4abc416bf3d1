"""Tariff: how a CPO prices charging, shaped on OCPI 2.2.1 Tariff with 2.3.0's tax fields.

This is the data; pricing it is the billing layer's job. No I/O here.
"""

from __future__ import annotations

from enum import StrEnum

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

__all__ = [
    "DayOfWeek",
    "DisplayText",
    "PriceComponent",
    "ReservationRestriction",
    "Tariff",
    "TariffDimension",
    "TariffElement",
    "TariffRestrictions",
    "TariffType",
    "Tax",
    "TaxAmount",
    "TaxIncluded",
]


class TariffDimension(StrEnum):
    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class TariffType(StrEnum):
    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class DayOfWeek(StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ReservationRestriction(StrEnum):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TaxIncluded(StrEnum):
    """OCPI 2.3.0: whether the prices of a tariff already contain the taxes."""

    YES = "YES"
    NO = "NO"
    NOT_APPLICABLE = "N/A"


class DisplayText(DomainModel):
    language: str = Field(min_length=2, max_length=2)
    text: str = Field(max_length=512)


class Tax(DomainModel):
    """One tax within a price (OCPI 2.3.0 TaxAmount): its name, rate when known, and amount."""

    name: str = Field(min_length=1)
    percentage: Amount | None = Field(default=None, ge=0)
    amount: Amount
    account_number: str | None = None


class TaxAmount(DomainModel):
    """A price with and without tax (OCPI Price); ``incl_vat`` may be unknown.

    OCPI 2.3.0 writes a price as ``before_taxes`` plus a list of taxes; that maps to
    ``excl_vat`` (before taxes), ``taxes`` (the list) and ``incl_vat`` (before plus the taxes).
    """

    excl_vat: Amount
    incl_vat: Amount | None = None
    taxes: list[Tax] = Field(default_factory=list)


class PriceComponent(DomainModel):
    type: TariffDimension
    price: Amount = Field(ge=0)
    vat: Amount | None = Field(default=None, ge=0, description="percent, 2.2.1")
    step_size: int = Field(ge=0)


class TariffRestrictions(DomainModel):
    start_time: str | None = Field(default=None, pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")
    end_time: str | None = Field(default=None, pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")
    start_date: str | None = Field(default=None, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    end_date: str | None = Field(default=None, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    min_kwh: Amount | None = Field(default=None, ge=0)
    max_kwh: Amount | None = Field(default=None, ge=0)
    min_current: Amount | None = Field(default=None, ge=0)
    max_current: Amount | None = Field(default=None, ge=0)
    min_power: Amount | None = Field(default=None, ge=0)
    max_power: Amount | None = Field(default=None, ge=0)
    min_duration: int | None = Field(default=None, ge=0)
    max_duration: int | None = Field(default=None, ge=0)
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestriction | None = None


class TariffElement(DomainModel):
    price_components: list[PriceComponent] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None


class Tariff(DomainModel):
    country_code: CountryAlpha2
    party_id: PartyCode
    id: str = Field(min_length=1, max_length=36)
    currency: CurrencyCode
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] = Field(default_factory=list)
    tariff_alt_url: str | None = None
    min_price: TaxAmount | None = None
    max_price: TaxAmount | None = None
    elements: list[TariffElement] = Field(min_length=1)
    tax_included: TaxIncluded | None = Field(default=None, description="2.3.0: YES, NO or N/A")
    start_date_time: UtcDateTime | None = None
    end_date_time: UtcDateTime | None = None
    last_updated: UtcDateTime = Field(default_factory=utc_now)
