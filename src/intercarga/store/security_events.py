"""The security events stations report (OCPP SecurityEventNotification), kept for operators.

OCPP asks the station to keep a security log and to tell the CSMS of each critical event (1.6
Security Whitepaper A04, 2.0.1 A04); this is the CSMS's copy, one row per notification, read
newest first. Events are appended and never changed; a station keeps its newest
:data:`KEPT_PER_STATION` (older ones go as new ones arrive, so a station flooding the CSMS with
events fills no disk). This module only stores and reads events; which ones matter is the
operator's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store import tables

__all__ = ["KEPT_PER_STATION", "SecurityEvent", "SecurityEventRepository"]

# Far more than any station's own log keeps (OCPP asks for the critical events only), and a
# bound: 10,000 rows of at most ~400 bytes are a few MiB per station.
KEPT_PER_STATION = 10_000


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    station_id: str
    type: str
    occurred_at: datetime
    tech_info: str | None
    received_at: datetime


class SecurityEventRepository:
    def __init__(self, engine: AsyncEngine, *, kept_per_station: int = KEPT_PER_STATION) -> None:
        self._engine = engine
        self._table = tables.station_security_events
        self._kept = kept_per_station

    async def add(self, event: SecurityEvent) -> None:
        """Append ``event``; the station's events beyond the newest ``kept_per_station`` go in
        the same transaction."""
        table = self._table
        mine = table.c.station_id == event.station_id
        # The newest id that falls off: the (station_id, id) index finds it without a scan.
        first_dropped = (
            select(table.c.id).where(mine).order_by(table.c.id.desc()).offset(self._kept).limit(1)
        ).scalar_subquery()
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(table).values(
                    station_id=event.station_id,
                    type=event.type,
                    occurred_at=event.occurred_at,
                    tech_info=event.tech_info,
                    received_at=event.received_at,
                )
            )
            await connection.execute(delete(table).where(mine, table.c.id <= first_dropped))

    async def of_station(
        self, station_id: str, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[SecurityEvent], int]:
        """The station's events, newest first, and how many it has in all."""
        table = self._table
        mine = table.c.station_id == station_id
        async with self._engine.connect() as connection:
            total = (
                await connection.execute(select(func.count()).select_from(table).where(mine))
            ).scalar_one()
            rows = (
                await connection.execute(
                    select(table)
                    .where(mine)
                    .order_by(table.c.id.desc())
                    .offset(offset)
                    .limit(limit)
                )
            ).all()
        events = [
            SecurityEvent(row.station_id, row.type, row.occurred_at, row.tech_info, row.received_at)
            for row in rows
        ]
        return events, total
