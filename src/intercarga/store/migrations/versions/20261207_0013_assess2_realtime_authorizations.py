"""realtime_authorizations: each real-time authorization the CPO side asked of an eMSP

Revision ID: 0013_assess2
Revises: 0012_dashboard
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import intercarga.store.tables

revision: str = "0013_assess2"
down_revision: str | None = "0012_dashboard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "realtime_authorizations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asked_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("cpo_party_id", sa.String(length=3), nullable=False),
        sa.Column("token_party", sa.String(length=6), nullable=True),
        sa.Column("emsp", sa.String(length=6), nullable=True),
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=True),
        sa.Column("evse_uid", sa.String(length=36), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("via_hub", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realtime_authorizations")),
    )
    op.create_index(
        op.f("ix_realtime_authorizations_asked_at"),
        "realtime_authorizations",
        ["asked_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_realtime_authorizations_country_code_asked_at"),
        "realtime_authorizations",
        ["country_code", "asked_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_realtime_authorizations_country_code_asked_at"),
        table_name="realtime_authorizations",
    )
    op.drop_index(op.f("ix_realtime_authorizations_asked_at"), table_name="realtime_authorizations")
    op.drop_table("realtime_authorizations")
