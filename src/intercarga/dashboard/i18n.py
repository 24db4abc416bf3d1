"""The dashboard's languages: Spanish, Portuguese and English, from Babel catalogs.

English is the source language (the msgids); ``locale/es.po`` and ``locale/pt.po`` hold the
translations, read once at start. The language of a request is the ``lang`` cookie when it names
one of ours, else the best match of ``Accept-Language``, else Spanish. Amounts are formatted for
the language with their currency's own minor unit (CLP with none). This module must never guess
a translation: a msgid missing from a catalog shows in English, and a test fails on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Final

from babel import Locale
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, get_currency_symbol, parse_pattern

from intercarga.domain import currency

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Catalogs",
    "Translator",
    "choose_language",
]

LANGUAGES: Final = ("es", "pt", "en")
DEFAULT_LANGUAGE: Final = "es"
LANGUAGE_NAMES: Final = {"es": "Español", "pt": "Português", "en": "English"}
_LOCALES: Final = {"es": "es", "pt": "pt_BR", "en": "en"}


@dataclass(frozen=True)
class Translator:
    language: str
    messages: Mapping[str, str]

    def __call__(self, message: str, **values: object) -> str:
        text = self.messages.get(message) or message
        return text % values if values else text

    @property
    def locale(self) -> str:
        return _LOCALES[self.language]

    def money(self, amount: Decimal, code: str) -> str:
        """With ISO 4217's minor unit (CLP none, COP and BRL two), not CLDR's cash digits."""
        places = currency(code).minor_unit
        pattern = parse_pattern(Locale.parse(self.locale).currency_formats["standard"].pattern)
        pattern.frac_prec = (places, places)
        text = str(pattern.apply(amount, self.locale, currency=code, currency_digits=False))
        return _space_letters(text, get_currency_symbol(code, self.locale))

    def country(self, code: str) -> str:
        """A country's name in this language (CLDR's, through Babel); the code when unknown."""
        name: str | None = Locale.parse(self.locale).territories.get(code.upper())
        return name or code

    def countries(self) -> dict[str, str]:
        """Every two-letter country code's name in this language."""
        names = Locale.parse(self.locale).territories
        return {
            code: str(name) for code, name in names.items() if len(code) == 2 and code.isalpha()
        }

    def number(self, value: Decimal | float, places: int = 2) -> str:
        pattern = "#,##0." + "#" * places if places else "#,##0"
        return str(format_decimal(value, format=pattern, locale=self.locale))


class Catalogs:
    """Every language's messages, read from the package's .po files."""

    def __init__(self) -> None:
        self._messages: dict[str, dict[str, str]] = {"en": {}}
        folder = resources.files("intercarga.dashboard").joinpath("locale")
        for language in LANGUAGES:
            if language == "en":
                continue
            with folder.joinpath(f"{language}.po").open("rb") as file:
                catalog = read_po(file, locale=_LOCALES[language])
            self._messages[language] = {
                str(message.id): str(message.string)
                for message in catalog
                if message.id and message.string and not message.fuzzy
            }

    def translator(self, language: str) -> Translator:
        return Translator(language, self._messages[language])

    def messages(self, language: str) -> Mapping[str, str]:
        return self._messages[language]


def _space_letters(text: str, symbol: str) -> str:
    """CLDR's currency spacing, which Babel leaves out: a symbol that ends (or starts) in a
    letter is kept apart from the digits by a no-break space ("CLP 1,450", never "CLP1,450");
    a sign like ``$`` or ``R$`` stays against them ("R$12.50")."""
    if symbol[-1:].isalpha():
        text = re.sub(rf"({re.escape(symbol)})(?=[-\d])", "\\1\xa0", text)
    if symbol[:1].isalpha():
        text = re.sub(rf"(?<=\d)({re.escape(symbol)})", "\xa0\\1", text)
    return text


def _accepted(header: str) -> list[str]:
    """The languages of an Accept-Language header, best first (``q`` weights honoured)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag:
            weighted.append((-weight, position, tag.strip().lower()))
    return [tag for weight, _, tag in sorted(weighted) if weight < 0]


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    for tag in _accepted(accept_language or ""):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE
