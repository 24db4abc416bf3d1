"""The migrations, run for real on an empty database of each kind (not the template the other
tests copy): they build exactly the tables ``store/tables.py`` declares, and say so."""

import asyncio
import sys
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store import create_engine, upgrade
from intercarga.store.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    script_heads,
)
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


def test_the_scripts_heads_read_without_alembic_are_alembics() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert script_heads() == frozenset(heads) == {head_revision()}


async def test_a_database_at_the_head_is_left_without_loading_alembic(
    engine: AsyncEngine, empty_database: tuple[str, str | None]
) -> None:
    """`serve` on a database already at the head (every restart) migrates nothing, and does not
    pay for importing Alembic (with Mako and Pygments) to learn it; one revision behind, it is
    migrated (test_the_latest_migration_goes_down_and_up_again)."""
    url, schema = empty_database
    probe = (
        "import asyncio, sys\n"
        "from intercarga.store import create_engine, upgrade\n"
        "async def main():\n"
        f"    engine = create_engine({url!r}, {schema!r})\n"
        "    await upgrade(engine)\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in ('alembic', 'mako') if m in sys.modules))\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", probe, stdout=PIPE, stderr=PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().strip() == "[]"
    assert await current_revision(engine) == head_revision()
