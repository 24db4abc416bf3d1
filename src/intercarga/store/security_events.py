"""The security events stations report (OCPP SecurityEventNotification), kept for operators.

OCPP asks the station to keep a security log and to tell the CSMS of each critical event (1.6
Security Whitepaper A04, 2.0.1 A04); this is the CSMS's copy, one row per notification, read
newest first. Events are appended and never changed. This module only stores and reads events;
which ones matter is the operator's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store import tables

__all__ = ["SecurityEvent", "SecurityEventRepository"]


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    station_id: str
    type: str
    occurred_at: datetime
    tech_info: str | None
    received_at: datetime


class SecurityEventRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._table = tables.station_security_events

    async def add(self, event: SecurityEvent) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(self._table).values(
                    station_id=event.station_id,
                    type=event.type,
                    occurred_at=event.occurred_at,
                    tech_info=event.tech_info,
                    received_at=event.received_at,
                )
            )

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
