"""HTTP problem details (RFC 9457): how every error leaves the HTTP API.

Core errors, request validation errors and routing errors all become ``application/problem+json``
with a status, a title and one ``detail`` line; validation errors also list each field. Nothing
here may turn a client's mistake into a 500. A browser (``Accept: text/html``) that asks for a
page that is not there gets the error page it was given (the dashboard's, in the visitor's
language) instead; API clients always get the problem JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from intercarga.errors import (
    ConflictError,
    IntercargaError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from intercarga.store.database import (
    UNREACHABLE_ERRORS,
    database_away,
    describe_database_error,
)

__all__ = [
    "ErrorPage",
    "body_too_large",
    "install_problem_handlers",
    "problem",
    "validation_problem",
    "wants_html",
]

ErrorPage = Callable[[Request, int], Awaitable[Response]]
"""An HTML page for an HTTP status, shown to a browser instead of the problem JSON."""

# The statuses a browser may meet by following or typing an address.
_PAGE_STATUSES = frozenset({404, 405})

log = logging.getLogger(__name__)

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    409: "Conflict",
    413: "Content too large",
    422: "Invalid input",
    429: "Too many requests",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def body_too_large(limit: int) -> JSONResponse:
    return problem(413, f"the request body is larger than {limit} bytes")


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_problem(errors: list[dict[str, Any]]) -> JSONResponse:
    fields = [
        {"field": _field(error.get("loc", ())), "message": error.get("msg", "invalid")}
        for error in errors
    ]
    first = fields[0] if fields else {"field": "body", "message": "invalid"}
    return problem(422, f"{first['field']}: {first['message']}", errors=fields)


def wants_html(request: Request) -> bool:
    """A browser navigating asks for ``text/html`` by name; API clients send ``*/*`` or JSON."""
    accept = request.headers.get("accept", "")
    return request.method in ("GET", "HEAD") and "text/html" in accept


def install_problem_handlers(app: FastAPI, error_page: ErrorPage | None = None) -> None:
    async def _page_or(request: Request, answer: JSONResponse) -> Response:
        if error_page is not None and answer.status_code in _PAGE_STATUSES and wants_html(request):
            return await error_page(request, answer.status_code)
        return answer

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_problem(list(error.errors()))

    @app.exception_handler(ValidationError)
    async def _model_invalid(_request: Request, error: ValidationError) -> JSONResponse:
        return validation_problem([dict(e) for e in error.errors()])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        limit = request.scope.get("starlette.max_body_size")
        if error.status_code == 413 and isinstance(limit, int):
            return body_too_large(limit)
        return await _page_or(request, problem(error.status_code, str(error.detail)))

    async def _database_away(request: Request, error: Exception) -> Response:
        # The database lost (down, restarting, the connection cut) is a 503 in one line, not
        # a 500 with a traceback; any other error of these types goes on as unexpected.
        if not database_away(error):
            raise error
        reason = describe_database_error(error)
        log.error("storage error on %s %s: %s", request.method, request.url.path, reason)
        return problem(503, f"the database is unavailable; try again later ({reason})")

    for kind in UNREACHABLE_ERRORS:
        app.add_exception_handler(kind, _database_away)

    @app.exception_handler(IntercargaError)
    async def _core(request: Request, error: IntercargaError) -> Response:
        if isinstance(error, NotFoundError):
            return await _page_or(request, problem(404, str(error)))
        if isinstance(error, ConflictError):
            return problem(409, str(error))
        if isinstance(error, InvalidInputError):
            field = error.field or "body"
            return problem(422, str(error), errors=[{"field": field, "message": error.reason}])
        if isinstance(error, StorageError):
            log.error("storage error on %s %s: %s", request.method, request.url.path, error)
            return problem(503, str(error))
        return problem(400, str(error))
