"""Leases of work one node of a cluster does at a time, in the database every node shares.

:meth:`LeaseRepository.take` gives ``name`` (an OCPI outbox lane, the change watcher) to a node
until a moment, if nobody else holds it or the holder let it run out; the holder renews by
taking it again, and :meth:`~LeaseRepository.release` lets it go at once. The row is read with
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL: a node that finds another one taking the same
lease at that instant moves on instead of waiting. (SQLite has one writer and no row locks: a
single node, for which a lease is always free.) Plain records: this module decides nothing
about the work it leases.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store import tables

__all__ = ["LeaseRepository"]


class LeaseRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def take(self, name: str, node: str, until: datetime, now: datetime) -> bool:
        """Hold ``name`` for ``node`` until ``until``; False when another node holds it."""
        table = tables.cluster_leases
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(
                    select(table.c.node, table.c.leased_until)
                    .where(table.c.name == name)
                    .with_for_update(skip_locked=True)
                )
            ).first()
            if row is None:
                try:
                    async with connection.begin_nested():
                        await connection.execute(
                            insert(table).values(name=name, node=node, leased_until=until)
                        )
                except IntegrityError:
                    return False  # another node is taking it this instant (its row is locked)
                return True
            if row.node != node and row.leased_until > now:
                return False
            await connection.execute(
                update(table).where(table.c.name == name).values(node=node, leased_until=until)
            )
            return True

    async def release(self, name: str, node: str) -> None:
        """Let ``name`` go, if ``node`` holds it."""
        table = tables.cluster_leases
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(table).where(table.c.name == name, table.c.node == node)
            )

    async def holder(self, name: str, now: datetime) -> str | None:
        """The node holding ``name`` now, if any."""
        table = tables.cluster_leases
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(table.c.node).where(table.c.name == name, table.c.leased_until > now)
                )
            ).first()
        return None if row is None else str(row.node)
