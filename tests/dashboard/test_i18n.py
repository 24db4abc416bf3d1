"""Every string the dashboard shows is translated into Spanish and Portuguese (issue 15, part 9).

The strings are extracted the way translators get them (Babel's extractors over the templates
and the Python modules), so a string added tomorrow without its translations fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

import intercarga.dashboard
from intercarga.dashboard import Catalogs, choose_language

FOLDER = Path(intercarga.dashboard.__file__).parent
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}


def _messages() -> set[str]:
    found = extract_from_dir(
        FOLDER, METHODS, keywords={"_": None}, options_map=OPTIONS, strip_comment_tags=True
    )
    return {message for _file, _line, message, _comments, _context in found if message}


def test_the_extraction_finds_the_pages_strings() -> None:
    messages = _messages()
    # From a template, a template's attribute, and a Python module.
    assert {"Sign in", "Map", "The station is offline: the command was not sent."} <= messages
    assert len(messages) > 80


@pytest.mark.parametrize("language", ["es", "pt"])
def test_every_string_is_translated(language: str) -> None:
    translated = Catalogs().messages(language)
    missing = sorted(_messages() - set(translated))
    assert missing == [], f"untranslated into {language}: {missing}"


@pytest.mark.parametrize("language", ["es", "pt"])
def test_translations_keep_their_placeholders(language: str) -> None:
    for message, translation in Catalogs().messages(language).items():
        for name in ("%(count)s", "%(total)s", "%(code)s", "%(kw)s", "%(locations)s", "%(evses)s"):
            assert (name in message) == (name in translation), (message, translation)


@pytest.mark.parametrize(
    ("cookie", "header", "chosen"),
    [
        ("pt", "en-US,en;q=0.9", "pt"),  # the switcher's cookie wins
        (None, "en-US,en;q=0.9,es;q=0.8", "en"),
        (None, "fr-FR, pt-BR;q=0.7, es;q=0.5", "pt"),
        (None, "de, fr;q=0.5", "es"),  # none of ours: Spanish
        ("xx", None, "es"),
    ],
)
def test_the_language_is_the_cookie_then_accept_language(
    cookie: str | None, header: str | None, chosen: str
) -> None:
    assert choose_language(cookie, header) == chosen


def test_amounts_follow_the_language_and_the_currencys_minor_unit() -> None:
    from decimal import Decimal

    catalogs = Catalogs()
    assert catalogs.translator("es").money(Decimal("1450"), "CLP") == "1.450\xa0CLP"
    # CLDR's currency spacing: a code made of letters keeps apart from the digits.
    assert catalogs.translator("en").money(Decimal("1450"), "CLP") == "CLP\xa01,450"
    assert catalogs.translator("en").money(Decimal("12.5"), "BRL") == "R$12.50"
    assert catalogs.translator("pt").money(Decimal("12.5"), "BRL") == "R$\xa012,50"
    # ISO 4217 gives the peso colombiano two decimals (CLDR's cash rounding shows none).
    assert catalogs.translator("es").money(Decimal("12.5"), "COP") == "12,50\xa0COP"


def _data_strings() -> set[str]:
    """The country rules' words that pages show: summaries, rule titles and fixes."""
    from intercarga.hardware import country_rules
    from intercarga.hardware.rules import known_countries

    found = {country_rules("AQ").summary}  # a country with no data on record
    for code in known_countries():
        rules = country_rules(code)
        found.add(rules.summary)
        for rule in rules.rule:
            found |= {rule.title, rule.fix}
    return found


@pytest.mark.parametrize("language", ["es", "pt"])
def test_the_country_rules_words_are_translated(language: str) -> None:
    translated = Catalogs().messages(language)
    missing = sorted(_data_strings() - set(translated))
    assert missing == [], f"untranslated into {language}: {missing}"


@pytest.mark.parametrize("language", ["es", "pt"])
def test_every_connector_standard_has_a_name(language: str) -> None:
    from intercarga.dashboard.words import Words
    from intercarga.domain.location import ConnectorStandard

    words = Words.of(Catalogs().translator(language))
    unnamed = [s.value for s in ConnectorStandard if words.standard(s.value) == s.value]
    assert unnamed == []
