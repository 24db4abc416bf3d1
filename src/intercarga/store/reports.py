"""Device model reports stations sent (OCPP 2.x NotifyReport), the latest one per station.

A report comes in parts numbered from 0 under the request id of the GetBaseReport that asked for
it; part 0, or a part of another request, starts the station's report afresh, later parts add
their variables, and the part without ``tbc`` completes it. This module only stores and reads
reports; what a variable means is the station's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain._types import utc_now
from intercarga.store import tables

__all__ = ["StationReport", "StationReportRepository"]


@dataclass(frozen=True, slots=True)
class StationReport:
    station_id: str
    request_id: int
    generated_at: datetime
    complete: bool
    variables: list[dict[str, Any]]


class StationReportRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._table = tables.station_reports

    async def add_part(
        self,
        station_id: str,
        request_id: int,
        generated_at: datetime,
        seq_no: int,
        variables: Sequence[dict[str, Any]],
        *,
        more_to_follow: bool,
    ) -> None:
        table = self._table
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(select(table).where(table.c.station_id == station_id))
            ).first()
            values = {
                "request_id": request_id,
                "generated_at": generated_at,
                "complete": not more_to_follow,
                "last_updated": utc_now(),
            }
            if row is None:
                await connection.execute(
                    insert(table).values(station_id=station_id, variables=list(variables), **values)
                )
                return
            fresh = seq_no == 0 or row.request_id != request_id
            kept = [] if fresh else list(row.variables)
            await connection.execute(
                update(table)
                .where(table.c.station_id == station_id)
                .values(variables=kept + list(variables), **values)
            )

    async def latest(self, station_id: str) -> StationReport | None:
        table = self._table
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(select(table).where(table.c.station_id == station_id))
            ).first()
        if row is None:
            return None
        return StationReport(
            row.station_id, row.request_id, row.generated_at, row.complete, list(row.variables)
        )
