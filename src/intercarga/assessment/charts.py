"""Charts of the assessment as SVG, drawn by pygal: radar per country, ranking, layer history.

Returns SVG text with no script and no external reference (pygal's tooltip script, loaded from a
CDN by default, is switched off): the reports embed it and must open offline. Pure: it must
never do I/O or point outside the SVG.
"""

from __future__ import annotations

import base64
import sys

import pygal
from pygal.style import Style

from intercarga.assessment.framework import LAYERS
from intercarga.assessment.i18n import Translator
from intercarga.assessment.scoring import CountryAssessment

__all__ = ["data_uri", "history_chart", "radar_chart", "ranking_chart"]

# pygal appends to sys.meta_path an importer of its map plugins that lacks ``find_spec``; Python's
# own finders skip it, but importlib-based loaders that call every finder (pytest's importlib
# mode) then fail on any later import. No pygal map plugin is used here: take it out, once.
sys.meta_path[:] = [
    finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"
]

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    colors=("#2f80c1", "#d9480f", "#2a9d8f", "#8e44ad", "#e6a700"),
    font_family="DejaVu Sans, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=11,
    title_font_size=13,
    value_font_size=10,
)


def _config() -> dict[str, object]:
    return {
        "style": _STYLE,
        "js": [],  # no CDN script: reports open offline
        "disable_xml_declaration": True,
        "explicit_size": True,
        "show_y_guides": True,
    }


def _svg(chart: pygal.graph.graph.Graph) -> str:
    return str(chart.render(is_unicode=True))


def radar_chart(assessment: CountryAssessment, t: Translator, size: int = 320) -> str:
    """Current against desired level per layer (unknown layers drawn at 0, named in the table)."""
    chart = pygal.Radar(
        width=size,
        height=size,
        range=(0, 4),
        fill=True,
        legend_at_bottom=True,
        show_y_labels=False,
        **_config(),
    )
    chart.title = t.country(assessment.code)
    chart.x_labels = [t.label(layer) for layer in LAYERS]
    chart.add(t.gettext("Current"), [assessment.layer(layer).current or 0 for layer in LAYERS])
    chart.add(
        t.gettext("Desired"),
        [assessment.layer(layer).desired for layer in LAYERS],
        fill=False,
        stroke_style={"width": 2, "dasharray": "5,4"},
    )
    return _svg(chart)


def ranking_chart(assessments: list[CountryAssessment], t: Translator) -> str:
    """Countries by mean current level, best first (unknown countries are left out)."""
    ranked = sorted(
        (a for a in assessments if a.current is not None),
        key=lambda a: (-(a.current or 0), a.code),
    )
    chart = pygal.HorizontalBar(
        width=640,
        height=max(160, 22 * len(ranked) + 80),
        range=(0, 4),
        show_legend=False,
        print_values=True,
        **_config(),
    )
    chart.title = t.gettext("Mean current level across the five layers")
    chart.x_labels = [t.country(a.code) for a in reversed(ranked)]
    chart.add(t.gettext("Current"), [a.current for a in reversed(ranked)])
    return _svg(chart)


def history_chart(points: list[tuple[str, dict[str, float | None]]], t: Translator) -> str:
    """Each layer's current level per stored run (``points``: date label, level by layer)."""
    chart = pygal.Line(width=640, height=300, range=(0, 4), legend_at_bottom=True, **_config())
    chart.title = t.gettext("How each layer moved")
    chart.x_labels = [label for label, _ in points]
    for layer in LAYERS:
        chart.add(t.label(layer), [levels.get(layer) for _, levels in points])
    return _svg(chart)


def data_uri(svg: str) -> str:
    """The SVG as an ``img`` source: the same markup works in browsers and in WeasyPrint."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
