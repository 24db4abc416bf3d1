"""What crosses between two nodes comes out as it went in: commands, results, the errors of a
call to a station (raised again on the sending node), and domain events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intercarga.cluster.wire import (
    ConnectionQuery,
    RawCall,
    WireError,
    decode_answer,
    decode_command,
    decode_event,
    decode_reply,
    encode_answer,
    encode_command,
    encode_error,
    encode_event,
    encode_result,
)
from intercarga.domain.events import EvseStatusChanged, ObjectRemoved
from intercarga.domain.location import EVSEStatus
from intercarga.errors import InvalidInputError
from intercarga.ocpp.commands import (
    ClearCache,
    GetLocalListVersion,
    RemoteStart,
    RemoteStartResult,
    Reset,
    ResetKind,
)
from intercarga.ocpp.errors import (
    CallFailedError,
    CallTimeoutError,
    ErrorCode,
    StationOfflineError,
)
from intercarga.ocpp.events import IdToken
from tests.factories import location


@pytest.mark.parametrize(
    "command",
    [
        Reset(kind=ResetKind.IMMEDIATE, evse=2),
        RemoteStart(id_token=IdToken("04A1", "ISO14443"), evse=1),
        ClearCache(),
        GetLocalListVersion(),  # as empty as ClearCache: told apart by name
        RawCall("DataTransfer", {"vendorId": "X", "data": "ü"}),  # a raw OCPP call
        ConnectionQuery(frames=True),  # a question for the connection view
        ConnectionQuery(frames=False),
    ],
)
def test_commands_cross_whole(command: object) -> None:
    assert decode_command(encode_command("CS-1", command)) == ("CS-1", command)  # type: ignore[arg-type]


def test_results_and_errors_cross_whole() -> None:
    result = RemoteStartResult("Accepted", transaction_id="T-9")
    assert decode_reply(encode_result(result)) == result
    with pytest.raises(StationOfflineError, match=r"^station X is not connected$"):
        decode_reply(encode_error(StationOfflineError("station X is not connected")))
    with pytest.raises(CallTimeoutError):
        decode_reply(encode_error(CallTimeoutError("late")))
    with pytest.raises(CallFailedError) as failed:
        decode_reply(encode_error(CallFailedError("no", ErrorCode.NOT_SUPPORTED, {"a": 1})))
    assert (failed.value.code, failed.value.details) == (ErrorCode.NOT_SUPPORTED, {"a": 1})
    with pytest.raises(InvalidInputError) as invalid:
        decode_reply(encode_error(InvalidInputError("too long", "data")))
    assert (invalid.value.field, invalid.value.reason) == ("data", "too long")
    # Anything else is a failed call; its detail stays in the holding node's log.
    with pytest.raises(CallFailedError, match="could not carry out") as other:
        decode_reply(encode_error(RuntimeError("secret internals")))
    assert "secret" not in str(other.value)
    assert other.value.code is ErrorCode.INTERNAL_ERROR


def test_answers_to_raw_calls_and_connection_questions_cross_whole() -> None:
    view = {"connected": True, "recent_frames": [{"frame": "[2]"}]}
    assert decode_answer(encode_answer(view)) == view
    assert decode_answer(encode_answer(None)) is None  # not connected there
    with pytest.raises(StationOfflineError):
        decode_answer(encode_error(StationOfflineError("gone")))
    with pytest.raises(WireError):
        decode_answer(b'{"answer": [1]}')
    with pytest.raises(WireError):
        decode_command(b'{"station_id": "CS-1", "call": {"action": "Reset"}}')


def test_events_cross_whole_and_junk_is_refused() -> None:
    at = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    status = EvseStatusChanged("CL", "ICG", "LOC-1", "EVSE-1", EVSEStatus.OUTOFORDER, at)
    assert decode_event(encode_event(status)) == status
    removed = ObjectRemoved(location())
    assert decode_event(encode_event(removed)) == removed
    for junk in (b"{", b'{"type": "Nope", "data": {}}', b'{"type": "EvseStatusChanged"}'):
        with pytest.raises(WireError):
            decode_event(junk)
    with pytest.raises(WireError):
        decode_command(b'{"station_id": "CS-1", "command": {"type": "Teleport", "data": {}}}')
