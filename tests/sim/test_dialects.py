"""What the simulated station says and answers is valid OCPP in every version."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.schemas import Validator
from intercarga.sim.certificates import new_request
from intercarga.sim.clock import SimClock
from intercarga.sim.connector import ConnectorStatus
from intercarga.sim.dialects import (
    VENDOR_ID,
    MeterSample,
    SessionFacts,
    StationInfo,
    dialect_for,
    readings,
)
from intercarga.sim.station import SimulatedStation, StationConfig

VERSIONS = list(OcppVersion)
AT = datetime(2026, 11, 24, 12, 0, 0, 123000, tzinfo=UTC)
SAMPLE = MeterSample(AT, 123456.7, 10990.0, 11040.0, 15.9, 230.4, 3, 42.0)
DC_SAMPLE = MeterSample(AT, 5000.0, 48000.0, 50000.0, 120.0, 400.0, 0, 61.5)


def _valid_request(version: OcppVersion, action: str, payload: dict[str, Any]) -> None:
    Validator(version).request(action, payload, strict=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_everything_the_station_sends_is_valid(version: OcppVersion) -> None:
    dialect = dialect_for(version)
    transaction_id: str | int = 7 if version is OcppVersion.V16 else "b1c0c7e2-tx"
    facts = SessionFacts(1, "04A1B2C3D4E5F6", transaction_id, seq_no=3, remote_start_id=9)
    _valid_request(
        version,
        "BootNotification",
        dialect.boot_notification(StationInfo(serial_number="SN1"), "PowerUp"),
    )
    _valid_request(version, "Authorize", dialect.authorize("04A1B2C3D4E5F6"))
    for status in ConnectorStatus:
        _valid_request(version, "StatusNotification", dialect.status_notification(2, status, AT))
    for sample in (SAMPLE, DC_SAMPLE):
        for full in (False, True):
            _valid_request(version, "MeterValues", dialect.meter_values(1, sample, full=full))
            update = dialect.transaction_updated(facts, sample, "MeterValuePeriodic", full=full)
            assert update is not None
            _valid_request(version, *update)
    _valid_request(
        version, *dialect.transaction_started(facts, SAMPLE, "RemoteStart", offline=True)
    )
    for reason in ("Local", "Remote", "EVDisconnected", "ImmediateReset", "DeAuthorized"):
        _valid_request(version, *dialect.transaction_ended(facts, SAMPLE, reason))
    for action in dialect.triggerable - {
        "BootNotification",
        "Heartbeat",
        "MeterValues",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }:
        _valid_request(version, action, dialect.idle_notification(action))
    if "SignCertificate" in dialect.triggerable:
        csr = new_request("SIM-0001", "Intercarga").csr
        _valid_request(version, "SignCertificate", dialect.sign_certificate(csr))
    for kind, info in (("FirmwareUpdated", "x" * 300), ("InvalidFirmwareSigningCertificate", None)):
        _valid_request(version, "SecurityEventNotification", dialect.security_event(kind, AT, info))
    if version is OcppVersion.V16:
        for status in ("Downloading", "Downloaded", "SignatureVerified", "Installing", "Installed"):
            _valid_request(version, *dialect.firmware_status(status, 21))


def test_transaction_event_carries_seq_no_offline_and_the_token() -> None:
    dialect = dialect_for(OcppVersion.V201)
    facts = SessionFacts(2, "CARD", "tx-1", seq_no=0, remote_start_id=5)
    action, started = dialect.transaction_started(facts, SAMPLE, "RemoteStart", offline=True)
    assert action == "TransactionEvent"
    assert started["eventType"] == "Started"
    assert started["offline"] is True
    assert started["seqNo"] == 0
    assert started["evse"] == {"id": 2, "connectorId": 1}
    assert started["idToken"] == {"idToken": "CARD", "type": "ISO14443"}
    assert started["transactionInfo"]["remoteStartId"] == 5
    assert started["timestamp"] == "2026-11-24T12:00:00.123Z"
    _, ended = dialect.transaction_ended(facts, SAMPLE, "Remote")
    assert ended["triggerReason"] == "RemoteStop"
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"
    assert "offline" not in ended


def test_a_16_register_past_a_megawatt_hour_is_sent_with_every_digit() -> None:
    """``:g`` sent 1234567.8 Wh as "1.23457e+06": the register went back against meterStop."""
    dialect = dialect_for(OcppVersion.V16)
    sample = replace(SAMPLE, energy_wh=1234567.8)
    payload = dialect.meter_values(1, sample)
    values = [v["value"] for mv in payload["meterValue"] for v in mv["sampledValue"]]
    assert "1234567.8" in values
    assert not any("e" in value for value in values)
    payload = dialect.meter_values(1, replace(SAMPLE, energy_wh=2000000.0))
    assert "2000000" in [v["value"] for mv in payload["meterValue"] for v in mv["sampledValue"]]


def test_ten_sampled_values_in_the_full_set() -> None:
    for sample in (SAMPLE, DC_SAMPLE):
        values = readings(sample, full=True)
        assert len(values) == 10
        assert values[0].measurand == "Energy.Active.Import.Register"
    basic = {r.measurand for r in readings(SAMPLE)}
    assert basic == {
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Current.Import",
        "SoC",
    }


def _station(version: OcppVersion) -> SimulatedStation:
    return SimulatedStation(
        StationConfig("SIM-0001", "ws://127.0.0.1:1/ocpp", version, evses=2), SimClock(1000)
    )


def _answer(station: SimulatedStation, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    validator = Validator(station.config.version)
    validator.request(action, payload, strict=True)
    answer = station.answer(action, payload)
    validator.response(action, answer, strict=True)
    return answer


CALLS_16: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}, {"unknownKey": ["Nope"]}),
    ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}, {"status": "Accepted"}),
    ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "soon"}, {"status": "Rejected"}),
    ("ChangeConfiguration", {"key": "NumberOfConnectors", "value": "9"}, {"status": "Rejected"}),
    ("ChangeConfiguration", {"key": "Nope", "value": "1"}, {"status": "NotSupported"}),
    ("ClearCache", {}, {"status": "Accepted"}),
    ("DataTransfer", {"vendorId": "acme"}, {"status": "UnknownVendorId"}),
    (
        "DataTransfer",
        {"vendorId": VENDOR_ID, "data": "ping"},
        {"status": "Accepted", "data": "ping"},
    ),
    ("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"}, {"status": "Accepted"}),
    ("ChangeAvailability", {"connectorId": 9, "type": "Inoperative"}, {"status": "Rejected"}),
    ("UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
    ("UnlockConnector", {"connectorId": 5}, {"status": "NotSupported"}),
    ("RemoteStopTransaction", {"transactionId": 99}, {"status": "Rejected"}),
]

CALLS_201: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "Nope"}},
                {"component": {"name": "Nope"}, "variable": {"name": "Nope"}},
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeType": "Target",
                },
            ]
        },
        {
            "getVariableResult": [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeStatus": "Accepted",
                    "attributeValue": "300",
                },
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "Nope"},
                    "attributeStatus": "UnknownVariable",
                },
                {
                    "component": {"name": "Nope"},
                    "variable": {"name": "Nope"},
                    "attributeStatus": "UnknownComponent",
                },
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeType": "Target",
                    "attributeStatus": "NotSupportedAttributeType",
                },
            ]
        },
    ),
    (
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "SampledDataCtrlr"},
                    "variable": {"name": "TxUpdatedInterval"},
                    "attributeValue": "15",
                },
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeValue": "-3",
                },
            ]
        },
        {
            "setVariableResult": [
                {
                    "component": {"name": "SampledDataCtrlr"},
                    "variable": {"name": "TxUpdatedInterval"},
                    "attributeStatus": "Accepted",
                },
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeStatus": "Rejected",
                },
            ]
        },
    ),
    ("ClearCache", {}, {"status": "Accepted"}),
    (
        "ChangeAvailability",
        {"operationalStatus": "Inoperative", "evse": {"id": 2}},
        {"status": "Accepted"},
    ),
    ("UnlockConnector", {"evseId": 1, "connectorId": 1}, {"status": "Unlocked"}),
    ("UnlockConnector", {"evseId": 7, "connectorId": 1}, {"status": "UnknownConnector"}),
    ("RequestStopTransaction", {"transactionId": "nope"}, {"status": "Rejected"}),
    ("Reset", {"type": "OnIdle", "evseId": 1}, {"status": "Rejected"}),
    ("TriggerMessage", {"requestedMessage": "SignV2GCertificate"}, {"status": "NotImplemented"}),
    (
        "GetTransactionStatus",
        {"transactionId": "nope"},
        {"ongoingIndicator": False, "messagesInQueue": False},
    ),
]


@pytest.mark.parametrize(("action", "payload", "expected"), CALLS_16)
def test_answers_to_a_16_csms(
    action: str, payload: dict[str, Any], expected: dict[str, Any]
) -> None:
    answer = _answer(_station(OcppVersion.V16), action, payload)
    assert expected.items() <= answer.items()


@pytest.mark.parametrize("version", [OcppVersion.V201, OcppVersion.V21])
@pytest.mark.parametrize(("action", "payload", "expected"), CALLS_201)
def test_answers_to_a_2x_csms(
    version: OcppVersion, action: str, payload: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert _answer(_station(version), action, payload) == expected


def test_settings_changed_by_the_csms_are_kept() -> None:
    station = _station(OcppVersion.V16)
    _answer(station, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "15"})
    assert station.settings.integer("MeterValueSampleInterval") == 15
    listed = _answer(station, "GetConfiguration", {})["configurationKey"]
    assert {"key": "MeterValueSampleInterval", "readonly": False, "value": "15"} in listed
    assert station.connector_statuses() == {
        1: ConnectorStatus.AVAILABLE,
        2: ConnectorStatus.AVAILABLE,
    }


@pytest.mark.parametrize(
    ("version", "action", "payload"),
    [
        (
            OcppVersion.V16,
            "ReserveNow",
            {
                "connectorId": 1,
                "expiryDate": "2026-11-24T13:00:00Z",
                "idTag": "A",
                "reservationId": 1,
            },
        ),
        (OcppVersion.V201, "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}),
        (OcppVersion.V21, "GetTariffs", {"evseId": 1}),
    ],
)
def test_what_the_simulator_does_not_play_is_not_supported(
    version: OcppVersion, action: str, payload: dict[str, Any]
) -> None:
    with pytest.raises(CallError) as caught:
        _station(version).answer(action, payload)
    assert caught.value.code is ErrorCode.NOT_SUPPORTED


@pytest.mark.parametrize("version", VERSIONS)
def test_intercargas_own_csms_adapters_understand_every_message(version: OcppVersion) -> None:
    from intercarga.ocpp.adapter import adapter_for

    dialect, adapter = dialect_for(version), adapter_for(version)
    facts = SessionFacts(1, "TAG", 7 if version is OcppVersion.V16 else "tx-1", 2, 9)
    messages: list[tuple[str, dict[str, Any]]] = [
        ("BootNotification", dialect.boot_notification(StationInfo(), "PowerUp")),
        ("Authorize", dialect.authorize("TAG")),
        ("Heartbeat", {}),
        *(("StatusNotification", dialect.status_notification(1, s, AT)) for s in ConnectorStatus),
        dialect.transaction_started(facts, SAMPLE, "Authorized", offline=True),
        dialect.transaction_ended(facts, SAMPLE, "Local"),
    ]
    for sample in (SAMPLE, DC_SAMPLE):
        for full in (False, True):
            messages.append(("MeterValues", dialect.meter_values(1, sample, full=full)))
            update = dialect.transaction_updated(facts, sample, "MeterValuePeriodic", full=full)
            assert update is not None
            messages.append(update)
    for action, payload in messages:
        adapter.event(action, payload)  # raises CallError if the CSMS could not use it
