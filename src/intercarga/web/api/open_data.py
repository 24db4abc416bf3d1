"""The open-data HTTP API at ``/open-data/v1``: no sign-in, published Locations only.

One router, built from what it serves (published Locations, how a Location reads as OCPI 2.2.1,
the licence, a clock) and passed to the HTTP app by the composition root. Every answer, refusals included, carries CORS headers and
the licence (in the body's metadata for JSON, in a ``Link: rel="license"`` header always); data
answers carry a strong ETag (``If-None-Match`` → 304), ``Cache-Control`` and gzip when asked.
Each client address has its own token bucket (429 with ``Retry-After``). A parameter the API
cannot answer is 400 problem JSON naming it. This module must never serve anything but
``publish: true`` Locations: no token, session, CDR or credential is reachable from here.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from intercarga import __version__
from intercarga.domain import Location
from intercarga.registry.export_ocm import location_to_poi
from intercarga.registry.ocm import OcmReference, ocm_reference
from intercarga.registry.open_data import (
    HISTORY_MAX,
    MAX_LIMIT,
    RELIABILITY_MAX,
    CountryStatistics,
    Cursor,
    Licence,
    LocationRenderer,
    OpenDataQuery,
    OpenDataQueryError,
    RenderedLocations,
    csv_bytes,
    etag,
    geojson_document,
    history_document,
    json_bytes,
    matches,
    ocpi_document,
    ocpi_envelope,
    ocpi_fragment,
    parse_period,
    parse_query,
    reliability_document,
    statistics_document,
)
from intercarga.store.open_data import PublishedLocations, Watermark
from intercarga.store.registry import EvseKey, StatusHistoryRepository
from intercarga.web.limits import RateLimiter
from intercarga.web.problems import problem

__all__ = ["PREFIX", "OpenDataApi"]

PREFIX = "/open-data/v1"
SCAN_CAP = 5_000  # rows read for one page at most; a sparse filter then pages on (Link next)
_FINE_BATCH = 500
_GZIP_ABOVE = 1024
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Link, Retry-After",
}
_DOCS = {
    "country": "ISO 3166-1 alpha-2 or alpha-3 code of the Location's country (CL or CHL)",
    "operator": "the charge point operator's OCPI party: country_code-party_id (CL-ICG)",
    "bbox": "west,south,east,north in degrees (WGS 84)",
    "latitude": "centre of a circle, with longitude and radius",
    "longitude": "centre of a circle, with latitude and radius",
    "radius": "metres, at most 100000",
    "standard": "OCPI connector standards, comma-separated (IEC_62196_T2_COMBO,CHADEMO)",
    "min_power_kw": "at least one connector of at least this power",
    "status": "EVSE status now, comma-separated OCPI EVSEStatus values (AVAILABLE)",
    "vehicle": "a vehicle of the catalogue (BYD Dolphin): Locations it can charge at",
    "market": "where that vehicle was sold (ISO alpha-2); defaults to country",
    "updated_since": "ISO 8601 time with zone: only Locations changed at or after it",
    "cursor": "where the next page starts; take it from the Link rel=next",
    "limit": f"Locations per page, 1 … {MAX_LIMIT} (default 100)",
    "strict": "true: exactly OCPI 2.2.1, no x_ extension fields",
}
_PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
_COMMON: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    400: {"description": "A parameter the API cannot answer, named", "content": _PROBLEM},
    429: {"description": "Too many requests from this client; see Retry-After"},
}


def _query_parameters() -> Any:
    """Documented parameters; read from the URL by :func:`parse_query`, so that a bad value is
    a 400 naming it rather than FastAPI's 422."""

    def parameters(
        country: str | None = Query(None, description=_DOCS["country"]),
        operator: str | None = Query(None, description=_DOCS["operator"]),
        bbox: str | None = Query(None, description=_DOCS["bbox"]),
        latitude: str | None = Query(None, description=_DOCS["latitude"]),
        longitude: str | None = Query(None, description=_DOCS["longitude"]),
        radius: str | None = Query(None, description=_DOCS["radius"]),
        standard: str | None = Query(None, description=_DOCS["standard"]),
        min_power_kw: str | None = Query(None, description=_DOCS["min_power_kw"]),
        status: str | None = Query(None, description=_DOCS["status"]),
        vehicle: str | None = Query(None, description=_DOCS["vehicle"]),
        market: str | None = Query(None, description=_DOCS["market"]),
        updated_since: str | None = Query(None, description=_DOCS["updated_since"]),
        cursor: str | None = Query(None, description=_DOCS["cursor"]),
        limit: str | None = Query(None, description=_DOCS["limit"]),
        strict: str | None = Query(None, description=_DOCS["strict"]),
    ) -> None:
        return None

    return parameters


@dataclass(slots=True)
class _Built:
    watermark: Watermark
    body: bytes


class OpenDataApi:
    """The open-data surface over the published Locations."""

    def __init__(
        self,
        locations: PublishedLocations,
        *,
        render: LocationRenderer,
        history: StatusHistoryRepository,
        licence: Licence | None = None,
        reference: OcmReference | None = None,
        rate: float = 10.0,
        burst: int = 40,
        max_age: int = 60,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._locations = locations
        # Pages reuse what they rendered; the bulk file renders everything once per change and
        # would only push the pages' Locations out of the cache.
        self._render = RenderedLocations(render)
        self._render_all = render
        self._history = history
        self._licence = licence or Licence()
        self._reference = reference or ocm_reference()
        self._limiter = RateLimiter(rate, burst)
        self._max_age = max_age
        self._clock = clock
        self._monotonic = monotonic
        self._bulk: _Built | None = None
        self._statistics: dict[str | None, _Built] = {}
        self._building = asyncio.Lock()

    # -- the work --------------------------------------------------------------------------
    async def select(self, query: OpenDataQuery) -> tuple[list[Location], Cursor | None]:
        """One page of matching Locations and the cursor after it (None: nothing more)."""
        fine = (
            bool(query.near or query.standards or query.statuses or query.inlets)
            or query.min_power_kw is not None
        )
        box = query.coarse_box()
        after = query.cursor
        found: list[Location] = []
        scanned = 0
        while True:
            batch_size = max(query.limit, _FINE_BATCH) if fine else query.limit
            batch = await self._locations.page(
                limit=batch_size,
                after=None
                if after is None
                else (after.last_updated, after.country_code, after.party_id, after.id),
                country=query.country,
                operator=query.operator,
                box=None if box is None else (box.south, box.west, box.north, box.east),
                updated_since=query.updated_since,
            )
            for location in batch:
                scanned += 1
                after = Cursor.after(location)
                if matches(location, query):
                    found.append(location)
                    if len(found) == query.limit:
                        return found, after
            if len(batch) < batch_size:
                return found, None
            if scanned >= SCAN_CAP:
                return found, after

    async def every(self, country: str | None = None) -> list[Location]:
        """All published Locations (of ``country``), read a page at a time."""
        collected: list[Location] = []
        cursor: Cursor | None = None
        while True:
            page, cursor = await self.select(
                OpenDataQuery(country=country, limit=MAX_LIMIT, cursor=cursor)
            )
            collected += page
            if cursor is None:
                return collected

    async def bulk(self) -> bytes:
        """The whole published dataset as gzipped strict OCPI JSON, rebuilt when it changed."""
        async with self._building:
            mark = await self._locations.watermark()
            if self._bulk is None or self._bulk.watermark != mark:
                self._bulk = _Built(mark, await self._build_bulk())
            return self._bulk.body

    async def _build_bulk(self) -> bytes:
        """Read, render and compress a page at a time: 100,000 Locations rendered in one go held
        the event loop (every other request of the process, OCPP included) for minutes, and
        every Location in memory at once."""
        buffer = io.BytesIO()
        count = 0
        cursor: Cursor | None = None
        with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as out:
            out.write(ocpi_envelope(self._licence, 0, None)[0])
            while True:
                page, cursor = await self.select(OpenDataQuery(limit=MAX_LIMIT, cursor=cursor))
                for location in page:
                    out.write(b"," if count else b"")
                    out.write(ocpi_fragment(location, self._render_all, True))
                    count += 1
                if cursor is None:
                    break
                await asyncio.sleep(0)  # let the requests that waited on this page run
            out.write(ocpi_envelope(self._licence, count, None)[1])
        return buffer.getvalue()

    async def statistics(self, country: str | None) -> bytes:
        async with self._building:
            mark = await self._locations.watermark()
            built = self._statistics.get(country)
            if built is None or built.watermark != mark:
                now = self._clock()
                counts: dict[str, CountryStatistics] = {}
                for location in await self.every(country):
                    counts.setdefault(location.country, CountryStatistics(location.country)).add(
                        location, now
                    )
                body = statistics_document(counts.values(), self._licence, now)
                built = self._statistics[country] = _Built(mark, body)
            return built.body

    # -- HTTP ------------------------------------------------------------------------------
    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(_CORS)
        headers["Link"] = f'<{self._licence.url}>; rel="license"'
        headers.update(extra or {})
        return headers

    def _refused(self, request: Request) -> Response | None:
        client = request.client.host if request.client else "?"
        wait = self._limiter.retry_after(client, self._monotonic())
        if wait is None:
            return None
        answer = problem(429, "too many open-data requests from this client; retry later")
        answer.headers.update(self._headers({"Retry-After": str(wait)}))
        return answer

    def _bad(self, error: OpenDataQueryError) -> JSONResponse:
        answer = problem(
            400,
            str(error),
            parameter=error.parameter,
            errors=[{"field": error.parameter, "message": error.reason}],
        )
        answer.headers.update(self._headers())
        return answer

    def _answer(
        self,
        request: Request,
        body: bytes,
        media_type: str,
        *,
        next_url: str | None = None,
        compressed: bool = False,
        filename: str | None = None,
    ) -> Response:
        tag = etag(body)
        extra = {
            "ETag": tag,
            "Cache-Control": f"public, max-age={self._max_age}",
            "Vary": "Accept-Encoding",
        }
        headers = self._headers(extra)
        if next_url is not None:
            headers["Link"] += f', <{next_url}>; rel="next"'
        if filename is not None:
            headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        asked = request.headers.get("if-none-match", "")
        if tag in {part.strip().removeprefix("W/") for part in asked.split(",")} or asked == "*":
            return Response(status_code=304, headers=headers)
        accepts = request.headers.get("accept-encoding", "")
        if not compressed and "gzip" in accepts and len(body) > _GZIP_ABOVE:
            body = gzip.compress(body, compresslevel=5, mtime=0)
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=media_type, headers=headers)

    async def _locations_page(self, request: Request, kind: str) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        try:
            query = parse_query(request.query_params)
        except OpenDataQueryError as error:
            return self._bad(error)
        page, after = await self.select(query)
        next_url = None
        if after is not None:
            next_url = str(request.url.replace_query_params(**query.echo, cursor=after.encode()))
        if kind == "geojson":
            body = geojson_document(page, self._licence, next_url=next_url)
            return self._answer(request, body, "application/geo+json", next_url=next_url)
        if kind == "csv":
            return self._answer(
                request, csv_bytes(page), "text/csv; charset=utf-8", next_url=next_url
            )
        if kind == "ocm":
            # OCM's /poi answers a bare array: the licence and the next page are in the headers.
            pois = [location_to_poi(location, self._reference) for location in page]
            return self._answer(request, json_bytes(pois), "application/json", next_url=next_url)
        body = ocpi_document(
            page, self._render, self._licence, strict=query.strict, next_url=next_url
        )
        return self._answer(request, body, "application/json", next_url=next_url)

    async def _evse_answer(
        self, request: Request, key: tuple[str, str, str, str], kind: str
    ) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        history = kind == "history"
        try:
            period = parse_period(
                request.query_params,
                now=self._clock(),
                default=timedelta(days=7 if history else 30),
                longest=HISTORY_MAX if history else RELIABILITY_MAX,
            )
        except OpenDataQueryError as error:
            return self._bad(error)
        country_code, party_id, location_id, evse_uid = key
        found = await self._locations.find(country_code.upper(), party_id.upper(), location_id)
        if found is None or not found.publish or found.evse(evse_uid) is None:
            missing = problem(404, f"no published EVSE {'/'.join(key)}")
            missing.headers.update(self._headers())
            return missing
        evse = EvseKey(found.country_code, found.party_id, found.id, evse_uid)
        changes = [
            (change.at, change.status)
            for change in await self._history.history(evse, period.start, period.end)
        ]
        if history:
            body = history_document("/".join(evse), changes, period, self._licence)
        else:
            body = reliability_document(found, evse_uid, changes, period, self._licence)
        return self._answer(request, body, "application/json")

    def _evse_endpoint(self, kind: str) -> Callable[..., Awaitable[Response]]:
        async def endpoint(
            request: Request,
            country_code: str,
            party_id: str,
            location_id: str,
            evse_uid: str,
            since: str | None = Query(None, description="ISO 8601 with zone; the period's start"),
            until: str | None = Query(None, description="ISO 8601 with zone; the end (now)"),
        ) -> Response:
            key = (country_code, party_id, location_id, evse_uid)
            return await self._evse_answer(request, key, kind)

        return endpoint

    def router(self) -> APIRouter:
        """The routes under :data:`PREFIX`; public, documented in the app's OpenAPI and in
        their own at ``/open-data/v1/openapi.json``."""
        router = APIRouter(prefix=PREFIX, tags=["open data"])
        parameters_dependency = Depends(_query_parameters())
        json_content = {"application/json": {"schema": {"type": "object"}}}

        @router.get(
            "/locations",
            summary="Published Locations as OCPI 2.2.1 JSON, filtered and paged",
            responses={200: {"content": json_content}, **_COMMON},
        )
        async def locations(request: Request, _: None = parameters_dependency) -> Response:
            return await self._locations_page(request, "ocpi")

        @router.get(
            "/locations.geojson",
            summary="Published Locations as a GeoJSON FeatureCollection",
            responses={
                200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}},
                **_COMMON,
            },
        )
        async def locations_geojson(request: Request, _: None = parameters_dependency) -> Response:
            return await self._locations_page(request, "geojson")

        @router.get(
            "/locations.csv",
            summary="Published Locations as CSV, one row per connector",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, **_COMMON},
        )
        async def locations_csv(request: Request, _: None = parameters_dependency) -> Response:
            return await self._locations_page(request, "csv")

        @router.get(
            "/locations.ocm.json",
            summary="Published Locations as Open Charge Map POIs (compact: ids for reference "
            "values); licence and next page in the Link header",
            responses={
                200: {"content": {"application/json": {"schema": {"type": "array"}}}},
                **_COMMON,
            },
        )
        async def locations_ocm(request: Request, _: None = parameters_dependency) -> Response:
            return await self._locations_page(request, "ocm")

        @router.get(
            "/locations/{country_code}/{party_id}/{location_id}",
            summary="One published Location as OCPI 2.2.1 JSON",
            responses={200: {"content": json_content}, 404: {"content": _PROBLEM}, **_COMMON},
        )
        async def location(
            request: Request,
            country_code: str,
            party_id: str,
            location_id: str,
            strict: str | None = Query(None, description=_DOCS["strict"]),
        ) -> Response:
            refused = self._refused(request)
            if refused is not None:
                return refused
            try:
                exact = parse_query({"strict": strict or ""}).strict
            except OpenDataQueryError as error:
                return self._bad(error)
            found = await self._locations.find(country_code.upper(), party_id.upper(), location_id)
            if found is None or not found.publish:
                missing = problem(
                    404, f"no published location {country_code}/{party_id}/{location_id}"
                )
                missing.headers.update(self._headers())
                return missing
            body = ocpi_document([found], self._render, self._licence, strict=exact, next_url=None)
            return self._answer(request, body, "application/json")

        evse_path = "/evses/{country_code}/{party_id}/{location_id}/{evse_uid}"
        summaries = {
            "history": "A published EVSE's status changes (default the last 7 days, at most 31)",
            "reliability": "A published EVSE's UK reliability and NEVI uptime over a period "
            "(default the last 30 days, at most 366)",
        }
        for kind, summary in summaries.items():
            router.get(
                f"{evse_path}/{kind}",
                summary=summary,
                name=f"evse_{kind}",
                responses={200: {"content": json_content}, 404: {"content": _PROBLEM}, **_COMMON},
            )(self._evse_endpoint(kind))

        @router.get(
            "/statistics",
            summary="Per country: sites, EVSEs, connectors by standard and power class, "
            "share fresh",
            responses={200: {"content": json_content}, **_COMMON},
        )
        async def statistics(
            request: Request, country: str | None = Query(None, description=_DOCS["country"])
        ) -> Response:
            refused = self._refused(request)
            if refused is not None:
                return refused
            try:
                asked = parse_query({"country": country or ""}).country
            except OpenDataQueryError as error:
                return self._bad(error)
            return self._answer(request, await self.statistics(asked), "application/json")

        @router.get(
            "/bulk",
            summary="The whole published dataset in one gzipped file (strict OCPI 2.2.1 JSON)",
            responses={
                200: {"content": {"application/gzip": {"schema": {"type": "string"}}}},
                **_COMMON,
            },
        )
        async def bulk(request: Request) -> Response:
            refused = self._refused(request)
            if refused is not None:
                return refused
            return self._answer(
                request,
                await self.bulk(),
                "application/gzip",
                compressed=True,
                filename="intercarga-open-data.json.gz",
            )

        @router.get("/openapi.json", summary="This API's own OpenAPI description")
        async def openapi() -> Response:
            return JSONResponse(_openapi(router), headers=self._headers())

        @router.options("/{path:path}", include_in_schema=False)
        async def preflight(path: str) -> Response:
            return Response(
                status_code=204,
                headers=self._headers(
                    {
                        "Access-Control-Allow-Methods": "GET, OPTIONS",
                        "Access-Control-Allow-Headers": "If-None-Match, Accept-Encoding",
                        "Access-Control-Max-Age": "86400",
                    }
                ),
            )

        return router


def _openapi(router: APIRouter) -> dict[str, Any]:
    app = FastAPI()
    app.include_router(router)
    return get_openapi(
        title="Intercarga open data",
        version=__version__,
        description="Published charging Locations, without sign-in. See docs/open-data.md.",
        routes=app.routes,
    )
