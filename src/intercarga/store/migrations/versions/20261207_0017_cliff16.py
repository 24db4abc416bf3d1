"""location_counts: each party's number of Locations, kept by triggers; an index for a party's
Locations by last_updated. OCPI pages with 100,000 Locations as cheap as with 10,000 (issue 16)

Every OCPI sender page says how many objects match (X-Total-Count): counting a party's Locations
read the whole of its index, ten times dearer with ten times the Locations, and a ``date_from``
page read every one of the party's rows to look at ``last_updated``. The counts are filled from
the Locations already stored and kept by triggers, so every writer (the repository, a bulk
import, a hand-made fix) keeps them right.

Revision ID: 0017_cliff16
Revises: 0016_fail17
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_cliff16"
down_revision: str | None = "0016_fail17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE = (
    """
    CREATE TRIGGER location_counted AFTER INSERT ON locations BEGIN
        INSERT INTO location_counts (country_code, party_id, locations)
        VALUES (NEW.country_code, NEW.party_id, 1)
        ON CONFLICT (country_code, party_id) DO UPDATE SET locations = locations + 1;
    END
    """,
    """
    CREATE TRIGGER location_uncounted AFTER DELETE ON locations BEGIN
        UPDATE location_counts SET locations = locations - 1
        WHERE country_code = OLD.country_code AND party_id = OLD.party_id;
    END
    """,
    """
    CREATE TRIGGER location_moved AFTER UPDATE OF country_code, party_id ON locations BEGIN
        UPDATE location_counts SET locations = locations - 1
        WHERE country_code = OLD.country_code AND party_id = OLD.party_id;
        INSERT INTO location_counts (country_code, party_id, locations)
        VALUES (NEW.country_code, NEW.party_id, 1)
        ON CONFLICT (country_code, party_id) DO UPDATE SET locations = locations + 1;
    END
    """,
)
_POSTGRESQL = (
    """
    CREATE FUNCTION location_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN
            UPDATE location_counts SET locations = locations - 1
            WHERE country_code = OLD.country_code AND party_id = OLD.party_id;
        END IF;
        IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
            INSERT INTO location_counts (country_code, party_id, locations)
            VALUES (NEW.country_code, NEW.party_id, 1)
            ON CONFLICT (country_code, party_id)
            DO UPDATE SET locations = location_counts.locations + 1;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER location_counted AFTER INSERT OR DELETE OR UPDATE OF country_code, party_id
    ON locations FOR EACH ROW EXECUTE FUNCTION location_counts_follow()
    """,
)


def upgrade() -> None:
    op.create_table(
        "location_counts",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("locations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("country_code", "party_id", name=op.f("pk_location_counts")),
    )
    op.execute(
        "INSERT INTO location_counts (country_code, party_id, locations) "
        "SELECT country_code, party_id, count(*) FROM locations GROUP BY country_code, party_id"
    )
    for statement in _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)
    op.create_index(
        op.f("ix_locations_country_code_party_id_last_updated"),
        "locations",
        ["country_code", "party_id", "last_updated"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_locations_country_code_party_id_last_updated"), table_name="locations")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER location_counted ON locations")
        op.execute("DROP FUNCTION location_counts_follow()")
    else:
        for name in ("location_counted", "location_uncounted", "location_moved"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("location_counts")
