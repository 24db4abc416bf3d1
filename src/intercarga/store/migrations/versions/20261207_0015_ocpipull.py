"""locations.revision: a value every write of a Location draws afresh, so that what a reader
rendered from it (its OCPI JSON) is reused while the Location is unchanged

Revision ID: 0015_ocpipull
Revises: 0014_cluster
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_ocpipull"
down_revision: str | None = "0014_cluster"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        # Locations stored before this revision share 0: each keeps it until its next write,
        # and a reader keys what it rendered by the Location's key as well.
        batch_op.add_column(
            sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_column("revision")
