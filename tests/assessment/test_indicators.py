"""Measured indicators: live data of a deployment feeds the current level, beside the desk facts."""

from __future__ import annotations

from datetime import timedelta

from intercarga.assessment import CountryFile, DeploymentSnapshot, assess, framework, measure
from intercarga.assessment.indicators import SessionRecord, StationRecord
from tests.assessment.conftest import NOW, co_location


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
        framework(), "CO", _snapshot(timedelta(minutes=5)), co.status_max_age_seconds or 900
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
    found = {m.indicator: m for m in measure(framework(), "CO", snapshot, 60)}
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
    assert found["inlet_profiles_served"].denominator == 6


def test_no_live_data_means_no_measurement(countries: dict[str, CountryFile]) -> None:
    co = assess(framework(), countries["CO"], NOW)
    assert co.live_data is False
    assert all(c.measurement is None for layer in co.layers for c in layer.criteria)
