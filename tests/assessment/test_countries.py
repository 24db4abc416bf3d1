"""Loading country files: valid files load, a broken one fails in one line naming file, country
and field; the package's dataset holds the 33 LAC countries (files land from branch assessdata)."""

from __future__ import annotations

from pathlib import Path

import pytest

from intercarga.assessment import (
    LAC_COUNTRIES,
    CountryDataError,
    Market,
    load_countries,
    load_country,
)
from intercarga.assessment.countries import country_files
from intercarga.errors import InvalidInputError
from tests.assessment.conftest import FIXTURES


def test_fixture_countries_load_with_their_facts() -> None:
    found = load_countries(FIXTURES)
    assert sorted(found) == ["CO", "CR", "HT"]
    assert found["CO"].market is Market.COMPETITIVE
    assert found["CR"].market is Market.REGULATED_UTILITY
    assert found["CO"].status_max_age_seconds == 60
    (roaming,) = found["CO"].facts_for("service.roaming")
    assert roaming.level == 3 and "OCPI 2.2.1" in roaming.summary


def _broken(tmp_path: Path, replace: str, by: str) -> Path:
    text = (FIXTURES / "CO.toml").read_text(encoding="utf-8")
    assert replace in text
    (tmp_path / "CO.toml").write_text(text.replace(replace, by, 1), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("replace", "by", "field"),
    [
        ("level = 3", "level = 7", "facts[0].level"),
        (
            'criterion = "communication.ocpp"',
            'criterion = "communication.ocpi"',
            "facts[1].criterion",
        ),
        ('market = "competitive"', 'market = "liberal"', "market"),
        ('document = "Res. MME 40123/2024"\ndate', "date", "facts[1].source"),
        ("as_of = 2025-11-21", 'as_of = "last year"', "facts[0].as_of"),
    ],
)
def test_a_broken_file_fails_in_one_line_naming_file_country_and_field(
    tmp_path: Path, replace: str, by: str, field: str
) -> None:
    folder = _broken(tmp_path, replace, by)
    with pytest.raises(CountryDataError) as caught:
        load_countries(folder)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"CO.toml: country CO: {field}: ")
    assert caught.value.field == field


def test_a_file_whose_code_differs_from_its_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "CR.toml").write_text((FIXTURES / "CO.toml").read_text(encoding="utf-8"))
    with pytest.raises(CountryDataError, match=r"^CR.toml: country CO: code: does not match"):
        load_countries(tmp_path)


def test_an_unknown_country_names_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_country("XX", FIXTURES)
    assert str(caught.value) == "country: unknown country 'XX'; valid: CO, CR, HT"


def test_the_package_holds_a_valid_file_for_each_of_the_33_lac_countries() -> None:
    assert len(LAC_COUNTRIES) == 33
    assert sorted(country_files()) == sorted(LAC_COUNTRIES)
    assert sorted(load_countries()) == sorted(LAC_COUNTRIES)
