"""HTTP problem details (RFC 9457): how every error leaves the HTTP API.

Core errors, request validation errors and routing errors all become ``application/problem+json``
with a status, a title and one ``detail`` line; validation errors also list each field. Nothing
here may turn a client's mistake into a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
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

__all__ = ["body_too_large", "install_problem_handlers", "problem", "validation_problem"]

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


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_problem(list(error.errors()))

    @app.exception_handler(ValidationError)
    async def _model_invalid(_request: Request, error: ValidationError) -> JSONResponse:
        return validation_problem([dict(e) for e in error.errors()])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        limit = request.scope.get("starlette.max_body_size")
        if error.status_code == 413 and isinstance(limit, int):
            return body_too_large(limit)
        return problem(error.status_code, str(error.detail))

    @app.exception_handler(IntercargaError)
    async def _core(request: Request, error: IntercargaError) -> JSONResponse:
        if isinstance(error, NotFoundError):
            return problem(404, str(error))
        if isinstance(error, ConflictError):
            return problem(409, str(error))
        if isinstance(error, InvalidInputError):
            field = error.field or "body"
            return problem(422, str(error), errors=[{"field": field, "message": error.reason}])
        if isinstance(error, StorageError):
            log.error("storage error on %s %s: %s", request.method, request.url.path, error)
            return problem(503, str(error))
        return problem(400, str(error))
