"""The network's compliance with a country's connector rules, kept until the Locations move.

Checking a country means reading every one of its Locations whole (EVSEs, connectors, where they
are): seconds with 10,000 of them, far over the page budget (issue 15: 300 ms). A report is kept
per country with the store's watermark it was built at, and built again only when that moves; a
country whose rules have nothing to check is only counted, from the map's compact view. Checks
run in a worker thread, so the server keeps answering meanwhile. This module must never write
or decide what the rules mean (``hardware.comply`` does).
"""

from __future__ import annotations

import asyncio

from intercarga.hardware import ComplianceReport, comply, country_rules
from intercarga.store import Store
from intercarga.store.map_points import MapPoints
from intercarga.store.open_data import Watermark

__all__ = ["NetworkCompliance"]

_REMOVED = "REMOVED"


class NetworkCompliance:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._points = MapPoints(store.engine)
        self._reports: dict[str, tuple[Watermark, ComplianceReport]] = {}
        self._lock = asyncio.Lock()

    async def report(self, country: str) -> ComplianceReport:
        mark = await self._points.watermark()
        kept = self._reports.get(country)
        if kept is not None and kept[0] == mark:
            return kept[1]
        async with self._lock:  # one check at a time: a burst of loads waits for one
            kept = self._reports.get(country)
            if kept is not None and kept[0] == mark:
                return kept[1]
            report = await self._check(country)
            self._reports[country] = (mark, report)
            return report

    async def _check(self, country: str) -> ComplianceReport:
        if not country_rules(country).rule:
            # Nothing to check: only count what would have been checked.
            mine = [p for p in await self._points.points() if p.country_code == country]
            evses = sum(1 for p in mine for e in p.evses if e.status != _REMOVED)
            empty = comply(country, [])
            return empty.model_copy(update={"locations_checked": len(mine), "evses_checked": evses})
        located = await self._store.locations.list(limit=None, filters={"country_code": country})
        return await asyncio.to_thread(comply, country, located.items)
