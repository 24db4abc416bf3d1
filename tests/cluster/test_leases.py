"""Issue 17, point 5's "exactly one node sends each OCPI push": leases in the shared database.

A lease is held by one node until it runs out or is let go; two outboxes (two nodes) on one
PostgreSQL with a backlog for one partner deliver every row once, in the order stored.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain.partner import Partner
from intercarga.ocpi.client import OcpiClient
from intercarga.ocpi.outbox import Outbox, Request, RetryPolicy
from intercarga.store import create_engine, upgrade
from intercarga.store.leases import LeaseRepository
from intercarga.store.partners import PartnerRepository
from intercarga.store.roaming import OutboxEntry, OutboxRepository
from tests.conftest import POSTGRES_URL
from tests.factories import partner

AT = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
ROWS = 120


async def test_a_lease_is_one_nodes_until_it_runs_out_or_is_let_go(engine: AsyncEngine) -> None:
    leases = LeaseRepository(engine)
    later = AT + timedelta(seconds=30)
    assert await leases.take("outbox:p1", "a", later, AT)
    assert not await leases.take("outbox:p1", "b", later, AT + timedelta(seconds=1))
    assert await leases.holder("outbox:p1", AT) == "a"
    # The holder renews; others wait for the end of the lease.
    assert await leases.take("outbox:p1", "a", later + timedelta(seconds=30), AT)
    assert not await leases.take("outbox:p1", "b", later, later + timedelta(seconds=1))
    # Run out: another node takes it over.
    expired = later + timedelta(seconds=31)
    assert await leases.take("outbox:p1", "b", expired + timedelta(seconds=30), expired)
    assert await leases.holder("outbox:p1", expired) == "b"
    # Let go by a node that does not hold it: nothing; by its holder: free at once.
    await leases.release("outbox:p1", "a")
    assert await leases.holder("outbox:p1", expired) == "b"
    await leases.release("outbox:p1", "b")
    assert await leases.holder("outbox:p1", expired) is None
    assert await leases.take("outbox:p1", "a", expired + timedelta(seconds=30), expired)
    # Leases are by name.
    assert await leases.take("ocpi-change-watcher", "b", later, AT)


class _Body:
    """Renders a row as a POST of its payload."""

    async def render(self, entry: OutboxEntry, partner: Partner) -> Request | None:
        return Request("POST", "https://emsp.example/ocpi/l", entry.payload)

    async def fallback(self, entry: OutboxEntry, partner: Partner, error: object) -> None:
        return None


@pytest.fixture
async def shared(postgres_schema: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(POSTGRES_URL, postgres_schema)
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_two_nodes_send_each_push_once_and_in_order(shared: AsyncEngine) -> None:
    received: list[int] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        received.append(int(request.read()))
        await asyncio.sleep(0.002)  # a partner takes a moment: the nodes overlap
        now = datetime.now(UTC).isoformat()
        return httpx.Response(200, json={"status_code": 1000, "timestamp": now})

    await PartnerRepository(shared).create(partner())
    rows = OutboxRepository(shared)
    await rows.enqueue(
        [
            OutboxEntry("p1", "locations", "POST", "", f"locations/CO/ICG/L{n}", "raw", n)
            for n in range(ROWS)
        ]
    )
    client = OcpiClient(httpx.MockTransport(answer))
    policy = RetryPolicy(poll=0.05, lease=10)
    nodes = [
        Outbox(
            OutboxRepository(shared),
            PartnerRepository(shared),
            client,
            _Body(),
            policy=policy,
            lanes=LeaseRepository(shared),
            node=node,
        )
        for node in ("node-a", "node-b")
    ]
    for outbox in nodes:
        await outbox.start()
    try:
        for outbox in nodes:
            outbox.wake("p1")
        deadline = time.monotonic() + 60
        while (await rows.backlog("p1")).sent < ROWS:
            assert time.monotonic() < deadline, f"{len(received)} of {ROWS} sent"
            await asyncio.sleep(0.05)
    finally:
        for outbox in nodes:
            await outbox.stop()
    assert received == list(range(ROWS))
    assert await LeaseRepository(shared).holder("outbox:p1", datetime.now(UTC)) is None
