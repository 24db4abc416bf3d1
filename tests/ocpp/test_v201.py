"""OCPP 2.0.1 and 2.1 adapters: real-shaped payloads in, version-free events out, valid answers back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.actions import STATION_TO_CSMS
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
    OpaquePayload,
    ReportReceived,
    ReservationStatusChanged,
    SecurityEventReported,
    SigningDecision,
    StationBooted,
    StationMessage,
    StatusChanged,
    StopReason,
    TransactionDecision,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
    evse_status,
)
from intercarga.ocpp.schemas import Validator
from tests.ocpp.examples import OCMF, V21, V201, action_of

VERSIONS = [OcppVersion.V201, OcppVersion.V21]
EXAMPLES = {OcppVersion.V201: V201, OcppVersion.V21: V21}
NOW = datetime(2024, 3, 1, 12, 0, 30, tzinfo=UTC)
TX = "f3c1d2e4-7a1b-4c2d-9e8f-000000001042"
CARD = IdToken("04A2B3C4D5E680", "ISO14443")


@pytest.fixture(params=VERSIONS, ids=["2.0.1", "2.1"])
def version(request: pytest.FixtureRequest) -> OcppVersion:
    value: OcppVersion = request.param
    return value


def event(version: OcppVersion, name: str) -> Any:
    payload = EXAMPLES[version][name]
    Validator(version).request(action_of(name), payload, strict=True)
    return adapter_for(version).event(action_of(name), payload)


def answer(version: OcppVersion, name: str, decision: Any = None) -> dict[str, Any]:
    adapter = adapter_for(version)
    payload = adapter.response(adapter.event(action_of(name), EXAMPLES[version][name]), decision)
    Validator(version).response(action_of(name), payload, strict=True)
    return payload


def test_boot(version: OcppVersion) -> None:
    assert event(version, "BootNotification") == StationBooted(
        vendor="Wall Box Chargers",
        model="Wallbox Commander 2",
        reason=BootReason.POWER_UP,
        serial_number="CMX2-0012345",
        firmware_version="6.4.12",
        iccid="8957000000000000002",
        imsi="732101000000002",
    )
    decision = BootDecision(BootStatus.REJECTED, 300, NOW, reason="UnknownStation")
    assert answer(version, "BootNotification", decision) == {
        "currentTime": "2024-03-01T12:00:30Z",
        "interval": 300,
        "status": "Rejected",
        "statusInfo": {"reasonCode": "UnknownStation"},
    }


def test_heartbeat_status_and_authorize(version: OcppVersion) -> None:
    assert event(version, "Heartbeat") == Heartbeat()
    assert answer(version, "Heartbeat", HeartbeatDecision(NOW)) == {
        "currentTime": "2024-03-01T12:00:30Z"
    }
    status = event(version, "StatusNotification")
    assert status == StatusChanged(
        evse=1,
        connector=1,
        status=ConnectorStatus.OCCUPIED,
        timestamp=datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC),
    )
    assert evse_status(status.status).value == "CHARGING"
    assert answer(version, "StatusNotification") == {}

    authorize = event(version, "Authorize")
    assert isinstance(authorize, AuthorizationRequested)
    assert authorize.id_token == (
        CARD if version is OcppVersion.V201 else IdToken("DE*ICE*C12345678*9", "eMAID")
    )
    result = AuthorizationResult(
        AuthorizationStatus.NOT_AT_THIS_TIME,
        group_id="FLEET-7",
        expiry=datetime(2024, 4, 1, tzinfo=UTC),
    )
    assert answer(version, "Authorize", result) == {
        "idTokenInfo": {
            "status": "NotAtThisTime",
            "cacheExpiryDateTime": "2024-04-01T00:00:00Z",
            "groupIdToken": {"idToken": "FLEET-7", "type": "Central"},
        }
    }


def test_transaction_started(version: OcppVersion) -> None:
    started = event(version, "TransactionEventStarted")
    assert isinstance(started, TransactionStarted)
    assert started.transaction_id == TX
    assert (started.evse, started.connector, started.seq_no, started.offline) == (1, 1, 0, False)
    assert started.id_token == CARD
    assert started.meter_start == Decimal(15423)
    assert (started.reservation_id, started.remote_start_id) == (7, 55)
    assert started.charging_state is ChargingState.EV_CONNECTED
    assert started.trigger == "Authorized"
    decision = TransactionDecision(
        AuthorizationResult(AuthorizationStatus.ACCEPTED), total_cost=Decimal("0.00")
    )
    assert answer(version, "TransactionEventStarted", decision) == {
        "idTokenInfo": {"status": "Accepted"},
        "totalCost": 0,
    }
    with pytest.raises(ValueError, match="id token"):
        adapter_for(version).response(started, None)


def test_transaction_updated_offline_with_signed_values(version: OcppVersion) -> None:
    updated = event(version, "TransactionEventUpdated")
    assert isinstance(updated, TransactionUpdated)
    assert (updated.transaction_id, updated.seq_no, updated.offline) == (TX, 1, True)
    assert updated.charging_state is ChargingState.CHARGING
    readings = {v.measurand: (v.value, v.unit) for v in updated.meter_values}
    assert readings == {
        "Energy.Active.Import.Register": (Decimal("17263.000"), "Wh"),
        "Power.Active.Import": (Decimal(7360), "W"),
        "Power.Offered": (Decimal("7360"), "W"),  # 7.36 x 10^3 W
        "Current.Import": (Decimal("31.9"), "A"),
        "SoC": (Decimal(54), "Percent"),
    }
    [signed] = updated.signed_meter_values
    assert signed.signed_data == OCMF
    assert (signed.signing_method, signed.encoding_method) == ("ECDSA-secp256r1-SHA256", "OCMF")
    assert answer(version, "TransactionEventUpdated") == {}
    assert answer(version, "TransactionEventUpdated", Acknowledgement()) == {}


def test_transaction_ended(version: OcppVersion) -> None:
    ended = event(version, "TransactionEventEnded")
    assert isinstance(ended, TransactionEnded)
    assert (ended.transaction_id, ended.seq_no) == (TX, 2)
    assert ended.stop_reason is StopReason.EV_DISCONNECTED
    assert ended.meter_stop == Decimal(19876)  # the Transaction.End register, not the 12:30 one
    assert [v.value for v in ended.meter_values] == [Decimal("18900.0"), Decimal(19876)]
    decision = TransactionDecision(AuthorizationResult(AuthorizationStatus.ACCEPTED))
    assert answer(version, "TransactionEventEnded", decision) == {
        "idTokenInfo": {"status": "Accepted"}
    }


def test_ended_without_reason_is_local(version: OcppVersion) -> None:
    payload = {**EXAMPLES[version]["TransactionEventEnded"]}
    payload["transactionInfo"] = {"transactionId": "x1"}
    ended = adapter_for(version).event("TransactionEvent", payload)
    assert isinstance(ended, TransactionEnded) and ended.stop_reason is StopReason.LOCAL


def test_meter_values_and_notifications(version: OcppVersion) -> None:
    reported = event(version, "MeterValues")
    assert isinstance(reported, MeterValuesReported)
    assert reported.evse == 2 and reported.meter_values[0].value == Decimal(88001)
    assert event(version, "FirmwareStatusNotification") == FirmwareStatusChanged("Downloading", 12)
    assert event(version, "LogStatusNotification") == DiagnosticsStatusChanged("Uploaded", 5)
    assert event(version, "SecurityEventNotification") == SecurityEventReported(
        "FirmwareUpdated", datetime(2024, 3, 1, 11, 59, tzinfo=UTC), "6.4.12"
    )
    assert event(version, "ReservationStatusUpdate") == ReservationStatusChanged(7, "Expired")
    for name in (
        "MeterValues",
        "FirmwareStatusNotification",
        "LogStatusNotification",
        "SecurityEventNotification",
        "ReservationStatusUpdate",
        "NotifyReport",
    ):
        assert answer(version, name) == {}


def test_notify_report(version: OcppVersion) -> None:
    report = event(version, "NotifyReport")
    assert isinstance(report, ReportReceived)
    assert (report.request_id, report.seq_no, report.more_to_follow) == (3, 0, True)
    heartbeat, connector = report.variables
    assert (heartbeat.component, heartbeat.variable, heartbeat.values) == (
        "OCPPCommCtrlr",
        "HeartbeatInterval",
        (("Actual", "300"),),
    )
    assert (heartbeat.data_type, heartbeat.unit, heartbeat.mutability) == (
        "integer",
        "s",
        "ReadWrite",
    )
    assert (connector.evse, connector.connector, connector.values) == (
        1,
        1,
        (("Actual", "cType2"),),
    )


def test_data_transfer_and_certificate(version: OcppVersion) -> None:
    assert event(version, "DataTransfer") == DataTransferReceived(
        "com.wallbox", "Config", {"mode": 2}
    )
    decision = DataTransferDecision(DataTransferStatus.UNKNOWN_MESSAGE_ID, data=[1, 2])
    assert answer(version, "DataTransfer", decision) == {
        "status": "UnknownMessageId",
        "data": [1, 2],
    }
    signing = event(version, "SignCertificate")
    assert isinstance(signing, CertificateSigningRequested)
    assert signing.certificate_type == "ChargingStationCertificate"
    assert answer(version, "SignCertificate", SigningDecision(accepted=True)) == {
        "status": "Accepted"
    }


def test_unmodelled_station_messages_get_a_valid_neutral_answer(version: OcppVersion) -> None:
    notify = event(version, "NotifyEvent")
    assert isinstance(notify, StationMessage) and notify.action == "NotifyEvent"
    # No dict crosses the seam: the CSMS side can log the payload, not read fields from it.
    assert not isinstance(notify.payload, Mapping) and not hasattr(notify.payload, "__getitem__")
    assert json.loads(repr(notify.payload)) == dict(notify.payload.for_answer())
    assert answer(version, "NotifyEvent") == {}

    adapter = adapter_for(version)
    validator = Validator(version)
    modelled = {"Authorize", "BootNotification", "DataTransfer", "FirmwareStatusNotification",
                "Heartbeat", "LogStatusNotification", "MeterValues", "NotifyReport",
                "ReservationStatusUpdate", "SecurityEventNotification", "SignCertificate",
                "StatusNotification", "TransactionEvent"}  # fmt: skip
    for action in sorted(STATION_TO_CSMS[version] - modelled):
        request = EXAMPLES[version].get(action, {})
        if action == "NotifyPeriodicEventStream":
            continue  # a SEND: never answered
        try:
            payload = adapter.response(StationMessage(action, OpaquePayload(request)))
        except CallError as error:
            assert error.code is ErrorCode.NOT_SUPPORTED
            continue
        validator.response(action, payload, strict=True)


def test_v21_answers_vat_number_validation() -> None:
    adapter = adapter_for(OcppVersion.V21)
    message = adapter.event("VatNumberValidation", V21["VatNumberValidation"])
    assert adapter.response(message) == {
        "vatNumber": "CL76543210K",
        "status": "Rejected",
        "evseId": 1,
    }


def test_unknown_enum_from_a_lenient_station(version: OcppVersion) -> None:
    payload = {**EXAMPLES[version]["StatusNotification"], "connectorStatus": "Sleeping"}
    with pytest.raises(CallError) as caught:
        adapter_for(version).event("StatusNotification", payload)
    assert caught.value.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION


def test_csms_actions_are_not_events(version: OcppVersion) -> None:
    with pytest.raises(CallError) as caught:
        adapter_for(version).event("RequestStartTransaction", {})
    assert caught.value.code is ErrorCode.NOT_SUPPORTED
