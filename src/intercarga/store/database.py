"""Opening the database: the async engine for SQLite (WAL) or PostgreSQL, and a reachability check.

This module turns driver errors into :class:`StorageError` with one readable line; it must never
hold a global engine: :mod:`intercarga.app` owns the one engine of a process.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from intercarga.errors import StorageError

__all__ = [
    "UNREACHABLE_ERRORS",
    "check_database",
    "create_engine",
    "database_away",
    "database_unavailable",
    "describe_database_error",
    "recreate_schemas",
]


def create_engine(url: str, schema: str | None = None) -> AsyncEngine:
    """An engine for ``url``; SQLite files are created (with their folder) and put in WAL mode."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError("database_url: not a valid database URL") from None
    options: dict[str, Any] = {}
    if parsed.drivername.startswith("sqlite"):
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": 30}
    elif parsed.drivername.startswith("postgresql"):
        # command_timeout: a statement that waits on a lock held by a stuck peer (a node that
        # hung mid-transaction) fails after two minutes with a clear error instead of holding
        # its request, and the connection, for ever. Long enough for any migration step.
        connect_args: dict[str, Any] = {"timeout": 10, "command_timeout": 120}
        if schema:
            connect_args["server_settings"] = {"search_path": schema}
        options["connect_args"] = connect_args
        options["pool_pre_ping"] = True
    engine = create_async_engine(parsed, **options)
    if parsed.drivername.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the HTTP API read while the OCPP side writes; NORMAL sync is durable in WAL mode
    # except for the last transactions on power loss, which the OCPP retry rules cover.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def describe_database_error(error: BaseException) -> str:
    """One line saying why the database cannot be used, without the password."""
    original = getattr(error, "orig", None) or error
    detail = (
        str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    )
    if isinstance(original, OSError) and original.strerror:
        detail = original.strerror
    return f"database unreachable: {type(original).__name__}: {detail}"


# The exception types among which :func:`database_unavailable` finds a database away: for
# handlers (the HTTP API's) that must not import the database libraries themselves.
UNREACHABLE_ERRORS: tuple[type[Exception], ...] = (OSError, TimeoutError, DBAPIError)


def database_away(error: BaseException) -> bool:
    """:func:`database_unavailable`, for an error that surfaced anywhere (an HTTP request's): an
    ``OSError`` counts only when the database driver raised it (its frames are in the
    traceback), not a file or socket of the caller's."""
    if not database_unavailable(error):
        return False
    if isinstance(error, DBAPIError):
        return True
    frame = error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_globals.get("__name__", "").startswith(_DRIVERS):
            return True
        frame = frame.tb_next
    return False


_DRIVERS = ("sqlalchemy.", "asyncpg.", "aiosqlite.")


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached now (down, restarting, the
    connection cut), as opposed to a statement it refused: worth trying again later."""
    if isinstance(error, OSError | TimeoutError):
        return True  # asyncpg's connect raises these unwrapped
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return False


async def check_database(engine: AsyncEngine) -> None:
    """Raise :class:`StorageError` unless a ``SELECT 1`` succeeds."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        raise StorageError(describe_database_error(error)) from None


async def recreate_schemas(url: str, schemas: Sequence[str]) -> None:
    """Each of ``schemas`` dropped with everything in it and made new, in the PostgreSQL at
    ``url``: a fresh start for deployments that share one database (``intercarga demo``)."""
    for schema in schemas:
        # A name, never SQL: it is quoted into the statement below.
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise StorageError(f"not a schema name: {schema!r}")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for schema in schemas:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        raise StorageError(describe_database_error(error)) from None
    finally:
        await engine.dispose()
