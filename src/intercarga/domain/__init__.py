"""The one shared language of Intercarga: locations, stations, tokens, sessions, tariffs, CDRs.

Every layer speaks these types; protocol versions are adapters at the edges. This package must
never do I/O, import a protocol package, or know which OCPP or OCPI version a fact came from.
"""

from intercarga.domain.cdr import Cdr, CdrLocation, CdrToken
from intercarga.domain.location import (
    EVSE,
    Capability,
    Connector,
    ConnectorFormat,
    ConnectorStandard,
    EVSEStatus,
    GeoLocation,
    Hours,
    Location,
    ParkingType,
    PowerType,
    RegularHours,
)
from intercarga.domain.money import Currency, Money, currency
from intercarga.domain.party import Party, Role
from intercarga.domain.session import (
    AuthMethod,
    CdrDimension,
    CdrDimensionType,
    ChargingPeriod,
    MeterValue,
    Session,
    SessionStatus,
)
from intercarga.domain.station import OcppVersion, RegistrationStatus, Station, StationEvse
from intercarga.domain.tariff import (
    DayOfWeek,
    DisplayText,
    PriceComponent,
    Tariff,
    TariffDimension,
    TariffElement,
    TariffRestrictions,
    TariffType,
    Tax,
    TaxAmount,
    TaxIncluded,
)
from intercarga.domain.token import Token, TokenType, Whitelist

__all__ = [
    "EVSE",
    "AuthMethod",
    "Capability",
    "Cdr",
    "CdrDimension",
    "CdrDimensionType",
    "CdrLocation",
    "CdrToken",
    "ChargingPeriod",
    "Connector",
    "ConnectorFormat",
    "ConnectorStandard",
    "Currency",
    "DayOfWeek",
    "DisplayText",
    "EVSEStatus",
    "GeoLocation",
    "Hours",
    "Location",
    "MeterValue",
    "Money",
    "OcppVersion",
    "ParkingType",
    "Party",
    "PowerType",
    "PriceComponent",
    "RegistrationStatus",
    "RegularHours",
    "Role",
    "Session",
    "SessionStatus",
    "Station",
    "StationEvse",
    "Tariff",
    "TariffDimension",
    "TariffElement",
    "TariffRestrictions",
    "TariffType",
    "Tax",
    "TaxAmount",
    "TaxIncluded",
    "Token",
    "TokenType",
    "Whitelist",
    "currency",
]
