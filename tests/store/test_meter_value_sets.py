"""Meter values stored one row per write (migration 0018): the values a store held before,
one row per value, read back the same after the migration, in the same order, on each database,
and a downgrade gives them back one row each."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain import MeterValue, Session
from intercarga.store import Store, create_engine, tables, upgrade
from intercarga.store.migrate import alembic_config
from intercarga.store.repositories import (
    SessionRepository,
    decode_meter_values,
    encode_meter_values,
)
from intercarga.store.tables import UtcDateTime

START = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
async def engine(empty_database: tuple[str, str | None]) -> AsyncIterator[AsyncEngine]:
    """An engine on a database at the schema before meter-value sets."""
    url, schema = empty_database
    engine = create_engine(url, schema)
    await upgrade(engine, "0017_cliff16")
    try:
        yield engine
    finally:
        await engine.dispose()


def _session(number: int) -> Session:
    return Session(
        country_code="CL",
        party_id="ICG",
        id=f"s{number}",
        start_date_time=START,
        location_id="L1",
        evse_uid="E1",
        connector_id="1",
        currency="CLP",
    )


async def test_the_migration_carries_each_sessions_values_over_in_order(
    engine: AsyncEngine,
) -> None:
    old_rows = [
        # Stored in id order, one stamped earlier than the one before (read back by time).
        ("s1", START + timedelta(minutes=2), "Energy.Active.Import.Register", "1200.5", "Wh"),
        ("s2", START, "Power.Active.Import", "7000", "W"),
        ("s1", START + timedelta(minutes=1), "Energy.Active.Import.Register", "1100", "Wh"),
        ("s1", START + timedelta(minutes=2), "Current.Import", "30.25", "A"),
    ]
    old = sa.Table(
        "meter_values",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        *(sa.Column(name, sa.String()) for name in ("country_code", "party_id", "session_id")),
        sa.Column("timestamp", UtcDateTime(timezone=True)),
        *(sa.Column(name, sa.String()) for name in ("measurand", "unit", "context", "location")),
        sa.Column("value", sa.Numeric(20, 6)),
    )
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(tables.sessions),
            [SessionRepository(engine)._to_row(_session(n)) for n in (1, 2, 3)],
        )
        await connection.execute(
            sa.insert(old),
            [
                {
                    "country_code": "CL",
                    "party_id": "ICG",
                    "session_id": session_id,
                    "timestamp": at,
                    "measurand": measurand,
                    "value": Decimal(value),
                    "unit": unit,
                    "context": "Sample.Periodic",
                    "location": "Outlet",
                }
                for session_id, at, measurand, value, unit in old_rows
            ],
        )

    await upgrade(engine)

    store = Store(engine)
    first = await store.sessions.get("CL", "ICG", "s1")
    assert [(v.timestamp, v.measurand, v.value, v.unit) for v in first.meter_values] == [
        (START + timedelta(minutes=1), "Energy.Active.Import.Register", Decimal(1100), "Wh"),
        (START + timedelta(minutes=2), "Energy.Active.Import.Register", Decimal("1200.5"), "Wh"),
        (START + timedelta(minutes=2), "Current.Import", Decimal("30.25"), "A"),
    ]
    assert [v.value for v in (await store.sessions.get("CL", "ICG", "s2")).meter_values] == [
        Decimal(7000)
    ]
    assert (await store.sessions.get("CL", "ICG", "s3")).meter_values == []
    async with engine.connect() as connection:
        stored = (await connection.execute(sa.text("SELECT count(*) FROM meter_value_sets"))).one()
    assert stored[0] == 2  # one set per session that had values

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0017_cliff16")

    async with engine.begin() as connection:
        await connection.run_sync(downgrade)
    async with engine.connect() as connection:
        back = (
            await connection.execute(
                sa.select(old.c.session_id, old.c.timestamp, old.c.value).order_by(old.c.id)
            )
        ).all()
    # Each session's values again one row each, in their stored order (a reader sorts by time).
    assert [(row.session_id, row.timestamp, row.value) for row in back] == [
        ("s1", START + timedelta(minutes=2), Decimal("1200.5")),
        ("s1", START + timedelta(minutes=1), Decimal(1100)),
        ("s1", START + timedelta(minutes=2), Decimal("30.25")),
        ("s2", START, Decimal(7000)),
    ]


def test_a_set_reads_back_the_values_written_rounded_as_the_numeric_column_did() -> None:
    values = [
        MeterValue(timestamp=START, measurand="SoC", value=Decimal("42.00000049"), unit="Percent"),
        MeterValue(
            timestamp=START + timedelta(microseconds=5),
            measurand="Current.Import",
            value=Decimal("-16.5"),
            unit="A",
            phase="L2",
            context="Sample.Periodic",
            location="Outlet",
        ),
    ]
    decoded = decode_meter_values(encode_meter_values(values))
    assert decoded[0].value == Decimal("42.000000")
    assert decoded[1] == values[1]
    assert decoded[0].model_copy(update={"value": values[0].value}) == values[0]
