"""The country assessment (business layer): the five-layer framework as data, the country
dataset, scoring, indicators measured from live data, recommendations and reports.

Everything here is pure except :mod:`intercarga.assessment.live`, the one module that reads a
deployment's store; this package's ``__init__`` never imports it.
"""

from intercarga.assessment.countries import (
    LAC_COUNTRIES,
    CountryDataError,
    CountryFile,
    load_countries,
    load_country,
)
from intercarga.assessment.framework import LAYERS, Framework, Market, framework
from intercarga.assessment.i18n import LANGUAGES, translator
from intercarga.assessment.indicators import DataQuality, DeploymentSnapshot, Measurement, measure
from intercarga.assessment.recommend import Recommendation, recommend
from intercarga.assessment.report import (
    FORMATS,
    CountryReport,
    HistoryPoint,
    ReportFormat,
    check_format,
    country_html,
    region_html,
    render_country,
    render_region,
)
from intercarga.assessment.scoring import CountryAssessment, LayerScore, assess

__all__ = [
    "FORMATS",
    "LAC_COUNTRIES",
    "LANGUAGES",
    "LAYERS",
    "CountryAssessment",
    "CountryDataError",
    "CountryFile",
    "CountryReport",
    "DataQuality",
    "DeploymentSnapshot",
    "Framework",
    "HistoryPoint",
    "LayerScore",
    "Market",
    "Measurement",
    "Recommendation",
    "ReportFormat",
    "assess",
    "check_format",
    "country_html",
    "framework",
    "load_countries",
    "load_country",
    "measure",
    "recommend",
    "region_html",
    "render_country",
    "render_region",
    "translator",
]
