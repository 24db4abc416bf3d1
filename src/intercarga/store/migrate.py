"""Bringing a database to the newest schema with Alembic, from code (``db upgrade`` and ``serve``).

Migration failures become one :class:`StorageError` line. This module must never create tables
any other way than through the migration scripts.

Alembic is imported only when there is something to migrate: a database whose recorded
revisions are already the heads of the migration scripts (:func:`script_heads`, read from the
scripts themselves at every call, so never stale) is left as ``alembic upgrade head`` would
leave it, without loading Alembic and, through it, Mako and Pygments (a fifth of what
``intercarga serve`` imports: every restart of a node paid for it).
"""

from __future__ import annotations

import ast
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.errors import StorageError
from intercarga.store.database import describe_database_error

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MIGRATIONS",
    "alembic_config",
    "current_revision",
    "head_revision",
    "script_heads",
    "upgrade",
]

MIGRATIONS = Path(__file__).parent / "migrations"

# Alembic's version table (its default name; env.py keeps it).
_VERSION_TABLE = "alembic_version"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    except Exception as error:
        raise StorageError(describe_database_error(error)) from None


def script_heads() -> frozenset[str] | None:
    """The head revisions of the migration scripts, read from their ``revision`` and
    ``down_revision`` lines without Alembic; None when a script is anything but such a plain
    chain (a branch label, a dependency, a value that is not a literal), so that only Alembic
    decides then."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted((MIGRATIONS / "versions").glob("*.py")):
        values: dict[str, object] = {}
        for statement in ast.parse(script.read_bytes(), str(script)).body:
            target: ast.expr | None = None
            value: ast.expr | None = None
            if isinstance(statement, ast.AnnAssign):
                target, value = statement.target, statement.value
            elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target, value = statement.targets[0], statement.value
            if isinstance(target, ast.Name) and value is not None:
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError:
                    values[target.id] = ValueError  # not a literal: not ours to read
        revision, down = values.get("revision"), values.get("down_revision", ValueError)
        if values.get("branch_labels") is not None or values.get("depends_on") is not None:
            return None
        if not isinstance(revision, str) or revision in revisions:
            return None
        if isinstance(down, tuple) and all(isinstance(parent, str) for parent in down):
            parents.update(down)
        elif isinstance(down, str):
            parents.add(down)
        elif down is not None:
            return None
        revisions.add(revision)
    return frozenset(revisions - parents) or None


async def _at_heads(engine: AsyncEngine) -> bool:
    """Whether the database records exactly the scripts' heads (then there is nothing to do)."""
    heads = script_heads()
    if heads is None:
        return False

    def read(connection: Connection) -> frozenset[str]:
        if not sa.inspect(connection).has_table(_VERSION_TABLE):
            return frozenset()
        rows = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        return frozenset(str(row[0]) for row in rows)

    async with engine.connect() as connection:
        return await connection.run_sync(read) == heads


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate to ``revision``; already up to date is not an error."""
    # A database that cannot be read here fails below as it would have without this check.
    with contextlib.suppress(Exception):
        if revision == "head" and await _at_heads(engine):
            return
    from alembic import command

    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    except StorageError:
        raise
    except Exception as error:
        raise StorageError(
            f"migration to {revision} failed: {describe_database_error(error).split(': ', 1)[1]}"
        ) from None
