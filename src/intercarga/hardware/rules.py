"""Country connector rules, as data with sources, checked against a network of Locations.

``comply(country, locations)`` returns every non-compliant location or EVSE with the rule, its
source and the fix; the CLI prints it and the admin API returns it. Where no rule is known the
report says so instead of passing silently. The rules live in data/country_rules.toml; the
checks here are pure (the date to judge deadlines by is a parameter) and must never do I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from typing import Literal

import pycountry
from pydantic import BaseModel, Field

from intercarga.domain.location import EVSE, Connector, ConnectorStandard, EVSEStatus, Location
from intercarga.domain.location import PowerType as _PowerType
from intercarga.errors import InvalidInputError
from intercarga.hardware._data import Confidence, DataModel, load_toml, sources
from intercarga.hardware.compatibility import connector_power_kw
from intercarga.hardware.connectors import connector_catalogue

__all__ = [
    "Breach",
    "ComplianceReport",
    "CountryRule",
    "CountryRules",
    "Finding",
    "RuleCheck",
    "RuleStatus",
    "Severity",
    "comply",
    "country_rules",
    "known_countries",
]


class RuleStatus(StrEnum):
    RULES = "rules"
    NOT_CHECKABLE = "not_checkable"
    NO_RULE = "no_rule"
    NO_RULE_KNOWN = "no_rule_known"


class RuleCheck(StrEnum):
    EVSE_OFFERS = "evse_offers"
    EVSE_ONLY = "evse_only"
    LOCATION_OFFERS_ALL = "location_offers_all"
    EVSE_OFFERS_OR_NEARBY = "evse_offers_or_nearby"


class Severity(StrEnum):
    VIOLATION = "violation"
    WARNING = "warning"


class RuleScope(DataModel):
    public: bool = False
    current: Literal["AC", "DC"]


class CountryRule(DataModel):
    id: str
    title: str
    check: RuleCheck
    scope: RuleScope
    standards: list[ConnectorStandard] = Field(min_length=1)
    deadline: date | None = None
    severity: Severity
    fix: str
    source: str
    date: str
    confidence: Confidence
    note: str | None = None
    nearby_m: float | None = None
    similar_power: float | None = None


class CountryRules(DataModel):
    code: str
    status: RuleStatus
    summary: str
    source: str
    date: str
    rule: list[CountryRule] = Field(default_factory=list)


class Breach(StrEnum):
    """What a finding found, so that a reader can say it in its own words."""

    LACKS = "lacks"  # the location offers none of ``standards`` (missing ones)
    NOT_ADMITTED = "not_admitted"  # connector ``connector_id`` is of ``standards``, not admitted
    REQUIRES = "requires"  # the EVSE offers ``standards``; the rule requires ``required``


class Finding(BaseModel):
    """One non-compliant location or EVSE (``evse_uid`` None: the whole location).

    ``message`` is the English sentence; ``breach``, ``current``, ``standards``, ``required``
    and ``connector_id`` are the facts it says, for a reader in another language.
    """

    country: str
    location_id: str
    evse_uid: str | None
    rule_id: str
    rule: str
    severity: Severity
    message: str
    breach: Breach
    current: Literal["AC", "DC"]
    standards: list[ConnectorStandard]
    required: list[ConnectorStandard]
    connector_id: str | None = None
    fix: str
    source: str
    source_title: str
    source_date: str
    confidence: Confidence
    due: date | None = None


class ComplianceReport(BaseModel):
    country: str
    status: RuleStatus
    summary: str
    source: str
    as_of: date
    locations_checked: int
    evses_checked: int
    locations_skipped: int = Field(description="locations of other countries in the input")
    compliant: bool
    findings: list[Finding]


@cache
def _all_rules() -> dict[str, CountryRules]:
    raw = load_toml("country_rules.toml")["country"]
    return {entry["code"]: CountryRules(**entry) for entry in raw}


def known_countries() -> list[str]:
    return sorted(_all_rules())


def country_rules(country: str) -> CountryRules:
    """The rules of ``country`` (ISO 3166-1 alpha-2); an unlisted country has no rule known."""
    code = country.strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise InvalidInputError(
            f"{country!r} is not an ISO 3166-1 alpha-2 country code; countries with data: "
            f"{', '.join(known_countries())}",
            field="country",
        )
    found = _all_rules().get(code)
    if found is not None:
        return found
    return CountryRules(
        code=code,
        status=RuleStatus.NO_RULE_KNOWN,
        summary="Intercarga has no data on this country's connector rules.",
        source="lac-desk-research",
        date="2026",
    )


def comply(
    country: str, locations: Iterable[Location], as_of: date | None = None
) -> ComplianceReport:
    """Check the locations of ``country`` among ``locations`` against its connector rules.

    Deadlines are judged at ``as_of`` (default: today, UTC): before a migration deadline a
    breach is a warning saying by when; from the deadline on it is the rule's severity.
    """
    rules = country_rules(country)
    day = as_of or datetime.now(UTC).date()
    all_locations = list(locations)
    mine = [loc for loc in all_locations if loc.country_code == rules.code]
    findings = [finding for rule in rules.rule for finding in _check(rules.code, rule, mine, day)]
    evses = sum(1 for loc in mine for evse in loc.evses if evse.status is not EVSEStatus.REMOVED)
    return ComplianceReport(
        country=rules.code,
        status=rules.status,
        summary=rules.summary,
        source=rules.source,
        as_of=day,
        locations_checked=len(mine),
        evses_checked=evses,
        locations_skipped=len(all_locations) - len(mine),
        compliant=not any(f.severity is Severity.VIOLATION for f in findings),
        findings=findings,
    )


def _check(country: str, rule: CountryRule, locations: list[Location], day: date) -> list[Finding]:
    in_scope = [loc for loc in locations if loc.publish or not rule.scope.public]
    required = set(rule.standards)
    wanted = _names(rule.standards)
    findings: list[Finding] = []

    def finding(
        location: Location,
        evse_uid: str | None,
        message: str,
        breach: Breach,
        standards: Iterable[ConnectorStandard],
        connector_id: str | None = None,
    ) -> None:
        facts = _Facts(breach, list(standards), connector_id)
        findings.append(_finding(country, rule, location.id, evse_uid, message, facts, day))

    for location in in_scope:
        evses = [(evse, _connectors(evse, rule)) for evse in _active(location)]
        evses = [(evse, conns) for evse, conns in evses if conns]
        if rule.check is RuleCheck.LOCATION_OFFERS_ALL:
            offered = {c.standard for _, conns in evses for c in conns}
            missing = [s for s in rule.standards if s not in offered]
            if evses and missing:
                finding(
                    location,
                    None,
                    f"{rule.scope.current} charging here lacks {_names(missing)}",
                    Breach.LACKS,
                    missing,
                )
            continue
        for evse, conns in evses:
            standards = {c.standard for c in conns}
            if rule.check is RuleCheck.EVSE_ONLY:
                for connector in conns:
                    if connector.standard not in required:
                        finding(
                            location,
                            evse.uid,
                            f"connector {connector.id} is {_names([connector.standard])}; "
                            f"admitted: {wanted}",
                            Breach.NOT_ADMITTED,
                            [connector.standard],
                            connector.id,
                        )
                continue
            if standards & required:
                continue
            if rule.check is RuleCheck.EVSE_OFFERS_OR_NEARBY and _compliant_nearby(
                rule, location, evse, conns, in_scope
            ):
                continue
            finding(
                location,
                evse.uid,
                f"{rule.scope.current} EVSE offers {_names(sorted(standards))}; "
                f"the rule requires {wanted}",
                Breach.REQUIRES,
                sorted(standards),
            )
    return findings


@dataclass(frozen=True)
class _Facts:
    breach: Breach
    standards: list[ConnectorStandard]
    connector_id: str | None


def _finding(
    country: str,
    rule: CountryRule,
    location_id: str,
    evse_uid: str | None,
    message: str,
    facts: _Facts,
    day: date,
) -> Finding:
    source = sources()[rule.source]
    pending = rule.deadline is not None and day < rule.deadline
    if pending:
        message = f"{message} (must comply by {rule.deadline})"
    return Finding(
        country=country,
        location_id=location_id,
        evse_uid=evse_uid,
        rule_id=rule.id,
        rule=rule.title,
        severity=Severity.WARNING if pending else rule.severity,
        message=message,
        breach=facts.breach,
        current=rule.scope.current,
        standards=facts.standards,
        required=list(rule.standards),
        connector_id=facts.connector_id,
        fix=rule.fix,
        source=rule.source,
        source_title=f"{source.title} ({source.where})",
        source_date=rule.date,
        confidence=rule.confidence,
        due=rule.deadline,
    )


def _active(location: Location) -> list[EVSE]:
    return [evse for evse in location.evses if evse.status is not EVSEStatus.REMOVED]


def _connectors(evse: EVSE, rule: CountryRule) -> list[Connector]:
    dc = rule.scope.current == "DC"
    return [c for c in evse.connectors if (c.power_type is _PowerType.DC) == dc]


def _names(standards: Iterable[ConnectorStandard]) -> str:
    catalogue = connector_catalogue()
    return " or ".join(catalogue.get(s).display() for s in standards) or "nothing"


def _compliant_nearby(
    rule: CountryRule,
    location: Location,
    evse: EVSE,
    conns: list[Connector],
    locations: list[Location],
) -> bool:
    power = max(connector_power_kw(c) for c in conns)
    floor = power * (rule.similar_power or 1.0)
    for other in locations:
        if _distance_m(location, other) > (rule.nearby_m or 0.0):
            continue
        for candidate in _active(other):
            if candidate is evse:
                continue
            offered = [c for c in _connectors(candidate, rule) if c.standard in rule.standards]
            if offered and max(connector_power_kw(c) for c in offered) >= floor:
                return True
    return False


def _distance_m(a: Location, b: Location) -> float:
    """Great-circle distance between two locations (haversine, mean Earth radius)."""
    if a is b:
        return 0.0
    lat1, lon1 = (
        math.radians(float(a.coordinates.latitude)),
        math.radians(float(a.coordinates.longitude)),
    )
    lat2, lon2 = (
        math.radians(float(b.coordinates.latitude)),
        math.radians(float(b.coordinates.longitude)),
    )
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))
