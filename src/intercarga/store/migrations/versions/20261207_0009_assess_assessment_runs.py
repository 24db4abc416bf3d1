"""assessment_runs: each stored run of a country's interoperability assessment

Revision ID: 0009_assess
Revises: 0008_ocppcmds
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import intercarga.store.tables

revision: str = "0009_assess"
down_revision: str | None = "0008_ocppcmds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "assessment_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column(
            "assessed_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("live_data", sa.Boolean(), nullable=False),
        sa.Column("levels", json, nullable=False),
        sa.Column("assessment", json, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_runs")),
    )
    op.create_index(
        op.f("ix_assessment_runs_country_code_assessed_at"),
        "assessment_runs",
        ["country_code", "assessed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assessment_runs_country_code_assessed_at"), table_name="assessment_runs")
    op.drop_table("assessment_runs")
