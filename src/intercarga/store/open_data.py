"""Published Locations for open data: keyset pages over (last_updated, country_code, party_id, id).

Only ``publish = true`` rows are ever read here, except by :meth:`PublishedLocations.within`,
the importer's search for duplicates among everything stored. The coarse cut (country, operator, a box,
``updated_since``, the cursor) is SQL so that an index serves it and a page costs the same on
the first and the thousandth page (no OFFSET); finer filters are the caller's. This module
must never write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, cast, func, or_, select, tuple_

from intercarga.domain import Location
from intercarga.store.repositories import LocationRepository

__all__ = ["PublishedLocations", "Watermark"]


@dataclass(frozen=True, slots=True)
class Watermark:
    """Changes to the published set move this: a newer Location, or one more or fewer."""

    count: int
    latest: datetime | None


class PublishedLocations(LocationRepository):
    """Read-only views of the published Locations, a page at a time."""

    async def page(
        self,
        *,
        limit: int,
        after: tuple[datetime, str, str, str] | None = None,
        country: str | None = None,
        operator: tuple[str, str] | None = None,
        box: tuple[float, float, float, float] | None = None,
        updated_since: datetime | None = None,
    ) -> list[Location]:
        """At most ``limit`` published Locations after ``after`` in (last_updated, key) order;
        ``box`` is (south, west, north, east) in degrees."""
        c = self.table.c
        conditions: list[ColumnElement[bool]] = [c.publish.is_(True)]
        if country is not None:
            conditions.append(c.country == country)
        if operator is not None:
            conditions += [c.country_code == operator[0], c.party_id == operator[1]]
        if updated_since is not None:
            conditions.append(c.last_updated >= updated_since)
        if box is not None:
            south, west, north, east = box
            latitude, longitude = cast(c.latitude, Float), cast(c.longitude, Float)
            conditions += [latitude.between(south, north), longitude.between(west, east)]
        if after is not None:
            moment, country_code, party_id, id_ = after
            conditions.append(
                or_(
                    c.last_updated > moment,
                    and_(
                        c.last_updated == moment,
                        tuple_(c.country_code, c.party_id, c.id)
                        > tuple_(country_code, party_id, id_),
                    ),
                )
            )
        order = [c.last_updated, c.country_code, c.party_id, c.id]
        query = select(self.table).where(*conditions).order_by(*order).limit(limit)
        return await self._load(query)

    async def within(self, box: tuple[float, float, float, float]) -> list[Location]:
        """Every Location in ``box`` (south, west, north, east), published or not: the
        Open Charge Map importer's duplicate candidates."""
        c = self.table.c
        south, west, north, east = box
        latitude, longitude = cast(c.latitude, Float), cast(c.longitude, Float)
        query = select(self.table).where(
            latitude.between(south, north), longitude.between(west, east)
        )
        return await self._load(query)

    async def _load(self, query: Select[Any]) -> list[Location]:
        """The Locations the rows of ``query`` name, whole, in the rows' order."""
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
            keys = [(row.country_code, row.party_id, row.id) for row in rows]
            children = await self._read_children(connection, keys) if rows else {}
        return [self._from_row(row, children.get(key)) for row, key in zip(rows, keys, strict=True)]

    async def watermark(self) -> Watermark:
        c = self.table.c
        query = select(func.count(), func.max(c.last_updated)).where(c.publish.is_(True))
        async with self._engine.connect() as connection:
            count, latest = (await connection.execute(query)).one()
        # max() over a typed column comes back raw on SQLite: read it through the column type.
        if isinstance(latest, str):
            latest = datetime.fromisoformat(latest)
        if latest is not None and latest.tzinfo is None:
            latest = latest.replace(tzinfo=UTC)
        return Watermark(int(count), latest)

    async def countries(self) -> Sequence[str]:
        c = self.table.c
        query = select(c.country).where(c.publish.is_(True)).distinct().order_by(c.country)
        async with self._engine.connect() as connection:
            return [row[0] for row in (await connection.execute(query)).all()]
