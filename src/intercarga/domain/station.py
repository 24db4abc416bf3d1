"""Station: a charging station as the CSMS knows it (OCPP identity, hardware, security)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from intercarga.domain._types import CountryAlpha2, DomainModel, PartyCode, UtcDateTime

__all__ = ["OcppVersion", "RegistrationStatus", "Station", "StationEvse"]


class OcppVersion(StrEnum):
    """The OCPP-J versions the CSMS speaks; values are the WebSocket subprotocol names."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"
    V21 = "ocpp2.1"


class RegistrationStatus(StrEnum):
    """Whether the CSMS lets the station operate; the answer its BootNotification gets.

    A Pending station may be provisioned (its configuration read and set) until an operator
    accepts it; a Rejected one may only boot again.
    """

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class StationEvse(DomainModel):
    """Which Location EVSE a station's OCPP EVSE number serves (OCPP 1.6 connectorId = EVSE)."""

    ocpp_evse_id: int = Field(ge=1)
    location_id: str
    evse_uid: str


class Station(DomainModel):
    """A charging station. ``password_hash`` is set by the store, never shown by any API."""

    id: str = Field(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9*\-_=:+|@.]+$")
    country_code: CountryAlpha2
    party_id: PartyCode
    vendor: str | None = Field(default=None, max_length=50)
    model: str | None = Field(default=None, max_length=50)
    serial_number: str | None = Field(default=None, max_length=25)
    firmware_version: str | None = Field(default=None, max_length=50)
    ocpp_version: OcppVersion | None = None
    security_profile: int = Field(default=1, ge=0, le=3)
    lenient: bool = Field(
        default=False,
        description="accept harmless schema violations (over-long strings, vendor enum values)"
        " from this station with a warning instead of a CALLERROR",
    )
    password_hash: str | None = None
    registration_status: RegistrationStatus = RegistrationStatus.ACCEPTED
    local_list_version: int | None = Field(
        default=None,
        ge=0,
        description="version of the local authorization list the station holds, when known",
    )
    firmware_status: str | None = Field(
        default=None, max_length=32, description="the last firmware update status it reported"
    )
    last_seen: UtcDateTime | None = None
    evses: list[StationEvse] = Field(default_factory=list)
