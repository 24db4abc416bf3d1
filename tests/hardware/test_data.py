"""The data files: every fact has a source and a date, every unknown has a reason, and the
connector catalogue covers every OCPI ConnectorType."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from intercarga.domain.location import ConnectorStandard
from intercarga.hardware._data import load_toml, sources
from intercarga.hardware.connectors import connector_catalogue
from intercarga.hardware.rules import RuleStatus, country_rules, known_countries
from intercarga.hardware.vehicles import vehicle_catalogue

DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
# Each connector fact and the source group that covers it.
CONNECTOR_FACTS = {
    "standard": "definition",
    "current": "definition",
    "phases": "definition",
    "typical_kw": "ratings",
    "max_kw": "ratings",
    "ocm_ids": "ocm",
    "ocpp201": "ocpp201",
    "ocpp21": "ocpp21",
    "name": "names",
}
VEHICLE_FACTS = {
    "ac_inlet": "ac",
    "dc_inlet": "dc",
    "ac_kw": "power",
    "ac_phases": "power",
    "dc_kw": "power",
}


def test_every_source_has_a_title_a_place_and_a_date() -> None:
    for key, source in sources().items():
        assert source.title and source.where, key
        assert DATE.match(source.date), key


def test_open_charge_map_licence_notice_is_kept() -> None:
    assert "CC BY-SA 4.0" in (sources()["ocm-reference-2021"].licence or "")
    text = resources.files("intercarga.hardware").joinpath("data").joinpath("connectors.toml")
    text = text.read_text("utf-8")
    assert "© Open Charge Map contributors" in text


def test_catalogue_covers_every_ocpi_connector_type() -> None:
    assert set(connector_catalogue().specs) == set(ConnectorStandard)


@pytest.mark.parametrize(
    "entry", load_toml("connectors.toml")["connector"], ids=lambda e: e["standard"]
)
def test_every_connector_fact_has_a_source_or_a_reason(entry: dict[str, object]) -> None:
    known = sources()
    groups = entry["sources"]
    assert isinstance(groups, dict)
    unknown = entry.get("unknown", {})
    assert isinstance(unknown, dict)
    for fact, group in CONNECTOR_FACTS.items():
        if fact in entry:
            if fact == "phases" and entry.get("current") == "DC":
                continue
            assert group in groups, f"{entry['standard']}.{fact} has no '{group}' source"
            assert groups[group] in known, f"unknown source {groups[group]}"
        elif fact == "phases":
            assert entry["current"] == "DC", f"{entry['standard']}: AC without phases"
        else:
            assert unknown.get(fact), f"{entry['standard']}.{fact}: absent without a reason"
    for fact, value in entry.items():
        if isinstance(value, list) and not value and fact in CONNECTOR_FACTS:
            assert unknown.get(fact), f"{entry['standard']}.{fact} is empty without a reason"
    for name in ("en", "es", "pt"):
        assert entry["name"][name]  # type: ignore[index]


def test_every_connection_path_has_a_known_source() -> None:
    for path in connector_catalogue().paths.values():
        assert path.source in sources()


def test_every_vehicle_fact_has_a_source_and_date_or_a_reason() -> None:
    known = sources()
    for vehicle in vehicle_catalogue():
        assert vehicle.market, vehicle.id
        for variant in vehicle.market:
            where = f"{vehicle.id}/{variant.country}"
            for fact, group in VEHICLE_FACTS.items():
                value = getattr(variant, fact)
                if value is None:
                    assert variant.unknown.get(fact), f"{where}.{fact}: absent without a reason"
                    continue
                provenance = getattr(variant, group)
                assert provenance is not None, f"{where}.{fact}: no '{group}' provenance"
                assert provenance.source in known, f"{where}: unknown source"
                assert DATE.match(provenance.date), where


def test_vehicle_catalogue_has_the_models_the_issue_names() -> None:
    catalogue = vehicle_catalogue()
    assert len(catalogue) >= 20
    for name in [
        "BYD Dolphin", "BYD Dolphin Mini", "BYD Yuan Plus", "BYD Song", "BYD Seal",
        "Renault Kwid E-Tech", "Nissan Leaf", "Chevrolet Bolt", "JAC E10X", "GWM Ora",
        "Tesla Model 3", "Tesla Model Y", "Volvo EX30", "MG4", "MG ZS EV",
        "Hyundai Kona", "Kia EV6",
    ]:  # fmt: skip
        catalogue.find(name)


def test_a_model_can_differ_by_market() -> None:
    dolphin = vehicle_catalogue().find("BYD Dolphin")
    assert dolphin.variant("CL").dc_inlet == ConnectorStandard.IEC_62196_T2_COMBO
    assert dolphin.variant("CN").dc_inlet == ConnectorStandard.GBT_DC


def test_every_country_rule_has_a_known_source_and_date() -> None:
    known = sources()
    for code in known_countries():
        rules = country_rules(code)
        assert rules.source in known and DATE.match(rules.date), code
        if rules.status is RuleStatus.RULES:
            assert rules.rule, code
        for rule in rules.rule:
            assert rule.source in known and DATE.match(rule.date), rule.id
            assert rule.fix, rule.id


def test_the_four_checked_countries_and_chile_are_listed() -> None:
    for code in ("CO", "PE", "CR", "UY"):
        assert country_rules(code).status is RuleStatus.RULES
    assert country_rules("CL").status is RuleStatus.NOT_CHECKABLE
    assert country_rules("MX").status is RuleStatus.NO_RULE
