"""The one-pass payload Structs accept what the OCA schemas accept, and change nothing a station sees.

Payloads are generated from each hot action's schema (valid ones) and then mutated (a wrong
type, an unknown enum value, a string past its maxLength, a required field left out, an extra
property, a bad date-time, an integral float or a huge integer where an integer goes, a null).
For each:

* a Struct never accepts what fastjsonschema refuses, and accepts every valid payload generated
  (the only payloads the schema takes and a Struct refuses are integral floats in a 2.x integer:
  those take the dict path);
* a protocol with payload decoders sends exactly the frames (CALLERROR code, text, details) of one
  without, strict or lenient, and the adapter makes the same domain event of the Struct as of the
  dict.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.adapter import adapter_for
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.payloads import HOT_ACTIONS, from_dict, payload_decoders, payload_types
from intercarga.ocpp.rpc import CallReceived, Event, Protocol
from intercarga.ocpp.schemas import Direction, Validator, validated_schema
from tests.fuzzing import examples

HOT = sorted((version, action) for version in OcppVersion for action in HOT_ACTIONS[version])

_TIMES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)
_DATE_TIMES = st.one_of(
    _TIMES.map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
    _TIMES.map(lambda t: t.isoformat(timespec="milliseconds").replace("+00:00", "Z")),
    st.tuples(_TIMES, st.integers(-12, 14)).map(
        lambda pair: (
            pair[0].astimezone(None).replace(tzinfo=None).isoformat(timespec="seconds")
            + f"{'+' if pair[1] >= 0 else '-'}{abs(pair[1]):02}:00"
        )
    ),
)
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(string.printable)
)


def valid(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Payloads the (inlined) schema ``node`` accepts."""
    kind = node.get("type")
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if kind == "string":
        if node.get("format") == "date-time":
            return _DATE_TIMES
        limit = node.get("maxLength", 60)
        return _TEXT.filter(lambda text: len(text) <= limit) | st.just("x" * limit)
    if kind == "integer":
        low = node.get("minimum")
        return st.integers(
            min_value=None if low is None else int(low),
            max_value=None if node.get("maximum") is None else int(node["maximum"]),
        )
    if kind == "number":
        low, high = node.get("minimum"), node.get("maximum")
        return st.integers(
            min_value=None if low is None else int(low),
            max_value=None if high is None else int(high),
        ) | st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        low = node.get("minItems", 0)
        return st.lists(valid(node["items"]), min_size=low, max_size=max(low, 3))
    assert kind == "object", node
    properties: dict[str, Any] = node.get("properties", {})
    required = set(node.get("required", ()))
    return st.fixed_dictionaries(
        {name: valid(sub) for name, sub in properties.items() if name in required},
        optional={name: valid(sub) for name, sub in properties.items() if name not in required},
    )


_WRONG = st.sampled_from(
    # "\ud800": a lone surrogate, which json.dumps writes as an escape (FormatViolation).
    [None, True, 1, 1.5, 2.0, 2**70, "x", "Nope", "", [], {}, "2024-13-01T00:00:00Z", "\ud800"]
)


@st.composite
def mutated(draw: st.DrawFn, node: dict[str, Any]) -> Any:
    """A valid payload with one thing changed somewhere in it."""
    payload = draw(valid(node))
    # Every (container, key) in the payload, then one of them is mutated.
    places: list[tuple[Any, Any]] = []
    pending = [payload]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            places.extend((item, key) for key in item)
            places.append((item, None))  # an extra property here
            pending.extend(item.values())
        elif isinstance(item, list):
            places.extend((item, index) for index in range(len(item)))
            pending.extend(item)
    container, key = draw(st.sampled_from(places)) if places else (payload, None)
    how = draw(st.sampled_from(["replace", "delete", "extra", "long"]))
    if key is None or how == "extra":
        if isinstance(container, dict):
            container[draw(st.sampled_from(["nope", "customData", "vendorId", "\udc00"]))] = draw(
                _WRONG
            )
    elif how == "delete" and isinstance(container, dict):
        del container[key]
    elif how == "long" and isinstance(container[key], str):
        container[key] = container[key] + "x" * draw(st.sampled_from([1, 20, 300, 3000]))
    else:
        container[key] = draw(_WRONG)
    return payload


def accepted(check: Callable[[], Any]) -> bool:
    try:
        check()
    except (CallError, msgspec.MsgspecError):
        return False
    return True


def integral_float_in(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, dict):
        return any(integral_float_in(item) for item in value.values())
    if isinstance(value, list):
        return any(integral_float_in(item) for item in value)
    return False


def lone_surrogate_in(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(lone_surrogate_in(key) or lone_surrogate_in(item) for key, item in value.items())
    if isinstance(value, list):
        return any(lone_surrogate_in(item) for item in value)
    return False


def domain_event(version: OcppVersion, action: str, payload: Any) -> Any:
    try:
        return adapter_for(version).event(action, payload)
    except CallError as error:
        return (error.code, error.description)
    except ArithmeticError as error:
        # A multiplier of 10**2000055 is valid OCPP and no Decimal: the same failure either way.
        return type(error)


@pytest.mark.parametrize(("version", "action"), HOT)
def test_every_hot_action_has_its_structs(version: OcppVersion, action: str) -> None:
    assert action in payload_types(version)
    assert action in payload_decoders(version)


@pytest.mark.parametrize(("version", "action"), HOT)
@settings(
    max_examples=examples(30, 1000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_struct_accepts_what_the_schema_accepts(
    version: OcppVersion, action: str, data: st.DataObject
) -> None:
    schema = validated_schema(version, action, Direction.REQUEST)
    assert schema is not None
    payload = data.draw(valid(schema) | mutated(schema), label="payload")
    text = json.dumps(payload)
    decode = payload_decoders(version)[action]
    by_struct = accepted(lambda: decode(text))
    # The protocol refuses a lone surrogate before the schema sees it (FormatViolation).
    by_schema = not lone_surrogate_in(payload) and accepted(
        lambda: Validator(version).request(action, json.loads(text))
    )
    assert by_struct <= by_schema, "a Struct accepted what the schema refuses"
    if by_schema and not by_struct:
        # The schema's one leniency a Struct does not copy: 2.x takes 1.0 for an integer.
        assert version is not OcppVersion.V16 and integral_float_in(payload)
    if by_struct:
        # The adapter reads the Struct as it reads the validated dict.
        assert domain_event(version, action, decode(text)) == domain_event(
            version, action, json.loads(text)
        )


@pytest.mark.parametrize("lenient", [False, True])
@pytest.mark.parametrize(("version", "action"), HOT)
@settings(
    max_examples=examples(30, 1000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_station_sees_the_same_frames_with_or_without_structs(
    version: OcppVersion, action: str, lenient: bool, data: st.DataObject
) -> None:
    schema = validated_schema(version, action, Direction.REQUEST)
    assert schema is not None
    payload = data.draw(valid(schema) | mutated(schema), label="payload")
    unique_id = data.draw(st.sampled_from(["m1", "", "x" * 37]), label="unique_id")
    frame = json.dumps([2, unique_id, action, payload])
    validator = Validator(version, lenient=lenient)
    plain = Protocol(version, validator=validator)
    typed = Protocol(version, validator=validator, payloads=payload_decoders(version))
    typed_events = typed.receive_text(frame)
    same_outcome(version, action, plain.receive_text(frame), typed_events)
    assert typed.data_to_send() == plain.data_to_send()
    for event in typed_events:
        # Strictly valid (a lenient station's warnings mean it was not), 1.0 for no integer.
        if (
            isinstance(event, CallReceived)
            and not event.warnings
            and not integral_float_in(payload)
        ):
            assert isinstance(event.payload, msgspec.Struct), "the one-pass path was not taken"
    # Answered the same, a repeat is answered again the same (a rejected one rejected again).
    for proto in (plain, typed):
        for unique_id in list(proto._handling):
            proto.send_error(unique_id, ErrorCode.INTERNAL_ERROR, "not stored")
    assert typed.data_to_send() == plain.data_to_send()
    same_outcome(version, action, plain.receive_text(frame), typed.receive_text(frame))
    assert typed.data_to_send() == plain.data_to_send()


def same_outcome(version: OcppVersion, action: str, plain: list[Event], typed: list[Event]) -> None:
    assert [type(event) for event in typed] == [type(event) for event in plain]
    for typed_event, plain_event in zip(typed, plain, strict=True):
        if isinstance(typed_event, CallReceived):
            assert isinstance(plain_event, CallReceived)
            assert typed_event.warnings == plain_event.warnings
            assert domain_event(version, action, typed_event.payload) == domain_event(
                version, action, plain_event.payload
            )
        else:
            assert typed_event == plain_event


def test_a_lenient_payload_reaches_the_adapter_through_the_relaxed_struct() -> None:
    # An unknown measurand, a long unit, no UTC offset: a lenient station gets this far.
    payload = {
        "evseId": 1,
        "meterValue": [
            {
                "timestamp": "2024-03-01T12:00:00",
                "sampledValue": [
                    {"value": 7, "measurand": "Energy.Bogus", "unitOfMeasure": {"unit": "k" * 30}}
                ],
            }
        ],
    }
    assert Validator(OcppVersion.V201, lenient=True).request("MeterValues", payload)
    struct: Any = from_dict(OcppVersion.V201, "MeterValues", payload)
    assert struct.meter_value[0].sampled_value[0].measurand == "Energy.Bogus"
    event: Any = adapter_for(OcppVersion.V201).event("MeterValues", payload)
    (value,) = event.meter_values
    assert value.timestamp == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert (value.measurand, value.value, value.unit) == ("Energy.Bogus", 7, "k" * 30)


_HOT_FRAME = json.dumps(
    [2, "m1", "Heartbeat", {"customData": {"vendorId": "v"}}], separators=(",", ":")
)


def test_a_hot_call_repeated_after_its_answer_is_answered_again_without_a_new_event() -> None:
    # The station lost the answer and sends the same call again: it must not be handled twice.
    version = OcppVersion.V201
    proto = Protocol(version, validator=Validator(version), payloads=payload_decoders(version))
    [event] = proto.receive_text(_HOT_FRAME)
    assert isinstance(event, CallReceived) and isinstance(event.payload, msgspec.Struct)
    proto.send_result("m1", {"currentTime": "2024-01-01T00:00:00Z"})
    first = proto.data_to_send()
    assert proto.receive_text(_HOT_FRAME) == []
    assert proto.data_to_send() == first


@settings(max_examples=examples(200, 5000), deadline=None)
@given(
    version=st.sampled_from([OcppVersion.V201, OcppVersion.V21]),
    frame=st.one_of(
        # A hot CALL with one character inserted, deleted or replaced anywhere: whitespace, a
        # leading zero, a trailing comma, a broken escape, a truncation.
        st.tuples(
            st.integers(0, len(_HOT_FRAME)),
            st.integers(0, 1),
            st.sampled_from([" ", "0", ",", "\\", '"', "]", "}", "1.0", "\\ud800", "NaN"]),
        ).map(lambda edit: _HOT_FRAME[: edit[0]] + edit[2] + _HOT_FRAME[edit[0] + edit[1] :]),
        st.integers(0, len(_HOT_FRAME)).map(lambda end: _HOT_FRAME[:end]),
    ),
)
def test_any_frame_is_answered_the_same_with_or_without_structs(
    version: OcppVersion, frame: str
) -> None:
    plain = Protocol(version, validator=Validator(version))
    typed = Protocol(version, validator=Validator(version), payloads=payload_decoders(version))
    same_outcome(version, "Heartbeat", plain.receive_text(frame), typed.receive_text(frame))
    assert typed.data_to_send() == plain.data_to_send()
