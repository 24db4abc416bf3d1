"""Reporting rules per country, as data: how fast a status change must be known at the access
point, when silence makes an EVSE stale, whether prices are due in real time, which fields are
mandatory — each with its source (``data/reporting_rules.toml``).

Pure: reads only its own package data. Overrides (``[registry.rules.CO] status_window_s = 2``
in the settings) are handed in by the composition root; this module never reads the settings.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache
from importlib.resources import files
from typing import Any

__all__ = ["DEFAULT", "ReportingRule", "ReportingRules", "load_rules"]

DEFAULT = "default"
_OVERRIDABLE = frozenset({"status_window_s", "stale_after_s", "realtime_prices", "mandatory"})


@dataclass(frozen=True, slots=True)
class ReportingRule:
    """One country's reporting rule (``country`` = ISO alpha-2, or ``default``)."""

    country: str
    status_window: timedelta
    stale_after: timedelta
    realtime_prices: bool
    mandatory: tuple[str, ...]
    source: str
    date: str

    def fields(self) -> dict[str, Any]:
        """The rule as its data file writes it (``status_window_s``, …, ``source``, ``date``)."""
        return {
            "status_window_s": self.status_window.total_seconds(),
            "stale_after_s": self.stale_after.total_seconds(),
            "realtime_prices": self.realtime_prices,
            "mandatory": list(self.mandatory),
            "source": self.source,
            "date": self.date,
        }


@dataclass(frozen=True, slots=True)
class ReportingRules:
    """Every country's rule; :meth:`for_country` falls back to the default."""

    by_country: Mapping[str, ReportingRule]

    def for_country(self, country: str | None) -> ReportingRule:
        return self.by_country.get((country or "").upper()) or self.by_country[DEFAULT]

    def overridden(self, overrides: Mapping[str, Mapping[str, Any]]) -> ReportingRules:
        """These rules with some fields replaced per country (tests, a regulator's own window).

        ``{"CO": {"status_window_s": 2, "stale_after_s": 2}}``; an unknown country starts from
        the default rule.
        """
        found = dict(self.by_country)
        for country, fields in overrides.items():
            unknown = sorted(set(fields) - _OVERRIDABLE)
            if unknown:
                raise ValueError(
                    f"registry.rules.{country}: unknown field {', '.join(unknown)}"
                    f" (one of {', '.join(sorted(_OVERRIDABLE))})"
                )
            key = country.upper() if country != DEFAULT else DEFAULT
            base = found.get(key) or replace(found[DEFAULT], country=key)
            found[key] = _rule(
                key, {**base.fields(), **fields, "source": f"override of: {base.source}"}
            )
        return ReportingRules(found)


def _rule(country: str, data: Mapping[str, Any]) -> ReportingRule:
    return ReportingRule(
        country=country,
        status_window=timedelta(seconds=float(data["status_window_s"])),
        stale_after=timedelta(seconds=float(data["stale_after_s"])),
        realtime_prices=bool(data["realtime_prices"]),
        mandatory=tuple(str(field) for field in data["mandatory"]),
        source=str(data["source"]),
        date=str(data["date"]),
    )


@cache
def load_rules() -> ReportingRules:
    """The rules shipped with Intercarga (package data)."""
    text = files("intercarga.registry").joinpath("data/reporting_rules.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return ReportingRules({key: _rule(key, value) for key, value in data.items()})
