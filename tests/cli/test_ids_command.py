"""``intercarga ids check``: exit 0 when valid, 1 when invalid, 2 on usage errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from intercarga.cli import app

runner = CliRunner()


def test_valid_contract_id() -> None:
    result = runner.invoke(app, ["ids", "check", "NL-TNM-012204-5"])
    assert result.exit_code == 0
    assert "valid contract id" in result.stdout
    assert "NL-TNM-000122045-U" in result.stdout


def test_invalid_check_character_exits_one_and_says_why() -> None:
    result = runner.invoke(app, ["ids", "check", "NL-TNM-000122045-X"])
    assert result.exit_code == 1
    assert "check character" in result.stdout
    assert "is U" in result.stdout


def test_invalid_evse_id_names_the_part() -> None:
    result = runner.invoke(app, ["ids", "check", "ZZ*ICG*E1", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["wrong_part"] == "country code"


def test_forced_kind() -> None:
    result = runner.invoke(app, ["ids", "check", "CL-ICG", "--kind", "party"])
    assert result.exit_code == 0
    assert "CL-ICG" in result.stdout


def test_usage_errors_exit_two() -> None:
    assert runner.invoke(app, ["ids", "check", " "]).exit_code == 2
    assert runner.invoke(app, ["ids", "check", "CL-ICG", "--kind", "phone"]).exit_code == 2
    assert runner.invoke(app, ["ids", "check"]).exit_code == 2


def test_check_char() -> None:
    result = runner.invoke(app, ["ids", "check-char", "DE8AA001234567"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "DE8AA0012345670"
