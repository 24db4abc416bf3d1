"""OCPP 1.6 adapter: real-shaped 1.6 payloads in, version-free events out, valid answers back."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from intercarga.domain.station import OcppVersion
from intercarga.errors import InvalidInputError
from intercarga.ocpp.adapter import adapter_for
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.events import (
    Acknowledgement,
    AuthorizationRequested,
    AuthorizationResult,
    AuthorizationStatus,
    BootDecision,
    BootReason,
    BootStatus,
    CertificateSigningRequested,
    ChargingState,
    ConnectorStatus,
    DataTransferDecision,
    DataTransferReceived,
    DataTransferStatus,
    DiagnosticsStatusChanged,
    FirmwareStatusChanged,
    Heartbeat,
    HeartbeatDecision,
    IdToken,
    MeterValuesReported,
    SecurityEventReported,
    SigningDecision,
    StationBooted,
    StatusChanged,
    StopReason,
    TransactionDecision,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from intercarga.ocpp.schemas import Validator
from intercarga.ocpp.v16 import V16Adapter, connector_id_of, evse_of
from tests.ocpp.examples import OCMF, V16, action_of

ADAPTER = adapter_for(OcppVersion.V16)
VALIDATOR = Validator(OcppVersion.V16)
NOW = datetime(2024, 3, 1, 12, 0, 30, tzinfo=UTC)
ACCEPTED = AuthorizationResult(AuthorizationStatus.ACCEPTED)


def event(name: str) -> Any:
    VALIDATOR.request(action_of(name), V16[name], strict=True)
    return ADAPTER.event(action_of(name), V16[name])


def answer(name: str, decision: Any = None) -> dict[str, Any]:
    payload = ADAPTER.response(ADAPTER.event(action_of(name), V16[name]), decision)
    VALIDATOR.response(action_of(name), payload, strict=True)
    return payload


def test_adapter_for_returns_one_shared_instance() -> None:
    assert isinstance(ADAPTER, V16Adapter)
    assert adapter_for(OcppVersion.V16) is ADAPTER


def test_connector_id_is_an_evse_with_one_connector() -> None:
    assert evse_of(3) == (3, 1)
    assert evse_of(0) == (0, 0)
    assert connector_id_of(3) == 3 and connector_id_of(3, 1) == 3
    assert connector_id_of(None) == 0
    with pytest.raises(InvalidInputError):
        connector_id_of(1, 2)


def test_boot() -> None:
    assert event("BootNotification") == StationBooted(
        vendor="ABB",
        model="Terra AC W22-T-R-0",
        reason=BootReason.UNKNOWN,
        serial_number="TACW2224321G0123",
        firmware_version="1.6.8",
        iccid="8956000000000000001",
        imsi="730010000000001",
        meter_type="ABB B23 312-100",
        meter_serial_number="7098712",
    )
    decision = BootDecision(BootStatus.PENDING, 60, NOW)
    assert answer("BootNotification", decision) == {
        "status": "Pending",
        "currentTime": "2024-03-01T12:00:30Z",
        "interval": 60,
    }


def test_heartbeat() -> None:
    assert event("Heartbeat") == Heartbeat()
    assert answer("Heartbeat", HeartbeatDecision(NOW)) == {"currentTime": "2024-03-01T12:00:30Z"}


def test_status_of_a_connector_and_of_the_station() -> None:
    assert event("StatusNotification") == StatusChanged(
        evse=1,
        connector=1,
        status=ConnectorStatus.OCCUPIED,
        timestamp=datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC),
        charging_state=ChargingState.CHARGING,
        info="",
    )
    faulted = event("StatusNotificationFaulted")
    assert (faulted.evse, faulted.connector, faulted.status) == (0, 0, ConnectorStatus.FAULTED)
    assert (faulted.error_code, faulted.vendor_error_code) == ("GroundFailure", "0x2A")
    assert answer("StatusNotification") == {}


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("Available", (ConnectorStatus.AVAILABLE, None)),
        ("Preparing", (ConnectorStatus.OCCUPIED, None)),
        ("SuspendedEV", (ConnectorStatus.OCCUPIED, ChargingState.SUSPENDED_EV)),
        ("SuspendedEVSE", (ConnectorStatus.OCCUPIED, ChargingState.SUSPENDED_EVSE)),
        ("Finishing", (ConnectorStatus.OCCUPIED, None)),
        ("Reserved", (ConnectorStatus.RESERVED, None)),
        ("Unavailable", (ConnectorStatus.UNAVAILABLE, None)),
    ],
)
def test_every_16_status_has_a_place(status: str, state: tuple[Any, Any]) -> None:
    changed = ADAPTER.event(
        "StatusNotification", {"connectorId": 2, "errorCode": "NoError", "status": status}
    )
    assert isinstance(changed, StatusChanged)
    assert (changed.status, changed.charging_state) == state


def test_unknown_status_from_a_lenient_station_is_a_property_violation() -> None:
    with pytest.raises(CallError) as caught:
        ADAPTER.event(
            "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Asleep"}
        )
    assert caught.value.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION


def test_authorize_answers_in_16_words() -> None:
    assert event("Authorize") == AuthorizationRequested(IdToken("04A2B3C4D5E680"))
    result = AuthorizationResult(
        AuthorizationStatus.ACCEPTED, group_id="FLEET-7", expiry=datetime(2024, 4, 1, tzinfo=UTC)
    )
    assert answer("Authorize", result) == {
        "idTagInfo": {
            "status": "Accepted",
            "expiryDate": "2024-04-01T00:00:00Z",
            "parentIdTag": "FLEET-7",
        }
    }
    # Statuses OCPP 2.x added are Invalid to a 1.6 station.
    no_credit = answer("Authorize", AuthorizationResult(AuthorizationStatus.NO_CREDIT))
    assert no_credit == {"idTagInfo": {"status": "Invalid"}}


def test_start_transaction_gets_its_id_from_the_csms() -> None:
    started = event("StartTransaction")
    assert isinstance(started, TransactionStarted)
    assert started.transaction_id is None
    assert (started.evse, started.connector) == (1, 1)
    assert started.id_token == IdToken("04A2B3C4D5E680")
    assert started.meter_start == Decimal(15423)
    assert started.reservation_id == 7
    [begin] = started.meter_values
    assert (begin.context, begin.value, begin.unit) == ("Transaction.Begin", Decimal(15423), "Wh")
    assert started.dedupe_key == (1, 1, "04A2B3C4D5E680", started.timestamp, Decimal(15423))

    decision = TransactionDecision(ACCEPTED, transaction_id="1042")
    assert answer("StartTransaction", decision) == {
        "transactionId": 1042,
        "idTagInfo": {"status": "Accepted"},
    }
    with pytest.raises(ValueError, match="integer transaction id"):
        ADAPTER.response(started, TransactionDecision(ACCEPTED))
    with pytest.raises(ValueError, match="authorization"):
        ADAPTER.response(started, TransactionDecision(transaction_id="7"))


def test_meter_values_of_a_transaction_are_an_update_in_base_units() -> None:
    update = event("MeterValues")
    assert isinstance(update, TransactionUpdated)
    assert update.transaction_id == "1042"
    assert (update.evse, update.connector) == (1, 1)
    readings = {(v.measurand, v.phase): (v.value, v.unit) for v in update.meter_values}
    assert readings == {
        ("Energy.Active.Import.Register", None): (Decimal("17263.000"), "Wh"),
        ("Power.Active.Import", None): (Decimal("7360.00"), "W"),
        ("Current.Import", "L1"): (Decimal("31.9"), "A"),
        ("Voltage", "L1-N"): (Decimal("229.8"), "V"),
        ("SoC", None): (Decimal(54), "Percent"),
        ("Temperature", None): (Decimal("31.5"), "Celsius"),
    }
    [signed] = update.signed_meter_values
    assert signed.signed_data == OCMF  # verbatim
    assert answer("MeterValues") == {}


def test_meter_values_outside_a_transaction() -> None:
    reported = event("MeterValuesIdle")
    assert isinstance(reported, MeterValuesReported)
    assert (reported.evse, reported.connector) == (2, 1)
    [reading] = reported.meter_values
    assert (reading.measurand, reading.value, reading.unit, reading.context) == (
        "Energy.Active.Import.Register",
        Decimal(88001),
        "Wh",
        "Sample.Clock",
    )


def test_a_non_numeric_sample_is_skipped_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    payload = {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": "2024-03-01T12:00:00Z",
                "sampledValue": [{"value": "n/a"}, {"value": "NaN"}, {"value": "12"}],
            }
        ],
    }
    reported = ADAPTER.event("MeterValues", payload)
    assert isinstance(reported, MeterValuesReported)
    assert [v.value for v in reported.meter_values] == [Decimal(12)]
    assert "n/a" in caplog.text


def test_stop_transaction() -> None:
    ended = event("StopTransaction")
    assert isinstance(ended, TransactionEnded)
    assert ended.transaction_id == "1042"
    assert ended.meter_stop == Decimal(19876)
    assert ended.stop_reason is StopReason.EV_DISCONNECTED
    assert ended.id_token == IdToken("04A2B3C4D5E680")
    # The station's own Transaction.End reading is not doubled by meterStop's.
    assert [(v.context, v.value) for v in ended.meter_values] == [
        ("Transaction.End", Decimal(19876))
    ]
    assert answer("StopTransaction") == {}
    assert answer("StopTransaction", TransactionDecision(ACCEPTED)) == {
        "idTagInfo": {"status": "Accepted"}
    }


def test_stop_of_an_unknown_transaction_is_still_an_event_to_acknowledge() -> None:
    ended = event("StopTransactionUnknown")
    assert isinstance(ended, TransactionEnded)
    assert ended.transaction_id == "999999"
    assert ended.stop_reason is StopReason.LOCAL  # 1.6 leaves out only "Local"
    assert ended.id_token is None
    assert [(v.context, v.value) for v in ended.meter_values] == [("Transaction.End", Decimal(500))]
    assert answer("StopTransactionUnknown", Acknowledgement()) == {}


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("HardReset", StopReason.IMMEDIATE_RESET),
        ("SoftReset", StopReason.SOFT_RESET),
        ("UnlockCommand", StopReason.UNLOCK_COMMAND),
    ],
)
def test_16_only_stop_reasons(reason: str, expected: StopReason) -> None:
    payload = {**V16["StopTransactionUnknown"], "reason": reason}
    ended = ADAPTER.event("StopTransaction", payload)
    assert isinstance(ended, TransactionEnded) and ended.stop_reason is expected


def test_notifications() -> None:
    assert event("FirmwareStatusNotification") == FirmwareStatusChanged("Installed")
    assert event("SignedFirmwareStatusNotification") == FirmwareStatusChanged(
        "InstallRebooting", 12
    )
    assert event("DiagnosticsStatusNotification") == DiagnosticsStatusChanged("UploadFailure")
    assert event("LogStatusNotification") == DiagnosticsStatusChanged("Uploading", 5)
    assert event("SecurityEventNotification") == SecurityEventReported(
        "InvalidCentralSystemCertificate",
        datetime(2024, 3, 1, 11, 59, tzinfo=UTC),
        "certificate expired",
    )
    for name in (
        "FirmwareStatusNotification",
        "SignedFirmwareStatusNotification",
        "DiagnosticsStatusNotification",
        "LogStatusNotification",
        "SecurityEventNotification",
    ):
        assert answer(name) == {}


def test_data_transfer_and_certificate_signing() -> None:
    assert event("DataTransfer") == DataTransferReceived("com.abb", "ChargerConfig", '{"mode":2}')
    decision = DataTransferDecision(DataTransferStatus.ACCEPTED, {"ok": True})
    assert answer("DataTransfer", decision) == {"status": "Accepted", "data": '{"ok": true}'}
    assert isinstance(event("SignCertificate"), CertificateSigningRequested)
    assert answer("SignCertificate", SigningDecision(accepted=False)) == {"status": "Rejected"}


def test_wrong_decision_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        ADAPTER.response(Heartbeat(), BootDecision(BootStatus.ACCEPTED, 1, NOW))
    with pytest.raises(TypeError):
        ADAPTER.response(Heartbeat(), None)


def test_csms_actions_are_not_events() -> None:
    with pytest.raises(CallError) as caught:
        ADAPTER.event("Reset", {"type": "Hard"})
    assert caught.value.code is ErrorCode.NOT_SUPPORTED
