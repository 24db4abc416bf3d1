"""locations: indexes for open data's keyset pages (published, by last_updated and key)

Revision ID: 0011_opendata
Revises: 0010_nap
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011_opendata"
down_revision: str | None = "0010_nap"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_locations_publish_last_updated_country_code_party_id_id"),
        "locations",
        ["publish", "last_updated", "country_code", "party_id", "id"],
    )
    op.create_index(
        op.f("ix_locations_publish_country_last_updated"),
        "locations",
        ["publish", "country", "last_updated"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_locations_publish_country_last_updated"), table_name="locations")
    op.drop_index(
        op.f("ix_locations_publish_last_updated_country_code_party_id_id"), table_name="locations"
    )
