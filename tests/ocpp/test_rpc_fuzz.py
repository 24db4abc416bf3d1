"""Hypothesis: no text a peer can send makes ``Protocol.receive_text`` raise.

Whatever arrives, the protocol answers with well-formed frames only: JSON arrays whose first
element is a message type we may send.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.actions import known_actions
from intercarga.ocpp.rpc import Protocol
from intercarga.ocpp.schemas import Validator

VERSIONS = st.sampled_from(list(OcppVersion))
ACTIONS = st.sampled_from(sorted(known_actions(OcppVersion.V21) | {"", "Nope"}))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
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


def check_frames(proto: Protocol) -> None:
    for text in proto.data_to_send():
        message: Any = json.loads(text)
        assert isinstance(message, list)
        assert message[0] in (2, 3, 4, 5, 6)
        if message[0] in (4, 5):
            assert len(message) == 5 and isinstance(message[2], str)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(version=VERSIONS, lenient=st.booleans(), frames=st.lists(FRAMES, min_size=1, max_size=5))
def test_receive_text_never_raises(version: OcppVersion, lenient: bool, frames: list[str]) -> None:
    proto = Protocol(version, validator=Validator(version, lenient=lenient))
    proto.send_call("ClearCache", {})
    for text in frames:
        proto.receive_text(text)
        check_frames(proto)
    proto.tick(1e9)
    check_frames(proto)


@settings(max_examples=300)
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
