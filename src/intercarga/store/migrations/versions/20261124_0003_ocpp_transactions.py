"""ocpp transactions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import intercarga.store.tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ocpp_transactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("transaction_id", sa.String(length=36), nullable=False),
        sa.Column("start_key", sa.String(length=255), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column(
            "record",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "last_activity", intercarga.store.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpp_transactions")),
        sa.UniqueConstraint(
            "station_id",
            "transaction_id",
            name=op.f("uq_ocpp_transactions_station_id_transaction_id"),
        ),
    )
    with op.batch_alter_table("ocpp_transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpp_transactions_state_last_activity"),
            ["state", "last_activity"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ocpp_transactions_station_id_start_key"),
            ["station_id", "start_key"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("ocpp_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpp_transactions_station_id_start_key"))
        batch_op.drop_index(batch_op.f("ix_ocpp_transactions_state_last_activity"))

    op.drop_table("ocpp_transactions")
