"""Version-free CSMS commands: the right action and a schema-valid payload per version, and the
station's answers read back into version-free results."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from intercarga.domain.station import OcppVersion
from intercarga.errors import InvalidInputError
from intercarga.ocpp.adapter import adapter_for
from intercarga.ocpp.commands import (
    COMMANDS,
    CancelReservation,
    CertificateHashData,
    CertificateSigned,
    CertificateUse,
    ChangeAvailability,
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    ClearCache,
    ClearChargingProfile,
    Command,
    CommandResult,
    CompositeSchedule,
    CompositeScheduleResult,
    CustomerInformation,
    DataTransfer,
    DataTransferResult,
    DeleteCertificate,
    DeviceVariable,
    GetBaseReport,
    GetCompositeSchedule,
    GetInstalledCertificateIds,
    GetLocalListVersion,
    GetLog,
    GetTransactionStatus,
    GetVariables,
    InstallCertificate,
    InstalledCertificate,
    InstalledCertificatesResult,
    LocalListEntry,
    LocalListVersionResult,
    LogKind,
    LogResult,
    NetworkProfile,
    OutgoingCall,
    RemoteStart,
    RemoteStartResult,
    RemoteStop,
    ReserveNow,
    Reset,
    ResetKind,
    SendLocalList,
    SetChargingProfile,
    SetNetworkProfile,
    SetVariables,
    TransactionStatusResult,
    TriggeredMessage,
    TriggerMessage,
    UnlockConnector,
    UpdateFirmware,
    VariableResult,
    VariablesResult,
)
from intercarga.ocpp.events import AuthorizationResult, AuthorizationStatus, IdToken
from intercarga.ocpp.schemas import Validator

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
CARD = IdToken("04A2B3C4D5E680")
WHEN = datetime(2024, 3, 1, 18, 0, tzinfo=UTC)
HEARTBEAT = DeviceVariable("OCPPCommCtrlr", "HeartbeatInterval")
SAMPLE_INTERVAL_16 = DeviceVariable(None, "MeterValueSampleInterval")
VENDOR_KEY = DeviceVariable(None, "ABB.LedBrightness")

TX_PROFILE = ChargingProfile(
    id=3,
    stack_level=1,
    purpose=ChargingProfilePurpose.TX,
    kind=ChargingProfileKind.RELATIVE,
    schedules=(
        ChargingSchedule(
            ChargingRateUnit.AMPERE,
            (
                ChargingSchedulePeriod(0, Decimal("16.0"), 3),
                ChargingSchedulePeriod(1800, Decimal("21.4")),
            ),
            duration=3600,
            min_rate=Decimal("6.0"),
        ),
    ),
)
MAX_PROFILE = ChargingProfile(
    id=1,
    stack_level=0,
    purpose=ChargingProfilePurpose.STATION_MAX,
    kind=ChargingProfileKind.ABSOLUTE,
    schedules=(
        ChargingSchedule(
            ChargingRateUnit.WATT, (ChargingSchedulePeriod(0, Decimal(22000)),), start=WHEN
        ),
    ),
    valid_from=WHEN,
)

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
HASH = CertificateHashData("a1" * 32, "b2" * 32, "1f2e3d")

ALL_COMMANDS: list[Command] = [
    RemoteStart(CARD, evse=1, remote_start_id=55, charging_profile=TX_PROFILE),
    RemoteStart(CARD),
    RemoteStop("1042"),
    Reset(ResetKind.IMMEDIATE),
    Reset(ResetKind.ON_IDLE, evse=1),
    UnlockConnector(2),
    ChangeAvailability(operative=False, evse=1),
    ChangeAvailability(operative=True),
    TriggerMessage(TriggeredMessage.STATUS_NOTIFICATION, evse=1, connector=1),
    TriggerMessage(TriggeredMessage.LOG_STATUS),
    TriggerMessage(TriggeredMessage.SIGN_STATION_CERTIFICATE),
    TriggerMessage(TriggeredMessage.TRANSACTION_EVENT, evse=1),
    GetVariables((HEARTBEAT, SAMPLE_INTERVAL_16)),
    GetVariables(),
    SetVariables(((HEARTBEAT, "300"), (SAMPLE_INTERVAL_16, "60"))),
    SetVariables(((VENDOR_KEY, "80"),)),
    GetBaseReport(3),
    ClearCache(),
    SendLocalList(
        2,
        (
            LocalListEntry(
                CARD, AuthorizationResult(AuthorizationStatus.ACCEPTED, "FLEET-7", WHEN)
            ),
            LocalListEntry(IdToken("DEADBEEF")),
        ),
        full=False,
    ),
    SendLocalList(3),
    GetLocalListVersion(),
    ReserveNow(7, WHEN, CARD, evse=1, group_id_token=IdToken("FLEET-7")),
    ReserveNow(8, WHEN, CARD),
    CancelReservation(7),
    SetChargingProfile(1, TX_PROFILE),
    SetChargingProfile(0, MAX_PROFILE),
    ClearChargingProfile(profile_id=3),
    ClearChargingProfile(evse=1, purpose=ChargingProfilePurpose.TX_DEFAULT, stack_level=0),
    GetCompositeSchedule(1, 3600, ChargingRateUnit.AMPERE),
    UpdateFirmware("https://fw.example.com/terra-1.7.0.bin", WHEN, retries=3, retry_interval=60),
    UpdateFirmware(
        "https://fw.example.com/terra-1.7.0.bin",
        WHEN,
        request_id=12,
        signing_certificate="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        signature="MEUCIQ==",
    ),
    GetLog("ftp://logs.example.com/", request_id=5, oldest=WHEN),
    GetLog("ftp://logs.example.com/", request_id=6, kind=LogKind.SECURITY),
    DataTransfer("com.abb", "LedBrightness", {"level": 80}),
    GetTransactionStatus("f3c1"),
    GetTransactionStatus(),
    SetNetworkProfile(1, NetworkProfile("wss://csms.example.com/ocpp", 2)),
    CustomerInformation(9, report=True, clear=False, id_token=CARD),
    CustomerInformation(10, report=True, clear=True, customer_identifier="OpenChargeAlliance"),
    InstallCertificate(CertificateUse.CSMS_ROOT, PEM),
    InstallCertificate(CertificateUse.V2G_ROOT, PEM),
    GetInstalledCertificateIds((CertificateUse.MANUFACTURER_ROOT,)),
    GetInstalledCertificateIds(),
    DeleteCertificate(HASH),
    CertificateSigned(PEM, "ChargingStationCertificate"),
]

# What each version cannot express, by index in ALL_COMMANDS.
UNSUPPORTED = {
    # reset of one EVSE, TransactionEvent trigger, transaction status, network
    # profile, customer information, a V2G root, certificates of every use at once
    V16: {4, 11, 34, 35, 36, 37, 38, 40, 42},
    V201: {13, 15},  # "read all" without names, a 1.6-only key without a component
    V21: {13, 15},
}


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_every_command_builds_schema_valid_calls_or_says_why_not(version: OcppVersion) -> None:
    adapter = adapter_for(version)
    validator = Validator(version)
    for index, command in enumerate(ALL_COMMANDS):
        if index in UNSUPPORTED[version]:
            with pytest.raises(InvalidInputError):
                adapter.command(command)
            continue
        calls = adapter.command(command)
        assert calls, command
        for call in calls:
            validator.request(call.action, call.payload, strict=True)


def test_command_names_are_the_admin_api_vocabulary() -> None:
    assert {type(command) for command in ALL_COMMANDS} == set(COMMANDS.values())
    assert COMMANDS["remote_start"] is RemoteStart
    assert COMMANDS["get_variables"] is GetVariables


def only(calls: tuple[OutgoingCall, ...]) -> tuple[str, dict[str, Any]]:
    [call] = calls
    return call.action, call.payload


def test_v16_command_payloads() -> None:
    adapter = adapter_for(V16)
    assert only(adapter.command(RemoteStart(CARD, evse=1))) == (
        "RemoteStartTransaction",
        {"connectorId": 1, "idTag": "04A2B3C4D5E680"},
    )
    assert only(adapter.command(RemoteStop("1042"))) == (
        "RemoteStopTransaction",
        {"transactionId": 1042},
    )
    with pytest.raises(InvalidInputError):
        adapter.command(RemoteStop("f3c1d2e4"))
    assert only(adapter.command(Reset(ResetKind.IMMEDIATE))) == ("Reset", {"type": "Hard"})
    assert only(adapter.command(Reset())) == ("Reset", {"type": "Soft"})
    assert only(adapter.command(ChangeAvailability(operative=True))) == (
        "ChangeAvailability",
        {"connectorId": 0, "type": "Operative"},
    )
    assert only(adapter.command(TriggerMessage(TriggeredMessage.LOG_STATUS))) == (
        "TriggerMessage",
        {"requestedMessage": "DiagnosticsStatusNotification"},
    )
    assert only(adapter.command(TriggerMessage(TriggeredMessage.SIGN_STATION_CERTIFICATE))) == (
        "ExtendedTriggerMessage",
        {"requestedMessage": "SignChargePointCertificate"},
    )
    assert only(adapter.command(GetVariables((HEARTBEAT, SAMPLE_INTERVAL_16)))) == (
        "GetConfiguration",
        {"key": ["HeartbeatInterval", "MeterValueSampleInterval"]},
    )
    assert only(adapter.command(GetVariables())) == ("GetConfiguration", {})
    # No device model in 1.6: a base report of any kind reads every configuration key.
    assert only(adapter.command(GetBaseReport(3))) == ("GetConfiguration", {})
    calls = adapter.command(SetVariables(((HEARTBEAT, "300"), (SAMPLE_INTERVAL_16, "60"))))
    assert [(c.action, c.payload) for c in calls] == [
        ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "300"}),
        ("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "60"}),
    ]
    action, payload = only(adapter.command(SetChargingProfile(0, MAX_PROFILE)))
    assert action == "SetChargingProfile"
    assert payload["csChargingProfiles"]["chargingProfilePurpose"] == "ChargePointMaxProfile"
    assert payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 22000}
    ]
    assert only(adapter.command(ALL_COMMANDS[29]))[0] == "UpdateFirmware"
    assert only(adapter.command(ALL_COMMANDS[30]))[0] == "SignedUpdateFirmware"
    assert only(adapter.command(ALL_COMMANDS[31]))[0] == "GetDiagnostics"
    assert only(adapter.command(ALL_COMMANDS[32]))[0] == "GetLog"
    assert only(adapter.command(DataTransfer("com.abb", None, {"level": 80}))) == (
        "DataTransfer",
        {"vendorId": "com.abb", "data": '{"level": 80}'},
    )
    two_schedules = ChargingProfile(
        1, 0, ChargingProfilePurpose.TX, ChargingProfileKind.RELATIVE, ()
    )
    with pytest.raises(InvalidInputError):
        adapter.command(SetChargingProfile(1, two_schedules))


@pytest.mark.parametrize("version", [V201, V21])
def test_v2_command_payloads(version: OcppVersion) -> None:
    adapter = adapter_for(version)
    assert only(adapter.command(RemoteStart(CARD, evse=1, remote_start_id=55))) == (
        "RequestStartTransaction",
        {
            "idToken": {"idToken": "04A2B3C4D5E680", "type": "Central"},
            "remoteStartId": 55,
            "evseId": 1,
        },
    )
    assert only(adapter.command(RemoteStop("f3c1"))) == (
        "RequestStopTransaction",
        {"transactionId": "f3c1"},
    )
    assert only(adapter.command(Reset(ResetKind.IMMEDIATE, evse=2))) == (
        "Reset",
        {"type": "Immediate", "evseId": 2},
    )
    assert only(adapter.command(ChangeAvailability(operative=False, evse=1, connector=1))) == (
        "ChangeAvailability",
        {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 1}},
    )
    assert only(adapter.command(GetVariables((HEARTBEAT, SAMPLE_INTERVAL_16)))) == (
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                # A 1.6 key with a 2.0.1 twin reaches the twin.
                {
                    "component": {"name": "SampledDataCtrlr"},
                    "variable": {"name": "TxUpdatedInterval"},
                },
            ]
        },
    )
    assert only(
        adapter.command(TriggerMessage(TriggeredMessage.STATUS_NOTIFICATION, evse=2, connector=1))
    ) == (
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "evse": {"id": 2, "connectorId": 1}},
    )
    # F06.FR.13 (2023-12 errata): a StatusNotification is asked of one connector, never less.
    for vague in (
        TriggerMessage(TriggeredMessage.STATUS_NOTIFICATION),
        TriggerMessage(TriggeredMessage.STATUS_NOTIFICATION, evse=2),
    ):
        with pytest.raises(InvalidInputError, match="per connector"):
            adapter.command(vague)
    action, payload = only(adapter.command(SendLocalList(2, (LocalListEntry(CARD),), full=False)))
    assert action == "SendLocalList"
    assert payload == {
        "versionNumber": 2,
        "updateType": "Differential",
        "localAuthorizationList": [{"idToken": {"idToken": "04A2B3C4D5E680", "type": "ISO14443"}}],
    }


# --- results ----------------------------------------------------------------------------------


def test_v16_results() -> None:
    adapter = adapter_for(V16)
    assert adapter.result(RemoteStart(CARD), [{"status": "Accepted"}]) == RemoteStartResult(
        "Accepted"
    )
    assert adapter.result(UnlockConnector(1), [{"status": "UnlockFailed"}]) == CommandResult(
        "UnlockFailed"
    )
    read = adapter.result(
        GetVariables((HEARTBEAT, SAMPLE_INTERVAL_16)),
        [
            {
                "configurationKey": [
                    {"key": "HeartbeatInterval", "readonly": False, "value": "300"}
                ],
                "unknownKey": ["MeterValueSampleInterval"],
            }
        ],
    )
    assert read == VariablesResult(
        (
            VariableResult(HEARTBEAT, "Accepted", "300", readonly=False),
            VariableResult(SAMPLE_INTERVAL_16, "UnknownVariable"),
        )
    )
    everything = adapter.result(
        GetVariables(),
        [{"configurationKey": [{"key": "NumberOfConnectors", "readonly": True, "value": "2"}]}],
    )
    assert isinstance(everything, VariablesResult)
    assert everything.results[0].variable == DeviceVariable(None, "NumberOfConnectors")
    report = adapter.result(
        GetBaseReport(3),
        [{"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]}],
    )
    assert report == VariablesResult((VariableResult(HEARTBEAT, "Accepted", "300", False),))
    changed = adapter.result(
        SetVariables(((HEARTBEAT, "300"), (VENDOR_KEY, "80"))),
        [{"status": "RebootRequired"}, {"status": "NotSupported"}],
    )
    assert changed == VariablesResult(
        (VariableResult(HEARTBEAT, "RebootRequired"), VariableResult(VENDOR_KEY, "UnknownVariable"))
    )
    assert adapter.result(GetLocalListVersion(), [{"listVersion": 4}]) == LocalListVersionResult(4)
    assert adapter.result(ALL_COMMANDS[29], [{}]) == CommandResult("Accepted")
    assert adapter.result(ALL_COMMANDS[30], [{"status": "InvalidCertificate"}]) == CommandResult(
        "InvalidCertificate"
    )
    assert adapter.result(ALL_COMMANDS[31], [{"fileName": "diag-20240301.zip"}]) == LogResult(
        "Accepted", filename="diag-20240301.zip"
    )
    assert adapter.result(ALL_COMMANDS[31], [{}]) == LogResult("Rejected", "NoDiagnosticsAvailable")
    assert adapter.result(
        ALL_COMMANDS[32], [{"status": "Accepted", "filename": "sec.log"}]
    ) == LogResult("Accepted", filename="sec.log")
    assert adapter.result(
        DataTransfer("com.abb"), [{"status": "Accepted", "data": "ok"}]
    ) == DataTransferResult("Accepted", data="ok")
    composite = adapter.result(
        GetCompositeSchedule(1, 3600),
        [
            {
                "status": "Accepted",
                "connectorId": 1,
                "scheduleStart": "2024-03-01T18:00:00Z",
                "chargingSchedule": {
                    "duration": 3600,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}
                    ],
                },
            }
        ],
    )
    assert composite == CompositeScheduleResult(
        "Accepted",
        schedule=CompositeSchedule(
            1, WHEN, 3600, ChargingRateUnit.AMPERE, (ChargingSchedulePeriod(0, Decimal("16.0"), 3),)
        ),
    )
    assert adapter.result(
        GetCompositeSchedule(1, 60), [{"status": "Rejected"}]
    ) == CompositeScheduleResult("Rejected")
    with pytest.raises(ValueError):
        adapter.result(ClearCache(), [])


def test_v16_security_extension_payloads_and_results() -> None:
    adapter = adapter_for(V16)
    assert only(adapter.command(ALL_COMMANDS[39])) == (
        "InstallCertificate",
        {"certificateType": "CentralSystemRootCertificate", "certificate": PEM},
    )
    assert only(adapter.command(ALL_COMMANDS[41])) == (
        "GetInstalledCertificateIds",
        {"certificateType": "ManufacturerRootCertificate"},
    )
    assert only(adapter.command(ALL_COMMANDS[44])) == (
        "CertificateSigned",
        {"certificateChain": PEM},
    )
    hashes = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "a1" * 32,
        "issuerKeyHash": "b2" * 32,
        "serialNumber": "1f2e3d",
    }
    assert only(adapter.command(DeleteCertificate(HASH))) == (
        "DeleteCertificate",
        {"certificateHashData": hashes},
    )
    assert adapter.result(
        ALL_COMMANDS[41], [{"status": "Accepted", "certificateHashData": [hashes]}]
    ) == InstalledCertificatesResult(
        "Accepted", (InstalledCertificate(CertificateUse.MANUFACTURER_ROOT, HASH),)
    )


@pytest.mark.parametrize("version", [V201, V21])
def test_v2_certificate_and_transaction_status_results(version: OcppVersion) -> None:
    adapter = adapter_for(version)
    hashes = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "a1" * 32,
        "issuerKeyHash": "b2" * 32,
        "serialNumber": "1f2e3d",
    }
    assert only(adapter.command(GetInstalledCertificateIds())) == ("GetInstalledCertificateIds", {})
    listed = adapter.result(
        GetInstalledCertificateIds(),
        [
            {
                "status": "Accepted",
                "certificateHashDataChain": [
                    {
                        "certificateType": "CSMSRootCertificate",
                        "certificateHashData": hashes,
                        "childCertificateHashData": [hashes],
                    }
                ],
            }
        ],
    )
    assert listed == InstalledCertificatesResult(
        "Accepted", (InstalledCertificate(CertificateUse.CSMS_ROOT, HASH, (HASH,)),)
    )
    assert adapter.result(
        GetInstalledCertificateIds(), [{"status": "NotFound"}]
    ) == InstalledCertificatesResult("NotFound")
    assert adapter.result(
        GetTransactionStatus("f3c1"), [{"messagesInQueue": True, "ongoingIndicator": False}]
    ) == TransactionStatusResult(True, False)
    assert adapter.result(
        GetTransactionStatus(), [{"messagesInQueue": False}]
    ) == TransactionStatusResult(False)
    assert only(adapter.command(ALL_COMMANDS[36])) == (
        "SetNetworkProfile",
        {
            "configurationSlot": 1,
            "connectionData": {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": "wss://csms.example.com/ocpp",
                "messageTimeout": 30,
                "securityProfile": 2,
                "ocppInterface": "Wired0",
            },
        },
    )
    assert only(adapter.command(ALL_COMMANDS[38])) == (
        "CustomerInformation",
        {
            "requestId": 10,
            "report": True,
            "clear": True,
            "customerIdentifier": "OpenChargeAlliance",
        },
    )


@pytest.mark.parametrize("version", [V201, V21])
def test_v2_results(version: OcppVersion) -> None:
    adapter = adapter_for(version)
    started = adapter.result(RemoteStart(CARD), [{"status": "Accepted", "transactionId": "f3c1"}])
    assert started == RemoteStartResult("Accepted", None, "f3c1")
    rejected = adapter.result(
        Reset(),
        [
            {
                "status": "Rejected",
                "statusInfo": {"reasonCode": "TxInProgress", "additionalInfo": "EVSE 1"},
            }
        ],
    )
    assert rejected == CommandResult("Rejected", "TxInProgress: EVSE 1")
    read = adapter.result(
        GetVariables((HEARTBEAT, SAMPLE_INTERVAL_16)),
        [
            {
                "getVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "attributeValue": "300",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    },
                    {
                        "attributeStatus": "UnknownVariable",
                        "component": {"name": "SampledDataCtrlr"},
                        "variable": {"name": "TxUpdatedInterval"},
                    },
                ]
            }
        ],
    )
    assert read == VariablesResult(
        (
            VariableResult(HEARTBEAT, "Accepted", "300"),
            VariableResult(SAMPLE_INTERVAL_16, "UnknownVariable"),
        )
    )
    assert adapter.result(GetLocalListVersion(), [{"versionNumber": 9}]) == LocalListVersionResult(
        9
    )
    composite = adapter.result(
        GetCompositeSchedule(1, 3600),
        [
            {
                "status": "Accepted",
                "schedule": {
                    "evseId": 1,
                    "duration": 3600,
                    "scheduleStart": "2024-03-01T18:00:00Z",
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
                },
            }
        ],
    )
    assert isinstance(composite, CompositeScheduleResult) and composite.schedule is not None
    assert composite.schedule.periods == (ChargingSchedulePeriod(0, Decimal(11000)),)
    assert adapter.result(
        ALL_COMMANDS[31], [{"status": "Accepted", "filename": "d.zip"}]
    ) == LogResult("Accepted", None, "d.zip")
    assert adapter.result(
        DataTransfer("x"), [{"status": "Rejected", "data": {"why": 1}}]
    ) == DataTransferResult("Rejected", None, {"why": 1})
