"""The migrations, run for real on an empty database of each kind (not the template the other
tests copy): they build exactly the tables ``store/tables.py`` declares, and say so."""

from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store import create_engine, upgrade
from intercarga.store.migrate import current_revision, head_revision
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
