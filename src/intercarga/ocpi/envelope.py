"""The OCPI response envelope, its status codes, and the one translation of errors into them.

Every OCPI response body is ``{data, status_code, status_message, timestamp}``. The spec's rule
for HTTP codes: a request that is valid JSON, authenticated and addressed to an existing
resource has reached the OCPI layer, and then no HTTP error code may be returned: the problem is
told by the OCPI status code (2001 for a bad field, …) under HTTP 200. HTTP errors are left for
what happens before: 400 for a body that is not JSON, 401 for a missing or unknown credentials
token, 404 for a GET of an object that does not exist (and unknown URLs), 405 for the
credentials module's registration rules. Server faults are 3000 with HTTP 500, a database that
cannot be reached 3000 with HTTP 503.

Core errors (:mod:`intercarga.errors`) and validation errors are typed; :func:`error_response`
is the only place that turns them into an envelope. This module must never do I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any, Generic, TypeVar

from pydantic import Field, ValidationError

from intercarga.domain._types import utc_now
from intercarga.errors import (
    ConflictError,
    IntercargaError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from intercarga.ocpi.models._types import DateTime, OcpiModel, format_datetime

__all__ = [
    "Envelope",
    "OcpiError",
    "OcpiResponse",
    "StatusCode",
    "describe_validation_error",
    "envelope",
    "error_response",
]

T = TypeVar("T")


class StatusCode(IntEnum):
    """OCPI status codes (status_codes chapter); custom ranges x9xx are never used here."""

    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_OR_MISSING_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003
    HUB_ERROR = 4000
    UNKNOWN_RECEIVER = 4001
    FORWARD_TIMEOUT = 4002
    CONNECTION_PROBLEM = 4003


class Envelope(OcpiModel, Generic[T]):
    """The response format; ``data`` is an object, a list, a string, or absent on errors."""

    data: T | None = None
    status_code: int = Field(ge=1000, le=4999, strict=True)
    status_message: str | None = None
    timestamp: DateTime

    @property
    def ok(self) -> bool:
        return 1000 <= self.status_code < 2000


class OcpiError(Exception):
    """A failure to tell the peer as an OCPI status (and, where the spec says so, an HTTP code)."""

    def __init__(self, status_code: StatusCode, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.http_status = http_status

    def __str__(self) -> str:
        return f"{self.status_code.value} {self.message}"


@dataclass(frozen=True, slots=True)
class OcpiResponse:
    """An envelope ready to send: its HTTP status and JSON body."""

    http_status: int
    body: dict[str, Any]


def envelope(
    data: Any = None,
    status_code: int = StatusCode.SUCCESS,
    message: str | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An envelope as a JSON value. ``data`` must already be JSON (use ``models.dump``)."""
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    body["status_code"] = int(status_code)
    if message is not None:
        body["status_message"] = message
    body["timestamp"] = format_datetime(now or utc_now())
    return body


def _field(location: tuple[int | str, ...]) -> str:
    return ".".join(_part(str(part)) for part in location) or "body"


def _part(name: str) -> str:
    # A field name is the partner's text: a line break or control character in it must not
    # break the one-line message (or a log line); it is shown as a JSON string instead.
    return name if name.isprintable() else json.dumps(name)


def describe_validation_error(error: ValidationError, prefix: str = "") -> str:
    """One line naming every bad field: ``connectors.0.power_type: Field required; …``."""
    parts = []
    for item in error.errors():
        where = _field(tuple(item["loc"]))
        if prefix:
            where = f"{prefix}.{where}" if where != "body" else prefix
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field (not in this OCPI version)"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def error_response(error: BaseException) -> OcpiResponse:
    """The envelope for any error raised while serving an OCPI request."""
    if isinstance(error, OcpiError):
        return OcpiResponse(error.http_status, envelope(None, error.status_code, error.message))
    if isinstance(error, ValidationError):
        return OcpiResponse(
            200,
            envelope(
                None, StatusCode.INVALID_OR_MISSING_PARAMETERS, describe_validation_error(error)
            ),
        )
    if isinstance(error, InvalidInputError):
        return OcpiResponse(
            200, envelope(None, StatusCode.INVALID_OR_MISSING_PARAMETERS, str(error))
        )
    if isinstance(error, NotFoundError):
        return OcpiResponse(404, envelope(None, StatusCode.CLIENT_ERROR, str(error)))
    if isinstance(error, ConflictError):
        return OcpiResponse(200, envelope(None, StatusCode.CLIENT_ERROR, str(error)))
    if isinstance(error, StorageError):
        return OcpiResponse(503, envelope(None, StatusCode.SERVER_ERROR, str(error)))
    if isinstance(error, IntercargaError):
        return OcpiResponse(200, envelope(None, StatusCode.CLIENT_ERROR, str(error)))
    return OcpiResponse(500, envelope(None, StatusCode.SERVER_ERROR, "internal server error"))
