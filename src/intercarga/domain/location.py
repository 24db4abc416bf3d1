"""Location → EVSE → Connector: where charging happens, shaped on OCPI 2.2.1's Locations module.

A Location belongs to one CPO party; EVSE uids are unique within the Location and connector ids
within the EVSE. This module must never do I/O nor know any protocol version.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from intercarga.domain._types import (
    CountryAlpha2,
    CountryAlpha3,
    DomainModel,
    Latitude,
    Longitude,
    PartyCode,
    TimeZoneName,
    UtcDateTime,
    utc_now,
)

__all__ = [
    "EVSE",
    "Capability",
    "Connector",
    "ConnectorFormat",
    "ConnectorStandard",
    "EVSEStatus",
    "ExceptionalPeriod",
    "GeoLocation",
    "Hours",
    "Location",
    "ParkingType",
    "PowerType",
    "RegularHours",
]


class ConnectorStandard(StrEnum):
    """OCPI 2.2.1 ConnectorType plus the 2.3.0 additions (GB/T, ChaoJi, NACS/J3400, MCS, …)."""

    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
    DOMESTIC_A = "DOMESTIC_A"
    DOMESTIC_B = "DOMESTIC_B"
    DOMESTIC_C = "DOMESTIC_C"
    DOMESTIC_D = "DOMESTIC_D"
    DOMESTIC_E = "DOMESTIC_E"
    DOMESTIC_F = "DOMESTIC_F"
    DOMESTIC_G = "DOMESTIC_G"
    DOMESTIC_H = "DOMESTIC_H"
    DOMESTIC_I = "DOMESTIC_I"
    DOMESTIC_J = "DOMESTIC_J"
    DOMESTIC_K = "DOMESTIC_K"
    DOMESTIC_L = "DOMESTIC_L"
    DOMESTIC_M = "DOMESTIC_M"
    DOMESTIC_N = "DOMESTIC_N"
    DOMESTIC_O = "DOMESTIC_O"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
    IEC_60309_2_single_16 = "IEC_60309_2_single_16"
    IEC_60309_2_three_16 = "IEC_60309_2_three_16"
    IEC_60309_2_three_32 = "IEC_60309_2_three_32"
    IEC_60309_2_three_64 = "IEC_60309_2_three_64"
    IEC_62196_T1 = "IEC_62196_T1"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO"
    IEC_62196_T2 = "IEC_62196_T2"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    MCS = "MCS"
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    SAE_J3400 = "SAE_J3400"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class ConnectorFormat(StrEnum):
    SOCKET = "SOCKET"
    CABLE = "CABLE"


class PowerType(StrEnum):
    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class EVSEStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


class Capability(StrEnum):
    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CHARGING_PREFERENCES_CAPABLE = "CHARGING_PREFERENCES_CAPABLE"
    CHIP_CARD_SUPPORT = "CHIP_CARD_SUPPORT"
    CONTACTLESS_CARD_SUPPORT = "CONTACTLESS_CARD_SUPPORT"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    DEBIT_CARD_PAYABLE = "DEBIT_CARD_PAYABLE"
    PED_TERMINAL = "PED_TERMINAL"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    START_SESSION_CONNECTOR_REQUIRED = "START_SESSION_CONNECTOR_REQUIRED"
    TOKEN_GROUP_CAPABLE = "TOKEN_GROUP_CAPABLE"
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class ParkingType(StrEnum):
    ALONG_MOTORWAY = "ALONG_MOTORWAY"
    PARKING_GARAGE = "PARKING_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    ON_DRIVEWAY = "ON_DRIVEWAY"
    ON_STREET = "ON_STREET"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"


class GeoLocation(DomainModel):
    latitude: Latitude
    longitude: Longitude


class RegularHours(DomainModel):
    weekday: int = Field(ge=1, le=7, description="1 = Monday … 7 = Sunday")
    period_begin: str = Field(pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")
    period_end: str = Field(pattern=r"^([0-1][0-9]|2[0-4]):[0-5][0-9]$")


class ExceptionalPeriod(DomainModel):
    period_begin: UtcDateTime
    period_end: UtcDateTime


class Hours(DomainModel):
    """Opening hours, local to the Location's time zone (OCPI 2.2.1 Hours)."""

    twentyfourseven: bool
    regular_hours: list[RegularHours] = Field(default_factory=list)
    exceptional_openings: list[ExceptionalPeriod] = Field(default_factory=list)
    exceptional_closings: list[ExceptionalPeriod] = Field(default_factory=list)

    @model_validator(mode="after")
    def _either_always_or_hours(self) -> Hours:
        if self.twentyfourseven and self.regular_hours:
            raise ValueError("regular_hours must be empty when twentyfourseven is true")
        return self


class Connector(DomainModel):
    """One plug or socket of an EVSE; only one connector of an EVSE can charge at a time."""

    id: str = Field(min_length=1, max_length=36)
    standard: ConnectorStandard
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: int = Field(gt=0, le=2000, description="V; line to neutral for AC 3 phase")
    max_amperage: int = Field(gt=0, le=3000, description="A")
    max_electric_power: int | None = Field(default=None, gt=0, description="W")
    tariff_ids: list[str] = Field(default_factory=list)
    terms_and_conditions: str | None = None
    last_updated: UtcDateTime = Field(default_factory=utc_now)


class EVSE(DomainModel):
    """One charging point: it charges one vehicle at a time through one of its connectors."""

    uid: str = Field(min_length=1, max_length=36)
    evse_id: str | None = Field(default=None, max_length=48)
    status: EVSEStatus = EVSEStatus.UNKNOWN
    capabilities: list[Capability] = Field(default_factory=list)
    connectors: list[Connector] = Field(min_length=1)
    floor_level: str | None = Field(default=None, max_length=4)
    coordinates: GeoLocation | None = None
    physical_reference: str | None = Field(default=None, max_length=16)
    parking_restrictions: list[str] = Field(default_factory=list)
    last_updated: UtcDateTime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _unique_connector_ids(self) -> EVSE:
        ids = [connector.id for connector in self.connectors]
        if len(ids) != len(set(ids)):
            raise ValueError("connector ids must be unique within an EVSE")
        return self


class Location(DomainModel):
    """A place with one or more EVSEs, operated by the CPO party (country_code, party_id)."""

    country_code: CountryAlpha2
    party_id: PartyCode
    id: str = Field(min_length=1, max_length=36)
    publish: bool = True
    name: str | None = Field(default=None, max_length=255)
    address: str = Field(min_length=1, max_length=45)
    city: str = Field(min_length=1, max_length=45)
    postal_code: str | None = Field(default=None, max_length=10)
    state: str | None = Field(default=None, max_length=20)
    country: CountryAlpha3
    coordinates: GeoLocation
    parking_type: ParkingType | None = None
    evses: list[EVSE] = Field(default_factory=list)
    time_zone: TimeZoneName
    opening_times: Hours | None = None
    charging_when_closed: bool | None = None
    last_updated: UtcDateTime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _unique_evse_uids(self) -> Location:
        uids = [evse.uid for evse in self.evses]
        if len(uids) != len(set(uids)):
            raise ValueError("EVSE uids must be unique within a location")
        return self

    def evse(self, uid: str) -> EVSE | None:
        return next((evse for evse in self.evses if evse.uid == uid), None)
