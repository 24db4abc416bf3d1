"""meter_value_sets: a session's meter values stored one row per write (a message's sampled
values as one JSON text) instead of one row per value; existing values are carried over, each
session's as one set in their stored order

Revision ID: 0018_hot16
Revises: 0017_cliff16
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

import intercarga.store.tables
from intercarga.domain import MeterValue
from intercarga.store.repositories import decode_meter_values, encode_meter_values

revision: str = "0018_hot16"
down_revision: str | None = "0017_cliff16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OWNER = ("country_code", "party_id", "session_id")
_FIELDS = ("timestamp", "measurand", "value", "unit", "phase", "context", "location")
_CHUNK = 500


def _old_table() -> sa.Table:
    return sa.Table(
        "meter_values",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        *(sa.Column(name, sa.String()) for name in _OWNER),
        sa.Column("timestamp", intercarga.store.tables.UtcDateTime(timezone=True)),
        sa.Column("measurand", sa.String()),
        sa.Column("value", sa.Numeric(precision=20, scale=6)),
        sa.Column("unit", sa.String()),
        sa.Column("phase", sa.String()),
        sa.Column("context", sa.String()),
        sa.Column("location", sa.String()),
    )


def _new_table() -> sa.Table:
    return sa.Table(
        "meter_value_sets",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        *(sa.Column(name, sa.String()) for name in _OWNER),
        sa.Column("meter_values", sa.Text()),
    )


def _by_session(rows: Any) -> Iterator[tuple[tuple[str, str, str], list[Any]]]:
    """Consecutive rows of one session (rows come ordered by session) as one list."""
    key: tuple[str, str, str] | None = None
    group: list[Any] = []
    for row in rows:
        owner = (row.country_code, row.party_id, row.session_id)
        if owner != key and group:
            assert key is not None
            yield key, group
            group = []
        key = owner
        group.append(row)
    if group:
        assert key is not None
        yield key, group


def _insert_in_chunks(table: sa.Table, rows: Iterator[dict[str, Any]]) -> None:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= _CHUNK:
            op.get_bind().execute(table.insert(), chunk)
            chunk = []
    if chunk:
        op.get_bind().execute(table.insert(), chunk)


def upgrade() -> None:
    op.create_table(
        "meter_value_sets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("meter_values", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["country_code", "party_id", "session_id"],
            ["sessions.country_code", "sessions.party_id", "sessions.id"],
            name=op.f("fk_meter_value_sets_country_code_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_value_sets")),
    )
    with op.batch_alter_table("meter_value_sets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meter_value_sets_country_code_party_id_session_id_id"),
            ["country_code", "party_id", "session_id", "id"],
            unique=False,
        )
    old = _old_table()
    # Each session's values in id order, as the store read them (then sorted by time, stably):
    # kept as one set, so the order a reader gets is unchanged.
    rows = op.get_bind().execute(
        sa.select(old).order_by(*(old.c[name] for name in _OWNER), old.c.id)
    )

    def sets() -> Iterator[dict[str, Any]]:
        for (country_code, party_id, session_id), group in _by_session(rows):
            values = [
                MeterValue.model_validate(
                    {
                        **{name: getattr(row, name) for name in _FIELDS},
                        "value": Decimal(row.value).normalize(),
                    }
                )
                for row in group
            ]
            yield {
                "country_code": country_code,
                "party_id": party_id,
                "session_id": session_id,
                "meter_values": encode_meter_values(values),
            }

    _insert_in_chunks(_new_table(), sets())
    op.drop_table("meter_values")


def downgrade() -> None:
    op.create_table(
        "meter_values",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("timestamp", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("measurand", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=True),
        sa.Column("context", sa.String(length=32), nullable=True),
        sa.Column("location", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["country_code", "party_id", "session_id"],
            ["sessions.country_code", "sessions.party_id", "sessions.id"],
            name=op.f("fk_meter_values_country_code_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_values")),
    )
    with op.batch_alter_table("meter_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meter_values_country_code_party_id_session_id_timestamp"),
            ["country_code", "party_id", "session_id", "timestamp"],
            unique=False,
        )
    new = _new_table()
    rows = op.get_bind().execute(sa.select(new).order_by(new.c.id))

    def values() -> Iterator[dict[str, Any]]:
        for row in rows:
            for value in decode_meter_values(row.meter_values):
                yield {
                    "country_code": row.country_code,
                    "party_id": row.party_id,
                    "session_id": row.session_id,
                    **value.model_dump(),
                    "timestamp": value.timestamp.astimezone(UTC),
                }

    _insert_in_chunks(_old_table(), values())
    op.drop_table("meter_value_sets")
