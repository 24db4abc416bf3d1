"""OCPI 2.1.1 objects that legacy partners send or fetch: versions, credentials, locations,
tokens, tariffs, sessions and CDRs.

2.1.1 has no ``country_code``/``party_id`` in its objects (the party comes from the credentials
of the connection), connectors carry ``voltage``/``amperage`` and one ``tariff_id``, tokens an
``auth_id``, and sessions and CDRs embed the whole Location. Written from the 2.1.1 text as
published by the EVRoaming Foundation (not among ../shared's reference copies); fields older
platforms commonly leave out are optional here when the spec allows it. Being read from legacy
partners, these objects are read liberally: undocumented fields are set aside, not refused.
Classes 2.1.1 shares with 2.2.1 (DisplayText, GeoLocation, Hours' parts, BusinessDetails, …) are
the 2.2.1 ones. This module must never do I/O nor map to the domain.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from intercarga.ocpi.models._types import (
    URL,
    Bool,
    CiString2,
    CiString3,
    DateString,
    DateTime,
    Int,
    Number,
    OcpiModel,
    String,
    String2,
    String3,
    String4,
    String10,
    String16,
    String36,
    String39,
    String45,
    String48,
    String64,
    String255,
    TimeOfDay,
)
from intercarga.ocpi.models.v221 import (
    AdditionalGeoLocation,
    AllowedType,
    BusinessDetails,
    ConnectorFormat,
    DayOfWeek,
    DisplayText,
    EnergyMix,
    ExceptionalPeriod,
    GeoLocation,
    Image,
    ParkingRestriction,
    RegularHours,
    Status,
    StatusSchedule,
    TariffDimensionType,
    WhitelistType,
)

__all__ = [
    "CDR",
    "EVSE",
    "AllowedType",
    "AuthMethod",
    "AuthorizationInfo",
    "Capability",
    "CdrDimension",
    "CdrDimensionType",
    "ChargingPeriod",
    "Connector",
    "ConnectorType",
    "Credentials",
    "Endpoint",
    "Facility",
    "Hours",
    "Location",
    "LocationType",
    "ModuleID",
    "PowerType",
    "PriceComponent",
    "Session",
    "SessionStatus",
    "Tariff",
    "TariffElement",
    "TariffRestrictions",
    "Token",
    "TokenType",
    "Version",
    "VersionDetails",
]


class Legacy(OcpiModel):
    ocpi_open: ClassVar[bool] = True


class ModuleID(StrEnum):
    CDRS = "cdrs"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


class Version(Legacy):
    version: String
    url: URL


class Endpoint(Legacy):
    identifier: String
    url: URL


class VersionDetails(Legacy):
    version: String
    endpoints: list[Endpoint] = Field(min_length=1)


class Credentials(Legacy):
    token: String64
    url: URL
    business_details: BusinessDetails
    party_id: CiString3
    country_code: CiString2


# -- locations ------------------------------------------------------------------------------
class LocationType(StrEnum):
    ON_STREET = "ON_STREET"
    PARKING_GARAGE = "PARKING_GARAGE"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class Capability(StrEnum):
    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class ConnectorType(StrEnum):
    CHADEMO = "CHADEMO"
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
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class PowerType(StrEnum):
    AC_1_PHASE = "AC_1_PHASE"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class Facility(StrEnum):
    HOTEL = "HOTEL"
    RESTAURANT = "RESTAURANT"
    CAFE = "CAFE"
    MALL = "MALL"
    SUPERMARKET = "SUPERMARKET"
    SPORT = "SPORT"
    RECREATION_AREA = "RECREATION_AREA"
    NATURE = "NATURE"
    MUSEUM = "MUSEUM"
    BUS_STOP = "BUS_STOP"
    TAXI_STAND = "TAXI_STAND"
    TRAIN_STATION = "TRAIN_STATION"
    AIRPORT = "AIRPORT"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    WIFI = "WIFI"


class Hours(Legacy):
    """2.1.1 gives either ``regular_hours`` or ``twentyfourseven: true``."""

    regular_hours: list[RegularHours] | None = None
    twentyfourseven: Bool | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None


class Connector(Legacy):
    id: String36
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    voltage: Int = Field(ge=0)
    amperage: Int = Field(ge=0)
    tariff_id: String36 | None = None
    terms_and_conditions: URL | None = None
    last_updated: DateTime


class EVSE(Legacy):
    uid: String39
    evse_id: String48 | None = None
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[Capability] | None = None
    connectors: list[Connector] = Field(min_length=1)
    floor_level: String4 | None = None
    coordinates: GeoLocation | None = None
    physical_reference: String16 | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[ParkingRestriction] | None = None
    images: list[Image] | None = None
    last_updated: DateTime


class Location(Legacy):
    id: String39
    type: LocationType
    name: String255 | None = None
    address: String45
    city: String45
    postal_code: String10 | None = None
    country: String3
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    evses: list[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: String255 | None = None
    opening_times: Hours | None = None
    charging_when_closed: Bool | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


# -- tokens ---------------------------------------------------------------------------------
class TokenType(StrEnum):
    OTHER = "OTHER"
    RFID = "RFID"


class Token(Legacy):
    uid: String36
    type: TokenType
    auth_id: String36
    visual_number: String64 | None = None
    issuer: String64
    valid: Bool
    whitelist: WhitelistType
    language: String2 | None = None
    last_updated: DateTime


class AuthorizationInfo(Legacy):
    allowed: AllowedType
    location: dict[str, object] | None = None
    info: DisplayText | None = None


# -- tariffs --------------------------------------------------------------------------------
class PriceComponent(Legacy):
    type: TariffDimensionType
    price: Number = Field(ge=0)
    step_size: Int = Field(ge=0)


class TariffRestrictions(Legacy):
    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None
    start_date: DateString | None = None
    end_date: DateString | None = None
    min_kwh: Number | None = Field(default=None, ge=0)
    max_kwh: Number | None = Field(default=None, ge=0)
    min_power: Number | None = Field(default=None, ge=0)
    max_power: Number | None = Field(default=None, ge=0)
    min_duration: Int | None = Field(default=None, ge=0)
    max_duration: Int | None = Field(default=None, ge=0)
    day_of_week: list[DayOfWeek] | None = None


class TariffElement(Legacy):
    price_components: list[PriceComponent] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None


class Tariff(Legacy):
    id: String36
    currency: String3
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    elements: list[TariffElement] = Field(min_length=1)
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


# -- sessions and CDRs ----------------------------------------------------------------------
class AuthMethod(StrEnum):
    AUTH_REQUEST = "AUTH_REQUEST"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    ENERGY = "ENERGY"
    FLAT = "FLAT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class SessionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"


class CdrDimension(Legacy):
    type: CdrDimensionType
    volume: Number


class ChargingPeriod(Legacy):
    start_date_time: DateTime
    dimensions: list[CdrDimension] = Field(min_length=1)


class Session(Legacy):
    id: String36
    start_datetime: DateTime
    end_datetime: DateTime | None = None
    kwh: Number = Field(ge=0)
    auth_id: String36
    auth_method: AuthMethod
    location: Location
    meter_id: String255 | None = None
    currency: String3
    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Number | None = None
    status: SessionStatus
    last_updated: DateTime


class CDR(Legacy):
    id: String36
    start_date_time: DateTime
    stop_date_time: DateTime
    auth_id: String36
    auth_method: AuthMethod
    location: Location
    meter_id: String255 | None = None
    currency: String3
    tariffs: list[Tariff] | None = None
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    total_cost: Number
    total_energy: Number
    total_time: Number
    total_parking_time: Number | None = None
    remark: String255 | None = None
    last_updated: DateTime
