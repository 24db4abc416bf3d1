"""OCPP-J RPC framework as a sans-I/O protocol object: text frames in, events and frames out.

One :class:`Protocol` per WebSocket connection, for OCPP 1.6, 2.0.1 or 2.1, playing the CSMS (or,
for the simulator, the station). The I/O adapter feeds every text frame to
:meth:`Protocol.receive_text`, acts on the events it returns, answers each
:class:`CallReceived` with :meth:`Protocol.send_result` or :meth:`Protocol.send_error`, starts
calls with :meth:`Protocol.send_call`, calls :meth:`Protocol.tick` by :meth:`Protocol.next_deadline`
and writes whatever :meth:`Protocol.data_to_send` returns to the socket. Time is whatever number
the adapter passes as ``now`` (seconds from any monotonic clock).

Rules it keeps (OCPP-J 1.6 section 4, 2.0.1 part 4 section 4, 2.1 part 4 section 4):

* At most one of our CALLs is outstanding; further calls queue and go out, in order, when the
  outstanding one is answered or times out. SEND messages (2.1) never wait.
* Every CALL we send ends in exactly one event: :class:`CallResultReceived`,
  :class:`CallErrorReceived`, :class:`CallTimedOut` or, when the connection closes,
  :class:`CallCancelled`. A response that arrives after its call timed out, or for an id we never
  sent, is logged and dropped; it never touches the call outstanding now.
* A frame that cannot be a valid CALL is answered with a CALLERROR whose code OCPP-J prescribes
  (``-1`` as message id when the id cannot be read), validated payloads come with the lenient
  validator's warnings, and a CALLRESULT that fails validation ends its call with a local
  :class:`CallErrorReceived` (answered with CALLRESULTERROR on 2.1). Errors are never answered,
  so two peers cannot bounce errors forever. Every rejected frame is also a
  :class:`ProtocolViolation` event.
* A CALL repeated with the same message id, action and payload after we answered it gets the
  same answer again and no new event (idempotent retries). A repeat while the first is still
  being handled is dropped: its answer is coming.

This module must never touch a socket, a clock, a database or the domain: it only turns text into
events and calls into text.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final
from uuid import uuid4

import msgspec

from intercarga.domain.station import OcppVersion
from intercarga.errors import IntercargaError, InvalidInputError
from intercarga.ocpp.actions import (
    SEND_ACTIONS,
    Role,
    known_actions,
    receivable_actions,
    sendable_actions,
)
from intercarga.ocpp.errors import CallError, ErrorCode, parse_code, wire_code
from intercarga.ocpp.payloads import Payload, PayloadDecoder
from intercarga.ocpp.schemas import Validator

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "CallCancelled",
    "CallErrorReceived",
    "CallReceived",
    "CallResultErrorReceived",
    "CallResultReceived",
    "CallTimedOut",
    "Event",
    "MessageType",
    "OutgoingMessageError",
    "Protocol",
    "ProtocolClosedError",
    "ProtocolUsageError",
    "ProtocolViolation",
    "SendReceived",
]

_log = logging.getLogger(__name__)


def _utf8(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class _PeerText(logging.Filter):
    """Log lines quote what the peer sent: an unpaired surrogate in it (a JSON escape the peer
    wrote) is escaped, or a handler writing UTF-8 would fail on the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.isascii():
            record.msg, record.args = _utf8(message), ()
        message_id = getattr(record, "message_id", None)
        if isinstance(message_id, str) and not message_id.isascii():
            record.message_id = _utf8(message_id)
        return True


_log.addFilter(_PeerText())

DEFAULT_CALL_TIMEOUT: Final = 30.0
"""Seconds a CALL may wait for its answer; OCPP leaves the value to the implementation."""

_MAX_ID_LENGTH: Final = 36
_DESCRIPTION_LENGTH: Final = 255
_ANSWERS_KEPT: Final = 32
_EXPIRED_KEPT: Final = 32
_FRAME_EXCERPT: Final = 200
# The start of a frame whose JSON is broken: enough to read its type and message id.
_FRAME_HEAD: Final = re.compile(r'\s*\[\s*(\d{1,3})\s*,\s*"([^"\\]{1,36})"')


class MessageType(IntEnum):
    """OCPP-J message type numbers; 5 and 6 exist from OCPP 2.1 on."""

    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4
    CALLRESULTERROR = 5
    SEND = 6


_TYPES_BY_VERSION: Final[Mapping[OcppVersion, frozenset[int]]] = {
    OcppVersion.V16: frozenset({2, 3, 4}),
    OcppVersion.V201: frozenset({2, 3, 4}),
    OcppVersion.V21: frozenset({2, 3, 4, 5, 6}),
}


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallReceived:
    """The peer asks ``action``; answer with ``send_result`` or ``send_error`` on ``unique_id``.

    ``payload`` is a Struct when the protocol decodes ``action`` into one (see ``payloads``).
    """

    unique_id: str
    action: str
    payload: dict[str, Any] | Payload
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SendReceived:
    """An unconfirmed OCPP 2.1 SEND message; it must not be answered."""

    unique_id: str
    action: str
    payload: dict[str, Any]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallResultReceived:
    """The peer answered our CALL ``unique_id`` with a valid CALLRESULT."""

    unique_id: str
    action: str
    payload: dict[str, Any]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallErrorReceived:
    """Our CALL ``unique_id`` failed.

    Either the peer answered with a CALLERROR (``local`` False; ``raw_code`` is its errorCode as
    sent, ``code`` what it means, GenericError when unknown) or its CALLRESULT failed validation
    here (``local`` True).
    """

    unique_id: str
    action: str
    code: ErrorCode
    description: str
    details: dict[str, Any] = field(default_factory=dict)
    raw_code: str = ""
    local: bool = False


@dataclass(frozen=True, slots=True)
class CallTimedOut:
    """Our CALL ``unique_id`` got no answer in time; a late answer will be dropped."""

    unique_id: str
    action: str


@dataclass(frozen=True, slots=True)
class CallCancelled:
    """Our CALL ``unique_id`` (outstanding or still queued) ended because the protocol closed."""

    unique_id: str
    action: str


@dataclass(frozen=True, slots=True)
class CallResultErrorReceived:
    """OCPP 2.1: the peer could not process our CALLRESULT to its CALL ``unique_id``."""

    unique_id: str
    action: str
    code: ErrorCode
    description: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProtocolViolation:
    """A frame from the peer was rejected or dropped.

    ``replied`` says whether a CALLERROR (or CALLRESULTERROR) with ``code`` went back. ``frame``
    is the start of the offending text, for the log.
    """

    description: str
    code: ErrorCode | None = None
    unique_id: str | None = None
    replied: bool = False
    frame: str = ""


Event = (
    CallReceived
    | SendReceived
    | CallResultReceived
    | CallErrorReceived
    | CallTimedOut
    | CallCancelled
    | CallResultErrorReceived
    | ProtocolViolation
)


# --- errors of the caller ---------------------------------------------------------------------


class OutgoingMessageError(InvalidInputError):
    """A call, result or SEND we were asked to send is not valid OCPP; nothing was sent.

    ``code`` is the RPC error code the peer would have answered with.
    """

    def __init__(self, message: str, code: ErrorCode, field: str | None = None) -> None:
        super().__init__(message, field)
        self.code = code


class ProtocolUsageError(IntercargaError):
    """The protocol object was used out of order, e.g. answering a call that was not received."""


class ProtocolClosedError(IntercargaError):
    """The connection is closed: nothing more can be sent on it."""


# --- the protocol -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Call:
    unique_id: str
    action: str
    frame: str
    timeout: float
    deadline: float = 0.0


@dataclass(frozen=True, slots=True)
class _Answer:
    action: str
    payload: dict[str, Any] | Payload
    frame: str


# msgspec writes a frame in a tenth of the json module's time, UTF-8 as OCPP-J sends it; a Decimal
# (which json cannot write) as the number it is.
_encode_frame: Final = msgspec.json.Encoder(decimal_format="number").encode


def _dumps(message: list[Any]) -> str:
    try:
        return _encode_frame(message).decode()
    except UnicodeEncodeError:
        # An unpaired surrogate the peer sent as a JSON escape (``"\ud800"``) and we echo (its
        # message id, its action): written raw it is not UTF-8 and the frame could not be sent.
        # Escaped again, the peer gets back exactly what it sent.
        return json.dumps(message, separators=(",", ":"), ensure_ascii=True)


# A WebSocket text frame is valid UTF-8, so a lone surrogate can only come as a \\uD800-style
# escape, which json.loads takes. In a payload such a string is not Unicode text: storing it
# fails later (PostgreSQL, every encoder), so the payload is refused (FormatViolation); in a
# message id it is only echoed back, escaped again. Looked for only when the frame has such an
# escape (an escaped emoji is a valid pair), so other frames cost one search.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _not_text(frame: str, value: Any) -> bool:
    """Whether ``value`` (parsed from ``frame``) holds a lone surrogate, in a key or a value."""
    if _SURROGATE_ESCAPE.search(frame) is None:
        return False
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode()
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _reject_constant(name: str) -> Any:
    # json.loads accepts NaN and Infinity, which are not JSON.
    raise ValueError(f"{name} is not JSON")


_decode_frame: Final = json.JSONDecoder(parse_constant=_reject_constant).decode
# A CALL whose payload is decoded later, into the Struct of its action. msgspec refuses NaN,
# Infinity and lone surrogates as not JSON, so what it reads the slow path would read the same.
_decode_call_frame: Final = msgspec.json.Decoder(tuple[int, str, str, msgspec.Raw]).decode


def _new_id() -> str:
    return str(uuid4())


class Protocol:
    """One OCPP-J connection's RPC state; see the module docstring for the rules it keeps.

    :param version: the negotiated OCPP version.
    :param role: which end we are; decides which actions we accept and may send.
    :param validator: validates every payload in and out; None skips validation (tests, tools).
    :param call_timeout: default seconds our CALL waits for its answer.
    :param station_id: only for log records.
    :param id_factory: makes message ids for what we send (default: UUID4).
    :param now: the clock's reading at creation.
    :param payloads: decoders of the CALL payloads to hand over as Structs instead of dicts
        (:func:`~intercarga.ocpp.payloads.payload_decoders`): such a CALL is read and validated
        in one pass. A payload its decoder refuses takes the dict path (JSON, then the
        validator), so what is accepted and every CALLERROR stay those of the validator.
    """

    def __init__(
        self,
        version: OcppVersion,
        *,
        role: Role = Role.CSMS,
        validator: Validator | None = None,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        station_id: str = "",
        id_factory: Callable[[], str] = _new_id,
        now: float = 0.0,
        payloads: Mapping[str, PayloadDecoder] | None = None,
    ) -> None:
        if validator is not None and validator.version is not version:
            raise ValueError("the validator is for another OCPP version")
        if payloads and validator is None:
            raise ValueError("payload Structs validate: they need the validator to fall back on")
        self.version: Final = version
        self.role: Final = role
        self.validator = validator
        self.call_timeout = call_timeout
        self.station_id = station_id
        self._id_factory = id_factory
        self._now = now
        self._known = known_actions(version)
        self._receivable = receivable_actions(version, role)
        self._sendable = sendable_actions(version, role)
        self._send_only = SEND_ACTIONS[version]
        self._types = _TYPES_BY_VERSION[version]
        self._decoders: Mapping[str, PayloadDecoder] = {
            action: decode
            for action, decode in (payloads or {}).items()
            if action in self._receivable and action not in self._send_only
        }
        self._outbox: list[str] = []
        self._outstanding: _Call | None = None
        self._queue: deque[_Call] = deque()
        self._handling: dict[str, tuple[str, dict[str, Any] | Payload]] = {}
        self._answered: OrderedDict[str, _Answer] = OrderedDict()
        self._expired: deque[str] = deque(maxlen=_EXPIRED_KEPT)
        self._closed = False

    # -- what the I/O adapter reads ------------------------------------------------------------

    def data_to_send(self) -> list[str]:
        """Text frames to write to the socket, in order; each frame is returned once."""
        frames, self._outbox = self._outbox, []
        return frames

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must be called next (the outstanding call's deadline), if ever."""
        return self._outstanding.deadline if self._outstanding is not None else None

    @property
    def outstanding(self) -> tuple[str, str] | None:
        """(message id, action) of our CALL awaiting its answer, if any."""
        call = self._outstanding
        return (call.unique_id, call.action) if call is not None else None

    @property
    def queued(self) -> int:
        """How many of our CALLs wait behind the outstanding one."""
        return len(self._queue)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- time ----------------------------------------------------------------------------------

    def tick(self, now: float) -> list[Event]:
        """Advance the clock to ``now``; the outstanding call times out if its deadline passed."""
        self._advance(now)
        events: list[Event] = []
        call = self._outstanding
        if call is not None and self._now >= call.deadline:
            _log.warning(
                "OCPP call %s %s timed out after %ss",
                call.action,
                call.unique_id,
                call.timeout,
                extra={"station_id": self.station_id},
            )
            events.append(CallTimedOut(call.unique_id, call.action))
            self._expired.append(call.unique_id)
            self._outstanding = None
            self._dispatch()
        return events

    def _advance(self, now: float | None) -> None:
        if now is not None and now > self._now:
            self._now = now

    # -- sending -------------------------------------------------------------------------------

    def send_call(
        self,
        action: str,
        payload: Mapping[str, Any],
        *,
        timeout: float | None = None,
        now: float | None = None,
    ) -> str:
        """Validate and send (or queue) a CALL; returns its message id.

        Raises :class:`OutgoingMessageError` if ``action`` is not ours to send in this version or
        ``payload`` is not valid, :class:`ProtocolClosedError` after :meth:`close`.
        """
        self._check_open()
        self._advance(now)
        if action in self._send_only:
            raise OutgoingMessageError(
                f"{action} is sent as SEND, not CALL", ErrorCode.PROTOCOL_ERROR, "action"
            )
        body = self._outgoing(action, payload)
        unique_id = self._id_factory()
        frame = _dumps([MessageType.CALL, unique_id, action, body])
        self._queue.append(
            _Call(unique_id, action, frame, self.call_timeout if timeout is None else timeout)
        )
        if self._outstanding is None:
            self._dispatch()
        return unique_id

    def send_message(self, action: str, payload: Mapping[str, Any]) -> str:
        """OCPP 2.1: send an unconfirmed SEND message at once; returns its message id."""
        self._check_open()
        if action not in self._send_only:
            raise OutgoingMessageError(
                f"{action} is not a SEND message in OCPP {self.version.value}",
                ErrorCode.PROTOCOL_ERROR,
                "action",
            )
        body = self._outgoing(action, payload)
        unique_id = self._id_factory()
        self._outbox.append(_dumps([MessageType.SEND, unique_id, action, body]))
        return unique_id

    def send_result(self, unique_id: str, payload: Mapping[str, Any]) -> None:
        """Answer the peer's CALL ``unique_id`` with a CALLRESULT.

        Raises :class:`ProtocolUsageError` if that call is not awaiting an answer and
        :class:`OutgoingMessageError` if ``payload`` is not a valid response (the call then
        still awaits an answer: send an error instead).
        """
        self._check_open()
        action, request = self._awaiting(unique_id)
        body = dict(payload)
        if self.validator is not None:
            try:
                self.validator.response(action, body, strict=True)
            except CallError as error:
                raise OutgoingMessageError(
                    error.description, error.code, error.details.get("field")
                ) from None
        self._answer(unique_id, action, request, _dumps([MessageType.CALLRESULT, unique_id, body]))

    def send_error(
        self,
        unique_id: str,
        error: CallError | ErrorCode,
        description: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Answer the peer's CALL ``unique_id`` with a CALLERROR."""
        self._check_open()
        action, request = self._awaiting(unique_id)
        if isinstance(error, CallError):
            code, description, details = error.code, error.description, error.details
        else:
            code = error
        self._answer(
            unique_id, action, request, self._error_frame(unique_id, code, description, details)
        )

    def close(self) -> list[Event]:
        """The connection is gone: end every call of ours still waiting, drop unsent frames."""
        events: list[Event] = []
        if self._outstanding is not None:
            events.append(CallCancelled(self._outstanding.unique_id, self._outstanding.action))
            self._outstanding = None
        events.extend(CallCancelled(call.unique_id, call.action) for call in self._queue)
        self._queue.clear()
        self._outbox.clear()
        self._handling.clear()
        self._closed = True
        return events

    def _check_open(self) -> None:
        if self._closed:
            raise ProtocolClosedError(
                f"the OCPP connection of {self.station_id or 'the station'} is closed"
            )

    def _outgoing(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        if action not in self._sendable:
            known = action in self._known
            raise OutgoingMessageError(
                f"{action} is not an action the {self.role.value} sends in OCPP "
                f"{self.version.value.removeprefix('ocpp')}",
                ErrorCode.NOT_SUPPORTED if known else ErrorCode.NOT_IMPLEMENTED,
                "action",
            )
        body = dict(payload)
        if self.validator is not None:
            try:
                self.validator.request(action, body, strict=True)
            except CallError as error:
                raise OutgoingMessageError(
                    error.description, error.code, error.details.get("field")
                ) from None
        return body

    def _dispatch(self) -> None:
        if self._outstanding is None and self._queue:
            call = self._queue.popleft()
            call.deadline = self._now + call.timeout
            self._outstanding = call
            self._outbox.append(call.frame)

    def _awaiting(self, unique_id: str) -> tuple[str, dict[str, Any] | Payload]:
        try:
            return self._handling[unique_id]
        except KeyError:
            raise ProtocolUsageError(f"no call {unique_id!r} is awaiting an answer") from None

    def _answer(
        self, unique_id: str, action: str, request: dict[str, Any] | Payload, frame: str
    ) -> None:
        del self._handling[unique_id]
        self._outbox.append(frame)
        self._answered[unique_id] = _Answer(action, request, frame)
        self._answered.move_to_end(unique_id)
        while len(self._answered) > _ANSWERS_KEPT:
            self._answered.popitem(last=False)

    def _error_frame(
        self,
        unique_id: str,
        code: ErrorCode,
        description: str,
        details: Mapping[str, Any] | None,
        message_type: MessageType = MessageType.CALLERROR,
    ) -> str:
        return _dumps(
            [
                message_type,
                unique_id,
                wire_code(code, self.version),
                description[:_DESCRIPTION_LENGTH],
                dict(details or {}),
            ]
        )

    # -- receiving -----------------------------------------------------------------------------

    def receive_text(self, text: str, *, now: float | None = None) -> list[Event]:
        """Process one text frame from the peer; returns what happened, frames go to the outbox."""
        self._advance(now)
        if self._closed:
            return []
        events: list[Event] = []
        if self._decoders and self._receive_payload(text, events):
            return events
        try:
            message = _decode_frame(text)
        except (ValueError, RecursionError):
            self._unreadable(text, events)
            return events
        if not isinstance(message, list) or len(message) < 2:
            self._reject(events, text, None, ErrorCode.RPC_FRAMEWORK_ERROR, "not an OCPP-J message")
            return events
        type_id, unique_id = message[0], message[1]
        if not isinstance(unique_id, str) or not unique_id:
            unique_id = None
        if type(type_id) is not int:
            self._reject(
                events,
                text,
                unique_id,
                ErrorCode.RPC_FRAMEWORK_ERROR,
                "message type is not a number",
            )
        elif type_id not in self._types:
            self._reject(
                events,
                text,
                unique_id,
                ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED,
                f"message type {type_id} is not supported",
            )
        elif unique_id is None:
            self._reject(
                events, text, None, ErrorCode.RPC_FRAMEWORK_ERROR, "message id is not a string"
            )
        elif type_id == MessageType.CALL:
            self._on_call(message, unique_id, text, events)
        elif type_id == MessageType.CALLRESULT:
            self._on_result(message, unique_id, text, events)
        elif type_id == MessageType.CALLERROR:
            self._on_error(message, unique_id, text, events)
        elif type_id == MessageType.CALLRESULTERROR:
            self._on_result_error(message, unique_id, text, events)
        else:
            self._on_send(message, unique_id, text, events)
        return events

    def _receive_payload(self, text: str, events: list[Event]) -> bool:
        """The one-pass path of a CALL whose action has a payload decoder; False (nothing done)
        when the frame is anything else or anything about it is wrong: the dict path then
        answers it exactly as it answers every frame."""
        try:
            type_id, unique_id, action, raw = _decode_call_frame(text)
        except (msgspec.MsgspecError, RecursionError):  # msgspec's depth limit is a RecursionError
            return False
        decode = self._decoders.get(action)
        if (
            decode is None
            or type_id != MessageType.CALL
            or not unique_id
            or len(unique_id) > _MAX_ID_LENGTH
            or unique_id in self._handling
        ):
            return False
        try:
            payload = decode(raw)
        except (msgspec.MsgspecError, RecursionError):
            return False
        if self._answered_again(unique_id, action, payload):
            return True
        self._handling[unique_id] = (action, payload)
        events.append(CallReceived(unique_id, action, payload))
        return True

    def _answered_again(self, unique_id: str, action: str, payload: object) -> bool:
        """Whether the CALL repeats one answered already (same id, action and payload: its
        answer was lost on the way), the kept answer then sent again rather than the call
        handled twice."""
        answer = self._answered.get(unique_id)
        if answer is None or answer.action != action or answer.payload != payload:
            return False
        _log.info(
            "OCPP call %s %s repeated; answered again",
            action,
            unique_id,
            extra={"station_id": self.station_id},
        )
        self._outbox.append(answer.frame)
        return True

    def _unreadable(self, text: str, events: list[Event]) -> None:
        head = _FRAME_HEAD.match(text)
        if head is None:
            self._reject(
                events, text, None, ErrorCode.RPC_FRAMEWORK_ERROR, "frame is not valid JSON"
            )
            return
        type_id, unique_id = int(head.group(1)), head.group(2)
        if type_id == MessageType.CALL:
            self._reject(
                events, text, unique_id, ErrorCode.FORMAT_VIOLATION, "payload is not valid JSON"
            )
        elif type_id == MessageType.CALLRESULT and self._is_outstanding(unique_id):
            self._invalid_result(
                unique_id,
                CallError(ErrorCode.FORMAT_VIOLATION, "CALLRESULT is not valid JSON"),
                text,
                events,
            )
        else:
            self._violation(events, text, unique_id, "frame is not valid JSON; not answered")

    def _on_call(self, message: list[Any], unique_id: str, text: str, events: list[Event]) -> None:
        if len(message) != 4 or not isinstance(message[2], str):
            self._reject(
                events,
                text,
                unique_id,
                ErrorCode.RPC_FRAMEWORK_ERROR,
                "a CALL has 4 elements: type, id, action, payload",
            )
            return
        action: str = message[2]
        if len(unique_id) > _MAX_ID_LENGTH:
            self._reject(
                events,
                text,
                unique_id,
                ErrorCode.RPC_FRAMEWORK_ERROR,
                "message id is longer than 36 characters",
            )
            return
        payload = {} if message[3] is None else message[3]  # OCPP-J allows null for "no payload"
        if unique_id in self._handling:
            self._violation(
                events, text, unique_id, "repeated while the first is being handled; dropped"
            )
            return
        if self._answered_again(unique_id, action, payload):
            return
        if not isinstance(payload, dict):
            self._reject(
                events,
                text,
                unique_id,
                ErrorCode.FORMAT_VIOLATION,
                f"{action}: payload is not a JSON object",
            )
        elif _not_text(text, payload):
            self._reject(
                events,
                text,
                unique_id,
                ErrorCode.FORMAT_VIOLATION,
                f"{action}: payload holds a string that is not Unicode text (a lone surrogate)",
            )
        elif action not in self._known:
            self._reject(
                events,
                text,
                unique_id,
                ErrorCode.NOT_IMPLEMENTED,
                f"{action} is not an OCPP {self.version.value.removeprefix('ocpp')} action",
            )
        elif action not in self._receivable:
            self._reject(
                events,
                text,
                unique_id,
                ErrorCode.NOT_SUPPORTED,
                f"{action} is not sent to the {self.role.value}",
            )
        elif action in self._send_only:
            self._reject(
                events,
                text,
                unique_id,
                ErrorCode.PROTOCOL_ERROR,
                f"{action} must be sent as SEND (message type 6)",
            )
        else:
            warnings: tuple[str, ...] = ()
            if self.validator is not None:
                try:
                    warnings = self.validator.request(action, payload)
                except CallError as error:
                    self._reject(
                        events, text, unique_id, error.code, error.description, error.details
                    )
                    return
                self._warn(warnings, unique_id)
            self._handling[unique_id] = (action, payload)
            events.append(CallReceived(unique_id, action, payload, warnings))

    def _on_send(self, message: list[Any], unique_id: str, text: str, events: list[Event]) -> None:
        # A SEND is never answered, not even with an error (OCPP-J 2.1 section 4.2.4).
        if len(message) != 4 or not isinstance(message[2], str):
            self._violation(events, text, unique_id, "a SEND has 4 elements; dropped")
            return
        action: str = message[2]
        payload = {} if message[3] is None else message[3]
        if action not in self._send_only or action not in self._receivable:
            self._violation(
                events, text, unique_id, f"{action} is not a SEND message for us; dropped"
            )
        elif not isinstance(payload, dict):
            self._violation(
                events, text, unique_id, f"{action}: payload is not a JSON object; dropped"
            )
        else:
            warnings: tuple[str, ...] = ()
            if self.validator is not None:
                try:
                    warnings = self.validator.request(action, payload)
                except CallError as error:
                    self._violation(
                        events, text, unique_id, f"{error.description}; dropped", error.code
                    )
                    return
                self._warn(warnings, unique_id)
            events.append(SendReceived(unique_id, action, payload, warnings))

    def _on_result(
        self, message: list[Any], unique_id: str, text: str, events: list[Event]
    ) -> None:
        if not self._is_outstanding(unique_id):
            self._unmatched(events, text, unique_id, "CALLRESULT")
            return
        call = self._outstanding
        assert call is not None
        payload = message[2] if len(message) == 3 else None
        if len(message) == 3 and payload is None:
            payload = {}  # OCPP-J allows null for "no payload"
        if not isinstance(payload, dict):
            error = CallError(
                ErrorCode.FORMAT_VIOLATION,
                f"{call.action}: a CALLRESULT has 3 elements and an object payload",
            )
            self._invalid_result(unique_id, error, text, events)
            return
        if _not_text(text, payload):
            error = CallError(
                ErrorCode.FORMAT_VIOLATION,
                f"{call.action}: payload holds a string that is not Unicode text (a lone surrogate)",
            )
            self._invalid_result(unique_id, error, text, events)
            return
        warnings: tuple[str, ...] = ()
        if self.validator is not None:
            try:
                warnings = self.validator.response(call.action, payload)
            except CallError as error:
                self._invalid_result(unique_id, error, text, events)
                return
            self._warn(warnings, unique_id)
        self._outstanding = None
        events.append(CallResultReceived(unique_id, call.action, payload, warnings))
        self._dispatch()

    def _invalid_result(
        self, unique_id: str, error: CallError, text: str, events: list[Event]
    ) -> None:
        call = self._outstanding
        assert call is not None and call.unique_id == unique_id
        replied = MessageType.CALLRESULTERROR in self._types
        if replied:
            self._outbox.append(
                self._error_frame(
                    unique_id,
                    error.code,
                    error.description,
                    error.details,
                    MessageType.CALLRESULTERROR,
                )
            )
        events.append(
            ProtocolViolation(
                error.description, error.code, unique_id, replied, text[:_FRAME_EXCERPT]
            )
        )
        _log.warning(
            "OCPP CALLRESULT %s rejected: %s",
            unique_id,
            error.description,
            extra={"station_id": self.station_id},
        )
        self._outstanding = None
        events.append(
            CallErrorReceived(
                unique_id,
                call.action,
                error.code,
                error.description,
                dict(error.details),
                "",
                local=True,
            )
        )
        self._dispatch()

    def _on_error(self, message: list[Any], unique_id: str, text: str, events: list[Event]) -> None:
        if not self._is_outstanding(unique_id):
            self._unmatched(events, text, unique_id, "CALLERROR")
            return
        call = self._outstanding
        assert call is not None
        raw_code = message[2] if len(message) > 2 and isinstance(message[2], str) else ""
        description = message[3] if len(message) > 3 and isinstance(message[3], str) else ""
        details = message[4] if len(message) > 4 and isinstance(message[4], dict) else {}
        if len(message) != 5 or not raw_code:
            # Malformed, but it names our call: the call has failed either way.
            self._violation(events, text, unique_id, "a CALLERROR has 5 elements")
        self._outstanding = None
        events.append(
            CallErrorReceived(
                unique_id,
                call.action,
                parse_code(raw_code) or ErrorCode.GENERIC_ERROR,
                description,
                details,
                raw_code,
            )
        )
        self._dispatch()

    def _on_result_error(
        self, message: list[Any], unique_id: str, text: str, events: list[Event]
    ) -> None:
        answer = self._answered.get(unique_id)
        if answer is None:
            self._violation(
                events, text, unique_id, "CALLRESULTERROR for no answer of ours; dropped"
            )
            return
        raw_code = message[2] if len(message) > 2 and isinstance(message[2], str) else ""
        description = message[3] if len(message) > 3 and isinstance(message[3], str) else ""
        details = message[4] if len(message) > 4 and isinstance(message[4], dict) else {}
        _log.warning(
            "OCPP peer rejected our answer to %s %s: %s %s",
            answer.action,
            unique_id,
            raw_code,
            description,
            extra={"station_id": self.station_id},
        )
        events.append(
            CallResultErrorReceived(
                unique_id,
                answer.action,
                parse_code(raw_code) or ErrorCode.GENERIC_ERROR,
                description,
                details,
            )
        )

    def _is_outstanding(self, unique_id: str) -> bool:
        return self._outstanding is not None and self._outstanding.unique_id == unique_id

    def _unmatched(self, events: list[Event], text: str, unique_id: str, kind: str) -> None:
        if unique_id in self._expired:
            # A late answer: its call already ended with CallTimedOut.
            _log.warning(
                "OCPP %s %s arrived after its call timed out; dropped",
                kind,
                unique_id,
                extra={"station_id": self.station_id},
            )
            return
        self._violation(events, text, unique_id, f"{kind} for no call of ours; dropped")

    def _reject(
        self,
        events: list[Event],
        text: str,
        unique_id: str | None,
        code: ErrorCode,
        description: str,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        reply_id = unique_id if unique_id is not None else "-1"
        self._outbox.append(self._error_frame(reply_id, code, description, details))
        events.append(ProtocolViolation(description, code, unique_id, True, text[:_FRAME_EXCERPT]))
        _log.warning(
            "OCPP frame rejected with %s: %s",
            code.value,
            description,
            extra={"station_id": self.station_id, "message_id": reply_id},
        )

    def _violation(
        self,
        events: list[Event],
        text: str,
        unique_id: str | None,
        description: str,
        code: ErrorCode | None = None,
    ) -> None:
        events.append(ProtocolViolation(description, code, unique_id, False, text[:_FRAME_EXCERPT]))
        _log.warning(
            "OCPP frame dropped: %s",
            description,
            extra={"station_id": self.station_id, "message_id": unique_id or ""},
        )

    def _warn(self, warnings: tuple[str, ...], unique_id: str) -> None:
        for warning in warnings:
            _log.warning(
                "OCPP payload accepted leniently: %s",
                warning,
                extra={"station_id": self.station_id, "message_id": unique_id},
            )
