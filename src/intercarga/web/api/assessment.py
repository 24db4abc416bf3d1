"""The country assessment over the admin API (``/api/v1/assessment/...``) and as HTML for the
dashboard.

The work is done by :mod:`intercarga.assessment` (pure) and its store-side reader
:mod:`intercarga.assessment.live`; this module finds the country files the settings name,
reads the clock once per request and translates: an unknown country, layer, format, region or
language is a 422 problem naming the valid values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from intercarga.assessment import (
    LANGUAGES,
    LAYERS,
    ReportFormat,
    check_format,
    country_html,
    framework,
    load_countries,
    load_country,
    region_html,
    render_country,
    render_region,
    translator,
)
from intercarga.assessment.framework import choose
from intercarga.assessment.live import assess_live, country_report, history
from intercarga.store import Store

__all__ = ["REGIONS", "assessment_page", "assessment_router", "check_layer", "check_region"]

REGIONS = ("LAC",)
_MEDIA = {
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.MD: "text/markdown; charset=utf-8",
    ReportFormat.JSON: "application/json",
    ReportFormat.PDF: "application/pdf",
}
Language = Annotated[str, Query(description=f"one of {', '.join(LANGUAGES)}")]
Format = Annotated[str, Query(description="md, html, json or pdf")]


def check_region(region: str) -> str:
    return choose("region", region.strip().upper(), REGIONS)


def check_layer(layer: str) -> str:
    return choose("layer", layer.strip().lower(), LAYERS)


def _data(request: Request) -> Path | None:
    folder: Path | None = request.app.state.system.settings.assessment_data
    return folder


async def assessment_page(
    store: Store | None,
    data: Path | None,
    country: str | None,
    language: str,
    fragment: bool = True,
) -> str:
    """The assessment as HTML for the dashboard: one country's page (with its history), or the
    region's heat map when ``country`` is None; a fragment to mount unless ``fragment`` is False."""
    translator(language)  # an unknown language fails before any work
    now = datetime.now(UTC)
    fw = framework()
    if country is None:
        files = load_countries(data)
        found = [await assess_live(store, fw, c, now) for c in files.values()]
        return region_html(found, fw, language, fragment=fragment)
    report = await country_report(store, fw, load_country(country, data), now)
    return country_html(report, fw, language, fragment=fragment)


def assessment_router() -> APIRouter:
    router = APIRouter(prefix="/assessment", tags=["assessment"])

    @router.get("/framework", summary="The five-layer framework: criteria, levels, sources")
    async def framework_endpoint() -> Any:
        return framework().model_dump(mode="json")

    @router.get("/countries", summary="Country codes with an assessment file")
    async def countries_endpoint(request: Request) -> Any:
        return sorted(load_countries(_data(request)))

    @router.get("/countries/{country}", summary="A country's assessment, with live indicators")
    async def country_endpoint(request: Request, country: str, language: Language = "en") -> Any:
        """Current and desired level per layer, the criterion behind each level, the measured
        indicators of this deployment, the recommendations and the stored history."""
        report = await country_report(
            request.app.state.store,
            framework(),
            load_country(country, _data(request)),
            datetime.now(UTC),
        )
        return Response(
            render_country(report, framework(), language, ReportFormat.JSON),
            media_type="application/json",
        )

    @router.get("/countries/{country}/layers/{layer}", summary="One layer of a country")
    async def layer_endpoint(request: Request, country: str, layer: str) -> Any:
        wanted = check_layer(layer)
        found = await assess_live(
            request.app.state.store,
            framework(),
            load_country(country, _data(request)),
            datetime.now(UTC),
        )
        return found.layer(wanted).model_dump(mode="json")

    @router.post(
        "/countries/{country}/runs",
        status_code=status.HTTP_201_CREATED,
        summary="Assess now and store the run in the country's history",
    )
    async def run_endpoint(request: Request, country: str) -> Any:
        report = await country_report(
            request.app.state.store,
            framework(),
            load_country(country, _data(request)),
            datetime.now(UTC),
            save=True,
        )
        return report.assessment.model_dump(mode="json")

    @router.get("/countries/{country}/history", summary="Stored runs, oldest first")
    async def history_endpoint(request: Request, country: str) -> Any:
        code = load_country(country, _data(request)).code
        return [
            {"assessed_at": p.assessed_at.isoformat(), "live_data": p.live_data, "levels": p.levels}
            for p in await history(request.app.state.store, code)
        ]

    @router.get("/countries/{country}/report", summary="A country's report (md, html, json, pdf)")
    async def country_report_endpoint(
        request: Request, country: str, format: Format = "html", language: Language = "en"
    ) -> Response:
        fmt = check_format(format)
        translator(language)
        report = await country_report(
            request.app.state.store,
            framework(),
            load_country(country, _data(request)),
            datetime.now(UTC),
        )
        return Response(render_country(report, framework(), language, fmt), media_type=_MEDIA[fmt])

    @router.get("/regions/{region}", summary="Every country of the region: heat map, ranking")
    async def region_endpoint(
        request: Request, region: str, format: Format = "json", language: Language = "en"
    ) -> Response:
        check_region(region)
        fmt = check_format(format)
        translator(language)
        now = datetime.now(UTC)
        fw = framework()
        store = request.app.state.store
        found = [
            await assess_live(store, fw, c, now) for c in load_countries(_data(request)).values()
        ]
        return Response(render_region(found, fw, language, fmt), media_type=_MEDIA[fmt])

    return router
