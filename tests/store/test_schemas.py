"""``recreate_schemas``: the demo's parties share one PostgreSQL, a fresh schema each."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from intercarga.errors import StorageError
from intercarga.store.database import recreate_schemas
from tests.conftest import POSTGRES_DSN, POSTGRES_URL, _drop_schema, service_missing


async def _tables(schema: str) -> list[str]:
    connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
    try:
        rows = await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )
    finally:
        await connection.close()
    return [row["table_name"] for row in rows]


async def test_schemas_are_made_new_each_time() -> None:
    schemas = [f"t_{uuid.uuid4().hex[:12]}_{n}" for n in range(2)]
    try:
        try:
            await recreate_schemas(POSTGRES_URL, schemas)
        except StorageError as error:
            service_missing(f"PostgreSQL does not answer: {error}")
        connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
        try:
            await connection.execute(f'CREATE TABLE "{schemas[0]}".left_over (id int)')
        finally:
            await connection.close()
        assert await _tables(schemas[0]) == ["left_over"]
        # A second demo starts from zero: what the first left is gone, the schema is there.
        await recreate_schemas(POSTGRES_URL, schemas)
        assert await _tables(schemas[0]) == []
    finally:
        for schema in schemas:
            await _drop_schema(schema)


async def test_a_name_that_is_not_a_schema_name_is_refused() -> None:
    with pytest.raises(StorageError, match="not a schema name"):
        await recreate_schemas(POSTGRES_URL, ['x"; DROP SCHEMA public; --'])
