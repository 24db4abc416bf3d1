"""registry: EVSE status history, refused objects and pull marks of the national access point

Revision ID: 0010_nap
Revises: 0009_assess
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import intercarga.store.tables

revision: str = "0010_nap"
down_revision: str | None = "0009_assess"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    utc = intercarga.store.tables.UtcDateTime(timezone=True)
    op.create_table(
        "registry_status_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("evse_uid", sa.String(length=36), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=4), nullable=False),
        sa.Column("received_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_status_history")),
    )
    op.create_index(
        "ix_registry_status_history_evse_at",
        "registry_status_history",
        ["country_code", "party_id", "location_id", "evse_uid", "at"],
        unique=False,
    )
    op.create_index(
        "ix_registry_status_history_party_received",
        "registry_status_history",
        ["country_code", "party_id", "received_at"],
        unique=False,
    )
    op.create_table(
        "registry_refusals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("module", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_refusals")),
    )
    op.create_index(
        op.f("ix_registry_refusals_country_code_party_id_at"),
        "registry_refusals",
        ["country_code", "party_id", "at"],
        unique=False,
    )
    op.create_table(
        "registry_pull_marks",
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("module", sa.String(length=16), nullable=False),
        sa.Column("pulled_at", utc, nullable=False),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "module", name=op.f("pk_registry_pull_marks")),
    )


def downgrade() -> None:
    op.drop_table("registry_pull_marks")
    op.drop_index(
        op.f("ix_registry_refusals_country_code_party_id_at"), table_name="registry_refusals"
    )
    op.drop_table("registry_refusals")
    op.drop_index(
        "ix_registry_status_history_party_received",
        table_name="registry_status_history",
    )
    op.drop_index(
        "ix_registry_status_history_evse_at",
        table_name="registry_status_history",
    )
    op.drop_table("registry_status_history")
