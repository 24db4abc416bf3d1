"""What every OCPI route shares: the route class, authentication and reading the body.

Every route is an :class:`OcpiRoute`: whatever happens inside, the answer is an OCPI envelope
with the spec's HTTP code (:func:`~intercarga.ocpi.envelope.error_response`), the request's
``X-Request-ID``/``X-Correlation-ID`` echoed, and one log line naming the partner and the ids.
Handlers authenticate with :func:`authenticate` and read bodies with :func:`read_json`; they hold
no protocol logic of their own beyond picking the version's models.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from intercarga.ocpi.envelope import (
    OcpiError,
    OcpiResponse,
    StatusCode,
    envelope,
    error_response,
)
from intercarga.ocpi.registrar import Authenticated, Registrar
from intercarga.ocpi.transport import MAX_JSON_DEPTH, JsonTooDeepError, message_ids, parse_json

__all__ = [
    "OcpiRoute",
    "authenticate",
    "json_bytes",
    "ocpi_list_response",
    "ocpi_response",
    "read_json",
]

log = logging.getLogger("intercarga.ocpi")


def ocpi_response(
    data: Any = None,
    status_code: int = StatusCode.SUCCESS,
    message: str | None = None,
    *,
    http_status: int = 200,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        envelope(data, status_code, message), status_code=http_status, headers=headers
    )


def json_bytes(value: Any) -> bytes:
    """``value`` written as :class:`JSONResponse` writes a body (``ocpi_response``'s): the same
    options, so that pieces written here join into the bytes it would have sent."""
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


_DATA = b'{"data":['


def ocpi_list_response(items: Sequence[bytes], *, headers: dict[str, str]) -> Response:
    """``ocpi_response(data, headers=headers)`` for a list ``data`` given as each item's
    :func:`json_bytes`, byte for byte: the list is joined, never decoded and written again."""
    empty = json_bytes(envelope([]))
    # The envelope opens with its data (envelope() puts it first): what follows "[" is the rest.
    assert empty.startswith(_DATA + b"]")
    body = b"".join((_DATA, b",".join(items), empty[len(_DATA) :]))
    return Response(body, media_type=JSONResponse.media_type, headers=headers)


class OcpiRoute(APIRoute):
    """A route whose every outcome, error or not, is an OCPI envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            started = time.perf_counter()
            ids = message_ids(request.headers)
            try:
                response = await handle(request)
            except RequestValidationError as error:
                fields = "; ".join(
                    f"{'.'.join(str(p) for p in item['loc'][1:])}: {item['msg']}"
                    for item in error.errors()
                )
                response = _json(
                    OcpiResponse(
                        200,
                        envelope(None, StatusCode.INVALID_OR_MISSING_PARAMETERS, fields),
                    ),
                    request,
                )
            except HTTPException as error:
                response = _json(
                    OcpiResponse(
                        error.status_code, envelope(None, StatusCode.CLIENT_ERROR, error.detail)
                    ),
                    request,
                )
            except Exception as error:
                reply = error_response(error)
                if reply.http_status >= 500:
                    log.exception("OCPI %s %s failed", request.method, request.url.path)
                response = _json(reply, request)
            for name, value in ids.items():
                response.headers[name] = value
            log.info(
                "OCPI %s %s -> %s",
                request.method,
                request.url.path,
                response.status_code,
                extra={
                    "partner": getattr(request.state, "partner_id", None),
                    "request_id": ids["X-Request-ID"],
                    "correlation_id": ids["X-Correlation-ID"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response

        return route


def _json(reply: OcpiResponse, request: Request) -> JSONResponse:
    # Kept on the request for the routes' dependencies, which see no exception (the envelope is
    # made here, inside them): the access point counts refusals from it (ocpi/nap.py).
    request.state.ocpi_error = reply.body
    return JSONResponse(reply.body, status_code=reply.http_status)


async def authenticate(registrar: Registrar, request: Request, module: str) -> Authenticated:
    """The calling partner; 401 with an envelope when the token is missing, unknown or limited."""
    who = await registrar.authenticate(request.headers.get("authorization"), module)
    request.state.partner_id = who.partner.id
    return who


async def read_json(request: Request) -> Any:
    """The request body as JSON; HTTP 400 (the transport layer) when it is not JSON."""
    raw = await request.body()
    if len(raw) > 1_000_000:
        raise OcpiError(StatusCode.CLIENT_ERROR, "request body too large (1 MB at most)", 413)
    try:
        return parse_json(raw)
    except JsonTooDeepError:
        raise OcpiError(
            StatusCode.CLIENT_ERROR,
            f"the request body nests deeper than {MAX_JSON_DEPTH} levels",
            400,
        ) from None
    except ValueError:
        raise OcpiError(
            StatusCode.CLIENT_ERROR, "the request body is not valid JSON", 400
        ) from None
