"""OCPI 2.3.0 objects and enums, written from the specification text (2.3.0 core).

What 2.3.0 did not change is the 2.2.1 class itself, re-exported here; what it changed is a new
class on the shared ``…Fields`` base of :mod:`.v221`. The differences: prices are
``before_taxes`` plus a list of taxes, tariffs gain a required ``tax_included`` and price limits,
locations gain parking places and a help phone, EVSEs parking references and accepted service
providers, connectors capabilities (Plug & Charge), the role list loses HUB and credentials gain
``hub_party_id``; the Invoice Reconciliation module is new.

OpenEnums stay open: a value the spec does not list (a new connector type, a custom module id)
is kept as a plain string instead of being refused, as the spec's OpenEnum type asks. And every
2.3.0 object keeps undocumented fields rather than refusing them ("Non-specified JSON fields").
This module must never do I/O nor map to the domain.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from intercarga.ocpi.models._types import (
    URL,
    Bool,
    CiString,
    CiString2,
    CiString3,
    CiString5,
    CiString25,
    CiString36,
    CiString255,
    DateTime,
    Number,
    OcpiModel,
    String,
    String12,
    String50,
    String100,
)
from intercarga.ocpi.models.v221 import (
    ActiveChargingProfile,
    ActiveChargingProfileResult,
    AdditionalGeoLocation,
    AllowedType,
    AuthMethod,
    AuthorizationInfoFields,
    CancelReservation,
    Capability,
    CdrDimension,
    CdrDimensionType,
    CDRFields,
    CdrLocationFields,
    CdrTokenFields,
    ChargingPeriod,
    ChargingPreferences,
    ChargingPreferencesResponse,
    ChargingProfile,
    ChargingProfilePeriod,
    ChargingProfileResponse,
    ChargingProfileResponseType,
    ChargingProfileResult,
    ChargingProfileResultType,
    ChargingRateUnit,
    ClearProfileResult,
    ClientInfoFields,
    CommandResponse,
    CommandResponseType,
    CommandResult,
    CommandResultType,
    CommandType,
    ConnectionStatus,
    ConnectorFields,
    ConnectorFormat,
    CredentialsFields,
    CredentialsRoleFields,
    DayOfWeek,
    DisplayText,
    EnergyContract,
    EnergyMixFields,
    EnergySource,
    EnergySourceCategory,
    EnvironmentalImpactCategory,
    EVSEFields,
    ExceptionalPeriod,
    Facility,
    GeoLocation,
    Hours,
    ImageCategory,
    ImageFields,
    InterfaceRole,
    LocationFields,
    LocationReferences,
    ParkingType,
    PowerType,
    PriceComponent,
    ProfileType,
    PublishTokenTypeFields,
    RegularHours,
    ReservationRestrictionType,
    ReserveNowFields,
    SessionFields,
    SessionStatus,
    SetChargingProfile,
    SignedData,
    SignedValue,
    StartSessionFields,
    Status,
    StatusSchedule,
    StopSession,
    TariffDimensionType,
    TariffElement,
    TariffFields,
    TariffRestrictions,
    TariffType,
    TokenFields,
    UnlockConnector,
    WhitelistType,
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
    "BusinessDetails",
    "CancelReservation",
    "Capability",
    "CdrDimension",
    "CdrDimensionType",
    "CdrLocation",
    "CdrToken",
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
    "CommandResponse",
    "CommandResponseType",
    "CommandResult",
    "CommandResultType",
    "CommandType",
    "ConnectionStatus",
    "Connector",
    "ConnectorCapability",
    "ConnectorFormat",
    "ConnectorType",
    "Credentials",
    "CredentialsRole",
    "DayOfWeek",
    "DisplayText",
    "EVSEParking",
    "EVSEPosition",
    "Endpoint",
    "EnergyContract",
    "EnergyMix",
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
    "InterfaceRole",
    "InvoiceReconciliationRecord",
    "Location",
    "LocationReferences",
    "ModuleID",
    "Open",
    "Parking",
    "ParkingDirection",
    "ParkingRestriction",
    "ParkingType",
    "PowerType",
    "Price",
    "PriceComponent",
    "PriceLimit",
    "ProfileType",
    "PublishTokenType",
    "RegularHours",
    "ReservationRestrictionType",
    "ReserveNow",
    "Role",
    "Session",
    "SessionStatus",
    "SetChargingProfile",
    "SignedData",
    "SignedValue",
    "StartSession",
    "Status",
    "StatusSchedule",
    "StopSession",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffRestrictions",
    "TariffType",
    "TaxAmount",
    "TaxIncluded",
    "Token",
    "TokenType",
    "UnlockConnector",
    "VehicleType",
    "Version",
    "VersionDetails",
    "VersionNumber",
    "WhitelistType",
]


class Open(OcpiModel):
    """Base of the classes 2.3.0 defines: undocumented fields are kept, never refused."""

    ocpi_open: ClassVar[bool] = True


# A value an OpenEnum does not list: any non-empty printable ASCII word. Members are tried first.
_Other = Annotated[CiString255, Field(min_length=1)]


# ============================================================================================
# Types
# ============================================================================================
class TaxAmount(Open):
    name: String
    account_number: String | None = None
    percentage: Number | None = Field(default=None, ge=0)
    amount: Number


class Price(Open):
    before_taxes: Number
    taxes: list[TaxAmount] | None = None


class Role(StrEnum):
    CPO = "CPO"
    EMSP = "EMSP"
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
    V2_3_0 = "2.3.0"


class ModuleID(StrEnum):
    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    INVOICE_RECONCILIATION = "invoicereconciliation"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


OpenVersionNumber = Annotated[VersionNumber | _Other, Field(union_mode="left_to_right")]
OpenModuleID = Annotated[ModuleID | _Other, Field(union_mode="left_to_right")]


class Version(Open):
    version: OpenVersionNumber
    url: URL


class Endpoint(Open):
    identifier: OpenModuleID
    role: InterfaceRole
    url: URL


class VersionDetails(Open):
    version: OpenVersionNumber
    endpoints: list[Endpoint] = Field(min_length=1)


# ============================================================================================
# Locations
# ============================================================================================
class ConnectorCapability(StrEnum):
    ISO_15118_2_PLUG_AND_CHARGE = "ISO_15118_2_PLUG_AND_CHARGE"
    ISO_15118_20_PLUG_AND_CHARGE = "ISO_15118_20_PLUG_AND_CHARGE"


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


class EVSEPosition(StrEnum):
    LEFT = "LEFT"
    RIGHT = "RIGHT"
    CENTER = "CENTER"


class ParkingDirection(StrEnum):
    PARALLEL = "PARALLEL"
    PERPENDICULAR = "PERPENDICULAR"
    ANGLE = "ANGLE"


class ParkingRestriction(StrEnum):
    CUSTOMERS = "CUSTOMERS"
    DISABLED = "DISABLED"
    EMPLOYEES = "EMPLOYEES"
    EV_ONLY = "EV_ONLY"
    MOTORCYCLES = "MOTORCYCLES"
    PLUGGED = "PLUGGED"
    TAXIS = "TAXIS"
    TENANTS = "TENANTS"


class VehicleType(StrEnum):
    MOTORCYCLE = "MOTORCYCLE"
    PERSONAL_VEHICLE = "PERSONAL_VEHICLE"
    PERSONAL_VEHICLE_WITH_TRAILER = "PERSONAL_VEHICLE_WITH_TRAILER"
    VAN = "VAN"
    SEMI_TRACTOR = "SEMI_TRACTOR"
    RIGID = "RIGID"
    TRUCK_WITH_TRAILER = "TRUCK_WITH_TRAILER"
    BUS = "BUS"
    DISABLED = "DISABLED"


# Capability, Facility, ImageCategory, EnvironmentalImpactCategory and ParkingType list the same
# values as in 2.2.1; 2.3.0 only opened them, so the enums are shared and the Open… types differ.
OpenCapability = Annotated[Capability | _Other, Field(union_mode="left_to_right")]
OpenConnectorCapability = Annotated[ConnectorCapability | _Other, Field(union_mode="left_to_right")]
OpenConnectorType = Annotated[ConnectorType | _Other, Field(union_mode="left_to_right")]
OpenEnvironmentalImpactCategory = Annotated[
    EnvironmentalImpactCategory | _Other, Field(union_mode="left_to_right")
]
OpenFacility = Annotated[Facility | _Other, Field(union_mode="left_to_right")]
OpenImageCategory = Annotated[ImageCategory | _Other, Field(union_mode="left_to_right")]
OpenParkingRestriction = Annotated[ParkingRestriction | _Other, Field(union_mode="left_to_right")]
OpenParkingType = Annotated[ParkingType | _Other, Field(union_mode="left_to_right")]
OpenVehicleType = Annotated[VehicleType | _Other, Field(union_mode="left_to_right")]


class Image(ImageFields, Open):
    category: OpenImageCategory


class BusinessDetails(Open):
    name: String100
    website: URL | None = None
    logo: Image | None = None


class EnvironmentalImpact(Open):
    category: OpenEnvironmentalImpactCategory
    amount: Number = Field(ge=0)


class EnergyMix(EnergyMixFields, Open):
    environ_impact: list[EnvironmentalImpact] | None = None


class Connector(ConnectorFields, Open):
    standard: OpenConnectorType
    capabilities: list[OpenConnectorCapability] | None = None


class EVSEParking(Open):
    parking_id: CiString36
    evse_position: EVSEPosition | None = None


class EVSE(EVSEFields, Open):
    capabilities: list[OpenCapability] | None = None
    connectors: list[Connector] = Field(min_length=1)
    parking_restrictions: list[OpenParkingRestriction] | None = None
    parking: list[EVSEParking] | None = None
    images: list[Image] | None = None
    accepted_service_providers: list[String50] | None = None


class Parking(Open):
    id: CiString36
    physical_reference: String12 | None = None
    vehicle_types: list[OpenVehicleType] = Field(min_length=1)
    max_vehicle_weight: Number | None = Field(default=None, ge=0)
    max_vehicle_height: Number | None = Field(default=None, ge=0)
    max_vehicle_length: Number | None = Field(default=None, ge=0)
    max_vehicle_width: Number | None = Field(default=None, ge=0)
    parking_space_length: Number | None = Field(default=None, ge=0)
    parking_space_width: Number | None = Field(default=None, ge=0)
    dangerous_goods_allowed: Bool | None = None
    direction: ParkingDirection | None = None
    drive_through: Bool | None = None
    restricted_to_type: Bool
    reservation_required: Bool
    time_limit: Number | None = Field(default=None, ge=0)
    roofed: Bool | None = None
    images: list[Image] | None = None
    lighting: Bool | None = None
    refrigeration_outlet: Bool | None = None
    standards: list[CiString36] | None = None
    apds_reference: CiString | None = None


class TokenType(StrEnum):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    EMAID = "EMAID"
    OTHER = "OTHER"
    RFID = "RFID"


OpenTokenType = Annotated[TokenType | _Other, Field(union_mode="left_to_right")]


class PublishTokenType(PublishTokenTypeFields, Open):
    type: OpenTokenType | None = None


class Location(LocationFields, Open):
    publish_allowed_to: list[PublishTokenType] | None = None
    parking_type: OpenParkingType | None = None
    evses: list[EVSE] | None = None
    parking_places: list[Parking] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[OpenFacility] | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    help_phone: CiString25 | None = None


# ============================================================================================
# Tariffs
# ============================================================================================
class TaxIncluded(StrEnum):
    YES = "YES"
    NO = "NO"
    NOT_APPLICABLE = "N/A"


class PriceLimit(Open):
    before_taxes: Number
    after_taxes: Number | None = None


class Tariff(TariffFields, Open):
    min_price: PriceLimit | None = None
    max_price: PriceLimit | None = None
    tax_included: TaxIncluded
    energy_mix: EnergyMix | None = None


# ============================================================================================
# Tokens
# ============================================================================================
class Token(TokenFields, Open):
    type: OpenTokenType


class AuthorizationInfo(AuthorizationInfoFields, Open):
    token: Token


# ============================================================================================
# Sessions, CDRs
# ============================================================================================
class CdrToken(CdrTokenFields, Open):
    type: OpenTokenType


class CdrLocation(CdrLocationFields, Open):
    connector_standard: OpenConnectorType


class Session(SessionFields, Open):
    cdr_token: CdrToken
    total_cost: Price | None = None


class CDR(CDRFields, Open):
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
class ReserveNow(ReserveNowFields, Open):
    token: Token


class StartSession(StartSessionFields, Open):
    token: Token


# ============================================================================================
# Hub client info, credentials
# ============================================================================================
class ClientInfo(ClientInfoFields, Open):
    role: Role


class CredentialsRole(CredentialsRoleFields, Open):
    role: Role
    business_details: BusinessDetails


class Credentials(CredentialsFields, Open):
    hub_party_id: CiString5 | None = None
    roles: list[CredentialsRole] = Field(min_length=1)


# ============================================================================================
# Invoice reconciliation
# ============================================================================================
class InvoiceReconciliationRecord(Open):
    country_code: CiString2
    party_id: CiString3
    id: CiString36
    invoice_id: CiString255
    cdrs: list[CiString36] = Field(min_length=1)
    last_updated: DateTime
