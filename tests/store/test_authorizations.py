"""Stored real-time authorization outcomes: read back per country, oldest first, and pruned
once older than the retention period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store import Store
from intercarga.store.authorizations import AuthorizationRecord
from tests.factories import authorization_record

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _record(age: timedelta, outcome: str, country: str = "CO") -> AuthorizationRecord:
    return authorization_record(NOW - age, outcome, country_code=country)


async def test_outcomes_are_read_per_country_and_pruned_after_the_retention(
    engine: AsyncEngine,
) -> None:
    store = Store(engine, authorization_retention=timedelta(days=10))
    old = _record(timedelta(days=12), "timeout")
    await store.authorizations.add(old)
    assert await store.authorizations.of_country("CO") == [old]

    recent = _record(timedelta(days=1), "no-credit")
    await store.authorizations.add(_record(timedelta(days=2), "accepted", "CL"))
    await store.authorizations.add(recent)  # the 12-day-old outcome is pruned meanwhile

    assert await store.authorizations.of_country("CO") == [recent]
    assert [r.country_code for r in await store.authorizations.of_country("CL")] == ["CL"]
    assert await store.authorizations.of_country("CO", since=NOW - timedelta(hours=1)) == []
