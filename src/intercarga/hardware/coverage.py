"""Coverage indicator: for a set of locations, the share of public EVSEs and of charging power
each vehicle inlet profile can use directly, with a cable, with a certified adapter, or not at
all. It feeds the assessment's hardware-layer indicator.

An EVSE counts once, by the best way the profile can use any of its connectors; its power is
the most any of its connectors delivers (station side, vehicle limits ignored: this measures the
network, not a car). Public means published (OCPI ``publish``) and not REMOVED. Pure: it reuses
the compatibility engine and must never do I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from intercarga.domain.location import EVSE, ConnectorStandard, EVSEStatus, Location
from intercarga.hardware.compatibility import ChargeMethod, check_evse, connector_power_kw
from intercarga.hardware.vehicles import InletSet

__all__ = [
    "BUCKETS",
    "DEFAULT_PROFILES",
    "CoverageIndicator",
    "InletCoverage",
    "coverage",
    "usable_locations",
]

BUCKETS = ("direct", "with_cable", "with_adapter", "not_at_all")
_BUCKET = {
    ChargeMethod.DIRECT: "direct",
    ChargeMethod.MODE3_CABLE: "with_cable",
    ChargeMethod.MODE2_CABLE: "with_cable",
    ChargeMethod.CERTIFIED_ADAPTER: "with_adapter",
}

S = ConnectorStandard
# The inlet combinations cars in LAC actually have (see data/vehicles.toml).
DEFAULT_PROFILES: dict[str, InletSet] = {
    "Type 2 + CCS2": InletSet(ac_inlet=S.IEC_62196_T2, dc_inlet=S.IEC_62196_T2_COMBO),
    "Type 1 + CCS1": InletSet(ac_inlet=S.IEC_62196_T1, dc_inlet=S.IEC_62196_T1_COMBO),
    "Type 1 + CHAdeMO": InletSet(ac_inlet=S.IEC_62196_T1, dc_inlet=S.CHADEMO),
    "Type 2 + CHAdeMO": InletSet(ac_inlet=S.IEC_62196_T2, dc_inlet=S.CHADEMO),
    "GB/T AC + GB/T DC": InletSet(ac_inlet=S.GBT_AC, dc_inlet=S.GBT_DC),
    "NACS (SAE J3400)": InletSet(ac_inlet=S.SAE_J3400, dc_inlet=S.SAE_J3400),
}


class InletCoverage(BaseModel):
    profile: str
    inlets: InletSet
    evses: dict[str, int]
    power_kw: dict[str, float]
    evse_share: dict[str, float]
    power_share: dict[str, float]


class CoverageIndicator(BaseModel):
    locations: int
    public_evses: int
    total_power_kw: float
    profiles: list[InletCoverage]


def coverage(
    locations: Iterable[Location], profiles: dict[str, InletSet] | None = None
) -> CoverageIndicator:
    """Shares of public EVSEs and power each inlet profile can use, by how."""
    chosen = DEFAULT_PROFILES if profiles is None else profiles
    listed = list(locations)
    evses = [
        evse
        for location in listed
        if location.publish
        for evse in location.evses
        if evse.status is not EVSEStatus.REMOVED
    ]
    powers = [max(connector_power_kw(c) for c in evse.connectors) for evse in evses]
    total = sum(powers)
    results = []
    for name, inlets in chosen.items():
        counts = dict.fromkeys(BUCKETS, 0)
        power = dict.fromkeys(BUCKETS, 0.0)
        for evse, evse_power in zip(evses, powers, strict=True):
            bucket = _best_bucket(inlets, evse)
            counts[bucket] += 1
            power[bucket] += evse_power
        results.append(
            InletCoverage(
                profile=name,
                inlets=inlets,
                evses=counts,
                power_kw={k: round(v, 1) for k, v in power.items()},
                evse_share={k: _share(v, len(evses)) for k, v in counts.items()},
                power_share={k: _share(v, total) for k, v in power.items()},
            )
        )
    return CoverageIndicator(
        locations=len(listed),
        public_evses=len(evses),
        total_power_kw=round(total, 1),
        profiles=results,
    )


def usable_locations(
    locations: Iterable[Location], profiles: dict[str, InletSet] | None = None
) -> dict[str, list[Location]]:
    """For each inlet profile, the public locations with an EVSE it can use directly or with a
    cable (an adapter does not count: a driver is not expected to carry one)."""
    chosen = DEFAULT_PROFILES if profiles is None else profiles
    listed = [location for location in locations if location.publish]
    return {
        name: [
            location
            for location in listed
            if any(
                evse.status is not EVSEStatus.REMOVED
                and _best_bucket(inlets, evse) in ("direct", "with_cable")
                for evse in location.evses
            )
        ]
        for name, inlets in chosen.items()
    }


def _best_bucket(inlets: InletSet, evse: EVSE) -> str:
    order = list(BUCKETS)
    best = len(order) - 1
    for verdict in check_evse(inlets, evse):
        if verdict.can_charge and verdict.method in _BUCKET:
            best = min(best, order.index(_BUCKET[verdict.method]))
    return order[best]


def _share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0
