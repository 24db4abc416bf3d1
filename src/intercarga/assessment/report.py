"""Reports of the assessment: one country or the whole region, as Markdown, HTML, JSON or PDF,
in Spanish, Portuguese or English.

HTML comes from the Jinja templates in templates/ (with the i18n extension over the catalogs of
:mod:`intercarga.assessment.i18n`), charts from :mod:`charts` (SVG, pygal), PDF from the same
HTML rendered by WeasyPrint. ``country_html`` and ``region_html`` also give a fragment (no
``<html>`` around it) for a dashboard to mount. Pure apart from rendering: it must never read the
store or the network (WeasyPrint is handed a fetcher that refuses every URL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from intercarga.assessment.countries import FactSource
from intercarga.assessment.framework import LAYERS, Framework, choose
from intercarga.assessment.i18n import Translator, translator
from intercarga.assessment.recommend import Recommendation
from intercarga.assessment.scoring import CountryAssessment

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "FORMATS",
    "CountryReport",
    "HistoryPoint",
    "ReportFormat",
    "check_format",
    "country_html",
    "region_html",
    "render_country",
    "render_region",
]


class ReportFormat(StrEnum):
    MD = "md"
    HTML = "html"
    JSON = "json"
    PDF = "pdf"


FORMATS = tuple(f.value for f in ReportFormat)


def check_format(value: str) -> ReportFormat:
    return ReportFormat(choose("format", value.strip().lower(), FORMATS))


@dataclass(frozen=True)
class HistoryPoint:
    """One stored run of a country's assessment: when, with live data or not, level per layer."""

    assessed_at: datetime
    live_data: bool
    levels: dict[str, float | None]


@dataclass(frozen=True)
class CountryReport:
    assessment: CountryAssessment
    recommendations: list[Recommendation]
    history: list[HistoryPoint]


@dataclass(frozen=True)
class _Source:
    title: str
    where: str
    date: str


@cache
def _environment() -> jinja2.Environment:
    # Jinja and pygal (charts) load at the first report, not with this module: every
    # `intercarga serve` imports it for the admin API's routes and most never render one.
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("intercarga.assessment", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment


def _render(template: str, t: Translator, **context: Any) -> str:
    environment = _environment().overlay()
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        t.gettext, t.ngettext, newstyle=True
    )
    return environment.get_template(template).render(t=t, layers=LAYERS, **context)


def _fact_sources(assessments: list[CountryAssessment], fw: Framework) -> list[_Source]:
    found: dict[tuple[str, str], _Source] = {}

    def add(source: FactSource) -> None:
        where = source.document or source.url or ""
        found.setdefault(
            (source.title, where), _Source(source.title, where, source.date.isoformat())
        )

    for assessment in assessments:
        for layer in assessment.layers:
            for score in layer.criteria:
                for fact in score.facts:
                    add(fact.source)
    listed = sorted(found.values(), key=lambda s: (s.title.casefold(), s.where))
    framework_sources = [
        _Source(ref.title, ref.url, ref.date.isoformat()) for ref in fw.source.values()
    ]
    return framework_sources + listed


def _level_class(value: float | None) -> str:
    return "unknown" if value is None else f"l{round(value)}"


def _history_svg(history: list[HistoryPoint], t: Translator) -> str | None:
    if len(history) < 2:
        return None
    from intercarga.assessment.charts import data_uri, history_chart

    points = [(point.assessed_at.date().isoformat(), point.levels) for point in history]
    return data_uri(history_chart(points, t))


def country_html(
    report: CountryReport, fw: Framework, language: str, fragment: bool = False
) -> str:
    """The country's report as an HTML page (or, ``fragment``, the part inside ``<body>``)."""
    from intercarga.assessment.charts import data_uri, radar_chart

    t = translator(language)
    assessment = report.assessment
    return _render(
        "country.html",
        t,
        fw=fw,
        a=assessment,
        recommendations=report.recommendations,
        history=report.history,
        history_svg=_history_svg(report.history, t),
        radar=data_uri(radar_chart(assessment, t, size=280)),
        sources=_fact_sources([assessment], fw),
        level_class=_level_class,
        fragment=fragment,
    )


def region_html(
    assessments: list[CountryAssessment], fw: Framework, language: str, fragment: bool = False
) -> str:
    """The region's report: heat map countries × layers, ranking, a radar per country, sources."""
    from intercarga.assessment.charts import data_uri, radar_chart, ranking_chart

    t = translator(language)
    rows = sorted(assessments, key=lambda a: t.country(a.code))
    ranked = sorted(
        (a for a in assessments if a.current is not None), key=lambda a: (-(a.current or 0), a.code)
    )
    return _render(
        "region.html",
        t,
        fw=fw,
        rows=rows,
        ranked=ranked,
        unranked=[a for a in rows if a.current is None],
        ranking=data_uri(ranking_chart(assessments, t)) if ranked else None,
        radars=[(a, data_uri(radar_chart(a, t, size=240))) for a in rows],
        sources=_fact_sources(assessments, fw),
        level_class=_level_class,
        fragment=fragment,
    )


def _pdf(html: str) -> bytes:
    import weasyprint
    from weasyprint.urls import URLFetcher

    # Everything a report shows is inline (charts are data: URIs): nothing else may be fetched.
    only_inline = URLFetcher(allowed_protocols=["data"], fail_on_errors=True)
    document = weasyprint.HTML(string=html, url_fetcher=only_inline)
    return bytes(document.write_pdf())


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8")


def render_country(report: CountryReport, fw: Framework, language: str, fmt: ReportFormat) -> bytes:
    t = translator(language)
    if fmt is ReportFormat.JSON:
        return _json(
            {
                "assessment": report.assessment.model_dump(mode="json"),
                "recommendations": [
                    {**r.model_dump(mode="json"), "action_translated": t.gettext(r.action)}
                    for r in report.recommendations
                ],
                "history": [
                    {
                        "assessed_at": p.assessed_at.isoformat(),
                        "live_data": p.live_data,
                        "levels": p.levels,
                    }
                    for p in report.history
                ],
                "language": t.language,
            }
        )
    if fmt is ReportFormat.MD:
        return _render(
            "country.md",
            t,
            fw=fw,
            a=report.assessment,
            recommendations=report.recommendations,
            history=report.history,
            sources=_fact_sources([report.assessment], fw),
        ).encode("utf-8")
    html = country_html(report, fw, language)
    return html.encode("utf-8") if fmt is ReportFormat.HTML else _pdf(html)


def render_region(
    assessments: list[CountryAssessment], fw: Framework, language: str, fmt: ReportFormat
) -> bytes:
    t = translator(language)
    if fmt is ReportFormat.JSON:
        return _json(
            {
                "countries": [a.model_dump(mode="json") for a in assessments],
                "ranking": [
                    {"rank": rank, "code": a.code, "current": a.current}
                    for rank, a in enumerate(
                        sorted(
                            (a for a in assessments if a.current is not None),
                            key=lambda a: (-(a.current or 0), a.code),
                        ),
                        start=1,
                    )
                ],
                "language": t.language,
            }
        )
    if fmt is ReportFormat.MD:
        rows = sorted(assessments, key=lambda a: t.country(a.code))
        return _render(
            "region.md", t, fw=fw, rows=rows, sources=_fact_sources(assessments, fw)
        ).encode("utf-8")
    html = region_html(assessments, fw, language)
    return html.encode("utf-8") if fmt is ReportFormat.HTML else _pdf(html)
