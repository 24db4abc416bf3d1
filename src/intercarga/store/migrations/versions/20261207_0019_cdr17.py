"""ocpi_cdr_locations: the Location an eMSP returned to the latest CDR POST it answered, per
partner and CPO party, so that a CDR POST in doubt can be asked about

Revision ID: 0019_cdr17
Revises: 0018_hot16
Create Date: 2026-12-07

A new table, empty: the next CDR POST each eMSP answers writes its row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import intercarga.store.tables

revision: str = "0019_cdr17"
down_revision: str | None = "0018_hot16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ocpi_cdr_locations",
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("cdr_id", sa.String(length=36), nullable=False),
        sa.Column("location", sa.String(length=512), nullable=False),
        sa.Column(
            "answered_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_ocpi_cdr_locations_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "partner_id", "country_code", "party_id", name=op.f("pk_ocpi_cdr_locations")
        ),
    )


def downgrade() -> None:
    op.drop_table("ocpi_cdr_locations")
