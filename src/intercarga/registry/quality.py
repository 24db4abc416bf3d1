"""Data quality of the access point: named rules per location and per CPO, each a pure check
with its threshold, and a score.

Pure: a location (and what the registry knows around it: which tariffs exist, when each EVSE last
reported, how often it changed) in, :class:`Finding` s out. Country outlines come from
:mod:`intercarga.geo` (package data), time zones of a country from CLDR (Babel). It reads no
clock (``now`` is passed in) and must never import the store, the web layer or a network library.

Rules (:data:`LOCATION_RULES`): ``coordinates`` (valid and inside the stated country's Natural Earth
outline, within ``COUNTRY_TOLERANCE_KM``; countries outside LAC only checked for validity),
``time_zone`` (a zone of the coordinates' country, CLDR territory zones), ``connector_power`` (max_electric_power at most voltage × amperage × phases, plus
``POWER_TOLERANCE``), ``power_range`` (``POWER_RANGE_W``), ``evse_id`` (valid, of the location's country),
``opening_hours`` (present), ``tariff`` (every connector linked to a tariff the registry holds),
``status_fresh`` (reported within the country's ``stale_after``), ``flapping`` (at most
``MAX_CHANGES_PER_DAY`` status changes per EVSE per day). A location's score is the share of
rules it passes (0–100); a CPO's is the mean of its locations' scores less
``REFUSAL_PENALTY`` points per object refused in the period (floored at 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import pycountry
from babel.core import get_global

from intercarga import geo
from intercarga.domain import EVSE, Connector, Location, PowerType
from intercarga.ids import EvseIdFormat, is_valid_evse_id, parse_evse_id
from intercarga.registry.rules import ReportingRule

__all__ = [
    "COUNTRY_TOLERANCE_KM",
    "LOCATION_RULES",
    "MAX_CHANGES_PER_DAY",
    "POWER_RANGE_W",
    "POWER_TOLERANCE",
    "REFUSAL_PENALTY",
    "CpoQuality",
    "Finding",
    "LocationContext",
    "LocationQuality",
    "alpha2",
    "check_location",
    "cpo_quality",
]

COUNTRY_TOLERANCE_KM = 5.0
"""Coordinates this close to the stated country's outline pass (coastlines, border towns)."""
POWER_TOLERANCE = 0.10
"""max_electric_power may pass voltage × amperage × phases by this share (rounding)."""
POWER_RANGE_W = (1_000, 1_000_000)
"""Plausible connector power: 1 kW (a slow socket) to 1 MW (megawatt charging)."""
MAX_CHANGES_PER_DAY = 200
"""More status changes than this per EVSE per day is a flapping charger or a faulty feed."""
REFUSAL_PENALTY = 2.0
"""Score points a CPO loses per object of its refused in the period."""

_PHASES = {
    PowerType.AC_1_PHASE: 1,
    PowerType.AC_2_PHASE: 2,
    PowerType.AC_2_PHASE_SPLIT: 2,
    PowerType.AC_3_PHASE: 3,
    PowerType.DC: 1,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's answer on one subject (a location, or an EVSE/connector inside it)."""

    rule: str
    passed: bool
    subject: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LocationContext:
    """What the registry knows around a location at ``now``."""

    location: Location
    now: datetime
    rule: ReportingRule
    tariff_ids: frozenset[str] = frozenset()
    last_reported: Mapping[str, datetime] = field(default_factory=dict)  # per EVSE uid
    changes_last_day: Mapping[str, int] = field(default_factory=dict)  # per EVSE uid


@dataclass(frozen=True, slots=True)
class LocationQuality:
    country_code: str
    party_id: str
    location_id: str
    score: float
    findings: tuple[Finding, ...]

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if not finding.passed)


@dataclass(frozen=True, slots=True)
class CpoQuality:
    country_code: str
    party_id: str
    score: float
    locations: int
    refusals: int
    failing_rules: tuple[str, ...]  # the rules any of its locations fails, most failed first


def alpha2(alpha3: str) -> str | None:
    """ISO 3166-1 alpha-2 of an alpha-3 code (OCPI Location.country is alpha-3)."""
    country = pycountry.countries.get(alpha_3=alpha3.upper())
    return None if country is None else str(country.alpha_2)


@cache
def _territory_zones(country: str) -> frozenset[str]:
    zones: Mapping[str, Sequence[str]] = get_global("territory_zones")
    return frozenset(zones.get(country, ()))


def _coordinates(c: LocationContext) -> Iterable[Finding]:
    lat = float(c.location.coordinates.latitude)
    lon = float(c.location.coordinates.longitude)
    subject = c.location.id
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        yield Finding("coordinates", False, subject, f"({lat}, {lon}) is not a place")
        return
    country = alpha2(c.location.country)
    if country not in geo.LAC_COUNTRIES:
        yield Finding("coordinates", True, subject, "no outline of the country to check against")
        return
    inside = geo.is_in_country(country, lat, lon, tolerance_km=COUNTRY_TOLERANCE_KM)
    detail = "" if inside else f"({lat}, {lon}) is outside {c.location.country}"
    yield Finding("coordinates", inside, subject, detail)


def _time_zone(c: LocationContext) -> Iterable[Finding]:
    lat = float(c.location.coordinates.latitude)
    lon = float(c.location.coordinates.longitude)
    # The coordinates' country where the outlines know it, else the country the location states.
    found = geo.country_at(lat, lon, tolerance_km=COUNTRY_TOLERANCE_KM)
    country = found or alpha2(c.location.country)
    zones = _territory_zones(country) if country else frozenset()
    if not zones:
        yield Finding("time_zone", True, c.location.id, "no zones known for the country")
        return
    ok = c.location.time_zone in zones
    detail = "" if ok else f"{c.location.time_zone} is not a zone of {country}"
    yield Finding("time_zone", ok, c.location.id, detail)


def _connectors(c: LocationContext) -> Iterable[tuple[EVSE, Connector]]:
    for evse in c.location.evses:
        for connector in evse.connectors:
            yield evse, connector


def _connector_power(c: LocationContext) -> Iterable[Finding]:
    for evse, connector in _connectors(c):
        subject = f"{c.location.id}/{evse.uid}/{connector.id}"
        if connector.max_electric_power is None:
            continue
        expected = connector.max_voltage * connector.max_amperage * _PHASES[connector.power_type]
        # OCPI 2.2.1 §8.3.3: max_electric_power is set when it is *lower* than what voltage and
        # amperage give; above it (beyond rounding) the connector contradicts itself.
        ok = connector.max_electric_power <= expected * (1 + POWER_TOLERANCE)
        detail = (
            ""
            if ok
            else f"max_electric_power {connector.max_electric_power} W is above "
            f"voltage × amperage × phases = {expected} W"
        )
        yield Finding("connector_power", ok, subject, detail)


def _power_range(c: LocationContext) -> Iterable[Finding]:
    low, high = POWER_RANGE_W
    for evse, connector in _connectors(c):
        subject = f"{c.location.id}/{evse.uid}/{connector.id}"
        power = connector.max_electric_power or (
            connector.max_voltage * connector.max_amperage * _PHASES[connector.power_type]
        )
        ok = low <= power <= high
        yield Finding("power_range", ok, subject, "" if ok else f"{power} W outside {low}–{high} W")


def _evse_id(c: LocationContext) -> Iterable[Finding]:
    country = alpha2(c.location.country)
    for evse in c.location.evses:
        subject = f"{c.location.id}/{evse.uid}"
        if evse.evse_id is None:
            yield Finding("evse_id", False, subject, "no evse_id")
        elif not is_valid_evse_id(evse.evse_id):
            yield Finding("evse_id", False, subject, f"{evse.evse_id!r} is not an EVSE id")
        else:
            parsed = parse_evse_id(evse.evse_id)
            # The DIN form carries a calling code, not a country: only its syntax is checked.
            ok = parsed.format is EvseIdFormat.DIN or parsed.country_code == country
            detail = "" if ok else f"{evse.evse_id} is not an id of {c.location.country}"
            yield Finding("evse_id", ok, subject, detail)


def _opening_hours(c: LocationContext) -> Iterable[Finding]:
    ok = c.location.opening_times is not None
    yield Finding("opening_hours", ok, c.location.id, "" if ok else "no opening_times")


def _tariff(c: LocationContext) -> Iterable[Finding]:
    for evse, connector in _connectors(c):
        subject = f"{c.location.id}/{evse.uid}/{connector.id}"
        if not connector.tariff_ids:
            yield Finding("tariff", False, subject, "no tariff_ids")
            continue
        missing = [t for t in connector.tariff_ids if t not in c.tariff_ids]
        detail = f"tariff {', '.join(missing)} not received" if missing else ""
        yield Finding("tariff", not missing, subject, detail)


def _status_fresh(c: LocationContext) -> Iterable[Finding]:
    for evse in c.location.evses:
        subject = f"{c.location.id}/{evse.uid}"
        last = c.last_reported.get(evse.uid, evse.last_updated)
        age = c.now - last
        ok = age <= c.rule.stale_after
        detail = (
            ""
            if ok
            else f"last status {int(age.total_seconds())} s ago, {c.rule.country} allows "
            f"{int(c.rule.stale_after.total_seconds())} s"
        )
        yield Finding("status_fresh", ok, subject, detail)


def _flapping(c: LocationContext) -> Iterable[Finding]:
    for evse in c.location.evses:
        count = c.changes_last_day.get(evse.uid, 0)
        ok = count <= MAX_CHANGES_PER_DAY
        detail = "" if ok else f"{count} status changes in a day (at most {MAX_CHANGES_PER_DAY})"
        yield Finding("flapping", ok, f"{c.location.id}/{evse.uid}", detail)


LOCATION_RULES: Mapping[str, Callable[[LocationContext], Iterable[Finding]]] = {
    "coordinates": _coordinates,
    "time_zone": _time_zone,
    "connector_power": _connector_power,
    "power_range": _power_range,
    "evse_id": _evse_id,
    "opening_hours": _opening_hours,
    "tariff": _tariff,
    "status_fresh": _status_fresh,
    "flapping": _flapping,
}


def check_location(context: LocationContext, rules: Iterable[str] | None = None) -> LocationQuality:
    """Every rule (or the named ones) on one location; the score is the share of rules passed
    (a rule with no subject — no connectors to check — passes)."""
    findings: list[Finding] = []
    passed = 0
    names = list(LOCATION_RULES if rules is None else rules)
    for name in names:
        found = list(LOCATION_RULES[name](context))
        findings.extend(found)
        passed += all(finding.passed for finding in found)
    score = 100.0 * passed / len(names) if names else 100.0
    location = context.location
    return LocationQuality(
        location.country_code, location.party_id, location.id, round(score, 1), tuple(findings)
    )


def cpo_quality(
    country_code: str, party_id: str, locations: Sequence[LocationQuality], refusals: int = 0
) -> CpoQuality:
    """A CPO's score: its locations' mean, less :data:`REFUSAL_PENALTY` per refused object."""
    mean = sum(q.score for q in locations) / len(locations) if locations else 100.0
    score = max(0.0, mean - REFUSAL_PENALTY * refusals)
    counts: dict[str, int] = {}
    for quality in locations:
        for rule in {finding.rule for finding in quality.failing}:
            counts[rule] = counts.get(rule, 0) + 1
    failing = tuple(sorted(counts, key=lambda rule: (-counts[rule], rule)))
    if refusals:
        failing = (*failing, "refused")
    return CpoQuality(country_code, party_id, round(score, 1), len(locations), refusals, failing)
