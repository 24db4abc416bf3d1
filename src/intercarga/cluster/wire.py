"""Commands, results, the errors of a call to a station, and domain events, as bytes between nodes.

A version-free command (:mod:`intercarga.ocpp.commands`) crosses as its class name and its
fields in JSON (a raw OCPP call as its action and payload, a question for the connection view
as itself; their answers as JSON objects); the holding node's answer is the result the same way, or the error that the
sending node raises in its turn (station offline, no answer in time, a CALLERROR, an invalid
command). Pure: no I/O; it must never decide anything about a command.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass
from typing import Any, Final, NoReturn

from pydantic import TypeAdapter, ValidationError

from intercarga.domain.events import DomainEvent
from intercarga.errors import IntercargaError, InvalidInputError
from intercarga.ocpp.commands import Command, Result
from intercarga.ocpp.errors import (
    CallFailedError,
    CallTimeoutError,
    ErrorCode,
    StationOfflineError,
)

__all__ = [
    "ConnectionQuery",
    "RawCall",
    "Request",
    "WireError",
    "decode_answer",
    "decode_command",
    "decode_event",
    "decode_reply",
    "encode_answer",
    "encode_command",
    "encode_error",
    "encode_event",
    "encode_result",
]

_COMMANDS: Final[dict[str, type]] = {kind.__name__: kind for kind in typing.get_args(Command)}
_RESULTS: Final[dict[str, type]] = {kind.__name__: kind for kind in typing.get_args(Result)}
_ADAPTERS: Final[dict[type, TypeAdapter[Any]]] = {
    kind: TypeAdapter(kind) for kind in (*_COMMANDS.values(), *_RESULTS.values())
}


class WireError(IntercargaError):
    """Bytes from another node that are not a command or reply this version knows."""


def _encode(kind: str, value: object) -> dict[str, Any]:
    return {"type": kind, "data": _ADAPTERS[type(value)].dump_python(value, mode="json")}


def _decode(known: dict[str, type], body: Any) -> Any:
    if not isinstance(body, dict) or body.get("type") not in known:
        raise WireError(f"unknown type {body.get('type') if isinstance(body, dict) else body!r}")
    try:
        return _ADAPTERS[known[body["type"]]].validate_python(body.get("data"))
    except ValidationError as error:
        raise WireError(f"{body['type']}: {error.errors()[0]['msg']}") from None


def _load(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise WireError("not JSON") from None


@dataclass(frozen=True)
class RawCall:
    """An OCPP action with its payload as the station's version defines it (the admin API's
    raw call), answered with the station's CALLRESULT payload."""

    action: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ConnectionQuery:
    """A question for the connection view of a station (with its last frames or not)."""

    frames: bool


Request = Command | RawCall | ConnectionQuery


def encode_command(station_id: str, command: Request) -> bytes:
    body: dict[str, Any] = {"station_id": station_id}
    match command:
        case RawCall(action=action, payload=payload):
            body["call"] = {"action": action, "payload": payload}
        case ConnectionQuery(frames=frames):
            body["connection"] = {"frames": frames}
        case _:
            body["command"] = _encode(type(command).__name__, command)
    return json.dumps(body, separators=(",", ":")).encode()


def decode_command(data: bytes) -> tuple[str, Request]:
    body = _load(data)
    if not isinstance(body, dict) or not isinstance(body.get("station_id"), str):
        raise WireError("no station_id")
    call = body.get("call")
    if isinstance(call, dict):
        action, payload = call.get("action"), call.get("payload")
        if not isinstance(action, str) or not isinstance(payload, dict):
            raise WireError("a call needs an action and a payload object")
        return body["station_id"], RawCall(action, payload)
    connection = body.get("connection")
    if isinstance(connection, dict):
        return body["station_id"], ConnectionQuery(connection.get("frames") is True)
    command: Command = _decode(_COMMANDS, body.get("command"))
    return body["station_id"], command


def encode_result(result: Result) -> bytes:
    body = {"result": _encode(type(result).__name__, result)}
    return json.dumps(body, separators=(",", ":")).encode()


def encode_answer(answer: dict[str, Any] | None) -> bytes:
    """The answer to a :class:`RawCall` (the station's payload) or a :class:`ConnectionQuery`
    (the view; None: not connected there)."""
    return json.dumps({"answer": answer}, separators=(",", ":")).encode()


def encode_error(error: Exception) -> bytes:
    """The error the holding node met, for the sending node to raise (anything unexpected
    crosses as a failed call, its detail left in the holding node's log)."""
    body: dict[str, Any]
    match error:
        case StationOfflineError():
            body = {"kind": "offline", "message": str(error)}
        case CallTimeoutError():
            body = {"kind": "timeout", "message": str(error)}
        case CallFailedError():
            body = {
                "kind": "failed",
                "message": str(error),
                "code": error.code.value,
                "details": error.details,
            }
        case InvalidInputError():
            body = {"kind": "invalid", "message": error.reason, "field": error.field}
        case _:
            body = {
                "kind": "failed",
                "message": "the node holding the station could not carry out the command",
                "code": ErrorCode.INTERNAL_ERROR.value,
                "details": {},
            }
    return json.dumps({"error": body}, separators=(",", ":")).encode()


def decode_reply(data: bytes) -> Result:
    """The result in a reply, or the error it carries raised."""
    body = _load(data)
    if not isinstance(body, dict):
        raise WireError("not a reply")
    if "result" in body:
        result: Result = _decode(_RESULTS, body["result"])
        return result
    _raise(body)


def decode_answer(data: bytes) -> dict[str, Any] | None:
    """The answer in a reply to a :class:`RawCall` or :class:`ConnectionQuery`, or the error it
    carries raised."""
    body = _load(data)
    if not isinstance(body, dict):
        raise WireError("not a reply")
    if "answer" in body:
        answer = body["answer"]
        if answer is not None and not isinstance(answer, dict):
            raise WireError("an answer is an object")
        return answer
    _raise(body)


def _raise(body: dict[str, Any]) -> NoReturn:
    error = body.get("error")
    if not isinstance(error, dict):
        raise WireError("neither a result nor an error")
    message = str(error.get("message", ""))
    match error.get("kind"):
        case "offline":
            raise StationOfflineError(message)
        case "timeout":
            raise CallTimeoutError(message)
        case "invalid":
            field = error.get("field")
            raise InvalidInputError(message, field if isinstance(field, str) else None)
        case _:
            try:
                code = ErrorCode(str(error.get("code")))
            except ValueError:
                code = ErrorCode.INTERNAL_ERROR
            details = error.get("details")
            raise CallFailedError(message, code, details if isinstance(details, dict) else {})


_EVENTS: Final[dict[str, type]] = {kind.__name__: kind for kind in typing.get_args(DomainEvent)}
_EVENT_ADAPTERS: Final[dict[type, TypeAdapter[Any]]] = {
    kind: TypeAdapter(kind) for kind in _EVENTS.values()
}


def encode_event(event: DomainEvent) -> bytes:
    data = _EVENT_ADAPTERS[type(event)].dump_python(event, mode="json")
    return json.dumps({"type": type(event).__name__, "data": data}, separators=(",", ":")).encode()


def decode_event(data: bytes) -> DomainEvent:
    body = _load(data)
    if not isinstance(body, dict) or body.get("type") not in _EVENTS:
        raise WireError("not a domain event this version knows")
    try:
        event: DomainEvent = _EVENT_ADAPTERS[_EVENTS[body["type"]]].validate_python(
            body.get("data")
        )
    except ValidationError as error:
        raise WireError(f"{body['type']}: {error.errors()[0]['msg']}") from None
    return event
