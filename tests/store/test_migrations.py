"""The migrations, run for real on an empty database of each kind (not the template the other
tests copy): they build exactly the tables ``store/tables.py`` declares, and say so."""

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store import create_engine, upgrade
from intercarga.store.migrate import alembic_config, current_revision, head_revision
from intercarga.store.tables import metadata


@pytest.fixture
async def engine(empty_database: tuple[str, str | None]) -> AsyncIterator[AsyncEngine]:
    """An engine on a database with no table, migrated here."""
    url, schema = empty_database
    engine = create_engine(url, schema)
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_migrations_build_exactly_the_declared_schema(engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_upgrade_is_idempotent_and_recorded(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()


async def test_the_latest_migration_goes_down_and_up_again(engine: AsyncEngine) -> None:
    """0019_cdr17 (the CDR Locations eMSPs answered) undone, then done again: the schema is the
    declared one again."""

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0018_hot16")

    async with engine.begin() as connection:
        await connection.run_sync(downgrade)
    assert await current_revision(engine) == "0018_hot16"
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    assert "ocpi_cdr_locations" not in tables
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()
    await test_migrations_build_exactly_the_declared_schema(engine)
