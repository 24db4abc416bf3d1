"""The network's compliance with a country's connector rules, kept and patched as Locations change.

Checking a country means reading every one of its Locations whole (EVSEs, connectors, where they
are): seconds with 10,000 of them, far over the page budget (issue 15: 300 ms). A report is kept
per country with the findings of each of its Locations. When the store's watermark moves, only
the country's Locations updated since the last look are read (and, when its count does not add
up, the keys compared to see deletions); they are checked again together with those a nearby
rule ties to them (within the rule's distance of where they are or were), and the report is put
together from the kept findings. A country whose rules have nothing to check is only counted.
Checks run in a worker thread, so the server keeps answering meanwhile. This module must never
write or decide what the rules mean (``hardware`` does).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime

from intercarga.dashboard.markers import REREAD, unsettled
from intercarga.domain.location import Location
from intercarga.hardware import (
    ComplianceReport,
    Finding,
    comply,
    country_rules,
    distance_m,
    findings_per_location,
    nearby_reach_m,
    report_of,
)
from intercarga.store import Store
from intercarga.store.map_points import LocationKey, MapPoints
from intercarga.store.open_data import Watermark

__all__ = ["NetworkCompliance"]

_PATCH_AT_MOST = 2000  # more changed Locations than this: check the country again whole
_METRES_PER_DEGREE = 111_320.0  # of latitude, to rule out far Locations before measuring


@dataclass
class _Kept:
    seen: Watermark
    day: date
    locations: dict[LocationKey, Location]  # the country's, in key order
    findings: dict[LocationKey, list[Finding]]  # each Location's, rule by rule
    report: ComplianceReport


class NetworkCompliance:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._points = MapPoints(store.engine)
        self._kept: dict[str, _Kept] = {}
        self._counted: dict[str, tuple[Watermark, date, ComplianceReport]] = {}
        self._lock = asyncio.Lock()

    async def report(self, country: str) -> ComplianceReport:
        mark = await self._points.watermark()
        day = datetime.now(UTC).date()
        async with self._lock:  # one check at a time: a burst of loads waits for one
            if not country_rules(country).rule:
                counted = self._counted.get(country)
                if counted is None or counted[:2] != (mark, day):
                    counted = (mark, day, await self._count(country))
                    self._counted[country] = counted
                return counted[2]
            kept = self._kept.get(country)
            if kept is None or kept.day != day or kept.seen.latest is None:
                kept = await self._build(country, mark, day)
            elif kept.seen != mark or unsettled(mark):
                kept = await self._refresh(country, kept, mark)
            self._kept[country] = kept
            return kept.report

    async def _count(self, country: str) -> ComplianceReport:
        """Nothing to check: only count what would have been checked."""
        locations, evses = await self._points.counted(country)
        empty = comply(country, [])
        return empty.model_copy(update={"locations_checked": locations, "evses_checked": evses})

    async def _build(self, country: str, mark: Watermark, day: date) -> _Kept:
        located = await self._store.locations.list(limit=None, filters={"country_code": country})
        locations = {_key(loc): loc for loc in located.items}

        def check() -> _Kept:
            findings: dict[LocationKey, list[Finding]] = {key: [] for key in locations}
            for location, finding in findings_per_location(country, located.items, as_of=day):
                findings[_key(location)].append(finding)
            return _Kept(mark, day, locations, findings, _report(country, day, locations, findings))

        return await asyncio.to_thread(check)

    async def _refresh(self, country: str, kept: _Kept, mark: Watermark) -> _Kept:
        assert kept.seen.latest is not None
        changed = (
            await self._store.locations.list(
                limit=None,
                filters={"country_code": country},
                updated_from=kept.seen.latest - REREAD,
            )
        ).items
        if len(changed) > _PATCH_AT_MOST:
            return await self._build(country, mark, kept.day)
        # Read again within the window but the same as kept: nothing to check again for those.
        changed = [loc for loc in changed if kept.locations.get(_key(loc)) != loc]
        locations = dict(kept.locations)
        was: list[Location] = []  # where the changed and deleted Locations stood before
        for location in changed:
            if (old := locations.get(_key(location))) is not None:
                was.append(old)
            locations[_key(location)] = location
        touched = {_key(loc) for loc in changed}
        count, _ = await self._points.counted(country)
        if count != len(locations):
            # A Location deleted, or one stored with an older last_updated: compare the keys.
            present = await self._points.keys(country)
            for gone in locations.keys() - present:
                was.append(locations.pop(gone))
                touched.add(gone)
            missing = present - locations.keys()
            if len(missing) > _PATCH_AT_MOST:
                return await self._build(country, mark, kept.day)
            for key in missing:
                if (found := await self._store.locations.find(*key)) is not None:
                    locations[key] = found
                    touched.add(key)
        if not touched:
            kept.seen = mark
            return kept
        if len(locations) != len(kept.locations) or touched - kept.locations.keys():
            locations = dict(sorted(locations.items()))

        def check() -> _Kept:
            findings = dict(kept.findings)
            reach = nearby_reach_m(country)
            spots = [*was, *(locations[k] for k in touched if k in locations)]
            again = touched | _near(locations, spots, reach)
            for key in again:
                findings.pop(key, None)
            judged = {k for k in again if k in locations}
            for key in judged:
                findings[key] = []
            around = [locations[k] for k in judged | _near(locations, spots, 2 * reach)]
            for location, finding in findings_per_location(
                country, around, judged=lambda loc: _key(loc) in judged, as_of=kept.day
            ):
                findings[_key(location)].append(finding)
            report = _report(country, kept.day, locations, findings)
            return _Kept(mark, kept.day, locations, findings, report)

        return await asyncio.to_thread(check)


def _key(location: Location) -> LocationKey:
    return (location.country_code, location.party_id, location.id)


def _near(
    locations: dict[LocationKey, Location], spots: list[Location], reach: float
) -> set[LocationKey]:
    """The Locations within ``reach`` metres of any of ``spots`` (none when reach is 0)."""
    if reach <= 0 or not spots:
        return set()
    degrees = reach / _METRES_PER_DEGREE
    near: set[LocationKey] = set()
    for key, location in locations.items():
        lat = float(location.coordinates.latitude)
        for spot in spots:
            if abs(lat - float(spot.coordinates.latitude)) <= degrees and (
                distance_m(location, spot) <= reach
            ):
                near.add(key)
                break
    return near


def _report(
    country: str,
    day: date,
    locations: dict[LocationKey, Location],
    findings: dict[LocationKey, list[Finding]],
) -> ComplianceReport:
    """The report :func:`comply` would give for ``locations``, from their kept findings."""
    kept = (f for key in locations for f in findings.get(key, ()))  # Locations in key order
    return report_of(country, list(locations.values()), kept, as_of=day)
