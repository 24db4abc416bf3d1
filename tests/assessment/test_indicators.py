"""Measured indicators: live data of a deployment feeds the current level, beside the desk facts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intercarga.assessment import CountryFile, DeploymentSnapshot, assess, framework, measure
from intercarga.assessment.indicators import (
    AuthorizationAsk,
    DataQuality,
    MeasureRules,
    SessionRecord,
    StationRecord,
)
from intercarga.assessment.scoring import measure_rules
from intercarga.geo import haversine_km, populated_places
from intercarga.hardware.coverage import usable_locations
from tests.assessment.conftest import NOW, co_location

RULES = MeasureRules(status_max_age_seconds=60, inlet_distance_km=30, authorization_window_days=30)


def _snapshot(status_age: timedelta) -> DeploymentSnapshot:
    return DeploymentSnapshot(
        taken_at=NOW,
        locations=[co_location("BOG-1", status_age), co_location("BOG-2", status_age)],
    )


def test_stale_evse_statuses_lower_the_information_layer(countries: dict[str, CountryFile]) -> None:
    co = countries["CO"]  # Colombia's rule: status within 60 seconds
    fresh = assess(framework(), co, NOW, _snapshot(timedelta(seconds=20)))
    stale = assess(framework(), co, NOW, _snapshot(timedelta(minutes=30)))

    assert stale.layer("information").current < fresh.layer("information").current
    status = next(
        c
        for c in stale.layer("information").criteria
        if c.criterion == "information.realtime_status"
    )
    assert status.desk_level == 3
    assert status.current == 1
    assert status.measurement is not None
    assert status.measurement.indicator == "status_fresh"
    assert status.measurement.value == 0.0
    assert "younger than the country's maximum status age" in status.measurement.formula
    assert "measured status_fresh = 0% (0 / 4)" in status.explanation
    fresh_status = next(
        c
        for c in fresh.layer("information").criteria
        if c.criterion == "information.realtime_status"
    )
    assert fresh_status.current == 4  # mandated, and verified by the deployment's data


def test_the_same_age_is_fresh_under_the_default_rule_of_a_country_without_one(
    countries: dict[str, CountryFile],
) -> None:
    co = countries["CO"].model_copy(update={"status_max_age_seconds": None})  # default 900 s
    measured = measure(
        framework(), "CO", _snapshot(timedelta(minutes=5)), measure_rules(framework(), co)
    )
    fresh = next(m for m in measured if m.indicator == "status_fresh")
    assert fresh.value == 1.0


def test_indicators_count_what_the_deployment_holds() -> None:
    snapshot = DeploymentSnapshot(
        taken_at=NOW,
        locations=[co_location("BOG-1", timedelta(seconds=5))],
        stations=[
            StationRecord("CO-1", "CO", "ocpp2.0.1", 2),
            StationRecord("CO-2", "CO", "ocpp1.6", 1),
            StationRecord("CO-3", "CO", None, 1),
            StationRecord("CL-1", "CL", "ocpp2.0.1", 3),  # another country: not counted
        ],
        tariffs=frozenset({("CO", "ICG", "DC-1")}),
        emsp_partners=3,
        sessions=[
            SessionRecord("CO", "ICG", "CO-EMP"),
            SessionRecord("CO", "ICG", "CO-ICG"),
            SessionRecord("CO", "ICG", None),
            SessionRecord("CO", "ICG", "CL-XYZ"),
        ],
    )
    found = {m.indicator: m for m in measure(framework(), "CO", snapshot, RULES)}
    assert (found["ocpp_2x"].numerator, found["ocpp_2x"].denominator) == (1, 2)
    assert (found["security_profile_2"].numerator, found["security_profile_2"].denominator) == (
        1,
        3,
    )
    # EVSE-1: tariff DC-1 held, but its CHAdeMO connector names none; EVSE-2: AC-1/AC-2 not held
    assert found["tariff_published"].value == 0.0
    # EVSE-1's id is CL*ICG*E1*1 (valid eMI3 syntax); EVSE-2 has none
    assert found["evse_id_valid"].value == 0.5
    assert found["emsps_per_cpo"].value == 3.0
    assert found["sessions_roamed"].value == 0.5
    assert found["inlets_within_km"].denominator == len(populated_places("CO")) * 6


def test_no_live_data_means_no_measurement(countries: dict[str, CountryFile]) -> None:
    co = assess(framework(), countries["CO"], NOW)
    assert co.live_data is False
    assert all(c.measurement is None for layer in co.layers for c in layer.criteria)


def _near_bogota(km: float) -> int:
    """Colombian places of 15,000 inhabitants or more within ``km`` of the Bogotá location."""
    return sum(
        1
        for p in populated_places("CO")
        if haversine_km(p.latitude, p.longitude, 4.60971, -74.08175) <= km
    )


def test_inlets_are_covered_where_a_compatible_connector_lies_within_n_km(
    countries: dict[str, CountryFile],
) -> None:
    location = co_location("BOG-1", timedelta(seconds=5))
    served_profiles = sum(1 for found in usable_locations([location]).values() if found)
    assert 0 < served_profiles < 6  # the location has no GB/T nor NACS connector
    snapshot = DeploymentSnapshot(taken_at=NOW, locations=[location])

    co = countries["CO"].model_copy(update={"inlet_distance_km": None})  # the default, 30 km
    assessment = assess(framework(), co, NOW, snapshot)
    coverage = next(
        c for c in assessment.layer("hardware").criteria if c.criterion == "hardware.inlet_coverage"
    )
    assert coverage.measurement is not None
    places = len(populated_places("CO"))
    assert coverage.measurement.numerator == _near_bogota(30) * served_profiles
    assert coverage.measurement.denominator == places * 6
    assert "within 30 km" in coverage.measurement.formula
    # One Bogotá site leaves most of Colombia unserved: below `poor`, the criterion falls to 0
    # when no desk fact states it, and is capped at 1 otherwise.
    desk = coverage.desk_level
    assert coverage.current == (0 if desk is None else min(desk, 1))
    assert "measured inlets_within_km = " in coverage.explanation

    # The country's file may set its own distance; a longer one serves more places.
    wide = countries["CO"].model_copy(update={"inlet_distance_km": 150.0})
    measured = {
        m.indicator: m
        for m in measure(framework(), "CO", snapshot, measure_rules(framework(), wide))
    }
    assert measured["inlets_within_km"].numerator == _near_bogota(150) * served_profiles
    assert _near_bogota(150) > _near_bogota(30)
    assert "within 150 km" in measured["inlets_within_km"].formula


def test_realtime_authorization_success_counts_verdicts_in_the_window(
    countries: dict[str, CountryFile],
) -> None:
    def ask(outcome: str, minutes_ago: float, country: str = "CO") -> AuthorizationAsk:
        return AuthorizationAsk(country, NOW - timedelta(minutes=minutes_ago), outcome)

    asks = [
        ask("accepted", 5),
        ask("blocked", 10),  # a refusal is a working authorization
        ask("no-credit", 20),
        ask("unknown", 5),  # open routing: another eMSP did not know the token
        ask("timeout", 30),
        ask("error", 40),
        ask("timeout", 60 * 24 * 31),  # before the 30-day window
        ask("timeout", 1, country="CL"),  # another country
    ]
    snapshot = DeploymentSnapshot(taken_at=NOW, authorizations=asks)
    assessment = assess(framework(), countries["CO"], NOW, snapshot)
    service = assessment.layer("service")
    rta = next(c for c in service.criteria if c.criterion == "service.realtime_authorization")
    assert rta.measurement is not None
    assert rta.measurement.shown == "60% (3 / 5)"
    assert "last 30 days" in rta.measurement.formula
    assert rta.current == (0 if rta.desk_level is None else min(rta.desk_level, 1))
    assert "measured realtime_authorization_success = 60% (3 / 5)" in rta.explanation

    working = DeploymentSnapshot(
        taken_at=NOW, authorizations=[ask("accepted", m) for m in range(1, 60)]
    )
    better = assess(framework(), countries["CO"], NOW, working)
    assert better.layer("service").current > service.current


def test_the_access_point_s_data_quality_moves_the_registry_criterion(
    countries: dict[str, CountryFile],
) -> None:
    co = countries["CO"]  # a national registry is mandated (CargaME): desk level 3

    def registry(quality: dict[str, DataQuality]) -> tuple[int | None, str]:
        snapshot = DeploymentSnapshot(taken_at=NOW, quality=quality)
        found = assess(framework(), co, NOW, snapshot).layer("information")
        criterion = next(c for c in found.criteria if c.criterion == "information.registry")
        return criterion.current, criterion.explanation

    assert registry({"CO": DataQuality(passing=19, checked=20)})[0] == 4  # mandated, verified
    current, explanation = registry({"CO": DataQuality(passing=1, checked=4)})
    assert current == 1  # below poor (0.5): the mandate is not met in practice
    assert "measured data_quality = 25% (1 / 4) (good ≥ 0.9, poor < 0.5) → 1" in explanation
    # Another country's figures, or none counted (no registry): nothing measured.
    assert registry({"CL": DataQuality(passing=0, checked=3)})[0] == 3
    assert registry({})[0] == 3
    with pytest.raises(ValueError, match="3 of 2 locations cannot pass"):
        DataQuality(passing=3, checked=2)
