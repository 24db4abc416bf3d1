"""Translations of the assessment's reports: English, Spanish and Portuguese.

Messages are English msgids; Spanish and Portuguese come from the Babel catalogs
``locale/es.po`` and ``locale/pt.po``, read at run time with Babel's PO reader, so a fresh clone
needs no compile step. Country names come from Babel's locale data (CLDR). Desk facts stay in the
English of their summaries: they cite documents, and translating them would change what they say.
This module must never write files or reach the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po

from intercarga.assessment.framework import choose

__all__ = [
    "LABELS",
    "LANGUAGES",
    "Translator",
    "catalog",
    "check_language",
    "translator",
]

LANGUAGES = ("es", "pt", "en")


def _n(message: str) -> str:
    """Marks a message for the catalogs where it is defined; translated where it is shown."""
    return message


# Labels the reports show for the framework's ids (extracted by the completeness test).
LABELS: dict[str, str] = {
    "hardware": _n("Hardware"),
    "communication": _n("Communication"),
    "information": _n("Information"),
    "service": _n("Service"),
    "business": _n("Business"),
    "competitive": _n("Competitive: charging is a separate service anyone may sell"),
    "regulated_utility": _n("Regulated: charging is an energy service of the incumbent utility"),
    "mixed": _n("Mixed: utilities and private operators side by side"),
    "unknown": _n("Market configuration unknown"),
    "market.competitive": _n("competitive"),
    "market.regulated_utility": _n("regulated utility"),
    "market.mixed": _n("mixed"),
    "market.unknown": _n("unknown market"),
    "level.0": _n("none"),
    "level.1": _n("de facto practice"),
    "level.2": _n("voluntary standard"),
    "level.3": _n("mandated"),
    "level.4": _n("mandated and verified"),
    "hardware.connector_mandate": _n("Connector set mandated"),
    "hardware.inlet_coverage": _n("Vehicle inlets served"),
    "hardware.adapters": _n("Adapters"),
    "communication.ocpp": _n("Open charger protocol (OCPP)"),
    "communication.security": _n("Charger security"),
    "information.registry": _n("National registry"),
    "information.realtime_status": _n("Real-time status"),
    "information.published_prices": _n("Published prices"),
    "information.open_data": _n("Open data"),
    "information.id_scheme": _n("Id scheme"),
    "service.roaming": _n("Roaming (OCPI)"),
    "service.adhoc_payment": _n("Ad hoc payment"),
    "service.one_credential": _n("One credential"),
    "service.realtime_authorization": _n("Real-time authorization"),
    "business.who_may_sell": _n("Who may sell charging"),
    "business.tariff_regime": _n("Tariff regime"),
    "business.regulator_mandate": _n("Regulator's mandate"),
    "business.market_configuration": _n("Predictable market rules"),
}


def check_language(language: str) -> str:
    return choose("language", language.strip().lower(), LANGUAGES)


@cache
def catalog(language: str) -> dict[str, str]:
    """The translated messages of ``language`` (English: none, the msgids are English)."""
    if language == "en":
        return {}
    path = resources.files("intercarga.assessment").joinpath(f"locale/{language}.po")
    with path.open("rb") as file:
        po = read_po(file, locale=language)
    return {
        str(message.id): str(message.string)
        for message in po
        if message.id and message.string and not message.fuzzy
    }


@dataclass(frozen=True)
class Translator:
    language: str

    def gettext(self, message: str) -> str:
        # A message missing from a catalog shows in English; tests/assessment/test_i18n.py
        # fails the build before that can ship.
        return catalog(self.language).get(message, message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.gettext(singular if count == 1 else plural)

    def label(self, key: str) -> str:
        return self.gettext(LABELS[key])

    def country(self, code: str) -> str:
        """The country's name in this language, from CLDR through Babel."""
        name = Locale.parse(self.language).territories.get(code)
        return str(name) if name else code

    def date(self, value: date) -> str:
        return str(format_date(value, format="long", locale=self.language))


def translator(language: str) -> Translator:
    return Translator(check_language(language))
