"""Alembic environment: runs migrations on the connection :mod:`intercarga.store.migrate` hands in.

Run from the command line (``alembic revision --autogenerate``) it opens the database of the
effective Intercarga configuration instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from intercarga.store.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_configuration() -> None:
    from intercarga.config import load_settings
    from intercarga.store.database import create_engine

    settings = load_settings()
    engine = create_engine(settings.database_url.get_secret_value(), settings.database_schema)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


given: Any = config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    asyncio.run(_run_from_configuration())
