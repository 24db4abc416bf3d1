"""Country rules against the test networks of CO, PE, CR and UY (tests/data/hardware)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from intercarga.domain.location import Location
from intercarga.errors import InvalidInputError
from intercarga.hardware.rules import RuleStatus, Severity, comply, country_rules

DATA = Path(__file__).parent.parent / "data" / "hardware"
AFTER_CO_DEADLINE = date(2027, 6, 1)


def network(country: str) -> list[Location]:
    raw = json.loads((DATA / f"network-{country.lower()}.json").read_text(encoding="utf-8"))
    return [Location.model_validate(item) for item in raw]


def found(country: str, as_of: date = AFTER_CO_DEADLINE) -> set[tuple[str, str | None, str, str]]:
    report = comply(country, network(country), as_of)
    return {(f.location_id, f.evse_uid, f.rule_id, f.severity.value) for f in report.findings}


def test_colombia_known_violations_after_the_migration_deadline() -> None:
    assert found("CO") == {
        # Type 1 cable only: Res. 40559/2025 wants Type 2 at public AC charging.
        ("CO-T1-ONLY", "AC-1", "CO-40559-AC", "violation"),
        # CCS1 + CHAdeMO but no CCS2 on a public DC EVSE.
        ("CO-CCS1-CHADEMO", "DC-1", "CO-40559-DC", "violation"),
    }  # CO-PRIVATE-T1 is not published, so not public: not in scope.


def test_colombia_before_the_deadline_is_a_warning_with_the_date() -> None:
    report = comply("CO", network("CO"), date(2026, 11, 24))
    assert {f.severity for f in report.findings} == {Severity.WARNING}
    assert all("must comply by 2027-05-21" in f.message for f in report.findings)
    assert report.compliant  # warnings only


def test_peru_known_violations() -> None:
    assert found("PE") == {
        ("PE-T1-ONLY", "AC-1", "PE-036-MODE3", "violation"),  # Mode 3 without Type 2
        ("PE-CCS1-ONLY", "DC-1", "PE-036-MODE4", "violation"),  # Mode 4 without CCS2
        # GB/T DC beside CCS2: not among AA/EE/FF, our inferred allow-list → a warning.
        ("PE-GBT", "DC-1", "PE-036-MODE4-ALLOWED", "warning"),
    }


def test_costa_rica_known_violations() -> None:
    assert found("CR") == {
        ("CR-CCS2-ONLY", None, "CR-41642-FAST", "violation"),  # none of the three
        ("CR-NO-GBT", None, "CR-41642-FAST", "violation"),  # GB/T missing
    }  # CR-ICE has all three; CR-AC-ONLY has no fast charger.
    report = comply("CR", network("CR"), AFTER_CO_DEADLINE)
    missing = next(f for f in report.findings if f.location_id == "CR-NO-GBT")
    assert "GB/T DC" in missing.message


def test_uruguay_known_violations_and_the_nearby_exception() -> None:
    assert found("UY") == {
        ("UY-T1-FAR", "AC-1", "UY-225-AC", "violation"),  # Type 1 alone, nothing near
        ("UY-CHADEMO-FAR", "DC-1", "UY-225-DC", "violation"),  # CHAdeMO far from any CCS2
        # A 25 kW CCS2 beside a 100 kW CHAdeMO is not "similar power".
        ("UY-WEAK-COMPLIANT", "DC-1", "UY-225-DC", "violation"),
    }  # UY-CHADEMO-NEAR stands ~150 m from UTE's 60 kW CCS2: allowed.


def test_findings_carry_rule_source_and_fix() -> None:
    report = comply("PE", network("PE"), AFTER_CO_DEADLINE)
    assert not report.compliant
    for finding in report.findings:
        assert finding.source == "pe-ds-036-2023-em"
        assert "036-2023-EM" in finding.source_title
        assert finding.fix
        assert finding.source_date


def test_other_countries_locations_are_skipped() -> None:
    report = comply("PE", network("PE") + network("CO"), AFTER_CO_DEADLINE)
    assert report.locations_checked == 4
    assert report.locations_skipped == 4


def test_chile_says_its_rule_is_not_machine_checkable() -> None:
    report = comply("CL", network("CO"), AFTER_CO_DEADLINE)
    assert report.status is RuleStatus.NOT_CHECKABLE
    assert "RIC" in report.summary
    assert report.findings == []


def test_country_without_data_has_no_rule_known() -> None:
    assert country_rules("VE").status is RuleStatus.NO_RULE_KNOWN


def test_bad_country_code() -> None:
    with pytest.raises(InvalidInputError, match="alpha-2"):
        comply("XX", [], AFTER_CO_DEADLINE)


def test_report_serializes_to_json() -> None:
    assert '"rule_id":"CR-41642-FAST"' in comply("CR", network("CR")).model_dump_json()
