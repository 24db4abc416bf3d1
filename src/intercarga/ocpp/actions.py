"""Which OCPP actions exist in each version and who may send them.

The RPC core uses this to tell an unknown action (NotImplemented) from one that exists but is not
for us to receive (NotSupported), and to refuse sending an action the other side never accepts.
Directions follow each version's specification: OCPP 1.6 edition 2 chapter 6 plus the 1.6
Security Whitepaper edition 2, OCPP 2.0.1 part 2 and OCPP 2.1 part 2. A test checks that every
action here has its schemas in the ``ocpp`` package and that every schema there is listed here.
This module holds data only; it must never read files or validate payloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from intercarga.domain.station import OcppVersion

__all__ = [
    "CSMS_TO_STATION",
    "SEND_ACTIONS",
    "STATION_TO_CSMS",
    "Role",
    "known_actions",
    "receivable_actions",
    "sendable_actions",
]


class Role(StrEnum):
    """Which end of an OCPP-J connection a protocol object plays."""

    CSMS = "csms"
    STATION = "station"


_STATION_16: Final = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        # Security Whitepaper extension
        "LogStatusNotification",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
    }
)
_CSMS_16: Final = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
        # Security Whitepaper extension
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "SignedUpdateFirmware",
    }
)
_STATION_201: Final = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)
_CSMS_201: Final = frozenset(
    {
        "CancelReservation",
        "CertificateSigned",
        "ChangeAvailability",
        "ClearCache",
        "ClearChargingProfile",
        "ClearDisplayMessage",
        "ClearVariableMonitoring",
        "CostUpdated",
        "CustomerInformation",
        "DataTransfer",
        "DeleteCertificate",
        "GetBaseReport",
        "GetChargingProfiles",
        "GetCompositeSchedule",
        "GetDisplayMessages",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetLog",
        "GetMonitoringReport",
        "GetReport",
        "GetTransactionStatus",
        "GetVariables",
        "InstallCertificate",
        "PublishFirmware",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SetDisplayMessage",
        "SetMonitoringBase",
        "SetMonitoringLevel",
        "SetNetworkProfile",
        "SetVariableMonitoring",
        "SetVariables",
        "TriggerMessage",
        "UnlockConnector",
        "UnpublishFirmware",
        "UpdateFirmware",
    }
)
# OCPP 2.1 keeps every 2.0.1 message and adds these.
_STATION_21: Final = _STATION_201 | {
    "BatterySwap",
    "ClosePeriodicEventStream",
    "GetCertificateChainStatus",
    "NotifyDERAlarm",
    "NotifyDERStartStop",
    "NotifyPeriodicEventStream",
    "NotifyPriorityCharging",
    "NotifySettlement",
    "OpenPeriodicEventStream",
    "PullDynamicScheduleUpdate",
    "ReportDERControl",
    "VatNumberValidation",
}
_CSMS_21: Final = _CSMS_201 | {
    "AFRRSignal",
    "AdjustPeriodicEventStream",
    "ChangeTransactionTariff",
    "ClearDERControl",
    "ClearTariffs",
    "GetDERControl",
    "GetPeriodicEventStream",
    "GetTariffs",
    "NotifyAllowedEnergyTransfer",
    "NotifyWebPaymentStarted",
    "RequestBatterySwap",
    "SetDERControl",
    "SetDefaultTariff",
    "UpdateDynamicSchedule",
    "UsePriorityCharging",
}

STATION_TO_CSMS: Final[Mapping[OcppVersion, frozenset[str]]] = {
    OcppVersion.V16: _STATION_16,
    OcppVersion.V201: _STATION_201,
    OcppVersion.V21: _STATION_21,
}
"""Actions a charging station sends as CALL (or SEND) and a CSMS receives, per version."""

CSMS_TO_STATION: Final[Mapping[OcppVersion, frozenset[str]]] = {
    OcppVersion.V16: _CSMS_16,
    OcppVersion.V201: _CSMS_201,
    OcppVersion.V21: _CSMS_21,
}
"""Actions a CSMS sends as CALL and a charging station receives, per version."""

SEND_ACTIONS: Final[Mapping[OcppVersion, frozenset[str]]] = {
    OcppVersion.V16: frozenset(),
    OcppVersion.V201: frozenset(),
    OcppVersion.V21: frozenset({"NotifyPeriodicEventStream"}),
}
"""Actions sent as an unconfirmed SEND (OCPP 2.1 message type 6); they have no response."""


def known_actions(version: OcppVersion) -> frozenset[str]:
    """Every action ``version`` defines, in either direction."""
    return STATION_TO_CSMS[version] | CSMS_TO_STATION[version]


def receivable_actions(version: OcppVersion, role: Role) -> frozenset[str]:
    """The actions a peer may send to ``role``."""
    return STATION_TO_CSMS[version] if role is Role.CSMS else CSMS_TO_STATION[version]


def sendable_actions(version: OcppVersion, role: Role) -> frozenset[str]:
    """The actions ``role`` may send to its peer."""
    return CSMS_TO_STATION[version] if role is Role.CSMS else STATION_TO_CSMS[version]
