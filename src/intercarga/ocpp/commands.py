"""What the CSMS asks of a charging station, and what it answered, free of any OCPP version.

Each command is a frozen value; a version adapter turns it into the CALL (or, rarely, several
CALLs: OCPP 1.6 changes one configuration key per call) of its version with
``adapter.command(cmd)`` and reads the station's answers back into a result with
``adapter.result(cmd, answers)``. The admin API names commands by :attr:`COMMANDS` keys.

Statuses keep OCPP's own words (``"Accepted"``, ``"Rejected"``, ``"Unlocked"``, …), which the
versions share; where 1.6 and 2.x differ the adapter translates to the 2.x word. This module
must never build payloads or know which version a station speaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from intercarga.ocpp.events import AuthorizationResult, IdToken

__all__ = [
    "COMMANDS",
    "CancelReservation",
    "CertificateHashData",
    "CertificateSigned",
    "CertificateUse",
    "ChangeAvailability",
    "ChargingProfile",
    "ChargingProfileKind",
    "ChargingProfilePurpose",
    "ChargingRateUnit",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "ClearCache",
    "ClearChargingProfile",
    "Command",
    "CommandResult",
    "CompositeSchedule",
    "CompositeScheduleResult",
    "CustomerInformation",
    "DataTransfer",
    "DataTransferResult",
    "DeleteCertificate",
    "DeviceVariable",
    "GetBaseReport",
    "GetCompositeSchedule",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "GetTransactionStatus",
    "GetVariables",
    "InstallCertificate",
    "InstalledCertificate",
    "InstalledCertificatesResult",
    "LocalListEntry",
    "LocalListVersionResult",
    "LogKind",
    "LogResult",
    "NetworkProfile",
    "OutgoingCall",
    "RecurrencyKind",
    "RemoteStart",
    "RemoteStartResult",
    "RemoteStop",
    "ReportBase",
    "ReserveNow",
    "Reset",
    "ResetKind",
    "Result",
    "SendLocalList",
    "SetChargingProfile",
    "SetNetworkProfile",
    "SetVariables",
    "TransactionStatusResult",
    "TriggerMessage",
    "TriggeredMessage",
    "UnlockConnector",
    "UpdateFirmware",
    "VariableResult",
    "VariablesResult",
]


@dataclass(frozen=True, slots=True)
class OutgoingCall:
    """One CALL to send: feed it to :meth:`intercarga.ocpp.rpc.Protocol.send_call`."""

    action: str
    payload: dict[str, Any]


# --- vocabularies -----------------------------------------------------------------------------


class ResetKind(StrEnum):
    """IMMEDIATE is 1.6 Hard; ON_IDLE (after running transactions end) is 1.6 Soft."""

    IMMEDIATE = "Immediate"
    ON_IDLE = "OnIdle"


class TriggeredMessage(StrEnum):
    """Messages a station can be asked to send now."""

    BOOT_NOTIFICATION = "BootNotification"
    HEARTBEAT = "Heartbeat"
    STATUS_NOTIFICATION = "StatusNotification"
    METER_VALUES = "MeterValues"
    FIRMWARE_STATUS = "FirmwareStatusNotification"
    LOG_STATUS = "LogStatusNotification"
    SIGN_STATION_CERTIFICATE = "SignChargingStationCertificate"
    SIGN_V2G_CERTIFICATE = "SignV2GCertificate"
    TRANSACTION_EVENT = "TransactionEvent"
    PUBLISH_FIRMWARE_STATUS = "PublishFirmwareStatusNotification"


class ReportBase(StrEnum):
    CONFIGURATION_INVENTORY = "ConfigurationInventory"
    FULL_INVENTORY = "FullInventory"
    SUMMARY_INVENTORY = "SummaryInventory"


class LogKind(StrEnum):
    DIAGNOSTICS = "DiagnosticsLog"
    SECURITY = "SecurityLog"


class ChargingProfilePurpose(StrEnum):
    """STATION_MAX is 1.6 ChargePointMaxProfile."""

    STATION_MAX = "ChargingStationMaxProfile"
    STATION_EXTERNAL_CONSTRAINTS = "ChargingStationExternalConstraints"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class ChargingProfileKind(StrEnum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RecurrencyKind(StrEnum):
    DAILY = "Daily"
    WEEKLY = "Weekly"


class ChargingRateUnit(StrEnum):
    AMPERE = "A"
    WATT = "W"


class CertificateUse(StrEnum):
    """What a CA certificate on a station is for (OCPP 2.0.1 names; 1.6 knows the first two).

    CSMS_ROOT is 1.6's CentralSystemRootCertificate.
    """

    CSMS_ROOT = "CSMSRootCertificate"
    MANUFACTURER_ROOT = "ManufacturerRootCertificate"
    V2G_ROOT = "V2GRootCertificate"
    MO_ROOT = "MORootCertificate"
    V2G_CHAIN = "V2GCertificateChain"  # only reported, never installed


# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceVariable:
    """A configuration variable: a 2.x component + variable, or a 1.6 configuration key.

    For OCPP 1.6 the key is ``variable``; the well-known 1.6 keys are also reachable by their
    2.0.1 names (``DeviceVariable("OCPPCommCtrlr", "HeartbeatInterval")`` is 1.6
    ``HeartbeatInterval``). ``component`` None means "a 1.6 key with no 2.x twin".
    """

    component: str | None
    variable: str
    component_instance: str | None = None
    variable_instance: str | None = None
    evse: int | None = None
    connector: int | None = None
    attribute: str | None = None  # "Actual" (default), "Target", "MinSet", "MaxSet"


@dataclass(frozen=True, slots=True)
class LocalListEntry:
    """One token of a local authorization list; ``authorization`` None removes it (differential)."""

    id_token: IdToken
    authorization: AuthorizationResult | None = None


@dataclass(frozen=True, slots=True)
class ChargingSchedulePeriod:
    """From ``start`` seconds after the schedule start, at most ``limit`` (A or W)."""

    start: int
    limit: Decimal
    phases: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingSchedule:
    unit: ChargingRateUnit
    periods: tuple[ChargingSchedulePeriod, ...]
    id: int = 1
    start: datetime | None = None
    duration: int | None = None
    min_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """A smart-charging profile. OCPP 1.6 carries exactly one schedule."""

    id: int
    stack_level: int
    purpose: ChargingProfilePurpose
    kind: ChargingProfileKind
    schedules: tuple[ChargingSchedule, ...]
    recurrency: RecurrencyKind | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateHashData:
    """Identifies an installed certificate by hashes (OCSP's CertID: issuer name, issuer key)."""

    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    hash_algorithm: str = "SHA256"  # SHA256, SHA384 or SHA512


@dataclass(frozen=True, slots=True)
class InstalledCertificate:
    """A certificate a station holds, with the hashes of its chain's other certificates."""

    use: CertificateUse
    hash_data: CertificateHashData
    children: tuple[CertificateHashData, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkProfile:
    """How a station reaches a CSMS (OCPP 2.0.1 NetworkConnectionProfileType, without APN/VPN)."""

    url: str
    security_profile: int
    message_timeout: int = 30
    interface: str = "Wired0"  # Wired0-3, Wireless0-3
    ocpp_version: str = "OCPP20"
    transport: str = "JSON"


@dataclass(frozen=True, slots=True)
class CompositeSchedule:
    evse: int
    start: datetime | None
    duration: int | None
    unit: ChargingRateUnit
    periods: tuple[ChargingSchedulePeriod, ...]


# --- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemoteStart:
    """Start a transaction for ``id_token`` (on ``evse`` if given).

    ``remote_start_id`` lets 2.x stations name the transaction's start; 1.6 ignores it.
    """

    id_token: IdToken
    evse: int | None = None
    remote_start_id: int = 1
    charging_profile: ChargingProfile | None = None
    group_id_token: IdToken | None = None


@dataclass(frozen=True, slots=True)
class RemoteStop:
    transaction_id: str


@dataclass(frozen=True, slots=True)
class Reset:
    kind: ResetKind = ResetKind.ON_IDLE
    evse: int | None = None


@dataclass(frozen=True, slots=True)
class UnlockConnector:
    evse: int
    connector: int = 1


@dataclass(frozen=True, slots=True)
class ChangeAvailability:
    """Make the station (``evse`` None), an EVSE or a connector operative or inoperative."""

    operative: bool
    evse: int | None = None
    connector: int | None = None


@dataclass(frozen=True, slots=True)
class TriggerMessage:
    message: TriggeredMessage
    evse: int | None = None
    connector: int | None = None


@dataclass(frozen=True, slots=True)
class GetVariables:
    """Read variables; empty means all of them (OCPP 1.6 only: 2.x asks with GetBaseReport)."""

    variables: tuple[DeviceVariable, ...] = ()


@dataclass(frozen=True, slots=True)
class SetVariables:
    """Set variables to values; OCPP 1.6 sends one ChangeConfiguration per pair."""

    values: tuple[tuple[DeviceVariable, str], ...]


@dataclass(frozen=True, slots=True)
class GetBaseReport:
    """Ask for a device model report (answered by NotifyReport).

    OCPP 1.6 has no device model: it reads every configuration key (GetConfiguration without
    keys), whatever ``report``, and the result holds them (a :class:`VariablesResult`).
    """

    request_id: int
    report: ReportBase = ReportBase.FULL_INVENTORY


@dataclass(frozen=True, slots=True)
class ClearCache:
    pass


@dataclass(frozen=True, slots=True)
class SendLocalList:
    """Send the local authorization list; ``version`` None is one above what the station holds."""

    version: int | None = None
    entries: tuple[LocalListEntry, ...] = ()
    full: bool = True


@dataclass(frozen=True, slots=True)
class GetLocalListVersion:
    pass


@dataclass(frozen=True, slots=True)
class ReserveNow:
    """Reserve ``evse`` (any EVSE if None) for ``id_token`` until ``expiry``."""

    reservation_id: int
    expiry: datetime
    id_token: IdToken
    evse: int | None = None
    group_id_token: IdToken | None = None
    connector_type: str | None = None


@dataclass(frozen=True, slots=True)
class CancelReservation:
    reservation_id: int


@dataclass(frozen=True, slots=True)
class SetChargingProfile:
    """Install ``profile`` on ``evse`` (0: the whole station)."""

    evse: int
    profile: ChargingProfile


@dataclass(frozen=True, slots=True)
class ClearChargingProfile:
    profile_id: int | None = None
    evse: int | None = None
    purpose: ChargingProfilePurpose | None = None
    stack_level: int | None = None


@dataclass(frozen=True, slots=True)
class GetCompositeSchedule:
    evse: int
    duration: int
    unit: ChargingRateUnit | None = None


@dataclass(frozen=True, slots=True)
class UpdateFirmware:
    """Download firmware from ``location``; with a signature it is a signed update."""

    location: str
    retrieve_at: datetime
    request_id: int = 1
    install_at: datetime | None = None
    retries: int | None = None
    retry_interval: int | None = None
    signing_certificate: str | None = None
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class GetLog:
    """Upload a log to ``location`` (1.6 diagnostics logs go through GetDiagnostics)."""

    location: str
    request_id: int = 1
    kind: LogKind = LogKind.DIAGNOSTICS
    oldest: datetime | None = None
    latest: datetime | None = None
    retries: int | None = None
    retry_interval: int | None = None


@dataclass(frozen=True, slots=True)
class DataTransfer:
    vendor_id: str
    message_id: str | None = None
    data: Any = None


@dataclass(frozen=True, slots=True)
class GetTransactionStatus:
    """Whether a transaction is ongoing and messages wait in the station's queue (None: any)."""

    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class SetNetworkProfile:
    """Store a connection profile in the station's configuration ``slot``."""

    slot: int
    profile: NetworkProfile


@dataclass(frozen=True, slots=True)
class CustomerInformation:
    """Report (and/or clear) what the station holds about one customer.

    The customer is named by ``id_token``, ``customer_identifier`` or ``customer_certificate``;
    reports arrive as NotifyCustomerInformation messages with ``request_id``.
    """

    request_id: int
    report: bool
    clear: bool
    id_token: IdToken | None = None
    customer_identifier: str | None = None
    customer_certificate: CertificateHashData | None = None


@dataclass(frozen=True, slots=True)
class InstallCertificate:
    """Install a CA certificate (PEM) on the station."""

    use: CertificateUse
    certificate: str


@dataclass(frozen=True, slots=True)
class GetInstalledCertificateIds:
    """List the station's CA certificates of these uses (none: all; OCPP 1.6 needs exactly one)."""

    uses: tuple[CertificateUse, ...] = ()


@dataclass(frozen=True, slots=True)
class DeleteCertificate:
    hash_data: CertificateHashData


@dataclass(frozen=True, slots=True)
class CertificateSigned:
    """Hand the station its signed certificate chain (PEM, leaf first).

    ``certificate_type`` is ChargingStationCertificate or V2GCertificate (2.x only).
    """

    certificate_chain: str
    certificate_type: str | None = None


Command = (
    RemoteStart
    | RemoteStop
    | Reset
    | UnlockConnector
    | ChangeAvailability
    | TriggerMessage
    | GetVariables
    | SetVariables
    | GetBaseReport
    | ClearCache
    | SendLocalList
    | GetLocalListVersion
    | ReserveNow
    | CancelReservation
    | SetChargingProfile
    | ClearChargingProfile
    | GetCompositeSchedule
    | UpdateFirmware
    | GetLog
    | DataTransfer
    | GetTransactionStatus
    | SetNetworkProfile
    | CustomerInformation
    | InstallCertificate
    | GetInstalledCertificateIds
    | DeleteCertificate
    | CertificateSigned
)

COMMANDS: Final[dict[str, type[Command]]] = {
    "remote_start": RemoteStart,
    "remote_stop": RemoteStop,
    "reset": Reset,
    "unlock_connector": UnlockConnector,
    "change_availability": ChangeAvailability,
    "trigger_message": TriggerMessage,
    "get_variables": GetVariables,
    "set_variables": SetVariables,
    "get_base_report": GetBaseReport,
    "clear_cache": ClearCache,
    "send_local_list": SendLocalList,
    "get_local_list_version": GetLocalListVersion,
    "reserve_now": ReserveNow,
    "cancel_reservation": CancelReservation,
    "set_charging_profile": SetChargingProfile,
    "clear_charging_profile": ClearChargingProfile,
    "get_composite_schedule": GetCompositeSchedule,
    "update_firmware": UpdateFirmware,
    "get_log": GetLog,
    "data_transfer": DataTransfer,
    "get_transaction_status": GetTransactionStatus,
    "set_network_profile": SetNetworkProfile,
    "customer_information": CustomerInformation,
    "install_certificate": InstallCertificate,
    "get_installed_certificate_ids": GetInstalledCertificateIds,
    "delete_certificate": DeleteCertificate,
    "certificate_signed": CertificateSigned,
}
"""Version-free command names (as in ``POST /api/v1/stations/{id}/commands/{name}``)."""


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The station's answer: its status word and, when given, its reason."""

    status: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteStartResult:
    status: str
    reason: str | None = None
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class VariableResult:
    """One variable's outcome: "Accepted" (with ``value`` for a read), "UnknownVariable", …"""

    variable: DeviceVariable
    status: str
    value: str | None = None
    readonly: bool | None = None


@dataclass(frozen=True, slots=True)
class VariablesResult:
    results: tuple[VariableResult, ...]
    status: str = "Accepted"


@dataclass(frozen=True, slots=True)
class LocalListVersionResult:
    version: int
    status: str = "Accepted"


@dataclass(frozen=True, slots=True)
class CompositeScheduleResult:
    status: str
    reason: str | None = None
    schedule: CompositeSchedule | None = None


@dataclass(frozen=True, slots=True)
class DataTransferResult:
    status: str
    reason: str | None = None
    data: Any = None


@dataclass(frozen=True, slots=True)
class LogResult:
    status: str
    reason: str | None = None
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionStatusResult:
    """``ongoing`` is None when no transaction was named."""

    messages_in_queue: bool
    ongoing: bool | None = None


@dataclass(frozen=True, slots=True)
class InstalledCertificatesResult:
    status: str
    certificates: tuple[InstalledCertificate, ...] = ()
    reason: str | None = None


Result = (
    CommandResult
    | RemoteStartResult
    | VariablesResult
    | LocalListVersionResult
    | CompositeScheduleResult
    | DataTransferResult
    | LogResult
    | TransactionStatusResult
    | InstalledCertificatesResult
)
