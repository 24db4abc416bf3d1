"""The country assessment over the admin API (``/api/v1/assessment/...``) and as HTML for the
dashboard.

The work is done by :mod:`intercarga.assessment` (pure) and its store-side reader
:mod:`intercarga.assessment.live`; this module finds the country files the settings name,
reads the clock once per request, counts the access point's data quality per country with the
registry (which the assessment may not import: :func:`data_quality`, also used by the CLI) and
translates: an unknown country, layer, format, region or language is a 422 problem naming the
valid values.
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
from intercarga.assessment.indicators import DataQuality
from intercarga.assessment.live import assess_live, country_report, history
from intercarga.assessment.report import CountryReport
from intercarga.assessment.scoring import CountryAssessment
from intercarga.registry import Registry
from intercarga.store import Store

__all__ = [
    "REGIONS",
    "assessment_page",
    "assessment_router",
    "check_layer",
    "check_region",
    "data_quality",
    "live_country",
    "live_region",
]

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
    folder: Path | None = request.app.state.admin.assessment_data
    return folder


def _registry(request: Request) -> Registry | None:
    registry: Registry | None = request.app.state.admin.registry
    return registry


async def data_quality(
    registry: Registry | None, at: datetime, country: str | None = None
) -> dict[str, DataQuality]:
    """Per country code, the locations the deployment holds that pass every data quality rule
    of the registry at ``at``, of those checked (only ``country``'s when given); nothing
    without a registry. What the assessment's ``data_quality`` indicator measures."""
    if registry is None:
        return {}
    checked: dict[str, int] = {}
    passing: dict[str, int] = {}
    for quality in await registry.location_quality(country, at):
        code = quality.country_code
        checked[code] = checked.get(code, 0) + 1
        passing[code] = passing.get(code, 0) + (not quality.failing)
    return {code: DataQuality(passing=passing[code], checked=n) for code, n in checked.items()}


async def live_country(
    store: Store | None,
    registry: Registry | None,
    data: Path | None,
    country: str,
    *,
    save: bool = False,
) -> CountryReport:
    """One country's report now, with the deployment's live data and data quality (``save``:
    stored in its history first)."""
    now = datetime.now(UTC)
    found = load_country(country, data)
    quality = await data_quality(registry, now, found.code)
    return await country_report(store, framework(), found, now, quality=quality, save=save)


async def live_region(
    store: Store | None, registry: Registry | None, data: Path | None
) -> list[CountryAssessment]:
    """Every country file's assessment now, with the deployment's live data and data quality."""
    now = datetime.now(UTC)
    fw = framework()
    quality = await data_quality(registry, now)
    return [
        await assess_live(store, fw, c, now, quality=quality) for c in load_countries(data).values()
    ]


async def assessment_page(
    store: Store | None,
    data: Path | None,
    country: str | None,
    language: str,
    fragment: bool = True,
    *,
    registry: Registry | None = None,
) -> str:
    """The assessment as HTML for the dashboard: one country's page (with its history), or the
    region's heat map when ``country`` is None; a fragment to mount unless ``fragment`` is False.
    With the ``registry``, the data quality of the deployment's locations is measured too."""
    translator(language)  # an unknown language fails before any work
    if country is None:
        found = await live_region(store, registry, data)
        return region_html(found, framework(), language, fragment=fragment)
    report = await live_country(store, registry, data, country)
    return country_html(report, framework(), language, fragment=fragment)


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
        report = await live_country(
            request.app.state.store, _registry(request), _data(request), country
        )
        return Response(
            render_country(report, framework(), language, ReportFormat.JSON),
            media_type="application/json",
        )

    @router.get("/countries/{country}/layers/{layer}", summary="One layer of a country")
    async def layer_endpoint(request: Request, country: str, layer: str) -> Any:
        wanted = check_layer(layer)
        now = datetime.now(UTC)
        file = load_country(country, _data(request))
        quality = await data_quality(_registry(request), now, file.code)
        found = await assess_live(request.app.state.store, framework(), file, now, quality=quality)
        return found.layer(wanted).model_dump(mode="json")

    @router.post(
        "/countries/{country}/runs",
        status_code=status.HTTP_201_CREATED,
        summary="Assess now and store the run in the country's history",
    )
    async def run_endpoint(request: Request, country: str) -> Any:
        report = await live_country(
            request.app.state.store, _registry(request), _data(request), country, save=True
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
        report = await live_country(
            request.app.state.store, _registry(request), _data(request), country
        )
        return Response(render_country(report, framework(), language, fmt), media_type=_MEDIA[fmt])

    @router.get("/regions/{region}", summary="Every country of the region: heat map, ranking")
    async def region_endpoint(
        request: Request, region: str, format: Format = "json", language: Language = "en"
    ) -> Response:
        check_region(region)
        fmt = check_format(format)
        translator(language)
        found = await live_region(request.app.state.store, _registry(request), _data(request))
        return Response(render_region(found, framework(), language, fmt), media_type=_MEDIA[fmt])

    return router
