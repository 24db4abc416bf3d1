"""Scoring: levels from facts with the criterion behind each, desired by market, the gap, and
unknowns that lower the confidence but never the level."""

from __future__ import annotations

from datetime import date

from intercarga.assessment import CountryFile, assess, framework
from intercarga.assessment.countries import Confidence, Fact, FactSource
from tests.assessment.conftest import NOW


def test_a_layer_level_comes_from_its_facts_and_is_explained_line_by_line(
    countries: dict[str, CountryFile],
) -> None:
    co = assess(framework(), countries["CO"], NOW)
    info = co.layer("information")
    registry = next(c for c in info.criteria if c.criterion == "information.registry")
    assert registry.current == 3
    assert registry.explanation.startswith(
        "information.registry 3: Res. 40123/2024 creates the CargaME platform"
    )
    assert "Res. MME 40123/2024, 2024-04-01; verified" in registry.explanation
    # registry 3, realtime 3, prices 3 known; open data and ids unknown: left out of the mean
    assert info.current == 3.0
    assert info.known == 3
    assert info.desired == 3.2  # real-time status is desired at 4 in a competitive market
    assert info.gap == 0.2


def test_unknown_lowers_the_confidence_never_the_level(countries: dict[str, CountryFile]) -> None:
    co = countries["CO"]
    fewer = co.model_copy(
        update={"facts": [f for f in co.facts if f.criterion != "information.published_prices"]}
    )
    full = assess(framework(), co, NOW).layer("information")
    partial = assess(framework(), fewer, NOW).layer("information")
    assert partial.current == full.current == 3.0
    assert partial.confidence < full.confidence


def test_a_country_with_only_unknowns_has_no_level_and_no_confidence(
    countries: dict[str, CountryFile],
) -> None:
    haiti = assess(framework(), countries["HT"], NOW)
    assert haiti.current is None
    assert all(layer.current is None and layer.gap is None for layer in haiti.layers)
    business = haiti.layer("business")
    mandate = next(c for c in business.criteria if c.criterion == "business.regulator_mandate")
    assert mandate.current is None and len(mandate.facts) == 1
    assert haiti.confidence == 0.0


def test_the_highest_verified_fact_wins_over_a_higher_unverified_one(
    countries: dict[str, CountryFile],
) -> None:
    source = FactSource(title="Press report", url="https://example.org/", date=date(2026, 1, 1))
    claim = Fact(
        criterion="information.registry",
        level=4,
        summary="A press report says reporting is audited.",
        as_of=date(2026, 1, 1),
        confidence=Confidence.UNVERIFIED,
        source=source,
    )
    co = countries["CO"]
    more = co.model_copy(update={"facts": [*co.facts, claim]})
    scored = assess(framework(), more, NOW).layer("information")
    registry = next(c for c in scored.criteria if c.criterion == "information.registry")
    assert registry.current == 3
    assert len(registry.facts) == 2


def test_the_desired_level_depends_on_the_market_configuration(
    countries: dict[str, CountryFile],
) -> None:
    co = assess(framework(), countries["CO"], NOW).layer("service")
    cr = assess(framework(), countries["CR"], NOW).layer("service")
    roaming_co = next(c for c in co.criteria if c.criterion == "service.roaming")
    roaming_cr = next(c for c in cr.criteria if c.criterion == "service.roaming")
    assert (roaming_co.desired, roaming_cr.desired) == (3, 2)
    assert co.desired != cr.desired
