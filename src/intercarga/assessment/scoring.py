"""Scoring: current and desired level per country and layer, the gap, a confidence, and the
criterion (fact or measurement) behind each level, explainable line by line.

Rules, written once here (docs/assessment.md, "Scoring"):
- a criterion's desk level is its highest verified fact, else its highest fact of any confidence;
- a measured indicator, when the deployment has live data, moves the criterion by
  :func:`indicators.measured_level` and is shown beside the desk fact;
- a layer's current level is the mean of its known criteria, one decimal; an unknown criterion is
  left out of the mean (it lowers the confidence, never the value);
- a layer's desired level is the mean of its criteria's desired levels under the country's market
  configuration; the gap is desired minus current, never below 0.

Pure: the time of the assessment is passed in; it must never do I/O or read a clock.
"""

from __future__ import annotations

from datetime import date, datetime
from statistics import fmean

from pydantic import BaseModel

from intercarga.assessment.countries import Confidence, CountryFile, Fact
from intercarga.assessment.framework import LAYERS, Framework, Market, layer_of
from intercarga.assessment.indicators import (
    DeploymentSnapshot,
    Measurement,
    MeasureRules,
    measure,
    measured_level,
)

__all__ = [
    "CONFIDENCE_WEIGHT",
    "CountryAssessment",
    "CriterionScore",
    "LayerScore",
    "assess",
    "assess_country",
    "measure_rules",
]

# How much a criterion's evidence counts towards a layer's confidence (unknown: 0).
CONFIDENCE_WEIGHT = {Confidence.VERIFIED: 1.0, Confidence.UNVERIFIED: 0.6, Confidence.INFERRED: 0.4}
_MEASURED_WEIGHT = 0.8  # live data of one deployment: strong, but not the whole country


class CriterionScore(BaseModel):
    criterion: str
    current: int | None
    desk_level: int | None
    desired: int
    desired_why: str
    desired_references: list[str]
    confidence: float
    fact: Fact | None
    facts: list[Fact]
    measurement: Measurement | None
    desk_explanation: str
    explanation: str


class LayerScore(BaseModel):
    layer: str
    current: float | None
    desired: float
    gap: float | None
    confidence: float
    known: int
    criteria: list[CriterionScore]


class CountryAssessment(BaseModel):
    code: str
    name: str
    market: Market
    market_note: str
    data_as_of: date
    assessed_at: datetime
    live_data: bool
    layers: list[LayerScore]
    current: float | None
    confidence: float

    def layer(self, layer: str) -> LayerScore:
        return next(score for score in self.layers if score.layer == layer)


def _desk_fact(facts: list[Fact]) -> Fact | None:
    levelled = [fact for fact in facts if fact.level is not None]
    verified = [fact for fact in levelled if fact.confidence is Confidence.VERIFIED]
    pool = verified or levelled
    return max(pool, key=lambda fact: (fact.level or 0, fact.as_of)) if pool else None


def _cite(fact: Fact) -> str:
    where = fact.source.document or fact.source.url
    return f"{fact.source.title}, {where}, {fact.source.date.isoformat()}; {fact.confidence}"


def _criterion(
    fw: Framework, country: CountryFile, criterion: str, measurement: Measurement | None
) -> CriterionScore:
    facts = country.facts_for(criterion)
    fact = _desk_fact(facts)
    desk = None if fact is None else fact.level
    desired, why, references = fw.desired_level(country.market, criterion)
    weight = 0.0 if fact is None else CONFIDENCE_WEIGHT[fact.confidence]
    current = desk
    view = None
    if fact is None:
        explanation = f"{criterion} unknown: no dated source found"
    else:
        explanation = f"{criterion} {desk}: {fact.summary} ({_cite(fact)})"
    desk_explanation = explanation
    if measurement is not None:
        current = measured_level(desk, measurement)
        weight = max(weight, _MEASURED_WEIGHT)
        view = measurement
        explanation += (
            f" — measured {measurement.indicator} = {measurement.shown} "
            f"(good ≥ {measurement.good:g}, poor < {measurement.poor:g}) → {current}"
        )
    return CriterionScore(
        criterion=criterion,
        current=current,
        desk_level=desk,
        desired=desired,
        desired_why=why,
        desired_references=references,
        confidence=weight,
        fact=fact,
        facts=facts,
        measurement=view,
        desk_explanation=desk_explanation,
        explanation=explanation,
    )


def _layer(layer: str, criteria: list[CriterionScore]) -> LayerScore:
    known = [c.current for c in criteria if c.current is not None]
    current = round(fmean(known), 1) if known else None
    desired = round(fmean(c.desired for c in criteria), 1)
    return LayerScore(
        layer=layer,
        current=current,
        desired=desired,
        gap=None if current is None else round(max(desired - current, 0.0), 1),
        confidence=round(fmean(c.confidence for c in criteria), 2),
        known=len(known),
        criteria=criteria,
    )


def assess_country(
    fw: Framework,
    country: CountryFile,
    assessed_at: datetime,
    measurements: list[Measurement] | None = None,
) -> CountryAssessment:
    """The assessment of ``country`` at ``assessed_at``, with live ``measurements`` if any."""
    by_criterion = {m.criterion: m for m in measurements or []}
    scores = [
        _criterion(fw, country, criterion, by_criterion.get(criterion))
        for criterion in fw.criterion_ids()
    ]
    layers = [
        _layer(layer, [s for s in scores if layer_of(s.criterion) == layer]) for layer in LAYERS
    ]
    known = [layer.current for layer in layers if layer.current is not None]
    return CountryAssessment(
        code=country.code,
        name=country.name,
        market=country.market,
        market_note=country.market_note,
        data_as_of=country.as_of,
        assessed_at=assessed_at,
        live_data=bool(by_criterion),
        layers=layers,
        current=round(fmean(known), 1) if known else None,
        confidence=round(fmean(layer.confidence for layer in layers), 2),
    )


def measure_rules(fw: Framework, country: CountryFile) -> MeasureRules:
    """The country's thresholds: its file's where it sets them, else the framework's."""
    defaults = fw.defaults
    return MeasureRules(
        status_max_age_seconds=country.status_max_age_seconds or defaults.status_max_age_seconds,
        inlet_distance_km=country.inlet_distance_km or defaults.inlet_distance_km,
        authorization_window_days=defaults.authorization_window_days,
    )


def assess(
    fw: Framework,
    country: CountryFile,
    assessed_at: datetime,
    snapshot: DeploymentSnapshot | None = None,
) -> CountryAssessment:
    """The country's assessment from its desk facts and, when given, a deployment's live data."""
    measurements: list[Measurement] = []
    if snapshot is not None:
        measurements = measure(fw, country.code, snapshot, measure_rules(fw, country))
    return assess_country(fw, country, assessed_at, measurements)
