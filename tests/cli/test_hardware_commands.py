"""``intercarga compat``, ``comply``, ``vehicles list`` and ``connectors list`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from intercarga.cli import app

DATA = Path(__file__).parent.parent / "data" / "hardware"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_compat_answers_for_a_location_file(tmp_path: Path) -> None:
    locations = json.loads((DATA / "network-co.json").read_text(encoding="utf-8"))
    one = tmp_path / "location.json"
    one.write_text(json.dumps(locations[0]), encoding="utf-8")
    code, stdout, _ = invoke(
        "compat", "--vehicle", "BYD Dolphin", "--market", "CL", "--location", str(one)
    )
    assert code == 0
    assert "BYD Dolphin (CL) at CO-OK: can charge up to 60 kW" in stdout


def test_compat_json_for_an_explicit_inlet_set() -> None:
    code, stdout, _ = invoke(
        "compat",
        "--inlet",
        "Type 1",
        "--inlet",
        "CHAdeMO",
        "--location",
        str(DATA / "network-co.json"),
        "--json",
    )
    assert code == 0
    answers = json.loads(stdout)
    by_location = {answer["location_id"]: answer for answer in answers}
    assert by_location["CO-CCS1-CHADEMO"]["can_charge"] is True
    assert by_location["CO-OK"]["best"]["method"] == "mode3_cable"


def test_compat_unknown_vehicle_lists_near_matches() -> None:
    code, _, stderr = invoke(
        "compat",
        "--vehicle",
        "Nisan Leef",
        "--market",
        "MX",
        "--location",
        str(DATA / "network-co.json"),
    )
    assert code == 2
    assert "unknown vehicle 'Nisan Leef'; did you mean: Nissan Leaf" in stderr


def test_compat_missing_file_is_a_usage_error() -> None:
    code, _, stderr = invoke(
        "compat", "--vehicle", "BYD Dolphin", "--market", "CL", "--location", "nope.json"
    )
    assert code == 2
    assert "no such file" in stderr


def test_comply_lists_violations_with_rule_source_and_fix() -> None:
    code, stdout, _ = invoke(
        "comply", "--country", "PE", "--locations", str(DATA / "network-pe.json")
    )
    assert code == 1  # violations found
    assert "PE-T1-ONLY / EVSE AC-1" in stdout
    assert "rule: PE-036-MODE3" in stdout
    assert "source: Peru, Decreto Supremo 036-2023-EM" in stdout
    assert "fix: Add a Type 2 socket or cable" in stdout


def test_comply_json_for_each_country_network() -> None:
    expected = {"CO": 2, "PE": 3, "CR": 2, "UY": 3}
    for country, count in expected.items():
        code, stdout, _ = invoke(
            "comply",
            "--country",
            country,
            "--locations",
            str(DATA / f"network-{country.lower()}.json"),
            "--as-of",
            "2027-06-01",
            "--json",
        )
        report = json.loads(stdout)
        assert len(report["findings"]) == count, country
        assert code == 1, country


def test_comply_without_machine_checkable_rules_exits_zero() -> None:
    code, stdout, _ = invoke(
        "comply", "--country", "CL", "--locations", str(DATA / "network-co.json")
    )
    assert code == 0
    assert "not_checkable" in stdout


def test_comply_bad_date_is_a_usage_error() -> None:
    code, _, stderr = invoke(
        "comply",
        "--country",
        "CO",
        "--locations",
        str(DATA / "network-co.json"),
        "--as-of",
        "tomorrow",
    )
    assert code == 2
    assert "YYYY-MM-DD" in stderr


def test_vehicles_list_per_market() -> None:
    code, stdout, _ = invoke("vehicles", "list", "--market", "MX")
    assert code == 0
    assert "Nissan Leaf" in stdout
    assert "Volvo EX30" not in stdout  # not recorded for Mexico


def test_connectors_list_in_portuguese() -> None:
    code, stdout, _ = invoke("connectors", "list", "--lang", "pt")
    assert code == 0
    assert "Plugue doméstico tipo N (NBR 14136, padrão brasileiro)" in stdout
    code, stdout, _ = invoke("connectors", "list", "--json")
    assert len(json.loads(stdout)) == 42
