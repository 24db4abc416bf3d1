"""The database schema, as SQLAlchemy Core tables. Alembic migrations must match it exactly.

Aggregates that are read and written whole and never queried inside (tariff elements, CDR
bodies, session charging periods) are stored as JSON next to the columns that are filtered on.
Locations, EVSEs and connectors are relational because EVSE status changes one row at a time.
Every timestamp is stored as UTC. This module must never run a query.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "admin_tokens",
    "cdrs",
    "cluster_leases",
    "connectors",
    "dashboard_sessions",
    "dashboard_users",
    "evses",
    "locations",
    "metadata",
    "meter_value_sets",
    "ocpi_cdr_locations",
    "ocpi_client_info",
    "ocpi_commands",
    "ocpi_outbox",
    "ocpp_transactions",
    "parties",
    "partner_endpoints",
    "partner_roles",
    "partners",
    "realtime_authorizations",
    "registry_pull_marks",
    "registry_refusals",
    "registry_status_history",
    "sessions",
    "station_connections",
    "station_meter_values",
    "station_reports",
    "station_security_events",
    "stations",
    "tariffs",
    "tokens",
]


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json: Any = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _party_key() -> list[Column[Any]]:
    return [
        Column("country_code", String(2), primary_key=True),
        Column("party_id", String(3), primary_key=True),
    ]


parties = Table(
    "parties",
    metadata,
    *_party_key(),
    Column("name", String(100), nullable=False),
    Column("roles", Json, nullable=False),
    Column("website", String(255)),
    Column("last_updated", UtcDateTime, nullable=False),
)

locations = Table(
    "locations",
    metadata,
    *_party_key(),
    Column("id", String(36), primary_key=True),
    Column("publish", Boolean, nullable=False),
    Column("name", String(255)),
    Column("address", String(45), nullable=False),
    Column("city", String(45), nullable=False),
    Column("postal_code", String(10)),
    Column("state", String(20)),
    Column("country", String(3), nullable=False),
    Column("latitude", String(12), nullable=False),
    Column("longitude", String(12), nullable=False),
    Column("parking_type", String(32)),
    Column("time_zone", String(255), nullable=False),
    Column("opening_times", Json),
    Column("charging_when_closed", Boolean),
    Column("last_updated", UtcDateTime, nullable=False),
    # Drawn afresh by every write of the Location, its EVSEs or connectors (LocationRepository):
    # what a reader rendered from the Location stays good while this is unchanged, where
    # last_updated may stay put (a late status report). Migration 0015_ocpipull.
    Column("revision", BigInteger, nullable=False, server_default="0"),
    Index(None, "last_updated"),
    Index(None, "country", "city"),
    # Open data's keyset pages: published Locations in (last_updated, key) order, all or one
    # country's (registry/open_data.py; migration 0009_opendata).
    Index(None, "publish", "last_updated", "country_code", "party_id", "id"),
    Index(None, "publish", "country", "last_updated"),
    # A party's Locations changed since a moment (OCPI's date_from, the count of an incremental
    # pull's pages): a range of this index, where the key's index read every one of the party's
    # rows to look at last_updated (migration 0017_cliff16).
    Index(None, "country_code", "party_id", "last_updated"),
)

# How many Locations each party has, kept by triggers on ``locations`` (insert, delete, a key
# changed; migration 0017_cliff16) whoever writes them: the X-Total-Count of every OCPI page
# without counting the party's Locations again (an index scan of all of them: ten times dearer
# with 100,000 than with 10,000).
location_counts = Table(
    "location_counts",
    metadata,
    *_party_key(),
    Column("locations", Integer, nullable=False),
)

evses = Table(
    "evses",
    metadata,
    *_party_key(),
    Column("location_id", String(36), primary_key=True),
    Column("uid", String(36), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("evse_id", String(48)),
    Column("status", String(16), nullable=False),
    Column("capabilities", Json, nullable=False),
    Column("floor_level", String(4)),
    Column("latitude", String(12)),
    Column("longitude", String(12)),
    Column("physical_reference", String(16)),
    Column("parking_restrictions", Json, nullable=False),
    Column("last_updated", UtcDateTime, nullable=False),
    ForeignKeyConstraint(
        ["country_code", "party_id", "location_id"],
        ["locations.country_code", "locations.party_id", "locations.id"],
        ondelete="CASCADE",
    ),
    Index(None, "evse_id"),
)

connectors = Table(
    "connectors",
    metadata,
    *_party_key(),
    Column("location_id", String(36), primary_key=True),
    Column("evse_uid", String(36), primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("standard", String(32), nullable=False),
    Column("format", String(8), nullable=False),
    Column("power_type", String(20), nullable=False),
    Column("max_voltage", Integer, nullable=False),
    Column("max_amperage", Integer, nullable=False),
    Column("max_electric_power", Integer),
    Column("tariff_ids", Json, nullable=False),
    Column("terms_and_conditions", Text),
    Column("last_updated", UtcDateTime, nullable=False),
    ForeignKeyConstraint(
        ["country_code", "party_id", "location_id", "evse_uid"],
        ["evses.country_code", "evses.party_id", "evses.location_id", "evses.uid"],
        ondelete="CASCADE",
    ),
)

stations = Table(
    "stations",
    metadata,
    Column("id", String(48), primary_key=True),
    Column("country_code", String(2), nullable=False),
    Column("party_id", String(3), nullable=False),
    Column("vendor", String(50)),
    Column("model", String(50)),
    Column("serial_number", String(25)),
    Column("firmware_version", String(50)),
    Column("ocpp_version", String(16)),
    Column("security_profile", Integer, nullable=False),
    Column("lenient", Boolean, nullable=False),
    Column("password_hash", String(255)),
    Column("registration_status", String(16), nullable=False, server_default="Accepted"),
    Column("local_list_version", Integer),
    Column("firmware_status", String(32)),
    Column("last_seen", UtcDateTime),
    Column("evses", Json, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    *_party_key(),
    Column("uid", String(36), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("contract_id", String(36), nullable=False),
    Column("visual_number", String(64)),
    Column("issuer", String(64), nullable=False),
    Column("group_id", String(36)),
    Column("valid", Boolean, nullable=False),
    Column("whitelist", String(16), nullable=False),
    Column("language", String(2)),
    Column("expires_at", UtcDateTime),
    Column("last_updated", UtcDateTime, nullable=False),
    Index(None, "last_updated"),
    Index(None, "uid"),
)

tariffs = Table(
    "tariffs",
    metadata,
    *_party_key(),
    Column("id", String(36), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("body", Json, nullable=False),
    Column("last_updated", UtcDateTime, nullable=False),
    Index(None, "last_updated"),
)

sessions = Table(
    "sessions",
    metadata,
    *_party_key(),
    Column("id", String(36), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("station_id", String(48)),
    Column("transaction_id", String(36)),
    Column("token_uid", String(36)),
    Column("location_id", String(36), nullable=False),
    Column("evse_uid", String(36), nullable=False),
    Column("start_date_time", UtcDateTime, nullable=False),
    Column("end_date_time", UtcDateTime),
    Column("body", Json, nullable=False),
    Column("last_updated", UtcDateTime, nullable=False),
    Index(None, "last_updated"),
    Index(None, "station_id", "transaction_id"),
    Index(None, "token_uid"),
)

meter_value_sets = Table(
    "meter_value_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("country_code", String(2), nullable=False),
    Column("party_id", String(3), nullable=False),
    Column("session_id", String(36), nullable=False),
    # The meter values one write added to the session, in order, as compact JSON text (see
    # repositories.encode_meter_values): one row per message, not one per sampled value.
    Column("meter_values", Text, nullable=False),
    ForeignKeyConstraint(
        ["country_code", "party_id", "session_id"],
        ["sessions.country_code", "sessions.party_id", "sessions.id"],
        ondelete="CASCADE",
    ),
    Index(None, "country_code", "party_id", "session_id", "id"),
)

cdrs = Table(
    "cdrs",
    metadata,
    *_party_key(),
    Column("id", String(39), primary_key=True),
    Column("session_id", String(36)),
    Column("start_date_time", UtcDateTime, nullable=False),
    Column("end_date_time", UtcDateTime, nullable=False),
    Column("body", Json, nullable=False),
    Column("last_updated", UtcDateTime, nullable=False),
    Index(None, "last_updated"),
)

admin_tokens = Table(
    "admin_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

dashboard_users = Table(
    "dashboard_users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# A signed-in browser: the session cookie's SHA-256 (never the cookie), its user and CSRF token.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "user_name",
        String(64),
        ForeignKey("dashboard_users.name", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# -- OCPI partners (the platforms this deployment roams with) --------------------------------
# ``token_hash`` is the SHA-256 of the credentials token the partner presents to us (TOKEN_A
# while invited, then TOKEN_B or TOKEN_C): we only verify it, so only its hash is kept.
# ``outgoing_token`` is the one we present to them; it has to be sent, so it is kept as is.
partners = Table(
    "partners",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("state", String(16), nullable=False),
    Column("initiated_by", String(8), nullable=False),
    Column("version", String(8)),
    Column("versions_url", String(255)),
    Column("token_hash", String(64), unique=True),
    Column("outgoing_token", String(64)),
    Column("raw_token", Boolean, nullable=False),
    Column("hub_party_id", String(5)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_updated", UtcDateTime, nullable=False),
)

partner_roles = Table(
    "partner_roles",
    metadata,
    Column("partner_id", String(36), primary_key=True),
    Column("country_code", String(2), primary_key=True),
    Column("party_id", String(3), primary_key=True),
    Column("role", String(8), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("website", String(255)),
    ForeignKeyConstraint(["partner_id"], ["partners.id"], ondelete="CASCADE"),
    Index(None, "country_code", "party_id"),
)

partner_endpoints = Table(
    "partner_endpoints",
    metadata,
    Column("partner_id", String(36), primary_key=True),
    Column("identifier", String(64), primary_key=True),
    # SENDER or RECEIVER; empty for versions without interface roles (2.1.1).
    Column("role", String(8), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("url", String(255), nullable=False),
    ForeignKeyConstraint(["partner_id"], ["partners.id"], ondelete="CASCADE"),
)

ocpp_transactions = Table(
    "ocpp_transactions",
    metadata,
    # The row id is the transaction id the CSMS assigns to OCPP 1.6 stations (an integer there).
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("station_id", String(48), nullable=False),
    Column("transaction_id", String(36), nullable=False),
    Column("start_key", String(255)),
    Column("country_code", String(2), nullable=False),
    Column("party_id", String(3), nullable=False),
    Column("session_id", String(36), nullable=False),
    Column("state", String(16), nullable=False),
    Column("record", Json, nullable=False),
    Column("last_activity", UtcDateTime),
    UniqueConstraint("station_id", "transaction_id"),
    Index(None, "station_id", "start_key"),
    Index(None, "state", "last_activity"),
)

# Meter values a station reported outside any transaction (clock-aligned, triggered), one row
# per message, the newest few per EVSE (0: the station's main meter).
station_meter_values = Table(
    "station_meter_values",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("station_id", String(48), nullable=False),
    Column("evse", Integer, nullable=False),
    Column("connector", Integer),
    Column("received_at", UtcDateTime, nullable=False),
    Column("meter_values", Json, nullable=False),
    Column("signed_meter_values", Json, nullable=False),
    Index(None, "station_id", "evse", "id"),
)

# The latest device model report (OCPP 2.x NotifyReport parts) of each station, for operators.
station_reports = Table(
    "station_reports",
    metadata,
    Column("station_id", String(48), primary_key=True),
    Column("request_id", Integer, nullable=False),
    Column("generated_at", UtcDateTime, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("variables", Json, nullable=False),
    Column("last_updated", UtcDateTime, nullable=False),
)

# The security log stations keep the CSMS informed of (OCPP SecurityEventNotification, 1.6
# Security Whitepaper A04 and 2.0.1 A04): one row per event, in the order they arrived.
station_security_events = Table(
    "station_security_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("station_id", String(48), nullable=False),
    Column("type", String(50), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("tech_info", String(255)),
    Column("received_at", UtcDateTime, nullable=False),
    Index(None, "station_id", "id"),
)

# -- The national access point (registry/): what CPOs reported, as they reported it -----------

# Every EVSE status change a CPO pushed or a pull found, in the order it arrived.
registry_status_history = Table(
    "registry_status_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("country_code", String(2), nullable=False),
    Column("party_id", String(3), nullable=False),
    Column("location_id", String(36), nullable=False),
    Column("evse_uid", String(36), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("source", String(64), nullable=False),
    Column("via", String(4), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    # Named here: the convention's name would pass PostgreSQL's 63 characters.
    Index(
        "ix_registry_status_history_evse_at",
        "country_code",
        "party_id",
        "location_id",
        "evse_uid",
        "at",
    ),
    Index("ix_registry_status_history_party_received", "country_code", "party_id", "received_at"),
)

# Objects a CPO sent that were refused (never stored), counted against its quality score.
registry_refusals = Table(
    "registry_refusals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("country_code", String(2), nullable=False),
    Column("party_id", String(3), nullable=False),
    Column("module", String(16), nullable=False),
    Column("object_id", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "country_code", "party_id", "at"),
)

# Per registered partner and module: when the last pull ran and up to when it has read.
registry_pull_marks = Table(
    "registry_pull_marks",
    metadata,
    Column("partner_id", String(36), primary_key=True),
    Column("module", String(16), primary_key=True),
    Column("pulled_at", UtcDateTime, nullable=False),
    Column("objects", Integer, nullable=False),
)

# -- OCPI roaming: the push outbox, commands and hub client info ------------------------------
# Every request this deployment pushes to a partner is a row here before it leaves, so nothing
# is lost when the partner (or this process) is down. Rows of one partner leave in ``id`` order;
# ``kind`` + ``payload`` say what to send (a domain object, rendered in the partner's version when
# it leaves), or ``kind`` "raw" with ``payload`` the OCPI body as is (hub forwards, command
# results). ``leased_until`` keeps two nodes from sending the same partner's rows at once.
ocpi_outbox = Table(
    "ocpi_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner_id", String(36), nullable=False),
    Column("module", String(32), nullable=False),
    Column("interface", String(8), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(255), nullable=False),
    Column("url", String(512)),
    Column("object_key", String(160), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("version", String(8)),
    Column("payload", Json),
    Column("headers", Json, nullable=False),
    Column("correlation_id", String(36), nullable=False),
    Column("state", String(8), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("leased_until", UtcDateTime),
    Column("last_error", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    ForeignKeyConstraint(["partner_id"], ["partners.id"], ondelete="CASCADE"),
    Index(None, "partner_id", "state", "id"),
    Index(None, "state", "next_attempt_at"),
    Index(None, "partner_id", "object_key"),
)

# The ``Location`` an eMSP returned to the latest CDR POST of one of our CPO parties it answered
# (the CDR's ``id`` with it): how that eMSP names CDR URLs, so a CDR POST in doubt can be asked
# about (:mod:`intercarga.ocpi.doubt`). One row per partner and CPO party, replaced by each answer.
ocpi_cdr_locations = Table(
    "ocpi_cdr_locations",
    metadata,
    Column("partner_id", String(36), primary_key=True),
    Column("country_code", String(2), primary_key=True),
    Column("party_id", String(3), primary_key=True),
    Column("cdr_id", String(36), nullable=False),
    Column("location", String(512), nullable=False),
    Column("answered_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["partner_id"], ["partners.id"], ondelete="CASCADE"),
)

# OCPI commands: those our eMSP parties sent to a CPO (``direction`` SENT: the CPO answers at our
# response URL with this ``id``), and, on a hub, those routed through it (``direction`` ROUTED:
# ``response_url`` is where the eMSP waits for the result the CPO sends to us).
ocpi_commands = Table(
    "ocpi_commands",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("direction", String(8), nullable=False),
    Column("partner_id", String(36)),
    Column("command", String(24), nullable=False),
    Column("country_code", String(2), nullable=False),
    Column("party_id", String(3), nullable=False),
    Column("request", Json, nullable=False),
    Column("response", Json),
    Column("result", Json),
    Column("response_url", String(255)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_updated", UtcDateTime, nullable=False),
    Index(None, "created_at"),
)

# Hub client info: the parties a hub says are reachable through it, and how (CONNECTED, …).
ocpi_client_info = Table(
    "ocpi_client_info",
    metadata,
    Column("partner_id", String(36), primary_key=True),
    Column("country_code", String(2), primary_key=True),
    Column("party_id", String(3), primary_key=True),
    Column("role", String(8), primary_key=True),
    Column("status", String(12), nullable=False),
    Column("last_updated", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["partner_id"], ["partners.id"], ondelete="CASCADE"),
)

# Each stored run of a country's assessment (issue 14): when, whether live indicators fed it, the
# current level per layer (null: unknown) and the whole assessment as JSON, so a country page
# shows how each layer moved.
assessment_runs = Table(
    "assessment_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("country_code", String(2), nullable=False),
    Column("assessed_at", UtcDateTime, nullable=False),
    Column("live_data", Boolean, nullable=False),
    Column("levels", Json, nullable=False),
    Column("assessment", Json, nullable=False),
    Index(None, "country_code", "assessed_at"),
)

# Each real-time authorization this deployment's CPO side asked of an eMSP (OCPI ``POST
# tokens/{uid}/authorize``), with its outcome and latency: the assessment's service-layer
# indicator. Rows older than the retention period are pruned as new ones arrive.
realtime_authorizations = Table(
    "realtime_authorizations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asked_at", UtcDateTime, nullable=False),
    Column("country_code", String(2), nullable=False),  # the CPO side's (the station's) country
    Column("cpo_party_id", String(3), nullable=False),
    Column("token_party", String(6)),  # "CC-PID" of the token's issuer, when known
    Column("emsp", String(6)),  # "CC-PID" of the eMSP asked (or that answered through a hub)
    Column("partner_id", String(36), nullable=False),
    Column("location_id", String(36)),
    Column("evse_uid", String(36)),
    Column("outcome", String(12), nullable=False),
    Column("via_hub", Boolean, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Index(None, "country_code", "asked_at"),
    Index(None, "asked_at"),
)

# The newest connection of each station in a cluster (issue 17): its generation (the presence
# claim's revision in NATS, growing with every connection anywhere) and the node holding it. A
# write of a station's state from an older connection is conditional on no newer row here.
station_connections = Table(
    "station_connections",
    metadata,
    Column("station_id", String(48), primary_key=True),
    Column("generation", BigInteger, nullable=False),
    Column("node", String(64), nullable=False),
    Column("connected_at", UtcDateTime, nullable=False),
)

# Leases of work that one node of a cluster does at a time (issue 17): an OCPI outbox lane
# ("outbox:{partner id}"), the OCPI change watcher. ``node`` holds ``name`` until
# ``leased_until`` unless it renews; a row is taken with SELECT … FOR UPDATE SKIP LOCKED, so a
# node never waits for another.
cluster_leases = Table(
    "cluster_leases",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("node", String(64), nullable=False),
    Column("leased_until", UtcDateTime, nullable=False),
)
