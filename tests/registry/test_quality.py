"""The data quality rules and the freshness monitor, pure: a location and ``now`` in, findings
and flags out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intercarga import domain
from intercarga.registry import (
    LOCATION_RULES,
    LocationContext,
    TariffWindow,
    check_location,
    cpo_quality,
    load_rules,
    monitor,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
RULES = load_rules()


def _connector(**changes: Any) -> domain.Connector:
    values: dict[str, Any] = {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "max_electric_power": 22000,
        "tariff_ids": ["CO-AC"],
        "last_updated": NOW,
    }
    return domain.Connector.model_validate({**values, **changes})


def _location(connector: domain.Connector | None = None, **changes: Any) -> domain.Location:
    values: dict[str, Any] = {
        "country_code": "CO",
        "party_id": "ABC",
        "id": "BOG1",
        "address": "Carrera 7 # 32-16",
        "city": "Bogotá",
        "country": "COL",
        "coordinates": {"latitude": "4.61586", "longitude": "-74.06981"},  # Bogotá
        "time_zone": "America/Bogota",
        "opening_times": {"twentyfourseven": True},
        "evses": [
            {
                "uid": "E1",
                "evse_id": "CO*ABC*E1",
                "status": "AVAILABLE",
                "connectors": [(connector or _connector()).model_dump()],
                "last_updated": NOW - timedelta(minutes=5),
            }
        ],
        "last_updated": NOW,
    }
    return domain.Location.model_validate({**values, **changes})


def _failing(location: domain.Location, **context: Any) -> dict[str, str]:
    found = check_location(
        LocationContext(
            location=location,
            now=NOW,
            rule=RULES.for_country("CO"),
            tariff_ids=frozenset({"CO-AC"}),
            **context,
        )
    )
    return {f.rule: f.detail for f in found.failing}


def test_a_good_location_passes_every_rule_and_scores_100() -> None:
    quality = check_location(
        LocationContext(
            location=_location(),
            now=NOW,
            rule=RULES.for_country("CO"),
            tariff_ids=frozenset({"CO-AC"}),
        )
    )
    assert quality.failing == ()
    assert quality.score == 100.0
    assert {f.rule for f in quality.findings} == set(LOCATION_RULES)


@pytest.mark.parametrize(
    ("changes", "connector", "rule", "detail"),
    [
        # Lima's coordinates under a location that says Colombia.
        (
            {"coordinates": {"latitude": "-12.04637", "longitude": "-77.04279"}},
            None,
            "coordinates",
            "outside COL",
        ),
        (
            {"coordinates": {"latitude": "0.00000", "longitude": "0.00000"}},
            None,
            "coordinates",
            "not a place",
        ),
        ({"time_zone": "America/Santiago"}, None, "time_zone", "not a zone of CO"),
        ({}, {"max_electric_power": 50000}, "connector_power", "above"),
        (
            {},
            {"max_voltage": 230, "max_amperage": 1, "max_electric_power": None},
            "power_range",
            "690 W",
        ),
        ({"opening_times": None}, None, "opening_hours", "no opening_times"),
        ({}, {"tariff_ids": []}, "tariff", "no tariff_ids"),
        ({}, {"tariff_ids": ["CO-DC"]}, "tariff", "CO-DC not received"),
    ],
)
def test_each_rule_names_what_fails(
    changes: dict[str, Any], connector: dict[str, Any] | None, rule: str, detail: str
) -> None:
    location = _location(_connector(**connector) if connector else None, **changes)
    failing = _failing(location)
    assert rule in failing and detail in failing[rule], failing


def test_evse_id_must_be_valid_and_of_the_country() -> None:
    location = _location()
    chilean = location.model_copy(
        update={"evses": [location.evses[0].model_copy(update={"evse_id": "CL*ABC*E1"})]}
    )
    assert "is not an id of COL" in _failing(chilean)["evse_id"]
    broken = location.model_copy(
        update={"evses": [location.evses[0].model_copy(update={"evse_id": "not an id"})]}
    )
    assert "is not an EVSE id" in _failing(broken)["evse_id"]


def test_status_freshness_and_flapping_use_the_registrys_knowledge() -> None:
    location = _location()
    # Colombia's rule: stale after 24 h without a status report.
    old = {"E1": NOW - timedelta(hours=25)}
    assert "allows 86400 s" in _failing(location, last_reported=old)["status_fresh"]
    assert "status_fresh" not in _failing(location, last_reported={"E1": NOW - timedelta(hours=1)})
    assert "201 status changes" in _failing(location, changes_last_day={"E1": 201})["flapping"]


def test_a_cpos_score_is_its_locations_mean_less_its_refusals() -> None:
    good = check_location(
        LocationContext(
            location=_location(),
            now=NOW,
            rule=RULES.for_country("CO"),
            tariff_ids=frozenset({"CO-AC"}),
        )
    )
    bad = check_location(
        LocationContext(
            location=_location(opening_times=None), now=NOW, rule=RULES.for_country("CO")
        )
    )
    # 9 rules: the bad one fails opening_hours and tariff → 7/9 = 77.8; mean (100 + 77.8) / 2
    # = 88.9; two refusals at 2 points each → 84.9.
    assert bad.score == 77.8
    cpo = cpo_quality("CO", "ABC", [good, bad], refusals=2)
    assert cpo.score == 84.9
    assert cpo.failing_rules == ("opening_hours", "tariff", "refused")


def test_the_monitor_flags_stale_evses_and_locations_silent_cpos_and_rule_breaks() -> None:
    location = _location(opening_times=None)
    rules = RULES.overridden({"CO": {"stale_after_s": 600, "status_window_s": 60}})
    flags = monitor(
        NOW,
        rules,
        [location],
        last_reported={("CO", "ABC", "BOG1", "E1"): NOW - timedelta(seconds=601)},
        last_heard={("CO", "ABC"): NOW - timedelta(seconds=61), ("CO", "XYZ"): NOW},
        tariff_ids={},
        parties=[("CO", "ABC"), ("CO", "XYZ")],
    )
    found = {(f.level, f.subject, f.rule) for f in flags}
    assert found == {
        ("CPO", "CO-ABC", "silent"),
        ("EVSE", "CO-ABC/BOG1/E1", "stale"),
        ("LOCATION", "CO-ABC/BOG1", "stale"),
        ("LOCATION", "CO-ABC/BOG1", "opening_hours"),
        ("LOCATION", "CO-ABC/BOG1/E1/1", "tariff"),
    }
    # Within the windows nothing is stale or silent.
    fresh = monitor(
        NOW,
        rules,
        [_location()],
        last_reported={("CO", "ABC", "BOG1", "E1"): NOW - timedelta(seconds=599)},
        last_heard={("CO", "ABC"): NOW - timedelta(seconds=59)},
        tariff_ids={("CO", "ABC"): frozenset({"CO-AC"})},
    )
    assert fresh == []


def _chilean(tariff_ids: list[str]) -> domain.Location:
    return _location(
        _connector(tariff_ids=tariff_ids),
        country_code="CL",
        id="SCL1",
        address="Avenida Apoquindo 3000",
        city="Santiago",
        country="CHL",
        coordinates={"latitude": "-33.41611", "longitude": "-70.60417"},
        time_zone="America/Santiago",
    )


def _price_flags(
    location: domain.Location, windows: dict[str, TariffWindow]
) -> dict[tuple[str, str], str]:
    party = (location.country_code, location.party_id)
    flags = monitor(
        NOW,
        RULES,
        [location],
        last_reported={(*party, location.id, "E1"): NOW},
        last_heard={party: NOW},
        tariff_ids={party: frozenset(windows)},
        tariff_windows={party: windows},
    )
    return {(f.subject, f.rule): f.detail for f in flags}


def test_chile_wants_a_price_in_force_for_every_connector() -> None:
    # Chile's rule file says prices in real time; Colombia's does not.
    assert RULES.for_country("CL").realtime_prices and not RULES.for_country("CO").realtime_prices
    subject = "CL-ABC/SCL1/E1/1"
    current = TariffWindow(start=NOW - timedelta(days=30))
    assert _price_flags(_chilean(["CL-DC"]), {"CL-DC": current}) == {}
    # Never received: the mandatory tariff rule and the price rule both name the connector.
    missing = _price_flags(_chilean(["CL-DC"]), {})
    assert missing[(subject, "tariff")] == "tariff CL-DC not received"
    assert missing[(subject, "prices")].startswith("tariff CL-DC not received: no price")
    # Received, but ended yesterday with nothing after it: no current price.
    ended = TariffWindow(start=NOW - timedelta(days=30), end=NOW - timedelta(days=1))
    stale = _price_flags(_chilean(["CL-DC"]), {"CL-DC": ended})
    assert set(stale) == {(subject, "prices")}
    assert "not in force now" in stale[(subject, "prices")]
    assert "CL wants prices in real time" in stale[(subject, "prices")]
    # Not yet in force, with nothing else in force: no price either.
    coming = TariffWindow(start=NOW + timedelta(days=1))
    assert set(_price_flags(_chilean(["CL-DC"]), {"CL-DC": coming})) == {(subject, "prices")}
    # The ended tariff's successor is in force: the connector has a price.
    both = _price_flags(_chilean(["CL-OLD", "CL-NEW"]), {"CL-OLD": ended, "CL-NEW": current})
    assert both == {}
    # Colombia has no real-time price rule: an ended tariff is not flagged there.
    assert _price_flags(_location(), {"CO-AC": ended}) == {}


def test_every_country_rule_has_a_source_and_overrides_are_checked() -> None:
    rules = load_rules()
    assert rules.for_country("CO").status_window == timedelta(seconds=60)
    assert rules.for_country("CL").realtime_prices is True
    assert rules.for_country("AR") is rules.by_country["default"]
    for rule in rules.by_country.values():
        assert rule.source and rule.date
        assert set(rule.mandatory) <= set(LOCATION_RULES)
    with pytest.raises(ValueError, match="unknown field window"):
        rules.overridden({"CO": {"window": 2}})
