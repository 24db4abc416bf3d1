"""Repositories: read and write domain aggregates, the same code on SQLite and PostgreSQL.

Each repository stores one aggregate whole (a Location with its EVSEs and connectors, a Session
with its meter values) in one transaction, so a reader never sees half of one. Keys are the
domain's natural keys (country_code, party_id, id). Errors a caller can cause are
:class:`NotFoundError` and :class:`ConflictError`; this module must never import a protocol or
web package.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cached_property
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from intercarga.domain import (
    EVSE,
    Cdr,
    Connector,
    EVSEStatus,
    GeoLocation,
    Hours,
    Location,
    MeterValue,
    OcppVersion,
    Party,
    Session,
    Station,
    StationEvse,
    Tariff,
    Token,
)
from intercarga.errors import ConflictError, NotFoundError
from intercarga.store import tables
from intercarga.store.assessment_runs import AssessmentRunRepository
from intercarga.store.authorizations import AuthorizationRepository
from intercarga.store.batch import Write, WriteBatcher
from intercarga.store.connections import ConnectionRepository, not_superseded
from intercarga.store.registry import (
    PullMarkRepository,
    RefusalRepository,
    StatusHistoryRepository,
)
from intercarga.store.reports import StationReportRepository
from intercarga.store.security_events import SecurityEventRepository
from intercarga.store.station_meter_values import StationMeterValueRepository
from intercarga.store.transactions import OcppTransactionRepository
from intercarga.store.users import UserRepository

__all__ = [
    "CdrRepository",
    "LocationRepository",
    "Page",
    "PartyRepository",
    "Repository",
    "Revised",
    "SessionRepository",
    "StationRepository",
    "Store",
    "TariffRepository",
    "TokenRepository",
]

T = TypeVar("T", bound=BaseModel)
Item = TypeVar("Item")
Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Page(Generic[Item]):
    """One page of a list: ``items`` from ``offset``, at most ``limit``, out of ``total``."""

    items: list[Item]
    total: int
    offset: int
    limit: int | None


class Repository(ABC, Generic[T]):
    """Store and read one kind of aggregate kept in one table (plus children, in subclasses).

    Subclasses say how an object maps to a row (``_to_row``) and back (``_from_row``); writing
    children and reading them in bulk are hooks so that list pages cost a fixed number of queries.
    """

    table: Table
    key_columns: tuple[str, ...]
    kind: str

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- mapping hooks -------------------------------------------------------------------
    def _key_of(self, item: T) -> Key:
        return tuple(str(getattr(item, column)) for column in self._key_attributes())

    def _key_attributes(self) -> tuple[str, ...]:
        return self.key_columns

    @abstractmethod
    def _to_row(self, item: T) -> dict[str, Any]: ...

    @abstractmethod
    def _from_row(self, row: Row[Any], children: Any) -> T: ...

    async def _write_children(self, connection: AsyncConnection, item: T) -> None:
        return None

    async def _read_children(
        self, connection: AsyncConnection, keys: Sequence[Key]
    ) -> Mapping[Key, Any]:
        return {}

    # -- operations ----------------------------------------------------------------------
    def _where(self, key: Key) -> Any:
        return and_(
            *(
                self.table.c[name] == value
                for name, value in zip(self.key_columns, key, strict=True)
            )
        )

    def _describe(self, key: Key) -> str:
        return f"{self.kind} {'/'.join(key)}"

    @cached_property
    def _by_key(self) -> Select[Any]:
        # Built once: a statement made anew for each read cost a quarter of the read (issue 16).
        return select(self.table).where(
            and_(*(self.table.c[name] == bindparam(f"key_{name}") for name in self.key_columns))
        )

    async def get(self, *key: str) -> T:
        values = {f"key_{name}": value for name, value in zip(self.key_columns, key, strict=True)}
        async with self._engine.connect() as connection:
            row = (await connection.execute(self._by_key, values)).first()
            if row is None:
                raise NotFoundError(f"{self._describe(key)} not found")
            children = await self._read_children(connection, [key])
            return self._from_row(row, children.get(key))

    async def find(self, *key: str) -> T | None:
        try:
            return await self.get(*key)
        except NotFoundError:
            return None

    async def exists(self, *key: str) -> bool:
        async with self._engine.connect() as connection:
            query = select(func.count()).select_from(self.table).where(self._where(key))
            return bool((await connection.execute(query)).scalar_one())

    async def list(
        self,
        *,
        offset: int = 0,
        limit: int | None = 50,
        filters: Mapping[str, Any] | None = None,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        after: str | None = None,
    ) -> Page[T]:
        """A page ordered by key; ``filters`` are equality on columns, dates on last_updated.

        ``after``: only the objects whose last key column is greater (a keyset page: the last
        key of the page before, where ``filters`` fix the other key columns). The index seeks
        to it, where ``offset`` reads and drops every row before; ``total`` still counts them.
        """
        async with self._engine.connect() as connection:
            total, rows, keys = await self._page_rows(
                connection, offset, limit, filters, updated_from, updated_to, after
            )
            children = await self._read_children(connection, keys) if rows else {}
        items = [
            self._from_row(row, children.get(key)) for row, key in zip(rows, keys, strict=True)
        ]
        return Page(items=items, total=total, offset=offset, limit=limit)

    async def _page_rows(
        self,
        connection: AsyncConnection,
        offset: int,
        limit: int | None,
        filters: Mapping[str, Any] | None,
        updated_from: datetime | None,
        updated_to: datetime | None,
        after: str | None,
        *,
        columns: Sequence[Any] = (),
    ) -> tuple[int, Sequence[Row[Any]], Sequence[Key]]:
        """What :meth:`list` reads of its page before the children: the count of all that
        match, the page's rows (only ``columns`` of them, when given) and their keys."""
        page, count = self._page_statements(
            filters or {}, updated_from, updated_to, after, offset, limit
        )
        if columns:
            # One statement where a few columns are read: the count rides along on every row
            # (the SQL says it once), asked apart only when the page is empty. Each statement
            # costs several hand-overs to the SQLite thread, more than reading the rows.
            rows = (
                await connection.execute(
                    page(*columns, count.scalar_subquery().label("page_total"))
                )
            ).all()
            total = rows[0].page_total if rows else (await connection.execute(count)).scalar_one()
        else:
            total = (await connection.execute(count)).scalar_one()
            rows = (await connection.execute(page(self.table))).all()
        keys = [tuple(str(row._mapping[name]) for name in self.key_columns) for row in rows]
        return int(total), rows, keys

    def _page_statements(
        self,
        filters: Mapping[str, Any],
        updated_from: Any,
        updated_to: Any,
        after: Any,
        offset: Any,
        limit: Any,
    ) -> tuple[Callable[..., Select[Any]], Select[Any]]:
        """What :meth:`list` asks, given values or bind parameters alike: the page's statement
        (a function of the columns it reads) and the count's."""
        conditions = [
            self.table.c[name] == value for name, value in filters.items() if value is not None
        ]
        if updated_from is not None:
            conditions.append(self.table.c.last_updated >= updated_from)
        if updated_to is not None:
            conditions.append(self.table.c.last_updated < updated_to)
        where = and_(True, *conditions)
        order = [self.table.c[name] for name in self.key_columns]
        chosen = where if after is None else and_(where, self.table.c[self.key_columns[-1]] > after)
        dated = updated_from is not None or updated_to is not None
        count = self._counting(where, filters, dated=dated)

        def page(*chosen_columns: Any) -> Select[Any]:
            return (
                select(*chosen_columns).where(chosen).order_by(*order).offset(offset).limit(limit)
            )

        return page, count

    def _counting(self, where: Any, filters: Mapping[str, Any], *, dated: bool) -> Select[Any]:
        """The statement counting what :meth:`list` matches (``where``: its conditions, made of
        ``filters`` and, when ``dated``, dates on last_updated)."""
        return select(func.count()).select_from(self.table).where(where)

    async def put(self, item: T) -> bool:
        """Create or replace the aggregate; True when it was created.

        :class:`ConflictError` when a key is taken: a concurrent write of the same aggregate won
        the insert (on PostgreSQL both can find nothing to delete; putting again then replaces
        it), or the aggregate lists one of its parts twice. Nothing is written then.
        """
        key = self._key_of(item)
        try:
            async with self._engine.begin() as connection:
                deleted = (
                    await connection.execute(delete(self.table).where(self._where(key)))
                ).rowcount
                await connection.execute(insert(self.table).values(**self._to_row(item)))
                await self._write_children(connection, item)
        except IntegrityError:
            raise ConflictError(
                f"{self._describe(key)} not stored: a key is taken (written at the same time,"
                " or a part listed twice)"
            ) from None
        return not deleted

    async def create(self, item: T) -> None:
        """Create the aggregate; :class:`ConflictError` when its key is taken."""
        key = self._key_of(item)
        try:
            async with self._engine.begin() as connection:
                await connection.execute(insert(self.table).values(**self._to_row(item)))
                await self._write_children(connection, item)
        except IntegrityError:
            raise ConflictError(f"{self._describe(key)} already exists") from None

    async def delete(self, *key: str) -> None:
        async with self._engine.begin() as connection:
            if not (await connection.execute(delete(self.table).where(self._where(key)))).rowcount:
                raise NotFoundError(f"{self._describe(key)} not found")

    async def count(self) -> int:
        async with self._engine.connect() as connection:
            return int(
                (
                    await connection.execute(select(func.count()).select_from(self.table))
                ).scalar_one()
            )


def _columns(item: BaseModel, table: Table, **extra: Any) -> dict[str, Any]:
    """The row for ``item``: same-named attributes as Python values, JSON columns as JSON."""
    dumped = item.model_dump(mode="json")
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name in extra:
            row[column.name] = extra[column.name]
        elif hasattr(item, column.name) and column.name in dumped:
            value = getattr(item, column.name)
            row[column.name] = (
                dumped[column.name] if isinstance(value, list | dict | BaseModel) else value
            )
    return row


def _plain(row: Row[Any], *skip: str) -> dict[str, Any]:
    # Row._fields is the result's own tuple of names; row._mapping.items() builds the keys
    # afresh for every row (half the time of reading a page of Locations went there).
    return {name: value for name, value in zip(row._fields, row, strict=True) if name not in skip}


class PartyRepository(Repository[Party]):
    table = tables.parties
    key_columns = ("country_code", "party_id")
    kind = "party"

    def _to_row(self, item: Party) -> dict[str, Any]:
        return _columns(item, self.table)

    def _from_row(self, row: Row[Any], children: Any) -> Party:
        return Party.model_validate(_plain(row))


def _owned_by(table: Table, keys: Sequence[Key], column: str = "location_id") -> Any:
    """The children of the Locations ``keys`` (``column="id"``: the Locations themselves), as
    one ``location_id IN (…)`` per party: SQLite answers a row-value ``(country_code, party_id,
    location_id) IN (…)`` with a scan of the whole table, this with the primary key (one page
    of 100 out of 100,000 Locations read every EVSE and connector before)."""
    by_party: dict[tuple[str, str], list[str]] = {}
    for country_code, party_id, location_id in keys:
        by_party.setdefault((country_code, party_id), []).append(location_id)
    return or_(
        *(
            and_(
                table.c.country_code == country_code,
                table.c.party_id == party_id,
                table.c[column].in_(ids),
            )
            for (country_code, party_id), ids in by_party.items()
        )
    )


def _new_revision() -> int:
    """A Location's next ``revision``: random rather than counted, so that no value comes back
    after the Location is deleted and made again (a counter would restart) and two processes
    writing one database need not agree on anything; 63 bits, so a repeat is never met."""
    return secrets.randbits(63)


@dataclass(frozen=True, slots=True)
class Revised:
    """A Location's key and revision, and the Location itself unless the reader said it holds
    what it needs of that revision (:meth:`LocationRepository.list_current`)."""

    key: tuple[str, str, str]
    revision: int
    location: Location | None


@dataclass(frozen=True, slots=True)
class _PageShape:
    """What makes two pages of Locations the same statement with other values."""

    filters: tuple[str, ...]
    dated_from: bool
    dated_to: bool
    after: bool
    unlimited: bool


class LocationRepository(Repository[Location]):
    table = tables.locations
    key_columns = ("country_code", "party_id", "id")
    kind = "location"

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._prepared_pages: dict[_PageShape, tuple[str, list[tuple[str, Any, Any]]]] = {}

    def _to_row(self, item: Location) -> dict[str, Any]:
        return _columns(
            item,
            self.table,
            latitude=item.coordinates.latitude,
            longitude=item.coordinates.longitude,
            opening_times=None
            if item.opening_times is None
            else item.opening_times.model_dump(mode="json"),
            revision=_new_revision(),
        )

    def _counting(self, where: Any, filters: Mapping[str, Any], *, dated: bool) -> Select[Any]:
        """A party's Locations, undated: its kept count (``location_counts``, kept by triggers),
        not a scan of its index; anything else counted."""
        party = {name: value for name, value in filters.items() if value is not None}
        if dated or party.keys() != {"country_code", "party_id"}:
            return super()._counting(where, filters, dated=dated)
        counts = tables.location_counts
        kept = (
            select(counts.c.locations)
            .where(
                counts.c.country_code == party["country_code"],
                counts.c.party_id == party["party_id"],
            )
            .scalar_subquery()
        )
        return select(func.coalesce(kept, 0))

    def _from_row(self, row: Row[Any], children: Any) -> Location:
        values = _plain(row, "latitude", "longitude", "opening_times", "revision")
        values["coordinates"] = GeoLocation(latitude=row.latitude, longitude=row.longitude)
        values["opening_times"] = (
            None if row.opening_times is None else Hours.model_validate(row.opening_times)
        )
        values["evses"] = children or []
        return Location.model_validate(values)

    async def _write_children(self, connection: AsyncConnection, item: Location) -> None:
        owner = {
            "country_code": item.country_code,
            "party_id": item.party_id,
            "location_id": item.id,
        }
        evse_rows = []
        connector_rows = []
        for position, evse in enumerate(item.evses):
            evse_rows.append(
                _columns(
                    evse,
                    tables.evses,
                    **owner,
                    position=position,
                    latitude=evse.coordinates.latitude if evse.coordinates else None,
                    longitude=evse.coordinates.longitude if evse.coordinates else None,
                )
            )
            for index, connector in enumerate(evse.connectors):
                connector_rows.append(
                    _columns(
                        connector, tables.connectors, **owner, evse_uid=evse.uid, position=index
                    )
                )
        if evse_rows:
            await connection.execute(insert(tables.evses), evse_rows)
        if connector_rows:
            await connection.execute(insert(tables.connectors), connector_rows)

    async def _read_children(
        self, connection: AsyncConnection, keys: Sequence[Key]
    ) -> Mapping[Key, Any]:
        evse_rows = (
            await connection.execute(
                select(tables.evses)
                .where(_owned_by(tables.evses, keys))
                .order_by(tables.evses.c.position)
            )
        ).all()
        connector_rows = (
            await connection.execute(
                select(tables.connectors)
                .where(_owned_by(tables.connectors, keys))
                .order_by(tables.connectors.c.position)
            )
        ).all()
        connectors_by_evse: dict[Key, list[Connector]] = {}
        for row in connector_rows:
            evse_key = (row.country_code, row.party_id, row.location_id, row.evse_uid)
            values = _plain(row, "country_code", "party_id", "location_id", "evse_uid", "position")
            connectors_by_evse.setdefault(evse_key, []).append(Connector.model_validate(values))
        result: dict[Key, list[EVSE]] = {}
        for row in evse_rows:
            values = _plain(
                row, "country_code", "party_id", "location_id", "position", "latitude", "longitude"
            )
            values["coordinates"] = (
                None
                if row.latitude is None
                else GeoLocation(latitude=row.latitude, longitude=row.longitude)
            )
            values["connectors"] = connectors_by_evse.get(
                (row.country_code, row.party_id, row.location_id, row.uid), []
            )
            result.setdefault((row.country_code, row.party_id, row.location_id), []).append(
                EVSE.model_validate(values)
            )
        return result

    async def list_current(
        self,
        cached: Callable[[Key, int], bool],
        *,
        offset: int = 0,
        limit: int | None = 50,
        filters: Mapping[str, Any] | None = None,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        after: str | None = None,
    ) -> Page[Revised]:
        """The page :meth:`list` reads, each Location with its revision, read whole only where
        ``cached(key, revision)`` is false (the caller holds nothing made from that revision):
        a page whose Locations the caller has seen at their revisions reads no EVSE or
        connector and builds no Location. One connection, so on SQLite one snapshot."""
        table = self.table
        async with self._engine.connect() as connection:
            total, keys, revisions = await self._page_revisions(
                connection, offset, limit, filters or {}, updated_from, updated_to, after
            )
            wanted = [
                key
                for key, revision in zip(keys, revisions, strict=True)
                if not cached(key, revision)
            ]
            needed = set(wanted)
            whole: dict[Key, Row[Any]] = {}
            children: Mapping[Key, Any] = {}
            if wanted:
                # Read again whole, with the revision they are read at (a write may have come
                # between on PostgreSQL, whose statements each see the latest commit).
                found = await connection.execute(
                    select(table).where(_owned_by(table, wanted, column="id"))
                )
                whole = {(row.country_code, row.party_id, row.id): row for row in found}
                children = await self._read_children(connection, wanted)
        items: list[Revised] = []
        for key, revision in zip(keys, revisions, strict=True):
            place = (key[0], key[1], key[2])
            if key not in needed:
                items.append(Revised(key=place, revision=revision, location=None))
            elif key in whole:
                read = whole[key]
                location = self._from_row(read, children.get(key))
                items.append(Revised(key=place, revision=read.revision, location=location))
            # else deleted since the page was read (PostgreSQL): not listed
        return Page(items=items, total=total, offset=offset, limit=limit)

    async def _page_revisions(
        self,
        connection: AsyncConnection,
        offset: int,
        limit: int | None,
        filters: Mapping[str, Any],
        updated_from: datetime | None,
        updated_to: datetime | None,
        after: str | None,
    ) -> tuple[int, list[Key], list[int]]:
        """The count of what :meth:`list` matches, and its page's keys and revisions."""
        if self._engine.dialect.driver == "aiosqlite":
            shape = _PageShape(
                tuple(name for name, value in filters.items() if value is not None),
                updated_from is not None,
                updated_to is not None,
                after is not None,
                limit is None,
            )
            values = {
                "page_offset": offset,
                "page_limit": limit,
                "updated_from": updated_from,
                "updated_to": updated_to,
                "after": after,
                **{f"filter_{name}": filters[name] for name in shape.filters},
            }
            read = await self._page_revisions_at_once(connection, shape, values)
            if read is not None:
                return read
        table = self.table
        columns = (*(table.c[name] for name in self.key_columns), table.c.revision)
        total, rows, keys = await self._page_rows(
            connection, offset, limit, filters, updated_from, updated_to, after, columns=columns
        )
        return total, list(keys), [row.revision for row in rows]

    async def _page_revisions_at_once(
        self, connection: AsyncConnection, shape: _PageShape, values: Mapping[str, Any]
    ) -> tuple[int, list[Key], list[int]] | None:
        """:meth:`_page_revisions` on SQLite in one hand-over to the driver's thread; None
        when the page is empty (its count is asked apart) or the driver refused (read again
        through SQLAlchemy, which says what went wrong as for any other statement).

        Through SQLAlchemy the statement cost five hand-overs to aiosqlite's thread (cursor,
        execute, fetch, close, and building the statement), about 0.9 ms of a page of 100
        kept Locations against 0.2 ms; a pull of a network is a hundred such pages. The SQL
        is SQLAlchemy's own, compiled once per shape of page with bind parameters."""
        prepared = self._prepared_pages.get(shape)
        if prepared is None:
            prepared = self._prepared_pages[shape] = self._prepare_page(shape)
        sql, binds = prepared
        parameters = []
        for name, constant, process in binds:
            value = values.get(name, constant)
            parameters.append(value if process is None else process(value))
        driver = (await connection.get_raw_connection()).driver_connection
        if driver is None:
            return None
        try:
            rows = await driver.execute_fetchall(sql, parameters)
        except sqlite3.Error:
            return None
        if not rows:
            return None
        width = len(self.key_columns)
        keys = [tuple(str(value) for value in row[:width]) for row in rows]
        return int(rows[0][width + 1]), keys, [int(row[width]) for row in rows]

    def _prepare_page(self, shape: _PageShape) -> tuple[str, list[tuple[str, Any, Any]]]:
        """The SQL of :meth:`_page_rows` for pages of ``shape`` read with ``columns`` = the key
        and the revision, and its bind parameters in order, each with its conversion."""
        page, count = self._page_statements(
            {name: bindparam(f"filter_{name}") for name in shape.filters},
            bindparam("updated_from") if shape.dated_from else None,
            bindparam("updated_to") if shape.dated_to else None,
            bindparam("after") if shape.after else None,
            bindparam("page_offset"),
            None if shape.unlimited else bindparam("page_limit"),
        )
        table = self.table
        statement = page(
            *(table.c[name] for name in self.key_columns),
            table.c.revision,
            count.scalar_subquery().label("page_total"),
        )
        dialect = self._engine.dialect
        compiled = statement.compile(dialect=dialect)
        # A value the statement holds itself (the count's 0 when a party has none) is its own.
        binds = [
            (name, compiled.binds[name].value, compiled.binds[name].type.bind_processor(dialect))
            for name in compiled.positiontup or ()
        ]
        return str(compiled), binds

    async def set_evse_status(
        self,
        key: tuple[str, str, str],
        evse_uid: str,
        status: EVSEStatus,
        at: datetime,
        *,
        fence: tuple[str, int] | None = None,
    ) -> bool:
        """Change one EVSE's status (and last_updated); False when there is no such EVSE, or
        when ``fence`` (station id, connection generation) is superseded by a newer connection
        of that station (:mod:`intercarga.store.connections`)."""
        country_code, party_id, location_id = key
        evse = tables.evses.c
        conditions = [
            evse.country_code == country_code,
            evse.party_id == party_id,
            evse.location_id == location_id,
            evse.uid == evse_uid,
        ]
        if fence is not None and fence[1]:
            conditions.append(not_superseded(*fence))
        async with self._engine.begin() as connection:
            changed = await connection.execute(
                update(tables.evses).where(*conditions).values(status=status.value, last_updated=at)
            )
            if not changed.rowcount:
                return False
            await connection.execute(
                update(self.table)
                .where(self._where(key))
                .values(last_updated=at, revision=_new_revision())
            )
        return True

    async def put_statuses(self, before: Location, after: Location) -> bool:
        """Store ``after`` over ``before`` (the copy it was made from) by writing only its EVSEs'
        status and ``last_updated`` and the Location's ``last_updated`` (never moved back),
        when that is all that differs; False, writing nothing, when anything else differs or
        the Location or one of those EVSEs is gone (then :meth:`put` stores it whole).

        A status report is most of what a CPO sends an access point: rewriting the whole
        Location (every EVSE and connector row) for it cost most of the write, and two reports
        on different EVSEs of one Location, written whole at once, could undo each other.
        """
        changed = _status_only(before, after)
        if changed is None:
            return False
        key = self._key_of(after)
        try:
            async with self._engine.begin() as connection:
                await self._write_statuses(connection, key, changed, after.last_updated)
        except NotFoundError:  # rolled back: gone since it was read
            return False
        return True

    async def _write_statuses(
        self, connection: AsyncConnection, key: Key, changed: Sequence[EVSE], at: datetime
    ) -> None:
        country_code, party_id, location_id = key
        evse, location = tables.evses.c, self.table.c
        for item in changed:
            rows = await connection.execute(
                update(tables.evses)
                .where(
                    evse.country_code == country_code,
                    evse.party_id == party_id,
                    evse.location_id == location_id,
                    evse.uid == item.uid,
                )
                .values(status=item.status.value, last_updated=item.last_updated)
            )
            if not rows.rowcount:
                raise NotFoundError(f"EVSE {item.uid} of {self._describe(key)} not found")
        moved = await connection.execute(
            update(self.table)
            .where(self._where(key))
            .values(
                last_updated=case(
                    (location.last_updated < at, literal(at, location.last_updated.type)),
                    else_=location.last_updated,
                ),
                revision=_new_revision(),
            )
        )
        if not moved.rowcount:
            raise NotFoundError(f"{self._describe(key)} not found")


def _status_only(before: Location, after: Location) -> list[EVSE] | None:
    """The EVSEs of ``after`` whose status or ``last_updated`` differ from ``before``'s, when
    nothing else differs (the same EVSEs in the same order, nothing else of the Location
    changed but ``last_updated``); None otherwise."""
    if [e.uid for e in before.evses] != [e.uid for e in after.evses]:
        return None
    if (
        before.model_copy(update={"evses": after.evses, "last_updated": after.last_updated})
        != after
    ):
        return None
    changed: list[EVSE] = []
    for old, new in zip(before.evses, after.evses, strict=True):
        if (old.status, old.last_updated) == (new.status, new.last_updated):
            if old != new:
                return None
            continue
        if old.model_copy(update={"status": new.status, "last_updated": new.last_updated}) != new:
            return None
        changed.append(new)
    return changed


_TOUCH = (
    update(tables.stations)
    .where(tables.stations.c.id == bindparam("k_id"))
    .values(last_seen=bindparam("v_last_seen", type_=tables.stations.c.last_seen.type))
)
_TOUCH_VERSION = (
    update(tables.stations)
    .where(tables.stations.c.id == bindparam("k_id"))
    .values(
        last_seen=bindparam("v_last_seen", type_=tables.stations.c.last_seen.type),
        ocpp_version=bindparam("v_ocpp_version", type_=tables.stations.c.ocpp_version.type),
    )
)
_DELETE_STATION = delete(tables.stations).where(tables.stations.c.id == bindparam("k_id"))
_INSERT_STATION = insert(tables.stations)


class StationRepository(Repository[Station]):
    table = tables.stations
    key_columns = ("id",)
    kind = "station"

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        # find_recent's copies, oldest first; writes through this repository drop them.
        self._recent: dict[str, tuple[float, Station]] = {}

    async def find_recent(self, station_id: str, max_age: float = 30.0) -> Station | None:
        """Like :meth:`find`, from this process's copy when it was read under ``max_age`` s ago.

        For the hot path of every station message. Changes made through this repository are
        seen at once; changes made by another node within ``max_age`` seconds; ``last_seen``
        may be older than the row's (heartbeats do not refresh the copy).
        """
        now = time.monotonic()
        recent = self._recent
        while recent:  # drop the expired copies, oldest first
            oldest = next(iter(recent))
            if now - recent[oldest][0] < max_age:
                break
            del recent[oldest]
        cached = recent.get(station_id)
        if cached is not None:
            return cached[1]
        station = await self.find(station_id)
        if station is not None:
            recent[station_id] = (now, station)
        return station

    def forget(self, station_id: str) -> None:
        """Drop this process's copy of a station (it was changed)."""
        self._recent.pop(station_id, None)

    async def put(self, item: Station) -> bool:
        self.forget(item.id)
        try:
            return await super().put(item)
        finally:
            self.forget(item.id)

    async def create(self, item: Station) -> None:
        self.forget(item.id)
        try:
            await super().create(item)
        finally:
            self.forget(item.id)

    async def delete(self, *key: str) -> None:
        self.forget(key[0])
        try:
            await super().delete(*key)
        finally:
            self.forget(key[0])

    @staticmethod
    def touching(
        station_id: str, at: datetime, *, ocpp_version: OcppVersion | None = None
    ) -> Write:
        """The write of :meth:`touch`, for :meth:`Store.write`."""
        if ocpp_version is None:
            return Write(_TOUCH, [{"k_id": station_id, "v_last_seen": at}])
        return Write(
            _TOUCH_VERSION,
            [{"k_id": station_id, "v_last_seen": at, "v_ocpp_version": ocpp_version.value}],
        )

    def putting(self, item: Station) -> list[Write]:
        """The writes of :meth:`put` (create or replace), for :meth:`Store.write`; call
        :meth:`stored` once they are committed."""
        self.forget(item.id)
        return [
            Write(_DELETE_STATION, [{"k_id": item.id}]),
            Write(_INSERT_STATION, [self._to_row(item)]),
        ]

    def stored(self, item: Station) -> None:
        """``item`` was just committed: it is the recent copy :meth:`find_recent` gives."""
        self._recent.pop(item.id, None)
        self._recent[item.id] = (time.monotonic(), item)

    def _to_row(self, item: Station) -> dict[str, Any]:
        return _columns(item, self.table)

    async def touch(
        self, station_id: str, at: datetime, *, ocpp_version: OcppVersion | None = None
    ) -> None:
        """Record that the station was heard from (and on which OCPP version)."""
        values: dict[str, Any] = {"last_seen": at}
        if ocpp_version is not None:
            values["ocpp_version"] = ocpp_version.value
        async with self._engine.begin() as connection:
            await connection.execute(
                update(self.table).where(self.table.c.id == station_id).values(**values)
            )

    async def change(self, station_id: str, *, generation: int = 0, **values: Any) -> bool:
        """Set some of a station's columns in place (no read-modify-write race with boots).

        ``generation``: the connection the change comes from; nothing is written (False) when a
        newer connection of the station is recorded (:mod:`intercarga.store.connections`)."""
        changes = {name: getattr(value, "value", value) for name, value in values.items()}
        conditions = [self.table.c.id == station_id]
        if generation:
            conditions.append(not_superseded(station_id, generation))
        self.forget(station_id)
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(self.table).where(*conditions).values(**changes)
            )
            exists = bool(result.rowcount) or (
                bool(generation)
                and await connection.scalar(
                    select(self.table.c.id).where(self.table.c.id == station_id)
                )
                is not None
            )
        self.forget(station_id)
        if not exists:
            raise NotFoundError(f"station {station_id} not found")
        return bool(result.rowcount)

    def _from_row(self, row: Row[Any], children: Any) -> Station:
        values = _plain(row)
        values["evses"] = [StationEvse.model_validate(evse) for evse in row.evses]
        return Station.model_validate(values)


class TokenRepository(Repository[Token]):
    table = tables.tokens
    key_columns = ("country_code", "party_id", "uid")
    kind = "token"

    def _to_row(self, item: Token) -> dict[str, Any]:
        return _columns(item, self.table)

    def _from_row(self, row: Row[Any], children: Any) -> Token:
        return Token.model_validate(_plain(row))

    async def find_by_uid(self, uid: str) -> list[Token]:
        """Every token with this uid, whichever party issued it (an RFID read at a station)."""
        async with self._engine.connect() as connection:
            rows = (await connection.execute(_TOKENS_BY_UID, {"uid": uid})).all()
        return [self._from_row(row, None) for row in rows]


_TOKENS_BY_UID = select(tables.tokens).where(tables.tokens.c.uid == bindparam("uid"))


class _DocumentRepository(Repository[T]):
    """An aggregate stored whole as a JSON body beside the few columns that are filtered on."""

    model: type[T]

    @abstractmethod
    def _columns(self, item: T) -> dict[str, Any]: ...

    def _to_row(self, item: T) -> dict[str, Any]:
        return {**self._columns(item), "body": item.model_dump(mode="json")}

    def _from_row(self, row: Row[Any], children: Any) -> T:
        return self.model.model_validate(row.body)


_PARTY_ID_KEY = ("country_code", "party_id", "id")


class TariffRepository(_DocumentRepository[Tariff]):
    table = tables.tariffs
    key_columns = _PARTY_ID_KEY
    kind = "tariff"
    model = Tariff

    def _columns(self, item: Tariff) -> dict[str, Any]:
        return {
            "country_code": item.country_code,
            "party_id": item.party_id,
            "id": item.id,
            "currency": item.currency,
            "last_updated": item.last_updated,
        }


def _by_party_key(table: Table) -> Any:
    return (
        table.c.country_code == bindparam("k_country_code"),
        table.c.party_id == bindparam("k_party_id"),
        table.c.id == bindparam("k_id"),
    )


def _party_key(item: Cdr | Session) -> dict[str, Any]:
    return {"k_country_code": item.country_code, "k_party_id": item.party_id, "k_id": item.id}


_DELETE_CDR = delete(tables.cdrs).where(*_by_party_key(tables.cdrs))
_INSERT_CDR = insert(tables.cdrs)


class CdrRepository(_DocumentRepository[Cdr]):
    table = tables.cdrs
    key_columns = _PARTY_ID_KEY
    kind = "CDR"
    model = Cdr

    def putting(self, item: Cdr) -> list[Write]:
        """The writes of :meth:`put` (create or replace), for :meth:`Store.write`."""
        return [Write(_DELETE_CDR, [_party_key(item)]), Write(_INSERT_CDR, [self._to_row(item)])]

    def _columns(self, item: Cdr) -> dict[str, Any]:
        return {
            "country_code": item.country_code,
            "party_id": item.party_id,
            "id": item.id,
            "session_id": item.session_id,
            "start_date_time": item.start_date_time,
            "end_date_time": item.end_date_time,
            "last_updated": item.last_updated,
        }


_SESSION_SET = tuple(
    column.name
    for column in tables.sessions.columns
    if column.name not in ("country_code", "party_id", "id")
)
_UPDATE_SESSION = (
    update(tables.sessions)
    .where(*_by_party_key(tables.sessions))
    .values(
        {name: bindparam(f"v_{name}", type_=tables.sessions.c[name].type) for name in _SESSION_SET}
    )
)
_INSERT_METER_VALUES = insert(tables.meter_value_sets)
# Deleting the session deletes its meter values (ON DELETE CASCADE).
_DELETE_SESSION = delete(tables.sessions).where(*_by_party_key(tables.sessions))
_INSERT_SESSION = insert(tables.sessions)


class SessionRepository(Repository[Session]):
    """Sessions; their meter values live in their own table, written with the session: one row
    per write that added some (a message's values as one JSON text), not one per value."""

    table = tables.sessions
    key_columns = _PARTY_ID_KEY
    kind = "session"

    def _to_row(self, item: Session) -> dict[str, Any]:
        body = item.model_dump(mode="json", exclude={"meter_values"})
        return {
            "country_code": item.country_code,
            "party_id": item.party_id,
            "id": item.id,
            "status": item.status.value,
            "station_id": item.station_id,
            "transaction_id": item.transaction_id,
            "token_uid": item.token_uid,
            "location_id": item.location_id,
            "evse_uid": item.evse_uid,
            "start_date_time": item.start_date_time,
            "end_date_time": item.end_date_time,
            "body": body,
            "last_updated": item.last_updated,
        }

    def _from_row(self, row: Row[Any], children: Any) -> Session:
        return Session.model_validate({**row.body, "meter_values": children or []})

    def appending(self, session: Session, values: Sequence[MeterValue]) -> list[Write]:
        """The writes that store ``session``'s columns and body and add ``values`` to its meter
        values, for :meth:`Store.write`: the session must exist and ``session.meter_values`` is
        not read. The cheap alternative to :meth:`put` when a session only grows."""
        row = self._to_row(session)
        changed = {f"v_{name}": row[name] for name in _SESSION_SET}
        changed.update({f"k_{name}": row[name] for name in self.key_columns})
        return [Write(_UPDATE_SESSION, [changed]), self._adding(session, values)]

    def putting(self, session: Session) -> list[Write]:
        """The writes of :meth:`put` (create or replace the session with all its meter values),
        for :meth:`Store.write`."""
        return [
            Write(_DELETE_SESSION, [_party_key(session)]),
            Write(_INSERT_SESSION, [self._to_row(session)]),
            self._adding(session, session.meter_values),
        ]

    async def _write_children(self, connection: AsyncConnection, item: Session) -> None:
        adding = self._adding(item, item.meter_values)
        if adding.rows:
            await connection.execute(adding.statement, adding.rows)

    @staticmethod
    def _adding(session: Session, values: Sequence[MeterValue]) -> Write:
        if not values:
            return Write(_INSERT_METER_VALUES, ())
        return Write(
            _INSERT_METER_VALUES,
            [
                {
                    "country_code": session.country_code,
                    "party_id": session.party_id,
                    "session_id": session.id,
                    "meter_values": encode_meter_values(values),
                }
            ],
        )

    async def _read_children(
        self, connection: AsyncConnection, keys: Sequence[Key]
    ) -> Mapping[Key, Any]:
        table = tables.meter_value_sets
        owner = tuple_(table.c.country_code, table.c.party_id, table.c.session_id)
        rows = (
            await connection.execute(
                select(
                    table.c.country_code, table.c.party_id, table.c.session_id, table.c.meter_values
                )
                .where(owner.in_(keys))
                .order_by(table.c.id)
            )
        ).all()
        result: dict[Key, list[MeterValue]] = {}
        for country_code, party_id, session_id, text in rows:
            result.setdefault((country_code, party_id, session_id), []).extend(
                decode_meter_values(text)
            )
        # In time order, as a session is stored whole; a stable sort keeps those stamped alike
        # in the order they came (values added from memory for a repeated or earlier timestamp
        # come after later ones).
        for values_of_session in result.values():
            values_of_session.sort(key=lambda value: value.timestamp)
        return result


_encode_compact = json.JSONEncoder(separators=(",", ":")).encode  # built once, not per call
# A stored meter value is the list of these fields, in this order.
_METER_VALUE_FIELDS = ("timestamp", "measurand", "value", "unit", "phase", "context", "location")
# Values were stored as NUMERIC(20, 6): kept to six decimal places, as they always were.
_STORED_PLACES = Decimal("0.000001")


def encode_meter_values(values: Sequence[MeterValue]) -> str:
    """Meter values as the JSON text of one ``meter_value_sets`` row: a list, one list of the
    fields per value (ISO 8601 UTC instant, measurand, value as a decimal string rounded to six
    places, unit, phase, context, location). Readers get them back by
    :func:`decode_meter_values`, never by parsing this themselves."""
    stamps: dict[datetime, str] = {}  # a message's values share one or two instants
    encoded = []
    for value in values:
        fields = value.__dict__  # plain values; model_dump() would cost ten times as much
        instant = fields["timestamp"]
        stamp = stamps.get(instant)
        if stamp is None:
            stamp = stamps[instant] = instant.astimezone(UTC).isoformat()
        encoded.append(
            [
                stamp,
                fields["measurand"],
                _stored_number(fields["value"]),
                fields["unit"],
                fields["phase"],
                fields["context"],
                fields["location"],
            ]
        )
    return _encode_compact(encoded)


def decode_meter_values(text: str) -> list[MeterValue]:
    """The meter values of one ``meter_value_sets`` row, in the order they were written."""
    decoded = []
    for stored in json.loads(text):
        fields = dict(zip(_METER_VALUE_FIELDS, stored, strict=True))
        fields["timestamp"] = datetime.fromisoformat(fields["timestamp"])
        fields["value"] = Decimal(fields["value"]).normalize()
        decoded.append(MeterValue.model_validate(fields))
    return decoded


def _stored_number(value: Decimal) -> str:
    try:
        return str(value.quantize(_STORED_PLACES, ROUND_HALF_UP))
    except InvalidOperation:  # more digits than a Decimal context holds: kept as it is
        return str(value)


class Store:
    """Every repository over one engine: the store a composition root hands to services."""

    def __init__(
        self, engine: AsyncEngine, *, authorization_retention: timedelta = timedelta(days=90)
    ) -> None:
        self.engine = engine
        self.batcher = WriteBatcher(engine)
        self.parties = PartyRepository(engine)
        self.locations = LocationRepository(engine)
        self.stations = StationRepository(engine)
        self.tokens = TokenRepository(engine)
        self.tariffs = TariffRepository(engine)
        self.sessions = SessionRepository(engine)
        self.cdrs = CdrRepository(engine)
        self.transactions = OcppTransactionRepository(engine)
        self.reports = StationReportRepository(engine)
        self.security_events = SecurityEventRepository(engine)
        self.station_meter_values = StationMeterValueRepository(engine)
        self.assessment_runs = AssessmentRunRepository(engine)
        self.status_history = StatusHistoryRepository(engine)
        self.refusals = RefusalRepository(engine)
        self.pull_marks = PullMarkRepository(engine)
        self.users = UserRepository(engine)
        self.authorizations = AuthorizationRepository(engine, retention=authorization_retention)
        self.connections = ConnectionRepository(engine)

    async def write(self, *writes: Write) -> None:
        """Commit ``writes`` atomically, batched with concurrent writes (group commit)."""
        await self.batcher.write(*writes)
