"""The newest connection of each station in a cluster: fencing by connection generation.

Every connection of a station to a node of a cluster gets a *generation* (its presence claim's
revision in NATS, which grows with every claim anywhere). :meth:`ConnectionRepository.claim`
records a connection's generation only if no newer one is recorded, and :func:`not_superseded`
is the condition a write of the station's state adds, so that a late message from an older
socket (processed by a node that has not yet learned of the takeover) cannot overwrite what
the newer connection wrote: the check and the write are one statement. Generation 0 (a single
node, or NATS away at connection) is never fenced. Plain records: this module decides nothing
about the messages it fences.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store import tables

__all__ = ["ConnectionRepository", "not_superseded"]


def not_superseded(station_id: str, generation: int) -> ColumnElement[bool]:
    """True in a statement while no connection of ``station_id`` newer than ``generation`` is
    recorded."""
    table = tables.station_connections
    return ~exists(
        select(table.c.station_id).where(
            table.c.station_id == station_id, table.c.generation > generation
        )
    )


class ConnectionRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(self, station_id: str, generation: int, node: str, at: datetime) -> bool:
        """Record ``generation`` as the station's newest connection; False when a newer one is
        recorded already (this connection is stale)."""
        table = tables.station_connections
        values = {"generation": generation, "node": node, "connected_at": at}
        async with self._engine.begin() as connection:
            changed = await connection.execute(
                update(table)
                .where(table.c.station_id == station_id, table.c.generation <= generation)
                .values(**values)
            )
            if changed.rowcount:
                return True
            try:
                async with connection.begin_nested():
                    await connection.execute(insert(table).values(station_id=station_id, **values))
            except IntegrityError:
                return False  # a row exists, with a newer generation (or one inserted now)
            return True

    async def current(self, station_id: str, generation: int) -> bool:
        """Whether no connection newer than ``generation`` is recorded for the station."""
        table = tables.station_connections
        async with self._engine.connect() as connection:
            newer = (
                await connection.execute(
                    select(table.c.generation).where(
                        table.c.station_id == station_id, table.c.generation > generation
                    )
                )
            ).first()
        return newer is None
