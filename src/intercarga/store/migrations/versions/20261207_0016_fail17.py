"""station_connections: the newest connection of each station in a cluster, fencing older ones

Revision ID: 0016_fail17
Revises: 0015_ocpipull
Create Date: 2026-12-07

A new table, empty: no existing data to convert (a station's first connection after the
upgrade writes its row).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import intercarga.store.tables

revision: str = "0016_fail17"
down_revision: str | None = "0015_ocpipull"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "station_connections",
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column(
            "connected_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_station_connections")),
    )


def downgrade() -> None:
    op.drop_table("station_connections")
