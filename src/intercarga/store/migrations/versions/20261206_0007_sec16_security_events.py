"""station_security_events: the security events stations report

Revision ID: 0007_sec16
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import intercarga.store.tables

revision: str = "0007_sec16"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "station_security_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column(
            "occurred_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("tech_info", sa.String(length=255), nullable=True),
        sa.Column(
            "received_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_security_events")),
    )
    op.create_index(
        op.f("ix_station_security_events_station_id_id"),
        "station_security_events",
        ["station_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_station_security_events_station_id_id"), table_name="station_security_events"
    )
    op.drop_table("station_security_events")
