"""Recommendations: ordered steps per gap, by market configuration, each with a precedent."""

from __future__ import annotations

from intercarga.assessment import LAYERS, CountryFile, assess, framework, recommend
from tests.assessment.conftest import NOW


def _same_gap(country: CountryFile, criterion: str) -> CountryFile:
    """The country with ``criterion`` unknown, so both countries share that gap."""
    return country.model_copy(
        update={"facts": [f for f in country.facts if f.criterion != criterion]}
    )


def test_colombia_and_costa_rica_get_different_recommendations_for_the_same_gap(
    countries: dict[str, CountryFile],
) -> None:
    criterion = "information.realtime_status"
    co = recommend(assess(framework(), _same_gap(countries["CO"], criterion), NOW))
    cr = recommend(assess(framework(), _same_gap(countries["CR"], criterion), NOW))
    co_step = next(r for r in co if r.criterion == criterion)
    cr_step = next(r for r in cr if r.criterion == criterion)
    assert co_step.current is None and cr_step.current is None
    assert co_step.action != cr_step.action
    assert "within 60 seconds" in co_step.action
    assert co_step.precedent.country == "CO"
    assert "the regulator" in cr_step.action
    assert cr_step.precedent.country == "CL"
    assert "information" in co_step.unblocks


def test_steps_are_ordered_foundations_first_and_each_cites_a_precedent(
    countries: dict[str, CountryFile],
) -> None:
    steps = recommend(assess(framework(), countries["CR"], NOW))
    assert [s.rank for s in steps] == list(range(1, len(steps) + 1))
    assert steps[0].criterion.startswith("business.")
    assert all(s.precedent.country in {"CO", "CL", "UY", "CR", "PE"} for s in steps)
    assert all(set(s.unblocks) <= set(LAYERS) for s in steps)
    # Costa Rica's connector set is mandated: no step for it
    assert not any(s.criterion == "hardware.connector_mandate" for s in steps)


def test_a_criterion_at_its_desired_level_gets_no_step(countries: dict[str, CountryFile]) -> None:
    steps = recommend(assess(framework(), countries["CO"], NOW))
    assert not any(s.criterion == "service.roaming" for s in steps)
    assert any(s.criterion == "information.open_data" for s in steps)
