"""``intercarga tariff price`` and ``explain`` as a user runs them: exit codes and output.

``--check`` passes (exit 0) on every oracle case except the one where Intercarga follows the
spec's min_price (exit 1, naming total_cost), and on the spec's cdr_example.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from intercarga.cli import app
from tests.billing.data import LAC, ORACLES, SPEC, oracle_cases

runner = CliRunner()
ZONES = {"santiago_clp_dst": "America/Santiago", "bogota_iva_19": "America/Bogota",
         "sao_paulo_parking": "America/Sao_Paulo"}  # fmt: skip


def tariff(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["tariff", *map(str, args)], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("tariff_path", "cdr_path"), oracle_cases(), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_check_on_every_oracle_case(tariff_path: Path, cdr_path: Path) -> None:
    code, stdout, _ = tariff("price", tariff_path, cdr_path, "--check")
    if cdr_path.name == "cdr2_less_than_2kWh.json":
        assert code == 1
        assert "mismatch total_cost.excl_vat: the CDR says 0.3, the engine computes 0.50" in stdout
        assert "min_price applied" in stdout
    else:
        assert code == 0, stdout
        assert "check passed" in stdout


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_check_on_the_spec_cdr_example(version: str) -> None:
    code, stdout, _ = tariff(
        "price", SPEC / version / "tariff_put_example.json", SPEC / version / "cdr_example.json",
        "--check",
    )  # fmt: skip
    assert code == 0, stdout
    assert "note: total_energy: not checked, no charging period carries ENERGY" in stdout
    assert "check passed" in stdout


@pytest.mark.parametrize("cdr_path", sorted(LAC.glob("*/cdr*.json")), ids=lambda p: p.parent.name)
def test_check_on_the_lac_cases(cdr_path: Path) -> None:
    code, stdout, _ = tariff(
        "price", cdr_path.parent / "tariff.json", cdr_path, "--check",
        "--time-zone", ZONES[cdr_path.parent.name],
    )  # fmt: skip
    assert code == 0, stdout


def test_breakdown_names_element_and_restriction() -> None:
    case = LAC / "santiago_clp_dst"
    code, stdout, _ = tariff(
        "price", case / "tariff.json", case / "cdr.json", "--time-zone", "America/Santiago"
    )
    assert code == 0
    assert "2025-09-07 01:00  ENERGY" in stdout  # the night starts after the DST gap
    assert "elements[0] applies (from 00:00 to 06:00)" in stdout
    assert "elements[0] not applicable: from 00:00 to 06:00 (saw local time 22:00)" in stdout
    assert "12509" in stdout


def test_a_mismatch_names_each_field_and_exits_one(tmp_path: Path) -> None:
    cdr = json.loads((ORACLES / "simple_3hour_5parking" / "cdr1.json").read_text())
    cdr["total_parking_cost"] = {"excl_vat": 3.5, "incl_vat": 4.2}
    cdr["total_time"] = 3
    changed = tmp_path / "cdr.json"
    changed.write_text(json.dumps(cdr))
    code, stdout, _ = tariff(
        "price", ORACLES / "simple_3hour_5parking" / "tariff.json", changed, "--check"
    )
    assert code == 1
    assert "mismatch total_parking_cost.excl_vat: the CDR says 3.5, the engine computes 3.75" in (
        stdout
    )
    assert "mismatch total_parking_cost.incl_vat" in stdout
    assert "mismatch total_time: the CDR says 3, the engine computes 3.20" in stdout


def test_json_report() -> None:
    case = ORACLES / "step_size"
    code, stdout, _ = tariff("price", case / "tariff.json", case / "cdr1.json", "--json", "--check")
    assert code == 0
    report = json.loads(stdout)
    assert report["totals"]["total_cost"] == {"excl_vat": "0.55", "incl_vat": "0.55"}
    assert report["totals"]["total_parking_time"] == "0.0334"
    assert report["check"]["passed"] is True and report["check"]["mismatches"] == []
    parking = [line for line in report["breakdown"] if line["dimension"] == "PARKING_TIME"]
    assert [line["kind"] for line in parking] == ["charge", "step_size"]
    assert parking[0]["element"] == 1


def test_json_report_in_2_3_0_shape() -> None:
    case = LAC / "bogota_iva_19"
    code, stdout, _ = tariff(
        "price", case / "tariff.json", case / "cdr.json", "--json", "--time-zone", "America/Bogota"
    )
    assert code == 0
    total = json.loads(stdout)["totals"]["total_cost"]
    assert total == {
        "before_taxes": "41405.00",
        "taxes": [{"name": "VAT", "percentage": "19.0", "amount": "7866.95"}],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["price", "missing.json", "also.json"], "TARIFF: cannot read missing.json"),
        (["price", ORACLES / "step_size" / "tariff.json", ORACLES / "step_size" / "cdr1.json",
          "--time-zone", "Mars/Olympus"], "time_zone: 'Mars/Olympus' is not an IANA time zone"),
        (["price", ORACLES / "step_size" / "cdr1.json", ORACLES / "step_size" / "cdr1.json"],
         "elements: required field is missing (tariff "),
        (["price", LAC / "santiago_clp_dst" / "tariff.json", LAC / "bogota_iva_19" / "cdr.json"],
         "currency: the tariff is in CLP and the CDR in COP"),
        (["explain", ORACLES / "complex" / "tariff.json", "--language", "fr"],
         "--language: 'fr'; expected es, pt or en"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_two(args: list[str | Path], message: str) -> None:
    code, stdout, stderr = tariff(*args)
    assert code == 2
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stdout + stderr


def test_bad_field_in_a_cdr(tmp_path: Path) -> None:
    cdr = json.loads((ORACLES / "step_size" / "cdr1.json").read_text())
    cdr["charging_periods"][0]["dimensions"][0]["volume"] = "lots"
    bad = tmp_path / "cdr.json"
    bad.write_text(json.dumps(cdr))
    code, _, stderr = tariff("price", ORACLES / "step_size" / "tariff.json", bad)
    assert code == 2
    assert stderr.startswith("error: charging_periods[0].dimensions[0].volume:")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Element 3: 2.00 EUR per hour of charging (billed per 10 minutes, VAT 20 %) — on"
               " Monday to Friday and charging at 32 A or more."),
        ("es", "Elemento 5: 5,00 EUR por hora estacionado sin cargar (cobrado por bloques de 5"
               " minutos, IVA 10 %) — de 09:00 a 18:00 y los días lunes a viernes."),
        ("pt", "Elemento 1: uma taxa fixa de 2,50 EUR (imposto 15 %) — sempre."),
    ],
)  # fmt: skip
def test_explain_in_three_languages(language: str, words: str) -> None:
    code, stdout, _ = tariff("explain", ORACLES / "complex" / "tariff.json", "-l", language)
    assert code == 0
    assert words in stdout
