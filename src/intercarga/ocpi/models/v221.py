"""OCPI 2.2.1 objects and enums, written from the specification text (2.2.1-d2).

Every class and enum of the spec's modules is here, with its limits: field lengths, required
fields (cardinality 1 and +), patterns. Optional lists (cardinality ``*``) default to ``None`` so
that an absent list stays absent when written back. Classes that OCPI 2.3.0 changes are split in
a ``…Fields`` base, holding what both versions share, and the 2.2.1 class; :mod:`.v230` builds on
the same bases. Unknown fields are refused (2.2.1 has no rule allowing them).

Modules: versions, credentials, locations, sessions, CDRs, tariffs, tokens, commands, charging
profiles, hub client info. This module must never do I/O nor map to the domain (``mapping`` does).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from intercarga.ocpi.models._types import (
    URL,
    Bool,
    CiString,
    CiString2,
    CiString3,
    CiString4,
    CiString32,
    CiString36,
    CiString39,
    CiString48,
    DateString,
    DateTime,
    Int,
    Latitude,
    Longitude,
    Number,
    OcpiModel,
    String2,
    String3,
    String4,
    String10,
    String16,
    String45,
    String64,
    String100,
    String255,
    String512,
    String5000,
    TimeOfDay,
)

__all__ = [
    "CDR",
    "EVSE",
    "ActiveChargingProfile",
    "ActiveChargingProfileResult",
    "AdditionalGeoLocation",
    "AllowedType",
    "AuthMethod",
    "AuthorizationInfo",
    "AuthorizationInfoFields",
    "BusinessDetails",
    "CDRFields",
    "CancelReservation",
    "Capability",
    "CdrDimension",
    "CdrDimensionType",
    "CdrLocation",
    "CdrLocationFields",
    "CdrToken",
    "CdrTokenFields",
    "ChargingPeriod",
    "ChargingPreferences",
    "ChargingPreferencesResponse",
    "ChargingProfile",
    "ChargingProfilePeriod",
    "ChargingProfileResponse",
    "ChargingProfileResponseType",
    "ChargingProfileResult",
    "ChargingProfileResultType",
    "ChargingRateUnit",
    "ClearProfileResult",
    "ClientInfo",
    "ClientInfoFields",
    "CommandResponse",
    "CommandResponseType",
    "CommandResult",
    "CommandResultType",
    "CommandType",
    "ConnectionStatus",
    "Connector",
    "ConnectorFields",
    "ConnectorFormat",
    "ConnectorType",
    "Credentials",
    "CredentialsFields",
    "CredentialsRole",
    "CredentialsRoleFields",
    "DayOfWeek",
    "DisplayText",
    "EVSEFields",
    "Endpoint",
    "EnergyContract",
    "EnergyMix",
    "EnergyMixFields",
    "EnergySource",
    "EnergySourceCategory",
    "EnvironmentalImpact",
    "EnvironmentalImpactCategory",
    "ExceptionalPeriod",
    "Facility",
    "GeoLocation",
    "Hours",
    "Image",
    "ImageCategory",
    "ImageFields",
    "InterfaceRole",
    "Location",
    "LocationFields",
    "LocationReferences",
    "ModuleID",
    "ParkingRestriction",
    "ParkingType",
    "PowerType",
    "Price",
    "PriceComponent",
    "ProfileType",
    "PublishTokenType",
    "PublishTokenTypeFields",
    "RegularHours",
    "ReservationRestrictionType",
    "ReserveNow",
    "ReserveNowFields",
    "Role",
    "Session",
    "SessionFields",
    "SessionStatus",
    "SetChargingProfile",
    "SignedData",
    "SignedValue",
    "StartSession",
    "StartSessionFields",
    "Status",
    "StatusSchedule",
    "StopSession",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffFields",
    "TariffRestrictions",
    "TariffType",
    "Token",
    "TokenFields",
    "TokenType",
    "UnlockConnector",
    "Version",
    "VersionDetails",
    "VersionNumber",
    "WhitelistType",
]


# ============================================================================================
# Types
# ============================================================================================
class DisplayText(OcpiModel):
    language: String2
    text: String512


class Price(OcpiModel):
    excl_vat: Number
    incl_vat: Number | None = None


class Role(StrEnum):
    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


# ============================================================================================
# Versions
# ============================================================================================
class VersionNumber(StrEnum):
    V2_0 = "2.0"
    V2_1 = "2.1"
    V2_1_1 = "2.1.1"
    V2_2 = "2.2"
    V2_2_1 = "2.2.1"


class ModuleID(StrEnum):
    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


class InterfaceRole(StrEnum):
    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


# "Custom Modules": the ModuleID enum "can be extended with additional custom moduleIDs", so a
# partner's version details may name modules we do not know; they are kept, not refused.
ModuleIdentifier = Annotated[ModuleID | CiString, Field(union_mode="left_to_right")]


class Version(OcpiModel):
    version: VersionNumber
    url: URL


class Endpoint(OcpiModel):
    identifier: ModuleIdentifier
    role: InterfaceRole
    url: URL


class VersionDetails(OcpiModel):
    version: VersionNumber
    endpoints: list[Endpoint] = Field(min_length=1)


# ============================================================================================
# Locations
# ============================================================================================
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


class ConnectorFormat(StrEnum):
    SOCKET = "SOCKET"
    CABLE = "CABLE"


class ConnectorType(StrEnum):
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
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class EnergySourceCategory(StrEnum):
    NUCLEAR = "NUCLEAR"
    GENERAL_FOSSIL = "GENERAL_FOSSIL"
    COAL = "COAL"
    GAS = "GAS"
    GENERAL_GREEN = "GENERAL_GREEN"
    SOLAR = "SOLAR"
    WIND = "WIND"
    WATER = "WATER"


class EnvironmentalImpactCategory(StrEnum):
    NUCLEAR_WASTE = "NUCLEAR_WASTE"
    CARBON_DIOXIDE = "CARBON_DIOXIDE"


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
    BIKE_SHARING = "BIKE_SHARING"
    BUS_STOP = "BUS_STOP"
    TAXI_STAND = "TAXI_STAND"
    TRAM_STOP = "TRAM_STOP"
    METRO_STATION = "METRO_STATION"
    TRAIN_STATION = "TRAIN_STATION"
    AIRPORT = "AIRPORT"
    PARKING_LOT = "PARKING_LOT"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    WIFI = "WIFI"


class ImageCategory(StrEnum):
    CHARGER = "CHARGER"
    ENTRANCE = "ENTRANCE"
    LOCATION = "LOCATION"
    NETWORK = "NETWORK"
    OPERATOR = "OPERATOR"
    OTHER = "OTHER"
    OWNER = "OWNER"


class ParkingRestriction(StrEnum):
    EV_ONLY = "EV_ONLY"
    PLUGGED = "PLUGGED"
    DISABLED = "DISABLED"
    CUSTOMERS = "CUSTOMERS"
    MOTORCYCLES = "MOTORCYCLES"


class ParkingType(StrEnum):
    ALONG_MOTORWAY = "ALONG_MOTORWAY"
    PARKING_GARAGE = "PARKING_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    ON_DRIVEWAY = "ON_DRIVEWAY"
    ON_STREET = "ON_STREET"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"


class PowerType(StrEnum):
    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class Status(StrEnum):
    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


class GeoLocation(OcpiModel):
    latitude: Latitude
    longitude: Longitude


class AdditionalGeoLocation(OcpiModel):
    latitude: Latitude
    longitude: Longitude
    name: DisplayText | None = None


class ImageFields(OcpiModel):
    url: URL
    thumbnail: URL | None = None
    type: CiString4
    width: Int | None = Field(default=None, ge=0, le=99999)
    height: Int | None = Field(default=None, ge=0, le=99999)


class Image(ImageFields):
    category: ImageCategory


class BusinessDetails(OcpiModel):
    name: String100
    website: URL | None = None
    logo: Image | None = None


class EnergySource(OcpiModel):
    source: EnergySourceCategory
    percentage: Number = Field(ge=0, le=100)


class EnvironmentalImpact(OcpiModel):
    category: EnvironmentalImpactCategory
    amount: Number = Field(ge=0)


class EnergyMixFields(OcpiModel):
    is_green_energy: Bool
    energy_sources: list[EnergySource] | None = None
    supplier_name: String64 | None = None
    energy_product_name: String64 | None = None


class EnergyMix(EnergyMixFields):
    environ_impact: list[EnvironmentalImpact] | None = None


class RegularHours(OcpiModel):
    weekday: Int = Field(ge=1, le=7)
    period_begin: TimeOfDay
    period_end: Annotated[str, Field(strict=True, pattern=r"^([0-1][0-9]|2[0-4]):[0-5][0-9]$")]


class ExceptionalPeriod(OcpiModel):
    period_begin: DateTime
    period_end: DateTime


class Hours(OcpiModel):
    twentyfourseven: Bool
    regular_hours: list[RegularHours] | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None

    @model_validator(mode="after")
    def _regular_hours_only_when_not_always_open(self) -> Hours:
        if self.twentyfourseven and self.regular_hours:
            raise ValueError("regular_hours may only be given when twentyfourseven is false")
        return self


class StatusSchedule(OcpiModel):
    period_begin: DateTime
    period_end: DateTime | None = None
    status: Status


class ConnectorFields(OcpiModel):
    id: CiString36
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: Int = Field(ge=0)
    max_amperage: Int = Field(ge=0)
    max_electric_power: Int | None = Field(default=None, ge=0)
    tariff_ids: list[CiString36] | None = None
    terms_and_conditions: URL | None = None
    last_updated: DateTime


class Connector(ConnectorFields):
    standard: ConnectorType


class EVSEFields(OcpiModel):
    uid: CiString36
    evse_id: CiString48 | None = None
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    floor_level: String4 | None = None
    coordinates: GeoLocation | None = None
    physical_reference: String16 | None = None
    directions: list[DisplayText] | None = None
    last_updated: DateTime


class EVSE(EVSEFields):
    capabilities: list[Capability] | None = None
    connectors: list[Connector] = Field(min_length=1)
    parking_restrictions: list[ParkingRestriction] | None = None
    images: list[Image] | None = None


class PublishTokenTypeFields(OcpiModel):
    uid: CiString36 | None = None
    visual_number: String64 | None = None
    issuer: String64 | None = None
    group_id: CiString36 | None = None


class LocationFields(OcpiModel):
    country_code: CiString2
    party_id: CiString3
    id: CiString36
    publish: Bool
    name: String255 | None = None
    address: String255
    city: String45
    postal_code: String10 | None = None
    state: String45 | None = None
    country: String3
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    directions: list[DisplayText] | None = None
    time_zone: String255
    opening_times: Hours | None = None
    charging_when_closed: Bool | None = None
    last_updated: DateTime


class TokenType(StrEnum):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class PublishTokenType(PublishTokenTypeFields):
    type: TokenType | None = None


class Location(LocationFields):
    publish_allowed_to: list[PublishTokenType] | None = None
    parking_type: ParkingType | None = None
    evses: list[EVSE] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None


# ============================================================================================
# Tariffs
# ============================================================================================
class DayOfWeek(StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ReservationRestrictionType(StrEnum):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffDimensionType(StrEnum):
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


class PriceComponent(OcpiModel):
    type: TariffDimensionType
    price: Number = Field(ge=0)
    vat: Number | None = Field(default=None, ge=0)
    step_size: Int = Field(ge=0)


class TariffRestrictions(OcpiModel):
    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None
    start_date: DateString | None = None
    end_date: DateString | None = None
    min_kwh: Number | None = Field(default=None, ge=0)
    max_kwh: Number | None = Field(default=None, ge=0)
    min_current: Number | None = Field(default=None, ge=0)
    max_current: Number | None = Field(default=None, ge=0)
    min_power: Number | None = Field(default=None, ge=0)
    max_power: Number | None = Field(default=None, ge=0)
    min_duration: Int | None = Field(default=None, ge=0)
    max_duration: Int | None = Field(default=None, ge=0)
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None


class TariffElement(OcpiModel):
    price_components: list[PriceComponent] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None


class TariffFields(OcpiModel):
    country_code: CiString2
    party_id: CiString3
    id: CiString36
    currency: String3
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    elements: list[TariffElement] = Field(min_length=1)
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    last_updated: DateTime


class Tariff(TariffFields):
    min_price: Price | None = None
    max_price: Price | None = None
    energy_mix: EnergyMix | None = None


# ============================================================================================
# Tokens
# ============================================================================================
class AllowedType(StrEnum):
    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class WhitelistType(StrEnum):
    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class ProfileType(StrEnum):
    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"


class EnergyContract(OcpiModel):
    supplier_name: String64
    contract_id: String64 | None = None


class LocationReferences(OcpiModel):
    location_id: CiString36
    evse_uids: list[CiString36] | None = None


class TokenFields(OcpiModel):
    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    contract_id: CiString36
    visual_number: String64 | None = None
    issuer: String64
    group_id: CiString36 | None = None
    valid: Bool
    whitelist: WhitelistType
    language: String2 | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime


class Token(TokenFields):
    type: TokenType


class AuthorizationInfoFields(OcpiModel):
    allowed: AllowedType
    location: LocationReferences | None = None
    authorization_reference: CiString36 | None = None
    info: DisplayText | None = None


class AuthorizationInfo(AuthorizationInfoFields):
    token: Token


# ============================================================================================
# Sessions and CDRs
# ============================================================================================
class SessionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"


class ChargingPreferencesResponse(StrEnum):
    ACCEPTED = "ACCEPTED"
    DEPARTURE_REQUIRED = "DEPARTURE_REQUIRED"
    ENERGY_NEED_REQUIRED = "ENERGY_NEED_REQUIRED"
    NOT_POSSIBLE = "NOT_POSSIBLE"
    PROFILE_TYPE_NOT_SUPPORTED = "PROFILE_TYPE_NOT_SUPPORTED"


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


class ChargingPreferences(OcpiModel):
    profile_type: ProfileType
    departure_time: DateTime | None = None
    energy_need: Number | None = Field(default=None, ge=0)
    discharge_allowed: Bool | None = None


class CdrDimension(OcpiModel):
    type: CdrDimensionType
    volume: Number


class ChargingPeriod(OcpiModel):
    start_date_time: DateTime
    dimensions: list[CdrDimension] = Field(min_length=1)
    tariff_id: CiString36 | None = None


class CdrTokenFields(OcpiModel):
    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    contract_id: CiString36


class CdrToken(CdrTokenFields):
    type: TokenType


class CdrLocationFields(OcpiModel):
    id: CiString36
    name: String255 | None = None
    address: String255
    city: String45
    postal_code: String10 | None = None
    state: String45 | None = None
    country: String3
    coordinates: GeoLocation
    evse_uid: CiString36
    evse_id: CiString48
    connector_id: CiString36
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class CdrLocation(CdrLocationFields):
    connector_standard: ConnectorType


class SignedValue(OcpiModel):
    nature: CiString32
    plain_data: String5000
    signed_data: String5000


class SignedData(OcpiModel):
    encoding_method: CiString36
    encoding_method_version: Int | None = None
    public_key: String512 | None = None
    signed_values: list[SignedValue] = Field(min_length=1)
    url: String512 | None = None


class SessionFields(OcpiModel):
    country_code: CiString2
    party_id: CiString3
    id: CiString36
    start_date_time: DateTime
    end_date_time: DateTime | None = None
    kwh: Number = Field(ge=0)
    auth_method: AuthMethod
    authorization_reference: CiString36 | None = None
    location_id: CiString36
    evse_uid: CiString36
    connector_id: CiString36
    meter_id: String255 | None = None
    currency: String3
    charging_periods: list[ChargingPeriod] | None = None
    status: SessionStatus
    last_updated: DateTime


class Session(SessionFields):
    cdr_token: CdrToken
    total_cost: Price | None = None


class CDRFields(OcpiModel):
    country_code: CiString2
    party_id: CiString3
    id: CiString39
    start_date_time: DateTime
    end_date_time: DateTime
    session_id: CiString36 | None = None
    auth_method: AuthMethod
    authorization_reference: CiString36 | None = None
    meter_id: String255 | None = None
    currency: String3
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    signed_data: SignedData | None = None
    total_energy: Number
    total_time: Number
    total_parking_time: Number | None = None
    remark: String255 | None = None
    invoice_reference_id: CiString39 | None = None
    credit: Bool | None = None
    credit_reference_id: CiString39 | None = None
    home_charging_compensation: Bool | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _credit_needs_reference(self) -> CDRFields:
        if self.credit and not self.credit_reference_id:
            raise ValueError("credit_reference_id is required when credit is true")
        return self


class CDR(CDRFields):
    cdr_token: CdrToken
    cdr_location: CdrLocation
    tariffs: list[Tariff] | None = None
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy_cost: Price | None = None
    total_time_cost: Price | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None


# ============================================================================================
# Commands
# ============================================================================================
class CommandResponseType(StrEnum):
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResultType(StrEnum):
    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


class CommandType(StrEnum):
    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CancelReservation(OcpiModel):
    response_url: URL
    reservation_id: CiString36


class CommandResponse(OcpiModel):
    result: CommandResponseType
    timeout: Int = Field(ge=0)
    message: list[DisplayText] | None = None


class CommandResult(OcpiModel):
    result: CommandResultType
    message: list[DisplayText] | None = None


class ReserveNowFields(OcpiModel):
    response_url: URL
    expiry_date: DateTime
    reservation_id: CiString36
    location_id: CiString36
    evse_uid: CiString36 | None = None
    authorization_reference: CiString36 | None = None


class ReserveNow(ReserveNowFields):
    token: Token


class StartSessionFields(OcpiModel):
    response_url: URL
    location_id: CiString36
    evse_uid: CiString36 | None = None
    connector_id: CiString36 | None = None
    authorization_reference: CiString36 | None = None


class StartSession(StartSessionFields):
    token: Token


class StopSession(OcpiModel):
    response_url: URL
    session_id: CiString36


class UnlockConnector(OcpiModel):
    response_url: URL
    location_id: CiString36
    evse_uid: CiString36
    connector_id: CiString36


# ============================================================================================
# Charging profiles
# ============================================================================================
class ChargingRateUnit(StrEnum):
    W = "W"
    A = "A"


class ChargingProfileResponseType(StrEnum):
    ACCEPTED = "ACCEPTED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TOO_OFTEN = "TOO_OFTEN"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class ChargingProfileResultType(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class ChargingProfilePeriod(OcpiModel):
    start_period: Int = Field(ge=0)
    limit: Number


class ChargingProfile(OcpiModel):
    start_date_time: DateTime | None = None
    duration: Int | None = Field(default=None, ge=0)
    charging_rate_unit: ChargingRateUnit
    min_charging_rate: Number | None = None
    charging_profile_period: list[ChargingProfilePeriod] | None = None


class ActiveChargingProfile(OcpiModel):
    start_date_time: DateTime
    charging_profile: ChargingProfile


class ChargingProfileResponse(OcpiModel):
    result: ChargingProfileResponseType
    timeout: Int = Field(ge=0)


class ActiveChargingProfileResult(OcpiModel):
    result: ChargingProfileResultType
    profile: ActiveChargingProfile | None = None


class ChargingProfileResult(OcpiModel):
    result: ChargingProfileResultType


class ClearProfileResult(OcpiModel):
    result: ChargingProfileResultType


class SetChargingProfile(OcpiModel):
    charging_profile: ChargingProfile
    response_url: URL


# ============================================================================================
# Hub client info
# ============================================================================================
class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


class ClientInfoFields(OcpiModel):
    party_id: CiString3
    country_code: CiString2
    status: ConnectionStatus
    last_updated: DateTime


class ClientInfo(ClientInfoFields):
    role: Role


# ============================================================================================
# Credentials
# ============================================================================================
# "printable non-whitespace ASCII characters", at most 64 of them.
CredentialsToken = Annotated[str, Field(strict=True, max_length=64, pattern=r"^[!-~]+$")]


class CredentialsRoleFields(OcpiModel):
    party_id: CiString3
    country_code: CiString2


class CredentialsRole(CredentialsRoleFields):
    role: Role
    business_details: BusinessDetails


class CredentialsFields(OcpiModel):
    token: CredentialsToken
    url: URL


class Credentials(CredentialsFields):
    roles: list[CredentialsRole] = Field(min_length=1)
