"""The map's markers as JSON, built once and patched as Locations change.

With 10,000 Locations the markers are megabytes of JSON; building them on every map load took
longer than the page budget (issue 15: 300 ms), and so did building them all again after one
Location was edited. :class:`Markers` keeps the marker of every Location and their JSON (all,
and the published ones; plain and gzipped). Each load asks the store for its watermark (count
and newest ``last_updated``, one indexed query); when that moved, only the Locations updated
since the last look are read and their markers replaced (the store keeping whole seconds,
every load looks while the newest change is under ``REREAD`` old), and when the count does not
add up (a Location deleted, or one stored with an older ``last_updated``) the keys are compared
to drop and add the rest. An EVSE status change from the bus is patched in place, since a late
status report may change an EVSE without moving the watermark. Refreshes are one at a time: a
burst of map loads waits for one. This module must never write or decide who may see what.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from intercarga.bus import EventBus
from intercarga.domain.events import EvseStatusChanged
from intercarga.store import Store
from intercarga.store.map_points import LocationKey, MapPoint, MapPoints
from intercarga.store.open_data import Watermark

__all__ = ["REREAD", "MarkerJson", "Markers", "unsettled"]

# Writers stamp last_updated before they commit, so a write may land with a time a little older
# than the newest one already seen, and the store keeps whole seconds, so a second edit within
# the same second leaves the watermark as it was: each refresh reads back this far before the
# last look, and while the newest change is this recent, every load looks (it reads little).
REREAD = timedelta(seconds=5)
# More changed Locations than this are read in one go: a full build is no slower then.
_PATCH_AT_MOST = 2000


def unsettled(mark: Watermark) -> bool:
    """Whether a change may still come in unseen by the watermark (see ``REREAD``)."""
    return mark.latest is not None and datetime.now(UTC) - mark.latest <= REREAD


@dataclass(frozen=True, slots=True)
class MarkerJson:
    """One answer, ready to send: the JSON and its gzip."""

    body: bytes
    gzipped: bytes


@dataclass
class _Built:
    """The markers as of the watermark ``seen``, patched since by the bus's status changes."""

    seen: Watermark
    markers: dict[LocationKey, tuple[dict[str, Any], bool]]  # key → (marker, published), sorted
    by_evse: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
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
        """Patch the one EVSE in place (its Location is read again anyway if it moved)."""
        built = self._built
        if built is None:
            return
        key = f"{event.country_code}/{event.party_id}/{event.location_id}"
        entry = built.by_evse.get((key, event.evse_uid))
        if entry is None:
            return  # an EVSE not yet known: the refresh reads its Location when it moves
        entry["status"] = event.status.value
        built.every = built.public = None

    async def json(self, *, published_only: bool) -> MarkerJson:
        mark = await self._points.watermark()
        async with self._lock:  # one refresh at a time: a burst of map loads waits for one
            built = self._built
            if built is None or built.seen.latest is None:
                built = self._built = await self._build(mark)
            elif built.seen != mark or unsettled(mark):
                built = self._built = await self._refresh(built, mark)
            if built.every is None or built.public is None:
                markers = [m for m, _ in built.markers.values()]
                built.every = _encode(markers)
                shown = [m for m, published in built.markers.values() if published]
                # Usually every Location is published: the same bytes then, encoded once.
                built.public = built.every if len(shown) == len(markers) else _encode(shown)
            return built.public if published_only else built.every

    async def _build(self, mark: Watermark) -> _Built:
        built = _Built(mark, {})
        self._patch(built, await self._points.points(), await self._parties())
        return built

    async def _refresh(self, built: _Built, mark: Watermark) -> _Built:
        assert built.seen.latest is not None
        changed = await self._points.points(updated_from=built.seen.latest - REREAD)
        if len(changed) > _PATCH_AT_MOST:
            return await self._build(mark)
        parties = await self._parties()
        moved = self._patch(built, changed, parties)
        if len(built.markers) != mark.count:
            # A Location deleted, or one stored with an older last_updated: compare the keys.
            present = await self._points.keys()
            for gone in built.markers.keys() - present:
                self._drop(built, gone)
                moved = True
            missing = present - built.markers.keys()
            if len(missing) > _PATCH_AT_MOST:
                return await self._build(mark)
            if missing:
                moved |= self._patch(built, await self._points.points(keys=missing), parties)
        built.seen = mark
        if moved:  # read again but unchanged (the window): the JSON made stays good
            built.every = built.public = None
        return built

    async def _parties(self) -> dict[tuple[str, str], str]:
        return {
            (party.country_code, party.party_id): party.name
            for party in (await self._store.parties.list(limit=None)).items
        }

    def _patch(
        self, built: _Built, points: list[MapPoint], parties: dict[tuple[str, str], str]
    ) -> bool:
        """Put in the markers of ``points``; whether any differs from the one kept."""
        added = moved = False
        for point in points:
            marker = _marker(point, parties)
            if built.markers.get(point.key) == (marker, point.publish):
                continue
            moved = True
            added |= point.key not in built.markers
            self._drop(built, point.key)
            built.markers[point.key] = (marker, point.publish)
            for evse in marker["evses"]:
                built.by_evse[(marker["key"], evse["uid"])] = evse
        if added:  # new Locations go where the map's order wants them
            built.markers = dict(sorted(built.markers.items()))
        return moved

    @staticmethod
    def _drop(built: _Built, key: LocationKey) -> None:
        old = built.markers.pop(key, None)
        if old is not None:
            for evse in old[0]["evses"]:
                built.by_evse.pop((old[0]["key"], evse["uid"]), None)


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
