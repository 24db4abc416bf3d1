"""The map's view of every Location: the few columns a marker needs, read in three queries.

The dashboard's map draws every Location at once; building 10,000 full :class:`Location`
aggregates (pydantic models with their EVSEs and connectors) for that took seconds. This reads
only what a marker shows and filters on, as plain frozen records, and a :class:`Watermark` of
the whole table (a Location more or fewer, or a newer ``last_updated`` — an EVSE status change
moves its Location's) so that a reader may keep what it built until the data moves. This module
must never write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from intercarga.store import tables
from intercarga.store.open_data import Watermark
from intercarga.store.repositories import LocationRepository

__all__ = ["MapEvse", "MapPoint", "MapPoints"]


@dataclass(frozen=True, slots=True)
class MapEvse:
    uid: str
    status: str
    standards: tuple[str, ...]
    max_power_w: int


@dataclass(frozen=True, slots=True)
class MapPoint:
    country_code: str
    party_id: str
    id: str
    name: str | None
    address: str
    city: str
    latitude: str
    longitude: str
    publish: bool
    evses: tuple[MapEvse, ...]


class MapPoints(LocationRepository):
    """Every stored Location, as the map needs it."""

    async def watermark(self) -> Watermark:
        c = self.table.c
        query = select(func.count(), func.max(c.last_updated))
        async with self._engine.connect() as connection:
            count, latest = (await connection.execute(query)).one()
        if isinstance(latest, str):  # max() over a typed column comes back raw on SQLite
            latest = datetime.fromisoformat(latest)
        if latest is not None and latest.tzinfo is None:
            latest = latest.replace(tzinfo=UTC)
        return Watermark(int(count), latest)

    async def points(self) -> list[MapPoint]:
        loc, evse, conn = self.table.c, tables.evses.c, tables.connectors.c
        async with self._engine.connect() as connection:
            locations = (
                await connection.execute(
                    select(
                        loc.country_code, loc.party_id, loc.id, loc.name, loc.address,
                        loc.city, loc.latitude, loc.longitude, loc.publish,
                    ).order_by(loc.country_code, loc.party_id, loc.id)
                )
            ).all()  # fmt: skip
            evses = (
                await connection.execute(
                    select(
                        evse.country_code, evse.party_id, evse.location_id, evse.uid, evse.status
                    ).order_by(evse.position)
                )
            ).all()
            connectors = (
                await connection.execute(
                    select(
                        conn.country_code, conn.party_id, conn.location_id, conn.evse_uid,
                        conn.standard, conn.max_electric_power,
                    )
                )
            ).all()  # fmt: skip
        plugs: dict[tuple[str, str, str, str], tuple[set[str], int]] = {}
        for country, party, location, uid, standard, power in connectors:
            standards, most = plugs.setdefault((country, party, location, uid), (set(), 0))
            standards.add(standard)
            plugs[(country, party, location, uid)] = (standards, max(most, power or 0))
        by_location: dict[tuple[str, str, str], list[MapEvse]] = {}
        for country, party, location, uid, status in evses:
            standards, most = plugs.get((country, party, location, uid), (set(), 0))
            by_location.setdefault((country, party, location), []).append(
                MapEvse(uid, status, tuple(sorted(standards)), most)
            )
        return [
            MapPoint(
                row.country_code, row.party_id, row.id, row.name, row.address, row.city,
                row.latitude, row.longitude, bool(row.publish),
                tuple(by_location.get((row.country_code, row.party_id, row.id), ())),
            )
            for row in locations
        ]  # fmt: skip
