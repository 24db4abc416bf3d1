"""Measured indicators: what a deployment's live data says about a country, with the formula.

Input is a plain :class:`DeploymentSnapshot` (lists of records a loader read from the store, and
the access point's data quality per country as :class:`DataQuality` figures, which the callers
compute with the registry: it sits above this package in the import layers); output is one
:class:`Measurement` per indicator of data/framework.toml that has data to count.
The time to judge freshness by, and the country's thresholds (:class:`MeasureRules`), are passed
in. Pure: it reuses the hardware compliance and coverage engines and the geo package's populated
places (package data, read once) and must never do other I/O, read a clock or touch the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, computed_field

from intercarga.assessment.framework import Framework, FrameworkIndicator
from intercarga.domain.location import EVSE, EVSEStatus, Location
from intercarga.geo import populated_places, within_km
from intercarga.hardware.coverage import usable_locations
from intercarga.hardware.rules import RuleStatus, Severity, comply, country_rules
from intercarga.ids.evse_id import is_valid_evse_id

__all__ = [
    "VERDICTS",
    "AuthorizationAsk",
    "DataQuality",
    "DeploymentSnapshot",
    "MeasureRules",
    "Measurement",
    "SessionRecord",
    "StationRecord",
    "measure",
    "measured_level",
]


@dataclass(frozen=True)
class StationRecord:
    id: str
    country_code: str
    ocpp_version: str | None  # the WebSocket subprotocol name, e.g. "ocpp2.0.1"
    security_profile: int


@dataclass(frozen=True)
class SessionRecord:
    country_code: str
    party_id: str  # the CPO whose location it ran at
    token_issuer: str | None  # "CC-PID" of the party that issued the token, when known


#: Outcomes of a real-time authorization that are a verdict of the eMSP (store.authorizations).
VERDICTS = frozenset({"accepted", "blocked", "expired", "no-credit", "not-allowed"})
_NOT_THE_EMSP = "unknown"  # the eMSP asked does not know the token: routing, not a failure


@dataclass(frozen=True)
class AuthorizationAsk:
    """One real-time authorization the deployment's CPO side asked of an eMSP."""

    country_code: str  # the station's country
    asked_at: datetime
    outcome: str  # one of VERDICTS, "unknown", "timeout" or "error"


@dataclass(frozen=True)
class DataQuality:
    """A country's locations as the access point's data quality rules judge them.

    Counted by the caller with the registry's rules (``registry.quality``: coordinates, time
    zone, connector power, power range, EVSE id, opening hours, tariff, status freshness,
    flapping): ``passing`` locations have no failing finding, of ``checked``.
    """

    passing: int
    checked: int

    def __post_init__(self) -> None:
        if not 0 <= self.passing <= self.checked:
            raise ValueError(f"{self.passing} of {self.checked} locations cannot pass")


@dataclass(frozen=True)
class MeasureRules:
    """A country's thresholds for the indicators (its file's, else the framework's defaults)."""

    status_max_age_seconds: int
    inlet_distance_km: float
    authorization_window_days: int


@dataclass(frozen=True)
class DeploymentSnapshot:
    """What one deployment holds, read at ``taken_at`` (UTC)."""

    taken_at: datetime
    locations: list[Location] = field(default_factory=list)
    stations: list[StationRecord] = field(default_factory=list)
    tariffs: frozenset[tuple[str, str, str]] = frozenset()  # (country_code, party_id, id)
    emsp_partners: int = 0  # OCPI partners hosting at least one eMSP
    sessions: list[SessionRecord] = field(default_factory=list)
    authorizations: list[AuthorizationAsk] = field(default_factory=list)
    quality: Mapping[str, DataQuality] = field(default_factory=dict)  # per country code


class Measurement(BaseModel):
    """One indicator's value in a deployment: numerator / denominator, with its formula."""

    model_config = ConfigDict(frozen=True)

    indicator: str
    criterion: str
    formula: str
    unit: str
    numerator: float
    denominator: int
    value: float
    good: float
    poor: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def shown(self) -> str:
        if self.unit == "share":
            return f"{self.value:.0%} ({self.numerator:g} / {self.denominator})"
        return f"{self.value:g} ({self.numerator:g} / {self.denominator})"


def measured_level(desk: int | None, measurement: Measurement) -> int:
    """The criterion's level once the live indicator is known (docs/assessment.md, "Formulas").

    At or above ``good`` the practice is observed: a mandated criterion is verified (4), an
    unknown or unwritten one is at least de facto practice (1). Below ``good`` the criterion is
    capped at 2 (a rule not met in practice), below ``poor`` at 1.
    """
    if measurement.value >= measurement.good:
        if desk is None:
            return 1
        return 4 if desk >= 3 else max(desk, 1)
    cap = 2 if measurement.value >= measurement.poor else 1
    if desk is None:
        return 0 if measurement.value < measurement.poor else 1
    return min(desk, cap)


def _public_evses(locations: list[Location]) -> list[tuple[Location, EVSE]]:
    return [
        (location, evse)
        for location in locations
        if location.publish
        for evse in location.evses
        if evse.status is not EVSEStatus.REMOVED
    ]


_Count = tuple[float, int]


def _connector_compliance(country: str, snap: DeploymentSnapshot, _rules: MeasureRules) -> _Count:
    if country_rules(country).status is not RuleStatus.RULES:
        return 0, 0
    report = comply(country, snap.locations, as_of=snap.taken_at.date())
    failing = {f.location_id for f in report.findings if f.severity is Severity.VIOLATION}
    return report.locations_checked - len(failing), report.locations_checked


def _inlets_within_km(country: str, snap: DeploymentSnapshot, rules: MeasureRules) -> _Count:
    if not _public_evses(snap.locations):
        return 0, 0  # the deployment holds no public network here: nothing measured
    places = [(p.latitude, p.longitude) for p in populated_places(country)]
    served = 0
    usable = usable_locations(snap.locations)
    for locations in usable.values():
        points = [
            (float(loc.coordinates.latitude), float(loc.coordinates.longitude)) for loc in locations
        ]
        served += sum(within_km(places, points, rules.inlet_distance_km))
    return served, len(places) * len(usable)


def _ocpp_2x(_country: str, snap: DeploymentSnapshot, _rules: MeasureRules) -> _Count:
    known = [s for s in snap.stations if s.ocpp_version]
    modern = [s for s in known if s.ocpp_version in ("ocpp2.0.1", "ocpp2.1")]
    return len(modern), len(known)


def _security(_country: str, snap: DeploymentSnapshot, _rules: MeasureRules) -> _Count:
    secured = [s for s in snap.stations if s.security_profile >= 2]
    return len(secured), len(snap.stations)


def _fresh(_country: str, snap: DeploymentSnapshot, rules: MeasureRules) -> _Count:
    evses = _public_evses(snap.locations)
    oldest = snap.taken_at - timedelta(seconds=rules.status_max_age_seconds)
    fresh = [evse for _, evse in evses if evse.last_updated >= oldest]
    return len(fresh), len(evses)


def _tariffs(_country: str, snap: DeploymentSnapshot, _rules: MeasureRules) -> _Count:
    evses = _public_evses(snap.locations)
    priced = [
        evse
        for location, evse in evses
        if all(
            c.tariff_ids
            and all(
                (location.country_code, location.party_id, t) in snap.tariffs for t in c.tariff_ids
            )
            for c in evse.connectors
        )
    ]
    return len(priced), len(evses)


def _evse_ids(_country: str, snap: DeploymentSnapshot, _rules: MeasureRules) -> _Count:
    evses = _public_evses(snap.locations)
    valid = [evse for _, evse in evses if evse.evse_id and is_valid_evse_id(evse.evse_id)]
    return len(valid), len(evses)


def _emsps(_country: str, snap: DeploymentSnapshot, _rules: MeasureRules) -> _Count:
    cpos = {(loc.country_code, loc.party_id) for loc in snap.locations}
    if not cpos:
        return 0, 0
    return snap.emsp_partners * len(cpos), len(cpos)


def _authorization_success(_country: str, snap: DeploymentSnapshot, rules: MeasureRules) -> _Count:
    oldest = snap.taken_at - timedelta(days=rules.authorization_window_days)
    counted = [
        ask
        for ask in snap.authorizations
        if oldest <= ask.asked_at <= snap.taken_at and ask.outcome != _NOT_THE_EMSP
    ]
    return sum(1 for ask in counted if ask.outcome in VERDICTS), len(counted)


def _roamed(_country: str, snap: DeploymentSnapshot, _rules: MeasureRules) -> _Count:
    roamed = [
        s
        for s in snap.sessions
        if s.token_issuer is not None and s.token_issuer != f"{s.country_code}-{s.party_id}"
    ]
    return len(roamed), len(snap.sessions)


def _data_quality(country: str, snap: DeploymentSnapshot, _rules: MeasureRules) -> _Count:
    found = snap.quality.get(country)
    return (0, 0) if found is None else (found.passing, found.checked)


_COUNTERS: dict[str, Callable[[str, DeploymentSnapshot, MeasureRules], _Count]] = {
    "connector_compliance": _connector_compliance,
    "inlets_within_km": _inlets_within_km,
    "ocpp_2x": _ocpp_2x,
    "security_profile_2": _security,
    "status_fresh": _fresh,
    "tariff_published": _tariffs,
    "evse_id_valid": _evse_ids,
    "data_quality": _data_quality,
    "emsps_per_cpo": _emsps,
    "realtime_authorization_success": _authorization_success,
    "sessions_roamed": _roamed,
}


def _of_country(country: str, snap: DeploymentSnapshot) -> DeploymentSnapshot:
    return DeploymentSnapshot(
        taken_at=snap.taken_at,
        locations=[loc for loc in snap.locations if loc.country_code == country],
        stations=[s for s in snap.stations if s.country_code == country],
        tariffs=snap.tariffs,
        emsp_partners=snap.emsp_partners,
        sessions=[s for s in snap.sessions if s.country_code == country],
        authorizations=[a for a in snap.authorizations if a.country_code == country],
        quality={country: snap.quality[country]} if country in snap.quality else {},
    )


def _measurement(spec: FrameworkIndicator, counted: _Count, rules: MeasureRules) -> Measurement:
    numerator, denominator = counted
    return Measurement(
        indicator=spec.id,
        criterion=spec.criterion,
        # The formula names the country's thresholds ("within 30 km", "last 30 days").
        formula=spec.formula.format_map(vars(rules)),
        unit=spec.unit,
        numerator=numerator,
        denominator=denominator,
        value=round(numerator / denominator, 4),
        good=spec.good,
        poor=spec.poor,
    )


def measure(
    fw: Framework, country: str, snapshot: DeploymentSnapshot, rules: MeasureRules
) -> list[Measurement]:
    """Every indicator of ``country`` the snapshot has data for (nothing to count: left out)."""
    mine = _of_country(country, snapshot)
    found = []
    for spec in fw.indicator:
        counted = _COUNTERS[spec.id](country, mine, rules)
        if counted[1] > 0:
            found.append(_measurement(spec, counted, rules))
    return found
