"""stations: registration status, local authorization list version, firmware status

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stations", schema=None) as batch_op:
        # Stations registered before this revision were all accepted at boot.
        batch_op.add_column(
            sa.Column(
                "registration_status",
                sa.String(length=16),
                nullable=False,
                server_default="Accepted",
            )
        )
        batch_op.add_column(sa.Column("local_list_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("firmware_status", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_column("firmware_status")
        batch_op.drop_column("local_list_version")
        batch_op.drop_column("registration_status")
