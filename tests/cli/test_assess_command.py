"""``intercarga assess`` as a user runs it: reports in each format and language, one-line errors,
and ``--save`` building a country's history."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from intercarga.app import System
from intercarga.cli import app
from intercarga.config import Settings
from tests.assessment.conftest import clean_co_location, co_tariff

DATA = Path(__file__).resolve().parents[1] / "data" / "assessment"
runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def test_a_country_report_in_markdown_and_spanish() -> None:
    code, stdout, _ = invoke("assess", "CO", "--data", str(DATA), "--language", "es")
    assert code == 0
    assert stdout.startswith("# Evaluación de interoperabilidad: Colombia")
    assert "| Comunicación | 2.0 | 3.0 | 1.0 | 30 % |" in stdout
    assert "communication.ocpp 2: OCPP 1.6 or later is recommended" in stdout


def test_a_country_report_as_json() -> None:
    code, stdout, _ = invoke("assess", "cr", "--data", str(DATA), "--format", "json")
    assert code == 0
    body = json.loads(stdout)
    assert body["assessment"]["code"] == "CR"
    assert body["assessment"]["market"] == "regulated_utility"
    assert body["recommendations"][0]["rank"] == 1


def test_the_region_as_markdown_lists_every_country_file() -> None:
    code, stdout, _ = invoke("assess", "--region", "LAC", "--data", str(DATA), "--language", "pt")
    assert code == 0
    assert "| Colômbia | competitivo | 3.0 | 2.0 | 3.0 | 3.0 | 3.0 | 40 % |" in stdout
    assert "| Haiti |" in stdout


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["assess", "XX"], "error: country: unknown country 'XX'; valid: CO, CR, HT"),
        (
            ["assess", "CO", "--language", "fr"],
            "error: language: unknown language 'fr'; valid: es, pt, en",
        ),
        (
            ["assess", "CO", "--format", "docx"],
            "error: format: unknown format 'docx'; valid: md, html, json, pdf",
        ),
        (["assess", "--region", "EU"], "error: region: unknown region 'EU'; valid: LAC"),
        (["assess"], "error: country: give a country code (e.g. CO) or --region LAC"),
    ],
)
def test_bad_input_ends_in_one_line_naming_the_valid_values(args: list[str], line: str) -> None:
    code, stdout, stderr = invoke(*args, "--data", str(DATA))
    assert code == 2
    assert stderr.strip() == line
    assert stdout == ""


def test_a_broken_country_file_is_one_line(tmp_path: Path) -> None:
    text = (DATA / "CR.toml").read_text(encoding="utf-8").replace("level = 3", "level = 9", 1)
    (tmp_path / "CR.toml").write_text(text, encoding="utf-8")
    code, _, stderr = invoke("assess", "CR", "--data", str(tmp_path))
    assert code == 2
    assert stderr.strip() == (
        "error: CR.toml: country CR: facts[0].level: Input should be less than or equal to 4"
    )


def test_save_stores_each_run_and_the_report_shows_the_history(tmp_path: Path) -> None:
    env = {
        "INTERCARGA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'intercarga.db'}",
        "INTERCARGA_ASSESSMENT_DATA": str(DATA),
    }
    for _ in range(2):
        code, _, stderr = invoke("assess", "CO", "--save", "--format", "json", env=env)
        assert code == 0, stderr
    code, stdout, _ = invoke("assess", "CO", "--live", "--format", "json", env=env)
    history = json.loads(stdout)["history"]
    assert len(history) == 2
    assert history[0]["levels"]["communication"] == 2.0
    assert history[0]["live_data"] is False  # the database holds no Colombian station yet


def test_live_measures_the_data_quality_of_the_deployment_s_locations(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intercarga.db'}"

    async def seed() -> None:
        system = await System.open(Settings(database_url=SecretStr(url)))
        try:
            now = datetime.now(UTC)
            await system.store.tariffs.put(co_tariff())
            await system.store.locations.put(clean_co_location("BOG-1", now))
            await system.store.locations.put(clean_co_location("BOG-2", now, opening_times=None))
        finally:
            await system.close()

    asyncio.run(seed())
    env = {"INTERCARGA_DATABASE_URL": url, "INTERCARGA_ASSESSMENT_DATA": str(DATA)}
    code, stdout, stderr = invoke("assess", "CO", "--live", "--language", "es", env=env)
    assert code == 0, stderr
    line = next(x for x in stdout.splitlines() if x.startswith("- information.registry "))
    assert "measured data_quality = 50% (1 / 2) (good ≥ 0.9, poor < 0.5) → 2" in line
    code, stdout, stderr = invoke("assess", "--region", "LAC", "--live", "-f", "json", env=env)
    assert code == 0, stderr

    def registry(country: dict[str, Any]) -> Any:
        layer = next(x for x in country["layers"] if x["layer"] == "information")
        return next(c for c in layer["criteria"] if c["criterion"] == "information.registry")

    countries = {c["code"]: c for c in json.loads(stdout)["countries"]}
    assert registry(countries["CO"])["measurement"]["shown"] == "50% (1 / 2)"
    assert registry(countries["CR"])["measurement"] is None  # no Costa Rican location held
