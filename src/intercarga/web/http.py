"""The HTTP application: health, metrics, the admin API and its OpenAPI docs, on one FastAPI app.

Built by the composition root (``app.py``) from exactly what it serves: the admin API's
services, the admin token checker, a health probe, the metrics registry and the body size
limit. It must never open a database, read configuration, or write into what it is given.
Other layers (OCPI, open data, dashboard) add their routers through :func:`create_http_app`'s
``routers`` argument.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intercarga import __version__
from intercarga.errors import DegradedError, StorageError
from intercarga.web.api import admin_router
from intercarga.web.api.services import AdminServices
from intercarga.web.auth import AdminAuth, UnauthorizedError, require_admin
from intercarga.web.problems import ErrorPage, install_problem_handlers, problem

__all__ = ["HealthProbe", "create_http_app"]

HealthProbe = Callable[[], Awaitable[None]]
"""Checks the database; raises :class:`StorageError` when it cannot be used."""


def _route_template(scope: Scope) -> str:
    """The path with its parameters put back as ``{name}``: one metric series per route."""
    if scope.get("route") is None:
        return "unmatched"
    parts = scope["path"].split("/")
    names = {value: name for name, value in scope.get("path_params", {}).items()}
    return "/".join(f"{{{names[part]}}}" if part in names else part for part in parts)


class _Measure:
    """Counts every HTTP request and times it, by method, route template and status.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``) runs the
    app in a task of its own with streams between them, about a millisecond a request."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self._app = app
        self._requests = requests
        self._latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self._app(scope, receive, sending)
        template = _route_template(scope)
        self._requests.labels(scope["method"], template, str(status)).inc()
        self._latency.labels(template).observe(time.perf_counter() - started)


def create_http_app(
    *,
    admin: AdminServices,
    admin_auth: AdminAuth,
    health: HealthProbe,
    metrics_registry: CollectorRegistry,
    max_body_size: int,
    routers: Iterable[APIRouter] = (),
    error_page: ErrorPage | None = None,
) -> FastAPI:
    """The app; its request metrics are registered in ``metrics_registry`` (served at ``/metrics``).

    ``error_page`` answers a browser's 404 (an address that is not there) with HTML.
    """
    app = FastAPI(
        title="Intercarga",
        version=__version__,
        description="Admin API of an Intercarga deployment. Authenticate with "
        "`Authorization: Bearer <admin token>`.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        # A chunked body is cut off as it streams in (a Content-Length over the limit is refused
        # before it gets here, by the listener's HttpLimits): FastAPI reads a body before the
        # route's dependencies, the admin authentication among them.
        max_body_size=max_body_size,
    )
    app.state.admin = admin
    app.state.store = admin.store
    app.state.admin_auth = admin_auth
    install_problem_handlers(app, error_page)

    @app.exception_handler(UnauthorizedError)
    async def _unauthorized(_request: Request, _error: UnauthorizedError) -> JSONResponse:
        return problem(401, "a valid admin bearer token is required")

    registry = metrics_registry
    requests = Counter(
        "intercarga_http_requests",
        "HTTP requests served",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "intercarga_http_request_seconds", "HTTP request latency", ["route"], registry=registry
    )

    app.add_middleware(_Measure, requests=requests, latency=latency)

    @app.get("/healthz", tags=["operations"], summary="Liveness and database reachability")
    async def healthz() -> JSONResponse:
        try:
            await health()
        except StorageError as error:
            # The process lives and uses the database again once it answers (each connection
            # is checked before use): degraded, not down.
            return JSONResponse({"status": "degraded", "database": str(error)}, status_code=503)
        except DegradedError as error:
            body = {"status": "degraded", "database": "ok", error.component: str(error)}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    # The given routers first: FastAPI tries the routes in order, and an OCPI call (a real-time
    # authorization through a hub) should not be tried against every admin route before its
    # own (issue 16: a tenth of a hub's time per request). No path of one set is a path of the
    # other, so the order decides no request's route.
    for router in routers:
        app.include_router(router)
    app.include_router(admin_router(), prefix="/api/v1", dependencies=[Depends(require_admin)])
    return app
