"""Meter values stations report outside any transaction, the newest few per EVSE.

Clock-aligned readings of an idle EVSE or of the station's main meter (EVSE 0), and readings a
TriggerMessage asked for, belong to no session. Each message is one row with its readings
(and their signed forms) verbatim, so nothing a station sent is lost; the newest
:data:`KEPT_PER_EVSE` messages of each EVSE are kept, older ones are removed as new ones arrive.
This module only stores and reads them; it must never import a protocol or web package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, bindparam, delete, func, insert, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain import MeterValue
from intercarga.domain.session import SignedMeterValue
from intercarga.store import tables
from intercarga.store.batch import Write

__all__ = ["KEPT_PER_EVSE", "StationMeterValueRepository", "StationMeterValues"]

KEPT_PER_EVSE: Final = 1000
"""Messages kept per EVSE: ten days of quarter-hour clock-aligned readings."""


@dataclass(frozen=True, slots=True)
class StationMeterValues:
    """One message's meter values of ``evse`` (0: the station), outside any transaction."""

    station_id: str
    evse: int
    received_at: datetime
    meter_values: tuple[MeterValue, ...]
    signed_meter_values: tuple[SignedMeterValue, ...] = ()
    connector: int | None = None


_T = tables.station_meter_values


def _readings(row: Row[Any]) -> StationMeterValues:
    return StationMeterValues(
        station_id=row.station_id,
        evse=row.evse,
        connector=row.connector,
        received_at=row.received_at,
        meter_values=tuple(MeterValue.model_validate(value) for value in row.meter_values),
        signed_meter_values=tuple(
            SignedMeterValue.model_validate(value) for value in row.signed_meter_values
        ),
    )


class StationMeterValueRepository:
    def __init__(self, engine: AsyncEngine, *, kept_per_evse: int = KEPT_PER_EVSE) -> None:
        self._engine = engine
        self._insert = insert(_T)
        same_evse = and_(
            _T.c.station_id == bindparam("p_station"), _T.c.evse == bindparam("p_evse")
        )
        # The id of the newest message past the ones kept; none while fewer are stored.
        first_dropped = (
            select(_T.c.id)
            .where(same_evse)
            .order_by(_T.c.id.desc())
            .offset(kept_per_evse)
            .limit(1)
            .scalar_subquery()
        )
        self._prune = delete(_T).where(same_evse, _T.c.id <= first_dropped)

    def adding(self, readings: StationMeterValues) -> list[Write]:
        """The writes that store ``readings`` and drop what falls out of the kept window, for
        :meth:`~intercarga.store.Store.write`."""
        row = {
            "station_id": readings.station_id,
            "evse": readings.evse,
            "connector": readings.connector,
            "received_at": readings.received_at,
            "meter_values": [value.model_dump(mode="json") for value in readings.meter_values],
            "signed_meter_values": [
                value.model_dump(mode="json") for value in readings.signed_meter_values
            ],
        }
        keys = {"p_station": readings.station_id, "p_evse": readings.evse}
        return [Write(self._insert, [row]), Write(self._prune, [keys])]

    async def list(
        self, station_id: str, *, evse: int | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[Sequence[StationMeterValues], int]:
        """A page of the station's (or one EVSE's) messages, newest first, and their total."""
        where = _T.c.station_id == station_id
        if evse is not None:
            where = and_(where, _T.c.evse == evse)
        async with self._engine.connect() as connection:
            total = (
                await connection.execute(select(func.count()).select_from(_T).where(where))
            ).scalar_one()
            rows = (
                await connection.execute(
                    select(_T).where(where).order_by(_T.c.id.desc()).offset(offset).limit(limit)
                )
            ).all()
        return [_readings(row) for row in rows], int(total)
