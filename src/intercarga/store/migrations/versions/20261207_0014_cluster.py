"""cluster_leases: work one node of a cluster does at a time (OCPI outbox lanes, change watcher)

Revision ID: 0014_cluster
Revises: 0013_assess2
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import intercarga.store.tables

revision: str = "0014_cluster"
down_revision: str | None = "0013_assess2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_leases",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column(
            "leased_until", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cluster_leases")),
    )


def downgrade() -> None:
    op.drop_table("cluster_leases")
