"""station_meter_values: meter values stations report outside any transaction

Revision ID: 0008_ocppcmds
Revises: 0007_sec16
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import intercarga.store.tables

revision: str = "0008_ocppcmds"
down_revision: str | None = "0007_sec16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "station_meter_values",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("evse", sa.Integer(), nullable=False),
        sa.Column("connector", sa.Integer(), nullable=True),
        sa.Column(
            "received_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("meter_values", json, nullable=False),
        sa.Column("signed_meter_values", json, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_meter_values")),
    )
    op.create_index(
        op.f("ix_station_meter_values_station_id_evse_id"),
        "station_meter_values",
        ["station_id", "evse", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_station_meter_values_station_id_evse_id"), table_name="station_meter_values"
    )
    op.drop_table("station_meter_values")
