"""OCPP transactions as the CSMS tracks them: the state machine record beside its session key.

The row id doubles as the transaction id given to OCPP 1.6 stations (an integer there). This
module only stores and finds records; what they mean is :mod:`intercarga.ocpp.transaction`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store import tables
from intercarga.store.batch import Write

__all__ = ["OcppTransactionRepository", "StoredTransaction"]


@dataclass(frozen=True, slots=True)
class StoredTransaction:
    row_id: int
    station_id: str
    transaction_id: str
    country_code: str
    party_id: str
    session_id: str
    record: dict[str, Any]


def _stored(row: Row[Any]) -> StoredTransaction:
    return StoredTransaction(
        row_id=row.id,
        station_id=row.station_id,
        transaction_id=row.transaction_id,
        country_code=row.country_code,
        party_id=row.party_id,
        session_id=row.session_id,
        record=row.record,
    )


_T = tables.ocpp_transactions
_SAVE = (
    update(_T)
    .where(_T.c.id == bindparam("k_id"))
    .values(
        record=bindparam("v_record", type_=_T.c.record.type),
        state=bindparam("v_state", type_=_T.c.state.type),
        last_activity=bindparam("v_last", type_=_T.c.last_activity.type),
    )
)


class OcppTransactionRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._table = tables.ocpp_transactions

    async def find(self, station_id: str, transaction_id: str) -> StoredTransaction | None:
        query = select(self._table).where(
            self._table.c.station_id == station_id, self._table.c.transaction_id == transaction_id
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _stored(row)

    async def find_by_start(self, station_id: str, start_key: str) -> StoredTransaction | None:
        """A transaction whose start had these facts (a 1.6 StartTransaction sent again)."""
        query = select(self._table).where(
            self._table.c.station_id == station_id, self._table.c.start_key == start_key
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _stored(row)

    async def create(
        self,
        *,
        station_id: str,
        transaction_id: str | None,
        start_key: str | None,
        country_code: str,
        party_id: str,
        session_id: str,
        state: str,
    ) -> StoredTransaction:
        """A new row; without ``transaction_id`` the row id becomes it (OCPP 1.6)."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                insert(self._table).values(
                    station_id=station_id,
                    transaction_id=transaction_id or f"pending-{session_id[:28]}",
                    start_key=start_key,
                    country_code=country_code,
                    party_id=party_id,
                    session_id=session_id,
                    state=state,
                    record={},
                )
            )
            row_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            if transaction_id is None:
                transaction_id = str(row_id)
                await connection.execute(
                    update(self._table)
                    .where(self._table.c.id == row_id)
                    .values(transaction_id=transaction_id)
                )
        return StoredTransaction(
            row_id, station_id, transaction_id, country_code, party_id, session_id, {}
        )

    async def save(
        self, row_id: int, record: dict[str, Any], state: str, last_activity: datetime | None
    ) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(self._table)
                .where(self._table.c.id == row_id)
                .values(record=record, state=state, last_activity=last_activity)
            )

    def saving(
        self, row_id: int, record: dict[str, Any], state: str, last_activity: datetime | None
    ) -> Write:
        """The write of :meth:`save`, for ``Store.write``."""
        return Write(
            _SAVE,
            [{"k_id": row_id, "v_record": record, "v_state": state, "v_last": last_activity}],
        )

    async def silent_since(self, cutoff: datetime) -> list[StoredTransaction]:
        """Active transactions with no activity since ``cutoff``."""
        query = select(self._table).where(
            self._table.c.state == "active", self._table.c.last_activity < cutoff
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_stored(row) for row in rows]
