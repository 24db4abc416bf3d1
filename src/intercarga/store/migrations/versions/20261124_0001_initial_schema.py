"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import intercarga.store.tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_admin_tokens_token_hash")),
    )
    op.create_table(
        "cdrs",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("id", sa.String(length=39), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column(
            "start_date_time", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "end_date_time", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "last_updated", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("country_code", "party_id", "id", name=op.f("pk_cdrs")),
    )
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cdrs_last_updated"), ["last_updated"], unique=False)

    op.create_table(
        "locations",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("publish", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("city", sa.String(length=45), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("latitude", sa.String(length=12), nullable=False),
        sa.Column("longitude", sa.String(length=12), nullable=False),
        sa.Column("parking_type", sa.String(length=32), nullable=True),
        sa.Column("time_zone", sa.String(length=255), nullable=False),
        sa.Column(
            "opening_times",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("charging_when_closed", sa.Boolean(), nullable=True),
        sa.Column(
            "last_updated", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("country_code", "party_id", "id", name=op.f("pk_locations")),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_locations_country_city"), ["country", "city"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_locations_last_updated"), ["last_updated"], unique=False
        )

    op.create_table(
        "parties",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "roles",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("website", sa.String(length=255), nullable=True),
        sa.Column(
            "last_updated", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("country_code", "party_id", name=op.f("pk_parties")),
    )
    op.create_table(
        "sessions",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=True),
        sa.Column("transaction_id", sa.String(length=36), nullable=True),
        sa.Column("token_uid", sa.String(length=36), nullable=True),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("evse_uid", sa.String(length=36), nullable=False),
        sa.Column(
            "start_date_time", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "end_date_time", intercarga.store.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "last_updated", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("country_code", "party_id", "id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sessions_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sessions_station_id_transaction_id"),
            ["station_id", "transaction_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_sessions_token_uid"), ["token_uid"], unique=False)

    op.create_table(
        "stations",
        sa.Column("id", sa.String(length=48), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("vendor", sa.String(length=50), nullable=True),
        sa.Column("model", sa.String(length=50), nullable=True),
        sa.Column("serial_number", sa.String(length=25), nullable=True),
        sa.Column("firmware_version", sa.String(length=50), nullable=True),
        sa.Column("ocpp_version", sa.String(length=16), nullable=True),
        sa.Column("security_profile", sa.Integer(), nullable=False),
        sa.Column("lenient", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("last_seen", intercarga.store.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "evses",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
    )
    op.create_table(
        "tariffs",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "last_updated", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("country_code", "party_id", "id", name=op.f("pk_tariffs")),
    )
    with op.batch_alter_table("tariffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tariffs_last_updated"), ["last_updated"], unique=False)

    op.create_table(
        "tokens",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("visual_number", sa.String(length=64), nullable=True),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("whitelist", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("expires_at", intercarga.store.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_updated", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("country_code", "party_id", "uid", name=op.f("pk_tokens")),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tokens_last_updated"), ["last_updated"], unique=False)
        batch_op.create_index(batch_op.f("ix_tokens_uid"), ["uid"], unique=False)

    op.create_table(
        "evses",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("evse_id", sa.String(length=48), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "capabilities",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("floor_level", sa.String(length=4), nullable=True),
        sa.Column("latitude", sa.String(length=12), nullable=True),
        sa.Column("longitude", sa.String(length=12), nullable=True),
        sa.Column("physical_reference", sa.String(length=16), nullable=True),
        sa.Column(
            "parking_restrictions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "last_updated", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["country_code", "party_id", "location_id"],
            ["locations.country_code", "locations.party_id", "locations.id"],
            name=op.f("fk_evses_country_code_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "country_code", "party_id", "location_id", "uid", name=op.f("pk_evses")
        ),
    )
    with op.batch_alter_table("evses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evses_evse_id"), ["evse_id"], unique=False)

    op.create_table(
        "meter_values",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("timestamp", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("measurand", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=True),
        sa.Column("context", sa.String(length=32), nullable=True),
        sa.Column("location", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["country_code", "party_id", "session_id"],
            ["sessions.country_code", "sessions.party_id", "sessions.id"],
            name=op.f("fk_meter_values_country_code_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_values")),
    )
    with op.batch_alter_table("meter_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meter_values_country_code_party_id_session_id_timestamp"),
            ["country_code", "party_id", "session_id", "timestamp"],
            unique=False,
        )

    op.create_table(
        "connectors",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("evse_uid", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("standard", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("power_type", sa.String(length=20), nullable=False),
        sa.Column("max_voltage", sa.Integer(), nullable=False),
        sa.Column("max_amperage", sa.Integer(), nullable=False),
        sa.Column("max_electric_power", sa.Integer(), nullable=True),
        sa.Column(
            "tariff_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("terms_and_conditions", sa.Text(), nullable=True),
        sa.Column(
            "last_updated", intercarga.store.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["country_code", "party_id", "location_id", "evse_uid"],
            ["evses.country_code", "evses.party_id", "evses.location_id", "evses.uid"],
            name=op.f("fk_connectors_country_code_evses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "country_code", "party_id", "location_id", "evse_uid", "id", name=op.f("pk_connectors")
        ),
    )


def downgrade() -> None:
    op.drop_table("connectors")
    with op.batch_alter_table("meter_values", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_meter_values_country_code_party_id_session_id_timestamp")
        )

    op.drop_table("meter_values")
    with op.batch_alter_table("evses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evses_evse_id"))

    op.drop_table("evses")
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tokens_uid"))
        batch_op.drop_index(batch_op.f("ix_tokens_last_updated"))

    op.drop_table("tokens")
    with op.batch_alter_table("tariffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tariffs_last_updated"))

    op.drop_table("tariffs")
    op.drop_table("stations")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_token_uid"))
        batch_op.drop_index(batch_op.f("ix_sessions_station_id_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_sessions_last_updated"))

    op.drop_table("sessions")
    op.drop_table("parties")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_locations_last_updated"))
        batch_op.drop_index(batch_op.f("ix_locations_country_city"))

    op.drop_table("locations")
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cdrs_last_updated"))

    op.drop_table("cdrs")
    op.drop_table("admin_tokens")
