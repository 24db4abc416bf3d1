"""OCPI partners: the platforms this deployment roams with, their roles and endpoints

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import intercarga.store.tables

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("initiated_by", sa.String(length=8), nullable=False),
        sa.Column("version", sa.String(length=8), nullable=True),
        sa.Column("versions_url", sa.String(length=255), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("outgoing_token", sa.String(length=64), nullable=True),
        sa.Column("raw_token", sa.Boolean(), nullable=False),
        sa.Column("hub_party_id", sa.String(length=5), nullable=True),
        sa.Column("created_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_updated", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_partners_token_hash")),
    )
    op.create_table(
        "partner_endpoints",
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_endpoints_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "partner_id", "identifier", "role", name=op.f("pk_partner_endpoints")
        ),
    )
    op.create_table(
        "partner_roles",
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("website", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_roles_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "partner_id", "country_code", "party_id", "role", name=op.f("pk_partner_roles")
        ),
    )
    with op.batch_alter_table("partner_roles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_roles_country_code_party_id"),
            ["country_code", "party_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("partner_roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_roles_country_code_party_id"))

    op.drop_table("partner_roles")
    op.drop_table("partner_endpoints")
    op.drop_table("partners")
