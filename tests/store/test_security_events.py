"""The security events stations report: read newest first, and a station keeps only its newest
events, however many it sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store.security_events import SecurityEvent, SecurityEventRepository

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _event(station_id: str, number: int) -> SecurityEvent:
    at = NOW + timedelta(seconds=number)
    return SecurityEvent(station_id, "InvalidFirmwareSignature", at, f"event {number}", at)


async def test_a_flooding_station_keeps_only_its_newest_events_and_others_keep_theirs(
    engine: AsyncEngine,
) -> None:
    events = SecurityEventRepository(engine, kept_per_station=3)
    await events.add(_event("QUIET", 0))
    for number in range(8):
        await events.add(_event("FLOOD", number))

    kept, total = await events.of_station("FLOOD")
    assert total == 3
    assert [event.tech_info for event in kept] == ["event 7", "event 6", "event 5"]
    quiet, quiet_total = await events.of_station("QUIET")
    assert quiet_total == 1 and quiet[0].tech_info == "event 0"
