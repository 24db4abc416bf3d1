"""Hypothesis: no text a peer can send makes ``Protocol.receive_text`` raise.

Whatever arrives — any shape, any size up to the server's frame limit, any nesting, strings with
unpaired surrogates written as JSON escapes — the protocol answers with well-formed frames only:
JSON arrays whose first element is a message type we may send, in text that encodes to UTF-8
(what the WebSocket sends). ``make fuzz`` runs these long (``tests/fuzzing.py``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intercarga.config import OcppSettings
from intercarga.domain.station import OcppVersion
from intercarga.ocpp.actions import Role, known_actions, receivable_actions
from intercarga.ocpp.errors import ErrorCode
from intercarga.ocpp.payloads import payload_decoders
from intercarga.ocpp.rpc import CallReceived, Protocol
from intercarga.ocpp.schemas import Validator
from tests.fuzzing import examples

VERSIONS = st.sampled_from(list(OcppVersion))
ACTIONS = st.sampled_from(sorted(known_actions(OcppVersion.V21) | {"", "Nope"}))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    # Any code point, unpaired surrogates too: json.dumps writes those as \\udxxx escapes, which
    # are valid JSON and valid UTF-8 on the wire.
    | st.text(st.characters(exclude_categories=()), max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FRAMES = st.one_of(
    st.text(max_size=200),
    JSON_VALUES.map(json.dumps),
    st.tuples(st.integers(-1, 8), st.text(max_size=40), ACTIONS, JSON_VALUES).map(
        lambda parts: json.dumps(list(parts))
    ),
    st.tuples(st.integers(2, 6), st.text(max_size=40), JSON_VALUES, JSON_VALUES, JSON_VALUES).map(
        lambda parts: json.dumps(list(parts))
    ),
    st.tuples(st.integers(2, 6), st.text(max_size=40), ACTIONS, JSON_VALUES).map(
        lambda parts: json.dumps(list(parts))[: len(json.dumps(list(parts))) // 2]
    ),
)


def check_frames(proto: Protocol) -> list[Any]:
    sent = []
    for text in proto.data_to_send():
        text.encode("utf-8")  # a frame we could not send would be an exception in the server
        message: Any = json.loads(text)
        sent.append(message)
        assert isinstance(message, list)
        assert message[0] in (2, 3, 4, 5, 6)
        if message[0] in (4, 5):
            assert len(message) == 5 and isinstance(message[2], str)
    return sent


@settings(
    max_examples=examples(600, 30_000), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    version=VERSIONS,
    lenient=st.booleans(),
    structs=st.booleans(),
    frames=st.lists(FRAMES, min_size=1, max_size=5),
)
def test_receive_text_never_raises(
    version: OcppVersion, lenient: bool, structs: bool, frames: list[str]
) -> None:
    proto = Protocol(
        version,
        validator=Validator(version, lenient=lenient),
        payloads=payload_decoders(version) if structs else None,
    )
    proto.send_call("ClearCache", {})
    for text in frames:
        proto.receive_text(text)
        check_frames(proto)
    proto.tick(1e9)
    check_frames(proto)


@settings(max_examples=examples(300, 15_000), deadline=None)
@given(version=VERSIONS, unique_id=st.text(min_size=1, max_size=36), payload=JSON_VALUES)
def test_responses_with_any_payload_never_raise(
    version: OcppVersion, unique_id: str, payload: Any
) -> None:
    proto = Protocol(version, validator=Validator(version), id_factory=lambda: unique_id)
    proto.send_call("ClearCache", {})
    proto.data_to_send()
    events = proto.receive_text(json.dumps([3, unique_id, payload]))
    assert events  # the call ended one way or another
    assert proto.outstanding is None
    check_frames(proto)


LIMIT = OcppSettings().max_frame_size  # larger frames never reach the protocol (close 1009)
IDS = st.text(st.characters(exclude_categories=()), min_size=1, max_size=36)


@settings(max_examples=examples(150, 10_000), deadline=None)
@given(
    version=VERSIONS,
    lenient=st.booleans(),
    data=st.data(),
    unique_id=IDS,
    size=st.integers(0, LIMIT),
)
def test_a_call_of_any_size_up_to_the_frame_limit_gets_exactly_one_answer(
    version: OcppVersion, lenient: bool, data: st.DataObject, unique_id: str, size: int
) -> None:
    action = data.draw(st.sampled_from(sorted(receivable_actions(version, Role.CSMS))))
    padding = "x" * max(0, size - len(json.dumps([2, unique_id, action, {"p": ""}])))
    text = json.dumps([2, unique_id, action, {"p": padding}])
    proto = Protocol(version, validator=Validator(version, lenient=lenient))
    events = proto.receive_text(text)
    sent = check_frames(proto)
    calls = [event for event in events if isinstance(event, CallReceived)]
    # Handed to the CSMS to answer, or refused with one CALLERROR: never both, never silence.
    assert len(calls) + len(sent) == 1
    assert all(message[0] == 4 for message in sent)


def _nested(depth: int, opening: str, closing: str) -> str:
    return opening * depth + closing * depth


@settings(max_examples=examples(100, 4_000), deadline=None)
@given(
    version=VERSIONS,
    depth=st.integers(1, LIMIT // 2 - 64),
    shape=st.sampled_from(["[]", "{}", "[[", "{"]),
    where=st.sampled_from(["frame", "payload", "result", "message id", "hot payload"]),
)
def test_any_nesting_is_answered_well_formed(
    version: OcppVersion, depth: int, shape: str, where: str
) -> None:
    if shape == "{}":
        depth = min(depth, LIMIT // 6 - 64)  # six characters a level
        value = '{"a":' * depth + "1" + "}" * depth
    elif shape == "[]":
        value = _nested(depth, "[", "]")
    else:
        value = shape[0] * depth  # never closed
    text = {
        "frame": value,
        "payload": '[2,"n1","DataTransfer",{"vendorId":"v","data":' + value + "}]",
        "result": '[3,"c1",' + value + "]",
        "message id": "[2," + value + ',"Heartbeat",{}]',
        "hot payload": '[2,"n1","MeterValues",{"evseId":1,"meterValue":' + value + "}]",
    }[where]
    assert len(text) <= LIMIT
    proto = Protocol(
        version,
        validator=Validator(version),
        id_factory=lambda: "c1",
        payloads=payload_decoders(version),
    )
    proto.send_call("ClearCache", {})
    proto.data_to_send()
    proto.receive_text(text)
    check_frames(proto)
    proto.tick(1e9)
    check_frames(proto)


@settings(max_examples=examples(200, 10_000), deadline=None)
@given(
    version=VERSIONS,
    unique_id=IDS,
    action=st.text(st.characters(exclude_categories=()), max_size=20) | ACTIONS,
    payload=JSON_VALUES,
)
def test_unpaired_surrogates_are_echoed_in_text_that_can_be_sent(
    version: OcppVersion, unique_id: str, action: str, payload: Any
) -> None:
    proto = Protocol(version, validator=Validator(version, lenient=True))
    events = proto.receive_text(json.dumps([2, unique_id, action, payload]))
    for event in events:
        if isinstance(event, CallReceived):
            proto.send_error(event.unique_id, ErrorCode.INTERNAL_ERROR, "no handler in this test")
    for message in check_frames(proto):
        # The peer's own message id comes back exactly as it sent it.
        assert message[1] in (unique_id, "-1")


def test_an_escaped_unpaired_surrogate_comes_back_escaped(caplog: pytest.LogCaptureFixture) -> None:
    """Found by the property above: the answer was written with a raw surrogate, which is not
    UTF-8, so the server could not send it (an exception in the connection, no answer); and the
    log line quoting it could not be written either."""
    proto = Protocol(OcppVersion.V16, validator=Validator(OcppVersion.V16))
    [call] = proto.receive_text('[2,"\\ud800","Heartbeat",{}]')
    assert isinstance(call, CallReceived)
    proto.send_result(call.unique_id, {"currentTime": "2026-12-06T00:00:00Z"})
    proto.receive_text('[2,"a1","Heart\\udc00",{}]')
    assert proto.data_to_send() == [
        '[3,"\\ud800",{"currentTime":"2026-12-06T00:00:00Z"}]',
        '[4,"a1","NotImplemented","Heart\\udc00 is not an OCPP 1.6 action",{}]',
    ]
    assert caplog.records
    for record in caplog.records:
        record.getMessage().encode("utf-8")
