"""What a charging station tells the CSMS, and what the CSMS decides, free of any OCPP version.

The version adapters (:mod:`~intercarga.ocpp.v16`, :mod:`~intercarga.ocpp.v201`,
:mod:`~intercarga.ocpp.v21`) turn a validated station CALL into one of the :data:`StationEvent`
classes here and turn a decision (:class:`BootDecision`, :class:`AuthorizationResult`,
:class:`TransactionDecision`, …) back into that version's response payload. Downstream code sees
only these types: OCPP 1.6's connectorId is already an EVSE and connector, 1.6 and 2.x meter
values are already domain :class:`~intercarga.domain.session.MeterValue` objects normalised to
Wh / W / var / VA, and statuses use one vocabulary (2.0.1's, which is the richer one).

Everything here is a frozen value; this module must never parse payloads, do I/O or know which
version a fact came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from intercarga.domain.location import EVSEStatus
from intercarga.domain.session import MeterValue, SignedMeterValue

__all__ = [
    "Acknowledgement",
    "AuthorizationRequested",
    "AuthorizationResult",
    "AuthorizationStatus",
    "BootDecision",
    "BootReason",
    "BootStatus",
    "CertificateSigningRequested",
    "ChargingState",
    "ConnectorStatus",
    "DataTransferDecision",
    "DataTransferReceived",
    "DataTransferStatus",
    "Decision",
    "DiagnosticsStatusChanged",
    "FirmwareStatusChanged",
    "Heartbeat",
    "HeartbeatDecision",
    "IdToken",
    "MeterValuesReported",
    "OpaquePayload",
    "ReportReceived",
    "ReportedVariable",
    "ReservationStatusChanged",
    "SecurityEventReported",
    "SigningDecision",
    "StationBooted",
    "StationEvent",
    "StationMessage",
    "StatusChanged",
    "StopReason",
    "TransactionDecision",
    "TransactionEnded",
    "TransactionStarted",
    "TransactionUpdated",
    "evse_status",
]


# --- vocabularies -----------------------------------------------------------------------------


class ConnectorStatus(StrEnum):
    """Whether a connector can be used (OCPP 2.0.1 ConnectorStatusEnumType).

    OCPP 1.6's Preparing, Charging, SuspendedEV, SuspendedEVSE and Finishing are all Occupied;
    what the vehicle is doing is :class:`ChargingState`.
    """

    AVAILABLE = "Available"
    OCCUPIED = "Occupied"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class ChargingState(StrEnum):
    """What energy transfer is doing during a transaction (OCPP 2.0.1 ChargingStateEnumType)."""

    CHARGING = "Charging"
    EV_CONNECTED = "EVConnected"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    IDLE = "Idle"


class AuthorizationStatus(StrEnum):
    """The CSMS's verdict on an id token (OCPP 2.0.1 AuthorizationStatusEnumType)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    CONCURRENT_TX = "ConcurrentTx"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    NO_CREDIT = "NoCredit"
    NOT_ALLOWED_TYPE_EVSE = "NotAllowedTypeEVSE"
    NOT_AT_THIS_LOCATION = "NotAtThisLocation"
    NOT_AT_THIS_TIME = "NotAtThisTime"
    UNKNOWN = "Unknown"


class BootStatus(StrEnum):
    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class BootReason(StrEnum):
    """Why the station booted; OCPP 1.6 does not say, which is ``UNKNOWN``."""

    APPLICATION_RESET = "ApplicationReset"
    FIRMWARE_UPDATE = "FirmwareUpdate"
    LOCAL_RESET = "LocalReset"
    POWER_UP = "PowerUp"
    REMOTE_RESET = "RemoteReset"
    SCHEDULED_RESET = "ScheduledReset"
    TRIGGERED = "Triggered"
    UNKNOWN = "Unknown"
    WATCHDOG = "Watchdog"


class StopReason(StrEnum):
    """Why a transaction ended: OCPP 2.0.1 / 2.1 ReasonEnumType plus the two 1.6-only reasons.

    OCPP 1.6 HardReset is ImmediateReset here; SoftReset and UnlockCommand have no 2.x twin.
    """

    ABNORMAL_CONDITION = "AbnormalCondition"
    COST_LIMIT_REACHED = "CostLimitReached"
    DE_AUTHORIZED = "DeAuthorized"
    EMERGENCY_STOP = "EmergencyStop"
    ENERGY_LIMIT_REACHED = "EnergyLimitReached"
    EV_DISCONNECTED = "EVDisconnected"
    GROUND_FAULT = "GroundFault"
    IMMEDIATE_RESET = "ImmediateReset"
    LIMIT_SET = "LimitSet"
    LOCAL = "Local"
    LOCAL_OUT_OF_CREDIT = "LocalOutOfCredit"
    MASTER_PASS = "MasterPass"
    OTHER = "Other"
    OVERCURRENT_FAULT = "OvercurrentFault"
    POWER_LOSS = "PowerLoss"
    POWER_QUALITY = "PowerQuality"
    REBOOT = "Reboot"
    REMOTE = "Remote"
    REQ_ENERGY_TRANSFER_REJECTED = "ReqEnergyTransferRejected"
    SOC_LIMIT_REACHED = "SOCLimitReached"
    SOFT_RESET = "SoftReset"
    STOPPED_BY_EV = "StoppedByEV"
    TIME_LIMIT_REACHED = "TimeLimitReached"
    TIMEOUT = "Timeout"
    UNLOCK_COMMAND = "UnlockCommand"


class DataTransferStatus(StrEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_MESSAGE_ID = "UnknownMessageId"
    UNKNOWN_VENDOR_ID = "UnknownVendorId"


def evse_status(status: ConnectorStatus) -> EVSEStatus:
    """The OCPI EVSE status a connector status shows as."""
    return _EVSE_STATUS[status]


_EVSE_STATUS = {
    ConnectorStatus.AVAILABLE: EVSEStatus.AVAILABLE,
    ConnectorStatus.OCCUPIED: EVSEStatus.CHARGING,
    ConnectorStatus.RESERVED: EVSEStatus.RESERVED,
    ConnectorStatus.UNAVAILABLE: EVSEStatus.INOPERATIVE,
    ConnectorStatus.FAULTED: EVSEStatus.OUTOFORDER,
}


# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdToken:
    """What identifies a driver: an RFID uid, an eMAID, a key code, …

    ``type`` is the OCPP 2.x IdTokenType ("ISO14443", "eMAID", "Central", …); None when the
    station did not say (OCPP 1.6 idTag). Adapters pick a default type where a version needs one.
    """

    value: str
    type: str | None = None


# --- station events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StationBooted:
    """BootNotification: the station (re)started and introduces itself."""

    vendor: str
    model: str
    reason: BootReason = BootReason.UNKNOWN
    serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Heartbeat: the station is alive and wants the time."""


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """StatusNotification. ``evse`` 0 (and ``connector`` 0) is the whole station."""

    evse: int
    connector: int
    status: ConnectorStatus
    timestamp: datetime | None = None
    charging_state: ChargingState | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationRequested:
    """Authorize: may this token charge? Answer with an :class:`AuthorizationResult`."""

    id_token: IdToken
    evse_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class TransactionStarted:
    """A transaction began.

    ``transaction_id`` is None when the station expects the CSMS to assign one: the
    :class:`TransactionDecision` must then carry it (OCPP 1.6 uses an integer). ``seq_no`` and
    ``offline`` come from stations that number their transaction messages (OCPP 2.x);
    ``meter_start`` is the energy register in Wh when the station reported it.
    """

    evse: int | None
    connector: int | None
    timestamp: datetime
    transaction_id: str | None = None
    id_token: IdToken | None = None
    meter_start: Decimal | None = None
    reservation_id: int | None = None
    remote_start_id: int | None = None
    seq_no: int | None = None
    offline: bool = False
    trigger: str | None = None
    charging_state: ChargingState | None = None
    meter_values: tuple[MeterValue, ...] = ()
    signed_meter_values: tuple[SignedMeterValue, ...] = ()

    @property
    def dedupe_key(self) -> tuple[object, ...]:
        """Facts that identify a start repeated because its answer was lost (no id, no seqNo)."""
        token = self.id_token.value if self.id_token is not None else None
        return (self.evse, self.connector, token, self.timestamp, self.meter_start)


@dataclass(frozen=True, slots=True)
class TransactionUpdated:
    """Something happened during a transaction: meter values, charging state, authorization.

    ``remote_start_id`` is set when the CSMS's remote start authorized a transaction that had
    already begun (OCPP 2.x, cable plugged in first).
    """

    transaction_id: str
    timestamp: datetime
    evse: int | None = None
    connector: int | None = None
    id_token: IdToken | None = None
    remote_start_id: int | None = None
    seq_no: int | None = None
    offline: bool = False
    trigger: str | None = None
    charging_state: ChargingState | None = None
    meter_values: tuple[MeterValue, ...] = ()
    signed_meter_values: tuple[SignedMeterValue, ...] = ()


@dataclass(frozen=True, slots=True)
class TransactionEnded:
    """A transaction ended. ``meter_stop`` is the energy register in Wh when reported."""

    transaction_id: str
    timestamp: datetime
    evse: int | None = None
    connector: int | None = None
    id_token: IdToken | None = None
    meter_stop: Decimal | None = None
    stop_reason: StopReason | None = None
    seq_no: int | None = None
    offline: bool = False
    trigger: str | None = None
    charging_state: ChargingState | None = None
    meter_values: tuple[MeterValue, ...] = ()
    signed_meter_values: tuple[SignedMeterValue, ...] = ()


@dataclass(frozen=True, slots=True)
class MeterValuesReported:
    """Meter values outside any transaction (or of a transaction the station did not name)."""

    evse: int
    connector: int | None = None
    meter_values: tuple[MeterValue, ...] = ()
    signed_meter_values: tuple[SignedMeterValue, ...] = ()


@dataclass(frozen=True, slots=True)
class FirmwareStatusChanged:
    """Firmware update progress ("Downloading", "Installed", …, OCPP 2.0.1 names)."""

    status: str
    request_id: int | None = None


@dataclass(frozen=True, slots=True)
class DiagnosticsStatusChanged:
    """Log / diagnostics upload progress ("Uploading", "Uploaded", "UploadFailure", …)."""

    status: str
    request_id: int | None = None


@dataclass(frozen=True, slots=True)
class SecurityEventReported:
    type: str
    timestamp: datetime
    tech_info: str | None = None


@dataclass(frozen=True, slots=True)
class DataTransferReceived:
    """Vendor-specific data; answer with a :class:`DataTransferDecision`."""

    vendor_id: str
    message_id: str | None = None
    data: Any = None


@dataclass(frozen=True, slots=True)
class CertificateSigningRequested:
    """SignCertificate: the station sends a CSR; answer with a :class:`SigningDecision`."""

    csr: str
    certificate_type: str | None = None


@dataclass(frozen=True, slots=True)
class ReportedVariable:
    """One variable of a device model report (NotifyReport), with its attributes by type."""

    component: str
    variable: str
    values: tuple[tuple[str, str | None], ...]
    component_instance: str | None = None
    variable_instance: str | None = None
    evse: int | None = None
    connector: int | None = None
    mutability: str | None = None
    data_type: str | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class ReportReceived:
    """One part of a device model report; ``more_to_follow`` until the last part."""

    request_id: int
    generated_at: datetime
    seq_no: int
    more_to_follow: bool = False
    variables: tuple[ReportedVariable, ...] = ()


@dataclass(frozen=True, slots=True)
class ReservationStatusChanged:
    """A reservation ended without being used: "Expired" or "Removed"."""

    reservation_id: int
    status: str


class OpaquePayload:
    """The payload of a station message with no version-free model, as the OCPP side keeps it
    for the neutral answer it builds (2.1's VatNumberValidation echoes two fields). The CSMS
    side decides nothing on it and only logs it: it reads as JSON text, and offers no fields."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._fields = dict(fields)

    def for_answer(self) -> Mapping[str, Any]:
        """The fields, for the version adapter's answer only."""
        return self._fields

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpaquePayload) and other._fields == self._fields

    def __hash__(self) -> int:
        return hash(self.__repr__())

    def __repr__(self) -> str:
        return json.dumps(self._fields, separators=(",", ":"), ensure_ascii=False, default=str)

    def __deepcopy__(self, memo: dict[int, Any]) -> OpaquePayload:
        return self  # immutable as far as anyone outside the adapter can tell


@dataclass(frozen=True, slots=True)
class StationMessage:
    """A station message with no version-free model yet; acknowledged with a neutral answer.
    Its payload crosses the seam opaque (:class:`OpaquePayload`): nothing decides on it."""

    action: str
    payload: OpaquePayload = field(default_factory=lambda: OpaquePayload({}))


StationEvent = (
    StationBooted
    | Heartbeat
    | StatusChanged
    | AuthorizationRequested
    | TransactionStarted
    | TransactionUpdated
    | TransactionEnded
    | MeterValuesReported
    | FirmwareStatusChanged
    | DiagnosticsStatusChanged
    | SecurityEventReported
    | DataTransferReceived
    | CertificateSigningRequested
    | ReportReceived
    | ReservationStatusChanged
    | StationMessage
)


# --- decisions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BootDecision:
    """The answer to :class:`StationBooted`; ``interval`` is the heartbeat (or retry) interval."""

    status: BootStatus
    interval: int
    current_time: datetime
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class HeartbeatDecision:
    current_time: datetime


@dataclass(frozen=True, slots=True)
class AuthorizationResult:
    """What the CSMS says about a token; ``group_id`` is the parent / group id token value.

    ``real_time`` when the token's eMSP decided (OCPI real-time authorization), with the
    ``authorization_reference`` it gave, which the session and its CDR must carry."""

    status: AuthorizationStatus
    group_id: str | None = None
    expiry: datetime | None = None
    real_time: bool = False
    authorization_reference: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionDecision:
    """The answer to a transaction event.

    ``authorization`` is required when the event carried an id token (and for an OCPP 1.6
    start); ``transaction_id`` when :attr:`TransactionStarted.transaction_id` was None;
    ``total_cost`` is the running cost in the session's currency where the station shows it.
    """

    authorization: AuthorizationResult | None = None
    transaction_id: str | None = None
    total_cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DataTransferDecision:
    status: DataTransferStatus
    data: Any = None


@dataclass(frozen=True, slots=True)
class SigningDecision:
    """Whether a certificate signing request is accepted for signing."""

    accepted: bool


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The neutral answer: received, nothing to decide."""


Decision = (
    BootDecision
    | HeartbeatDecision
    | AuthorizationResult
    | TransactionDecision
    | DataTransferDecision
    | SigningDecision
    | Acknowledgement
)
