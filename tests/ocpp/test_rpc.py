"""The OCPP-J RPC core: text frames in, events and text frames out; no sockets anywhere."""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import pytest

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.actions import Role
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.rpc import (
    CallCancelled,
    CallErrorReceived,
    CallReceived,
    CallResultErrorReceived,
    CallResultReceived,
    CallTimedOut,
    OutgoingMessageError,
    Protocol,
    ProtocolClosedError,
    ProtocolUsageError,
    ProtocolViolation,
    SendReceived,
)
from intercarga.ocpp.schemas import Validator

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21

BOOT_16 = {"chargePointVendor": "VendorX", "chargePointModel": "SingleSocketCharger"}
BOOT_201 = {
    "reason": "PowerUp",
    "chargingStation": {"model": "SingleSocketCharger", "vendorName": "VendorX"},
}
RESET_16 = {"type": "Soft"}
RESET_201 = {"type": "OnIdle"}


def protocol(
    version: OcppVersion = V201,
    *,
    lenient: bool = False,
    validate: bool = True,
    role: Role = Role.CSMS,
    timeout: float = 30.0,
) -> Protocol:
    counter = itertools.count(1)
    return Protocol(
        version,
        role=role,
        validator=Validator(version, lenient=lenient) if validate else None,
        call_timeout=timeout,
        station_id="CS-1",
        id_factory=lambda: f"m{next(counter)}",
    )


def frame(*parts: Any) -> str:
    return json.dumps(list(parts))


def sent(proto: Protocol) -> list[list[Any]]:
    return [json.loads(text) for text in proto.data_to_send()]


def only_error(proto: Protocol) -> tuple[str, str]:
    """The one CALLERROR frame sent: (message id, wire error code)."""
    frames = sent(proto)
    assert len(frames) == 1, frames
    message = frames[0]
    assert message[0] == 4 and len(message) == 5
    assert isinstance(message[3], str) and isinstance(message[4], dict)
    return message[1], message[2]


# --- calls from the station -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "payload"), [(V16, BOOT_16), (V201, BOOT_201), (V21, BOOT_201)]
)
def test_call_becomes_event_and_result_becomes_frame(
    version: OcppVersion, payload: dict[str, Any]
) -> None:
    proto = protocol(version)
    events = proto.receive_text(frame(2, "19223201", "BootNotification", payload))
    assert events == [CallReceived("19223201", "BootNotification", payload)]
    assert proto.data_to_send() == []

    answer = {"status": "Accepted", "currentTime": "2013-02-01T20:53:32.486Z", "interval": 300}
    proto.send_result("19223201", answer)
    assert sent(proto) == [[3, "19223201", answer]]


def test_null_payload_means_empty_object() -> None:
    proto = protocol(V16)
    assert proto.receive_text('[2,"h1","Heartbeat",null]') == [CallReceived("h1", "Heartbeat", {})]


def test_handler_errors_are_sent_with_the_versions_spelling() -> None:
    proto = protocol(V16)
    proto.receive_text(frame(2, "a1", "Heartbeat", {}))
    proto.send_error("a1", CallError(ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, "boom", {"x": 1}))
    assert sent(proto) == [[4, "a1", "OccurenceConstraintViolation", "boom", {"x": 1}]]


@pytest.mark.parametrize(
    "code",
    [
        ErrorCode.SECURITY_ERROR,
        ErrorCode.INTERNAL_ERROR,
        ErrorCode.GENERIC_ERROR,
        ErrorCode.NOT_SUPPORTED,
    ],
)
@pytest.mark.parametrize("version", [V16, V201, V21])
def test_handler_can_answer_with_any_code(version: OcppVersion, code: ErrorCode) -> None:
    proto = protocol(version)
    proto.receive_text(frame(2, "a1", "Heartbeat", {}))
    proto.send_error("a1", code, "x" * 400)
    [message] = sent(proto)
    assert message[:3] == [4, "a1", code.value]
    assert len(message[3]) == 255  # errorDescription is string[255]


def test_answering_twice_or_an_unknown_call_is_a_usage_error() -> None:
    proto = protocol()
    proto.receive_text(frame(2, "a1", "Heartbeat", {}))
    proto.send_result("a1", {"currentTime": "2024-01-01T00:00:00Z"})
    with pytest.raises(ProtocolUsageError):
        proto.send_result("a1", {"currentTime": "2024-01-01T00:00:00Z"})
    with pytest.raises(ProtocolUsageError):
        proto.send_error("zz", ErrorCode.INTERNAL_ERROR)


def test_invalid_result_payload_is_refused_and_the_call_still_awaits_an_answer() -> None:
    proto = protocol()
    proto.receive_text(frame(2, "a1", "Heartbeat", {}))
    with pytest.raises(OutgoingMessageError) as caught:
        proto.send_result("a1", {"currentTime": 5})
    assert caught.value.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert proto.data_to_send() == []
    proto.send_error("a1", ErrorCode.INTERNAL_ERROR)
    assert only_error(proto) == ("a1", "InternalError")


# --- frames that are not valid calls: each gets the CALLERROR OCPP-J prescribes ----------------


@pytest.mark.parametrize(
    ("version", "text", "expected"),
    [
        # Unreadable JSON, id unreadable too: "-1" (OCPP-J 2.0.1 part 4 section 4.2.3).
        (V201, "{not json", ("-1", "RpcFrameworkError")),
        (V21, "", ("-1", "RpcFrameworkError")),
        (V16, "{not json", ("-1", "FormationViolation")),
        # Unreadable JSON, but the head of a CALL gives its id: the payload is broken.
        (V201, '[2, "abc", "Heartbeat", {', ("abc", "FormatViolation")),
        (V16, '[2, "abc", "Heartbeat", {', ("abc", "FormationViolation")),
        # A payload string that is not Unicode text (a lone surrogate, in a value or a key).
        (V201, '[2, "abc", "Heartbeat", {"x": "\\ud800"}]', ("abc", "FormatViolation")),
        (V16, '[2, "abc", "Heartbeat", {"\\udfff": 1}]', ("abc", "FormationViolation")),
        # JSON, but not an OCPP-J message.
        (V201, '{"a": 1}', ("-1", "RpcFrameworkError")),
        (V201, "[2]", ("-1", "RpcFrameworkError")),
        (V201, '["2", "x1", "Heartbeat", {}]', ("x1", "RpcFrameworkError")),
        (V201, '[2, 17, "Heartbeat", {}]', ("-1", "RpcFrameworkError")),
        (V201, '[2, "", "Heartbeat", {}]', ("-1", "RpcFrameworkError")),
        (V201, '[2, "x1", "Heartbeat"]', ("x1", "RpcFrameworkError")),
        (V201, '[2, "x1", 7, {}]', ("x1", "RpcFrameworkError")),
        (V201, frame(2, "x" * 37, "Heartbeat", {}), ("x" * 37, "RpcFrameworkError")),
        (V16, frame(2, "x" * 37, "Heartbeat", {}), ("x" * 37, "FormationViolation")),
        (V201, "[2, NaN, 1, 2]", ("-1", "RpcFrameworkError")),
        # Message types the version does not have.
        (V201, '[7, "x1", "Heartbeat", {}]', ("x1", "MessageTypeNotSupported")),
        (V201, '[6, "x1", "NotifyPeriodicEventStream", {}]', ("x1", "MessageTypeNotSupported")),
        (V201, '[5, "x1", "GenericError", "", {}]', ("x1", "MessageTypeNotSupported")),
        (V21, '[9, "x1"]', ("x1", "MessageTypeNotSupported")),
        (V16, '[7, "x1", "Heartbeat", {}]', ("x1", "GenericError")),
        (V201, '[true, "x1", "Heartbeat", {}]', ("x1", "RpcFrameworkError")),
        # A payload that is not an object.
        (V201, '[2, "x1", "Heartbeat", []]', ("x1", "FormatViolation")),
        (V16, '[2, "x1", "Heartbeat", "hello"]', ("x1", "FormationViolation")),
        # Unknown action; action that exists but is not sent to a CSMS.
        (V201, frame(2, "x1", "MakeCoffee", {}), ("x1", "NotImplemented")),
        (V16, frame(2, "x1", "TransactionEvent", {}), ("x1", "NotImplemented")),
        (V16, frame(2, "x1", "Reset", RESET_16), ("x1", "NotSupported")),
        (V201, frame(2, "x1", "RequestStartTransaction", {}), ("x1", "NotSupported")),
        # A SEND-only action sent as CALL.
        (V21, frame(2, "x1", "NotifyPeriodicEventStream", {}), ("x1", "ProtocolError")),
    ],
)
def test_bad_frames_get_the_right_callerror(
    version: OcppVersion, text: str, expected: tuple[str, str]
) -> None:
    proto = protocol(version)
    events = proto.receive_text(text)
    assert only_error(proto) == expected
    [event] = events
    assert isinstance(event, ProtocolViolation)
    assert event.replied
    assert event.frame == text[:200]


@pytest.mark.parametrize(
    ("version", "action", "payload", "code", "field"),
    [
        # type
        (
            V16,
            "StatusNotification",
            {"connectorId": "1", "errorCode": "NoError", "status": "Available"},
            "TypeConstraintViolation",
            "connectorId",
        ),
        (V201, "Heartbeat", {"customData": 5}, "TypeConstraintViolation", "customData"),
        # required: 1.6 "payload incomplete" = ProtocolError; 2.x an occurrence constraint
        (
            V16,
            "StatusNotification",
            {"connectorId": 1, "status": "Available"},
            "ProtocolError",
            None,
        ),
        (V201, "BootNotification", {"reason": "PowerUp"}, "OccurrenceConstraintViolation", None),
        (V21, "BootNotification", {"reason": "PowerUp"}, "OccurrenceConstraintViolation", None),
        # additionalProperties: "not conform the PDU structure"
        (V16, "Heartbeat", {"extra": 1}, "FormationViolation", None),
        (V201, "BootNotification", {**BOOT_201, "extra": 1}, "ProtocolError", None),
        # maxLength: CiString types are data types
        (
            V16,
            "BootNotification",
            {**BOOT_16, "chargePointSerialNumber": "S" * 26},
            "TypeConstraintViolation",
            "chargePointSerialNumber",
        ),
        (
            V201,
            "Authorize",
            {"idToken": {"idToken": "T" * 37, "type": "ISO14443"}},
            "TypeConstraintViolation",
            "idToken.idToken",
        ),
        # format
        (
            V16,
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": "Available",
                "timestamp": "yesterday",
            },
            "TypeConstraintViolation",
            "timestamp",
        ),
        # enum
        (
            V16,
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"},
            "PropertyConstraintViolation",
            "status",
        ),
        (
            V201,
            "BootNotification",
            {**BOOT_201, "reason": "Bored"},
            "PropertyConstraintViolation",
            "reason",
        ),
        # minItems
        (
            V16,
            "MeterValues",
            {"connectorId": 1, "meterValue": []},
            "OccurenceConstraintViolation",
            "meterValue",
        ),
        (
            V201,
            "MeterValues",
            {"evseId": 1, "meterValue": []},
            "OccurrenceConstraintViolation",
            "meterValue",
        ),
        # minimum (only deep in 2.x schemas)
        (
            V201,
            "NotifyEVChargingNeeds",
            {
                "evseId": 1,
                "chargingNeeds": {
                    "requestedEnergyTransfer": "DC",
                    "dcChargingParameters": {
                        "evMaxCurrent": 1,
                        "evMaxVoltage": 1,
                        "stateOfCharge": -1,
                    },
                },
            },
            "PropertyConstraintViolation",
            "chargingNeeds.dcChargingParameters.stateOfCharge",
        ),
    ],
)
def test_schema_violations_map_to_ocpp_codes(
    version: OcppVersion, action: str, payload: dict[str, Any], code: str, field: str | None
) -> None:
    proto = protocol(version)
    [event] = proto.receive_text(frame(2, "v1", action, payload))
    assert isinstance(event, ProtocolViolation)
    [message] = sent(proto)
    assert message[:3] == [4, "v1", code]
    assert message[3].startswith(f"{action}: ")
    assert message[4]["action"] == action
    assert message[4].get("field") == field


def test_lenient_station_gets_warnings_for_harmless_violations() -> None:
    payload = {
        **BOOT_16,
        "chargePointSerialNumber": "SERIAL-NUMBER-LONGER-THAN-25",
        "vendorOnlyField": True,
    }
    strict = protocol(V16)
    strict.receive_text(frame(2, "b1", "BootNotification", payload))
    assert only_error(strict)[1] == "TypeConstraintViolation"

    lenient = protocol(V16, lenient=True)
    [event] = lenient.receive_text(frame(2, "b1", "BootNotification", payload))
    assert isinstance(event, CallReceived)
    assert event.payload == payload
    assert len(event.warnings) == 1 and "chargePointSerialNumber" in event.warnings[0]
    assert lenient.data_to_send() == []


def test_lenient_accepts_unknown_enum_values_but_not_wrong_types() -> None:
    lenient = protocol(V16, lenient=True)
    vendor_status = {"connectorId": 1, "errorCode": "VendorSpecificFault", "status": "Available"}
    [event] = lenient.receive_text(frame(2, "s1", "StatusNotification", vendor_status))
    assert isinstance(event, CallReceived) and event.warnings

    both = {"connectorId": "1", "errorCode": "VendorSpecificFault", "status": "Available"}
    lenient.receive_text(frame(2, "s2", "StatusNotification", both))
    assert only_error(lenient) == ("s2", "TypeConstraintViolation")


def test_validation_can_be_switched_off() -> None:
    proto = protocol(V16, validate=False)
    [event] = proto.receive_text(frame(2, "s1", "StatusNotification", {"anything": 1}))
    assert isinstance(event, CallReceived)


def test_station_role_accepts_csms_calls() -> None:
    proto = protocol(V16, role=Role.STATION)
    assert proto.receive_text(frame(2, "r1", "Reset", RESET_16)) == [
        CallReceived("r1", "Reset", RESET_16)
    ]
    proto.receive_text(frame(2, "r2", "BootNotification", BOOT_16))
    assert only_error(proto) == ("r2", "NotSupported")


# --- idempotent repeats ----------------------------------------------------------------------


def test_repeated_call_gets_the_same_answer_without_a_new_event() -> None:
    proto = protocol()
    text = frame(2, "t1", "Heartbeat", {})
    proto.receive_text(text)
    proto.send_result("t1", {"currentTime": "2024-01-01T00:00:00Z"})
    first = proto.data_to_send()
    assert proto.receive_text(text) == []
    assert proto.data_to_send() == first


def test_repeat_while_first_is_being_handled_is_dropped() -> None:
    proto = protocol()
    text = frame(2, "t1", "Heartbeat", {})
    proto.receive_text(text)
    [event] = proto.receive_text(text)
    assert isinstance(event, ProtocolViolation) and not event.replied
    assert proto.data_to_send() == []


def test_same_id_with_another_payload_is_a_new_call() -> None:
    proto = protocol(V16)
    proto.receive_text(frame(2, "1", "Heartbeat", {}))
    proto.send_result("1", {"currentTime": "2024-01-01T00:00:00Z"})
    proto.data_to_send()
    events = proto.receive_text(frame(2, "1", "BootNotification", BOOT_16))
    assert events == [CallReceived("1", "BootNotification", BOOT_16)]


# --- calls to the station: one at a time, timeouts, late answers ------------------------------


def test_calls_queue_behind_the_outstanding_one() -> None:
    proto = protocol(V16)
    first = proto.send_call("Reset", RESET_16, now=0)
    second = proto.send_call("ClearCache", {})
    assert (first, second) == ("m1", "m2")
    assert sent(proto) == [[2, "m1", "Reset", RESET_16]]
    assert proto.outstanding == ("m1", "Reset") and proto.queued == 1

    events = proto.receive_text(frame(3, "m1", {"status": "Accepted"}))
    assert events == [CallResultReceived("m1", "Reset", {"status": "Accepted"})]
    assert sent(proto) == [[2, "m2", "ClearCache", {}]]

    events = proto.receive_text(frame(4, "m2", "NotSupported", "no cache", {}))
    assert events == [
        CallErrorReceived(
            "m2", "ClearCache", ErrorCode.NOT_SUPPORTED, "no cache", {}, "NotSupported"
        )
    ]
    assert proto.outstanding is None and proto.data_to_send() == []


def test_timeout_fires_at_the_deadline_and_the_next_call_goes_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    proto = protocol(V16, timeout=10)
    proto.send_call("Reset", RESET_16, now=100)
    proto.send_call("ClearCache", {}, timeout=5)
    proto.data_to_send()
    assert proto.next_deadline() == 110
    assert proto.tick(109.9) == []
    assert proto.tick(110) == [CallTimedOut("m1", "Reset")]
    assert sent(proto) == [[2, "m2", "ClearCache", {}]]
    assert proto.next_deadline() == 115

    # The late answer to m1 is logged and dropped and does not end m2.
    with caplog.at_level(logging.WARNING, logger="intercarga.ocpp.rpc"):
        assert proto.receive_text(frame(3, "m1", {"status": "Accepted"})) == []
    assert "after its call timed out" in caplog.text
    assert proto.outstanding == ("m2", "ClearCache")
    assert proto.receive_text(frame(3, "m2", {"status": "Accepted"})) == [
        CallResultReceived("m2", "ClearCache", {"status": "Accepted"})
    ]


def test_unknown_answers_are_dropped_as_violations() -> None:
    proto = protocol(V16)
    proto.send_call("ClearCache", {})
    proto.data_to_send()
    for text in (frame(3, "zz", {}), frame(4, "zz", "GenericError", "", {})):
        [event] = proto.receive_text(text)
        assert isinstance(event, ProtocolViolation) and not event.replied
    assert proto.data_to_send() == []
    assert proto.outstanding == ("m1", "ClearCache")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("FormationViolation", ErrorCode.FORMAT_VIOLATION),
        ("FormatViolation", ErrorCode.FORMAT_VIOLATION),
        ("OccurenceConstraintViolation", ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION),
        ("OccurrenceConstraintViolation", ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION),
        ("VendorSaysNo", ErrorCode.GENERIC_ERROR),
    ],
)
def test_received_error_codes_are_read_in_any_spelling(raw: str, code: ErrorCode) -> None:
    proto = protocol(V16)
    proto.send_call("ClearCache", {})
    [event] = proto.receive_text(frame(4, "m1", raw, "d", {"k": "v"}))
    assert event == CallErrorReceived("m1", "ClearCache", code, "d", {"k": "v"}, raw)


def test_malformed_callerror_still_ends_its_call() -> None:
    proto = protocol(V201)
    proto.send_call("ClearCache", {})
    events = proto.receive_text('[4, "m1", "InternalError"]')
    assert isinstance(events[0], ProtocolViolation)
    assert events[1] == CallErrorReceived(
        "m1", "ClearCache", ErrorCode.INTERNAL_ERROR, "", {}, "InternalError"
    )
    assert proto.data_to_send()[-1:] != []  # only our CALL went out; errors are never answered


@pytest.mark.parametrize("version", [V16, V201])
def test_invalid_result_ends_the_call_locally(version: OcppVersion) -> None:
    proto = protocol(version)
    proto.send_call("ClearCache", {})
    proto.data_to_send()
    events = proto.receive_text(frame(3, "m1", {"status": "Maybe"}))
    assert isinstance(events[0], ProtocolViolation) and not events[0].replied
    error = events[1]
    assert isinstance(error, CallErrorReceived)
    assert error.local and error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert proto.data_to_send() == []  # no CALLRESULTERROR before 2.1


def test_v21_answers_an_invalid_result_with_callresulterror() -> None:
    proto = protocol(V21)
    proto.send_call("ClearCache", {})
    proto.data_to_send()
    events = proto.receive_text(frame(3, "m1", {"status": "Maybe"}))
    assert isinstance(events[-1], CallErrorReceived) and events[-1].local
    [message] = sent(proto)
    assert message[:3] == [5, "m1", "PropertyConstraintViolation"]


def test_broken_json_result_for_the_outstanding_call_ends_it() -> None:
    proto = protocol(V21)
    proto.send_call("ClearCache", {})
    proto.data_to_send()
    events = proto.receive_text('[3, "m1", {"status": ')
    assert isinstance(events[-1], CallErrorReceived)
    assert events[-1].code is ErrorCode.FORMAT_VIOLATION
    assert sent(proto)[0][:3] == [5, "m1", "FormatViolation"]


def test_lenient_result_is_accepted_with_warnings() -> None:
    proto = protocol(V16, lenient=True)
    proto.send_call("ClearCache", {})
    [event] = proto.receive_text(frame(3, "m1", {"status": "Accepted", "vendor": 1}))
    assert isinstance(event, CallResultReceived) and event.warnings


def test_outgoing_calls_are_validated_before_anything_is_sent() -> None:
    proto = protocol(V16)
    with pytest.raises(OutgoingMessageError) as caught:
        proto.send_call("Reset", {"type": "Warm"})
    assert caught.value.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert caught.value.field == "type"
    with pytest.raises(OutgoingMessageError) as caught:
        proto.send_call("BootNotification", BOOT_16)  # a station's message, not ours
    assert caught.value.code is ErrorCode.NOT_SUPPORTED
    with pytest.raises(OutgoingMessageError) as caught:
        proto.send_call("RequestStartTransaction", {})  # a 2.0.1 action
    assert caught.value.code is ErrorCode.NOT_IMPLEMENTED
    assert proto.data_to_send() == [] and proto.outstanding is None


def test_close_cancels_outstanding_and_queued_calls() -> None:
    proto = protocol(V16)
    proto.send_call("ClearCache", {})
    proto.send_call("Reset", RESET_16)
    assert proto.close() == [CallCancelled("m1", "ClearCache"), CallCancelled("m2", "Reset")]
    assert proto.data_to_send() == []
    assert proto.closed
    assert proto.receive_text(frame(3, "m1", {"status": "Accepted"})) == []
    with pytest.raises(ProtocolClosedError):
        proto.send_call("ClearCache", {})


# --- OCPP 2.1 SEND and CALLRESULTERROR -------------------------------------------------------

PERIODIC = {
    "id": 1,
    "pending": 0,
    "basetime": "2024-08-27T12:30:40Z",
    "data": [{"t": 0, "v": "230.4"}],
}


def test_v21_send_is_an_event_and_never_answered() -> None:
    proto = protocol(V21)
    events = proto.receive_text(frame(6, "s1", "NotifyPeriodicEventStream", PERIODIC))
    assert events == [SendReceived("s1", "NotifyPeriodicEventStream", PERIODIC)]
    for bad in (
        frame(6, "s2", "NotifyPeriodicEventStream", {"id": "x"}),
        frame(6, "s3", "Heartbeat", {}),
        frame(6, "s4", "NotifyPeriodicEventStream"),
        frame(6, "s5", "NotifyPeriodicEventStream", [1]),
    ):
        [event] = proto.receive_text(bad)
        assert isinstance(event, ProtocolViolation) and not event.replied
    assert proto.data_to_send() == []
    with pytest.raises(ProtocolUsageError):
        proto.send_result("s1", {})


def test_v21_station_sends_send_messages_without_waiting() -> None:
    proto = protocol(V21, role=Role.STATION)
    proto.send_call("Heartbeat", {})
    assert proto.send_message("NotifyPeriodicEventStream", PERIODIC) == "m2"
    assert [message[0] for message in sent(proto)] == [2, 6]
    with pytest.raises(OutgoingMessageError):
        proto.send_message("Heartbeat", {})
    with pytest.raises(OutgoingMessageError):
        proto.send_call("NotifyPeriodicEventStream", PERIODIC)


def test_v21_callresulterror_for_our_answer_is_reported() -> None:
    proto = protocol(V21)
    proto.receive_text(frame(2, "a1", "Heartbeat", {}))
    proto.send_result("a1", {"currentTime": "2024-01-01T00:00:00Z"})
    proto.data_to_send()
    events = proto.receive_text(frame(5, "a1", "FormatViolation", "bad time", {}))
    assert events == [
        CallResultErrorReceived("a1", "Heartbeat", ErrorCode.FORMAT_VIOLATION, "bad time", {})
    ]
    [event] = proto.receive_text(frame(5, "nope", "FormatViolation", "", {}))
    assert isinstance(event, ProtocolViolation)
    assert proto.data_to_send() == []


def test_an_escaped_surrogate_pair_is_text_and_accepted() -> None:
    """An emoji escaped as its UTF-16 pair is valid JSON text: the call is answered."""
    proto = protocol(V16)
    text = frame(2, "e1", "DataTransfer", {"vendorId": "V", "data": "ok"}).replace(
        '"ok"', '"\\ud83d\\ude00"'
    )
    events = proto.receive_text(text)
    assert not any(isinstance(event, ProtocolViolation) for event in events)
