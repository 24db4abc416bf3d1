"""The map's view of every Location: the few columns a marker needs, read in three queries.

The dashboard's map draws every Location at once; building 10,000 full :class:`Location`
aggregates (pydantic models with their EVSEs and connectors) for that took seconds. This reads
only what a marker shows and filters on, as plain frozen records, and a :class:`Watermark` of
the whole table (a Location more or fewer, or a newer ``last_updated`` — an EVSE status change
moves its Location's) so that a reader may keep what it built until the data moves; then the
Locations updated since a time and every key (to see deletions), so that it patches what it
built rather than building it again. This module must never write.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, false, func, or_, select

from intercarga.store import tables
from intercarga.store.open_data import Watermark
from intercarga.store.repositories import LocationRepository

__all__ = ["LocationKey", "MapEvse", "MapPoint", "MapPoints"]

LocationKey = tuple[str, str, str]  # (country_code, party_id, id)


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

    @property
    def key(self) -> LocationKey:
        return (self.country_code, self.party_id, self.id)


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

    async def keys(self, country_code: str | None = None) -> set[LocationKey]:
        """The key of every stored Location (of one party country): what a reader diffs to see
        which Locations were deleted, read from the primary key alone."""
        c = self.table.c
        query = select(c.country_code, c.party_id, c.id)
        if country_code is not None:
            query = query.where(c.country_code == country_code)
        async with self._engine.connect() as connection:
            return {(a, b, i) for a, b, i in (await connection.execute(query)).all()}

    async def counted(self, country_code: str) -> tuple[int, int]:
        """How many Locations of a party country there are, and their EVSEs not removed."""
        loc, evse = self.table.c, tables.evses.c
        async with self._engine.connect() as connection:
            locations = (
                await connection.execute(
                    select(func.count()).where(loc.country_code == country_code)
                )
            ).scalar_one()
            evses = (
                await connection.execute(
                    select(func.count())
                    .select_from(tables.evses)
                    .where(evse.country_code == country_code, evse.status != "REMOVED")
                )
            ).scalar_one()
        return int(locations), int(evses)

    async def points(
        self,
        *,
        updated_from: datetime | None = None,
        keys: Collection[LocationKey] | None = None,
    ) -> list[MapPoint]:
        """Every Location; or only those with ``last_updated >= updated_from``; or only ``keys``
        (a few: they are spelled out in the query)."""
        loc, evse, conn = self.table.c, tables.evses.c, tables.connectors.c
        chosen: Any = None
        if updated_from is not None:
            chosen = loc.last_updated >= updated_from
        elif keys is not None:
            chosen = or_(
                false(),
                *(and_(loc.country_code == a, loc.party_id == b, loc.id == i) for a, b, i in keys),
            )
        evse_query = select(
            evse.country_code, evse.party_id, evse.location_id, evse.uid, evse.status
        ).order_by(evse.position)
        conn_query = select(
            conn.country_code, conn.party_id, conn.location_id, conn.evse_uid,
            conn.standard, conn.max_electric_power,
        )  # fmt: skip
        location_query = select(
            loc.country_code, loc.party_id, loc.id, loc.name, loc.address,
            loc.city, loc.latitude, loc.longitude, loc.publish,
        ).order_by(loc.country_code, loc.party_id, loc.id)  # fmt: skip
        if chosen is not None:
            # Children of the chosen Locations only: joined on the key, filtered as the parent.
            location_query = location_query.where(chosen)

            def only_chosen(query: Select[Any], child: Any) -> Select[Any]:
                parent = and_(
                    loc.country_code == child.country_code,
                    loc.party_id == child.party_id,
                    loc.id == child.location_id,
                )
                return query.join(self.table, parent).where(chosen)

            evse_query = only_chosen(evse_query, evse)
            conn_query = only_chosen(conn_query, conn)
        async with self._engine.connect() as connection:
            locations = (await connection.execute(location_query)).all()
            evses = (await connection.execute(evse_query)).all()
            connectors = (await connection.execute(conn_query)).all()
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
