"""OCPI roaming: the push outbox, commands and hub client info

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import intercarga.store.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "ocpi_commands",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("partner_id", sa.String(length=36), nullable=True),
        sa.Column("command", sa.String(length=24), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column(
            "request",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("response_url", sa.String(length=255), nullable=True),
        sa.Column("created_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_updated", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_commands")),
    )
    with op.batch_alter_table("ocpi_commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_commands_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "ocpi_client_info",
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column(
            "last_updated", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_ocpi_client_info_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "partner_id", "country_code", "party_id", "role", name=op.f("pk_ocpi_client_info")
        ),
    )
    op.create_table(
        "ocpi_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("interface", sa.String(length=8), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=True),
        sa.Column("object_key", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=8), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("correlation_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "leased_until", intercarga.store.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_ocpi_outbox_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_outbox")),
    )
    with op.batch_alter_table("ocpi_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_outbox_partner_id_object_key"),
            ["partner_id", "object_key"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ocpi_outbox_partner_id_state_id"),
            ["partner_id", "state", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ocpi_outbox_state_next_attempt_at"),
            ["state", "next_attempt_at"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("ocpi_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_outbox_state_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_ocpi_outbox_partner_id_state_id"))
        batch_op.drop_index(batch_op.f("ix_ocpi_outbox_partner_id_object_key"))

    op.drop_table("ocpi_outbox")
    op.drop_table("ocpi_client_info")
    with op.batch_alter_table("ocpi_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_commands_created_at"))

    op.drop_table("ocpi_commands")
