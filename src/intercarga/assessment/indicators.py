"""Measured indicators: what a deployment's live data says about a country, with the formula.

Input is a plain :class:`DeploymentSnapshot` (lists of records a loader read from the store);
output is one :class:`Measurement` per indicator of data/framework.toml that has data to count.
The time to judge freshness by is passed in. Pure: it reuses the hardware compliance and coverage
engines and must never do I/O, read a clock or touch the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, computed_field

from intercarga.assessment.framework import Framework, FrameworkIndicator
from intercarga.domain.location import EVSE, EVSEStatus, Location
from intercarga.hardware.coverage import coverage
from intercarga.hardware.rules import RuleStatus, Severity, comply, country_rules
from intercarga.ids.evse_id import is_valid_evse_id

__all__ = [
    "DeploymentSnapshot",
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


@dataclass(frozen=True)
class DeploymentSnapshot:
    """What one deployment holds, read at ``taken_at`` (UTC)."""

    taken_at: datetime
    locations: list[Location] = field(default_factory=list)
    stations: list[StationRecord] = field(default_factory=list)
    tariffs: frozenset[tuple[str, str, str]] = frozenset()  # (country_code, party_id, id)
    emsp_partners: int = 0  # OCPI partners hosting at least one eMSP
    sessions: list[SessionRecord] = field(default_factory=list)


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


def _connector_compliance(country: str, snap: DeploymentSnapshot, _max_age: int) -> _Count:
    if country_rules(country).status is not RuleStatus.RULES:
        return 0, 0
    report = comply(country, snap.locations, as_of=snap.taken_at.date())
    failing = {f.location_id for f in report.findings if f.severity is Severity.VIOLATION}
    return report.locations_checked - len(failing), report.locations_checked


def _inlet_profiles(_country: str, snap: DeploymentSnapshot, _max_age: int) -> _Count:
    found = coverage(snap.locations)
    if not found.public_evses:
        return 0, 0
    served = [p for p in found.profiles if p.evses["direct"] + p.evses["with_cable"] > 0]
    return len(served), len(found.profiles)


def _ocpp_2x(_country: str, snap: DeploymentSnapshot, _max_age: int) -> _Count:
    known = [s for s in snap.stations if s.ocpp_version]
    modern = [s for s in known if s.ocpp_version in ("ocpp2.0.1", "ocpp2.1")]
    return len(modern), len(known)


def _security(_country: str, snap: DeploymentSnapshot, _max_age: int) -> _Count:
    secured = [s for s in snap.stations if s.security_profile >= 2]
    return len(secured), len(snap.stations)


def _fresh(_country: str, snap: DeploymentSnapshot, max_age: int) -> _Count:
    evses = _public_evses(snap.locations)
    oldest = snap.taken_at - timedelta(seconds=max_age)
    fresh = [evse for _, evse in evses if evse.last_updated >= oldest]
    return len(fresh), len(evses)


def _tariffs(_country: str, snap: DeploymentSnapshot, _max_age: int) -> _Count:
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


def _evse_ids(_country: str, snap: DeploymentSnapshot, _max_age: int) -> _Count:
    evses = _public_evses(snap.locations)
    valid = [evse for _, evse in evses if evse.evse_id and is_valid_evse_id(evse.evse_id)]
    return len(valid), len(evses)


def _emsps(_country: str, snap: DeploymentSnapshot, _max_age: int) -> _Count:
    cpos = {(loc.country_code, loc.party_id) for loc in snap.locations}
    if not cpos:
        return 0, 0
    return snap.emsp_partners * len(cpos), len(cpos)


def _roamed(_country: str, snap: DeploymentSnapshot, _max_age: int) -> _Count:
    roamed = [
        s
        for s in snap.sessions
        if s.token_issuer is not None and s.token_issuer != f"{s.country_code}-{s.party_id}"
    ]
    return len(roamed), len(snap.sessions)


_COUNTERS: dict[str, Callable[[str, DeploymentSnapshot, int], _Count]] = {
    "connector_compliance": _connector_compliance,
    "inlet_profiles_served": _inlet_profiles,
    "ocpp_2x": _ocpp_2x,
    "security_profile_2": _security,
    "status_fresh": _fresh,
    "tariff_published": _tariffs,
    "evse_id_valid": _evse_ids,
    "emsps_per_cpo": _emsps,
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
    )


def _measurement(spec: FrameworkIndicator, counted: _Count) -> Measurement:
    numerator, denominator = counted
    return Measurement(
        indicator=spec.id,
        criterion=spec.criterion,
        formula=spec.formula,
        unit=spec.unit,
        numerator=numerator,
        denominator=denominator,
        value=round(numerator / denominator, 4),
        good=spec.good,
        poor=spec.poor,
    )


def measure(
    fw: Framework, country: str, snapshot: DeploymentSnapshot, status_max_age_seconds: int
) -> list[Measurement]:
    """Every indicator of ``country`` the snapshot has data for (nothing to count: left out)."""
    mine = _of_country(country, snapshot)
    found = []
    for spec in fw.indicator:
        counted = _COUNTERS[spec.id](country, mine, status_max_age_seconds)
        if counted[1] > 0:
            found.append(_measurement(spec, counted))
    return found
