"""The map's markers as JSON, built once and patched as Locations change.

With 10,000 Locations the markers are megabytes of JSON; building them on every map load took
longer than the page budget (issue 15: 300 ms), and so did building them all again after one
Location was edited. :class:`Markers` keeps the marker of every Location and their JSON (all,
and the published ones; plain and gzipped, made a block of markers at a time so that an edit
encodes and compresses one block again). Each load asks the store for its watermark (count
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
import json
import struct
import zlib
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
# Markers are encoded and compressed this many at a time, each block on its own (a fresh
# deflate state, flushed whole), so that the blocks' bytes join into one gzip stream and an
# edit compresses one block again rather than megabytes.
_BLOCK = 256
_LEVEL = 6


def unsettled(mark: Watermark) -> bool:
    """Whether a change may still come in unseen by the watermark (see ``REREAD``)."""
    return mark.latest is not None and datetime.now(UTC) - mark.latest <= REREAD


@dataclass(frozen=True, slots=True)
class MarkerJson:
    """One answer, ready to send: the JSON and its gzip."""

    body: bytes
    gzipped: bytes


@dataclass(frozen=True, slots=True)
class _Block:
    """Up to ``_BLOCK`` markers: their JSON objects comma-joined, and that deflated on its own;
    all of them, and the published ones."""

    keys: tuple[LocationKey, ...]
    every: bytes
    every_z: bytes
    public: bytes
    public_z: bytes


@dataclass
class _Built:
    """The markers as of the watermark ``seen``, patched since by the bus's status changes."""

    seen: Watermark
    markers: dict[LocationKey, tuple[dict[str, Any], bool]]  # key → (marker, published), sorted
    by_evse: dict[tuple[LocationKey, str], dict[str, Any]] = field(default_factory=dict)
    blocks: list[_Block] = field(default_factory=list)
    dirty: set[LocationKey] = field(default_factory=set)  # changed since their block was made
    every: MarkerJson | None = None
    public: MarkerJson | None = None


class Markers:
    def __init__(self, store: Store, bus: EventBus) -> None:
        self._store = store
        self._points = MapPoints(store.engine)
        self._built: _Built | None = None
        self._lock = asyncio.Lock()
        # Every node's cache: the other nodes' changes too.
        bus.subscribe(EvseStatusChanged, self._status_changed, everywhere=True)

    async def _status_changed(self, event: EvseStatusChanged) -> None:
        """Patch the one EVSE in place (its Location is read again anyway if it moved)."""
        built = self._built
        if built is None:
            return
        key = (event.country_code, event.party_id, event.location_id)
        entry = built.by_evse.get((key, event.evse_uid))
        if entry is None:
            return  # an EVSE not yet known: the refresh reads its Location when it moves
        entry["status"] = event.status.value
        built.dirty.add(key)
        built.every = built.public = None

    def countries(self) -> set[str]:
        """The countries of the Locations on the map as last built (none before the first)."""
        built = self._built
        return set() if built is None else {key[0] for key in built.markers}

    async def json(self, *, published_only: bool) -> MarkerJson:
        mark = await self._points.watermark()
        async with self._lock:  # one refresh at a time: a burst of map loads waits for one
            built = self._built
            if built is None or built.seen.latest is None:
                built = self._built = await self._build(mark)
            elif built.seen != mark or unsettled(mark):
                built = self._built = await self._refresh(built, mark)
            if built.every is None or built.public is None:
                _encode(built)
            assert built.every is not None and built.public is not None
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
            self._forget_evses(built, point.key)
            built.markers[point.key] = (marker, point.publish)  # a key kept keeps its place
            built.dirty.add(point.key)
            for evse in marker["evses"]:
                built.by_evse[(point.key, evse["uid"])] = evse
        if added:  # new Locations go where the map's order wants them
            built.markers = dict(sorted(built.markers.items()))
        return moved

    @classmethod
    def _drop(cls, built: _Built, key: LocationKey) -> None:
        cls._forget_evses(built, key)
        built.markers.pop(key, None)
        built.dirty.add(key)

    @staticmethod
    def _forget_evses(built: _Built, key: LocationKey) -> None:
        old = built.markers.get(key)
        if old is not None:
            for evse in old[0]["evses"]:
                built.by_evse.pop((key, evse["uid"]), None)


def _encode(built: _Built) -> None:
    """Make ``built.every`` and ``built.public`` again, encoding only the blocks that changed
    (a block whose keys are no longer the same, or one holding a changed marker)."""
    keys = list(built.markers)
    kept = built.blocks
    blocks = []
    for start in range(0, len(keys), _BLOCK):
        members = tuple(keys[start : start + _BLOCK])
        index = start // _BLOCK
        old = kept[index] if index < len(kept) else None
        if old is not None and old.keys == members and built.dirty.isdisjoint(members):
            blocks.append(old)
        else:
            blocks.append(_block(members, built.markers))
    built.blocks = blocks
    built.dirty = set()
    built.every = _joined([(b.every, b.every_z) for b in blocks])
    # Usually every Location is published: the same bytes then, joined once.
    every_shown = all(b.public is b.every for b in blocks)
    built.public = built.every if every_shown else _joined([(b.public, b.public_z) for b in blocks])


def _block(
    keys: tuple[LocationKey, ...], markers: dict[LocationKey, tuple[dict[str, Any], bool]]
) -> _Block:
    parts = [(_json(markers[key][0]), markers[key][1]) for key in keys]
    every = b",".join(part for part, _ in parts)
    if all(published for _, published in parts):
        public = every
    else:
        public = b",".join(part for part, published in parts if published)
    every_z = _deflated(every)
    return _Block(keys, every, every_z, public, every_z if public is every else _deflated(public))


def _json(marker: dict[str, Any]) -> bytes:
    return json.dumps(marker, separators=(",", ":"), ensure_ascii=False).encode()


def _deflated(data: bytes, finish: bool = False) -> bytes:
    """``data`` as raw deflate from a fresh state, flushed whole (so it may follow any other
    such piece in one stream), or ``finish``ed (the stream's last piece)."""
    compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(
        zlib.Z_FINISH if finish else zlib.Z_FULL_FLUSH
    )


_OPEN, _COMMA, _CLOSE = _deflated(b"["), _deflated(b","), _deflated(b"]", finish=True)
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, mtime 0


def _joined(blocks: list[tuple[bytes, bytes]]) -> MarkerJson:
    """The JSON array of the blocks' markers, and its gzip from their deflated pieces."""
    shown = [(plain, packed) for plain, packed in blocks if plain]
    body = b"[" + b",".join(plain for plain, _ in shown) + b"]"
    stream = _OPEN + _COMMA.join(packed for _, packed in shown) + _CLOSE
    trailer = struct.pack("<II", zlib.crc32(body), len(body) & 0xFFFFFFFF)
    return MarkerJson(body, _GZIP_HEADER + stream + trailer)


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
