"""Session and meter values: one charging session, whichever OCPP version reported it.

Nothing here may say which protocol version a fact came from: the OCPP adapters translate into
these objects and the OCPI layer translates out of them.
"""

from __future__ import annotations

from decimal import Decimal
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
    "AuthMethod",
    "CdrDimension",
    "CdrDimensionType",
    "ChargingPeriod",
    "MeterValue",
    "Session",
    "SessionStatus",
    "SignedMeterValue",
]


class SessionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"


class AuthMethod(StrEnum):
    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


class CdrDimension(DomainModel):
    type: CdrDimensionType
    volume: Amount


class ChargingPeriod(DomainModel):
    """From ``start_date_time`` until the next period's start, these dimensions held."""

    start_date_time: UtcDateTime
    dimensions: list[CdrDimension] = Field(min_length=1)
    tariff_id: str | None = Field(default=None, max_length=36)


class MeterValue(DomainModel):
    """One sampled value, in the unit OCPP reported it (normalised to Wh / W / A where known)."""

    timestamp: UtcDateTime
    measurand: str = "Energy.Active.Import.Register"
    value: Amount
    unit: str = "Wh"
    phase: str | None = None
    context: str | None = None
    location: str | None = None


class SignedMeterValue(DomainModel):
    """A meter reading signed by the meter (e.g. an OCMF record), kept exactly as the station sent it.

    ``signed_data`` is verbatim; the other fields say how to check it when the station told us.
    """

    timestamp: UtcDateTime
    measurand: str = "Energy.Active.Import.Register"
    signed_data: str = Field(min_length=1)
    signing_method: str | None = None
    encoding_method: str | None = None
    public_key: str | None = None


class Session(DomainModel):
    country_code: CountryAlpha2
    party_id: PartyCode
    id: str = Field(min_length=1, max_length=36)
    start_date_time: UtcDateTime
    end_date_time: UtcDateTime | None = None
    kwh: Amount = Field(default=Decimal(0), ge=0)
    token_uid: str | None = Field(default=None, max_length=36)
    auth_method: AuthMethod = AuthMethod.WHITELIST
    authorization_reference: str | None = Field(default=None, max_length=36)
    location_id: str
    evse_uid: str
    connector_id: str
    station_id: str | None = None
    transaction_id: str | None = Field(default=None, max_length=36)
    meter_id: str | None = Field(default=None, max_length=255)
    currency: CurrencyCode
    charging_periods: list[ChargingPeriod] = Field(default_factory=list)
    total_cost: Amount | None = None
    status: SessionStatus = SessionStatus.PENDING
    stop_reason: str | None = Field(
        default=None, max_length=32, description="why the station ended it (OCPP 2.x words)"
    )
    meter_values: list[MeterValue] = Field(default_factory=list)
    signed_meter_values: list[SignedMeterValue] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list,
        description="what the operator should review: meter readings that were not billed, and why",
    )
    no_cdr_reason: str | None = Field(
        default=None, description="why the session ended without a CDR, when it did"
    )
    last_updated: UtcDateTime = Field(default_factory=utc_now)
