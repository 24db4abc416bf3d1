"""OCPP-J RPC error codes and the typed error that becomes a CALLERROR at the edge.

One :class:`ErrorCode` per meaning, named as OCPP 2.0.1 / 2.1 spell it. OCPP-J 1.6 keeps two
misspelt names on the wire (``FormationViolation``, ``OccurenceConstraintViolation``; errata
5.1 and 5.2 of the OCPP-J 1.6 errata sheet: "Do not fix") and lacks two codes; :func:`wire_code`
is the one place that knows this. Incoming codes are read in either spelling by
:func:`parse_code`. This module must never build frames or know about sockets.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from intercarga.domain.station import OcppVersion
from intercarga.errors import IntercargaError

__all__ = [
    "CallError",
    "CallFailedError",
    "CallTimeoutError",
    "ErrorCode",
    "StationOfflineError",
    "parse_code",
    "wire_code",
]


class ErrorCode(StrEnum):
    """An RPC framework error code (OCPP-J 2.0.1 part 4 table 8, 2.1 part 4 table 9)."""

    FORMAT_VIOLATION = "FormatViolation"
    GENERIC_ERROR = "GenericError"
    INTERNAL_ERROR = "InternalError"
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    PROTOCOL_ERROR = "ProtocolError"
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
    SECURITY_ERROR = "SecurityError"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"


# OCPP-J 1.6 section 4.2.3 table 7 is the whole 1.6 vocabulary. The two codes 2.0.1 added map to
# the 1.6 code whose description covers them: a frame that is not a valid RPC message "is not
# conform the PDU structure" (FormationViolation), an unknown message type is "any other error".
_WIRE_16: Final[Mapping[ErrorCode, str]] = {
    ErrorCode.FORMAT_VIOLATION: "FormationViolation",
    ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION: "OccurenceConstraintViolation",
    ErrorCode.RPC_FRAMEWORK_ERROR: "FormationViolation",
    ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED: "GenericError",
}

_BY_WIRE_NAME: Final[Mapping[str, ErrorCode]] = {
    **{code.value: code for code in ErrorCode},
    "FormationViolation": ErrorCode.FORMAT_VIOLATION,
    "OccurenceConstraintViolation": ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
}


def wire_code(code: ErrorCode, version: OcppVersion) -> str:
    """The errorCode string to put in a CALLERROR sent on a ``version`` connection."""
    if version is OcppVersion.V16:
        return _WIRE_16.get(code, code.value)
    return code.value


def parse_code(text: object) -> ErrorCode | None:
    """The code a peer meant, accepting both 1.6 and 2.x spellings; None when unknown."""
    return _BY_WIRE_NAME.get(text) if isinstance(text, str) else None


class CallError(IntercargaError):
    """A CALL (or CALLRESULT) cannot be processed; the edge answers it with a CALLERROR.

    Raised by payload validation and by anything that handles a station's call and wants the
    station to see an RPC error rather than a regular response. ``description`` is cut to the
    255 characters OCPP-J allows when it goes on the wire.
    """

    def __init__(
        self,
        code: ErrorCode,
        description: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code.value}: {description}" if description else code.value)
        self.code = code
        self.description = description
        self.details: dict[str, Any] = dict(details or {})


# What a call of ours to a station can meet. They live here, not in the endpoint (server.py),
# so that those who send commands (the admin API, OCPI) need not import the I/O module.


class StationOfflineError(IntercargaError):
    """The station has no live connection."""


class CallTimeoutError(IntercargaError):
    """The station did not answer our call in time."""


class CallFailedError(IntercargaError):
    """The station answered our call with a CALLERROR (or an invalid CALLRESULT)."""

    def __init__(self, message: str, code: ErrorCode, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.code = code
        self.details = details
