"""The map's markers as JSON, built once and kept until the Locations move.

With 10,000 Locations the markers are megabytes of JSON; building them on every map load took
longer than the page budget (issue 15: 300 ms). :class:`Markers` keeps the markers of every
Location, and their JSON (all, and the published ones; plain and gzipped), and builds them
again only when the store's watermark moves (a Location added, removed or updated). An EVSE
status change from the bus is patched in place (only the JSON is made again), since a busy
network changes statuses every second. Builds are one at a time: a burst of map loads waits
for one build. This module must never write or decide who may see what.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from dataclasses import dataclass
from typing import Any

from intercarga.bus import EventBus
from intercarga.domain.events import EvseStatusChanged
from intercarga.store import Store
from intercarga.store.map_points import MapPoint, MapPoints
from intercarga.store.open_data import Watermark

__all__ = ["MarkerJson", "Markers"]


@dataclass(frozen=True, slots=True)
class MarkerJson:
    """One answer, ready to send: the JSON and its gzip."""

    body: bytes
    gzipped: bytes


@dataclass
class _Built:
    """The markers as built at ``watermark``, patched since by the bus's status changes."""

    watermark: Watermark
    markers: list[dict[str, Any]]
    published: list[bool]
    by_evse: dict[tuple[str, str], dict[str, Any]]  # (location key, EVSE uid) → its entry
    every: MarkerJson | None = None
    public: MarkerJson | None = None


class Markers:
    def __init__(self, store: Store, bus: EventBus) -> None:
        self._store = store
        self._points = MapPoints(store.engine)
        self._built: _Built | None = None
        self._lock = asyncio.Lock()
        bus.subscribe(EvseStatusChanged, self._status_changed)

    async def _status_changed(self, event: EvseStatusChanged) -> None:
        """Patch the one EVSE in place; the store moved the watermark to the event's time.

        The CSMS writes the status with ``last_updated = event.timestamp`` before it publishes,
        so the watermark to expect is known; anything else that moved it meanwhile makes the
        next load build everything again.
        """
        built = self._built
        if built is None:
            return
        key = f"{event.country_code}/{event.party_id}/{event.location_id}"
        entry = built.by_evse.get((key, event.evse_uid))
        if entry is None:
            self._built = None  # an EVSE the markers do not know: build again
            return
        entry["status"] = event.status.value
        latest = built.watermark.latest
        if latest is None or event.timestamp > latest:
            built.watermark = Watermark(built.watermark.count, event.timestamp)
        built.every = built.public = None

    async def json(self, *, published_only: bool) -> MarkerJson:
        mark = await self._points.watermark()
        async with self._lock:  # one build at a time: a burst of map loads waits for one
            built = self._built
            if built is None or built.watermark != mark:
                built = self._built = await self._build(mark)
            if built.every is None or built.public is None:
                built.every = _encode(built.markers)
                # Usually every Location is published: the same bytes then, encoded once.
                built.public = (
                    built.every
                    if all(built.published)
                    else _encode(
                        [
                            m
                            for m, shown in zip(built.markers, built.published, strict=True)
                            if shown
                        ]
                    )
                )
            return built.public if published_only else built.every

    async def _build(self, mark: Watermark) -> _Built:
        points = await self._points.points()
        parties = {
            (party.country_code, party.party_id): party.name
            for party in (await self._store.parties.list(limit=None)).items
        }
        markers = [_marker(point, parties) for point in points]
        by_evse = {(m["key"], e["uid"]): e for m in markers for e in m["evses"]}
        return _Built(mark, markers, [p.publish for p in points], by_evse)


def _encode(markers: list[dict[str, Any]]) -> MarkerJson:
    body = json.dumps(markers, separators=(",", ":"), ensure_ascii=False).encode()
    return MarkerJson(body, gzip.compress(body, compresslevel=5, mtime=0))


def _marker(point: MapPoint, parties: dict[tuple[str, str], str]) -> dict[str, Any]:
    return {
        "key": f"{point.country_code}/{point.party_id}/{point.id}",
        "name": point.name or point.id,
        "address": f"{point.address}, {point.city}",
        "country": point.country_code,
        "operator": parties.get((point.country_code, point.party_id), point.party_id),
        "lat": float(point.latitude),
        "lng": float(point.longitude),
        "evses": [
            {
                "uid": evse.uid,
                "status": evse.status,
                "standards": list(evse.standards),
                "max_kw": evse.max_power_w / 1000,
            }
            for evse in point.evses
        ],
    }
