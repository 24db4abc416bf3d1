"""Fixtures of the cluster tests that start ``serve`` processes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import _drop_schema, _postgres_schema, drop_cluster, nats_ready


@pytest.fixture
def shared() -> Iterator[tuple[str, str]]:
    """(PostgreSQL schema, cluster name) of this test's own, removed afterwards."""
    asyncio.run(nats_ready())
    schema = asyncio.run(_postgres_schema())
    name = f"t{uuid.uuid4().hex[:12]}"
    try:
        yield schema, name
    finally:
        asyncio.run(drop_cluster(name))
        asyncio.run(_drop_schema(schema))
