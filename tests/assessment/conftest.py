"""Fixture country files (tests/data/assessment/) and live-data snapshots for the assessment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from intercarga.assessment import CountryFile, load_countries
from intercarga.domain import Location
from tests.factories import location_json

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "assessment"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def countries() -> dict[str, CountryFile]:
    return load_countries(FIXTURES)


def co_location(
    location_id: str, status_age: timedelta, now: datetime = NOW, **changes: Any
) -> Location:
    """A public Bogotá location whose EVSEs last reported their status ``status_age`` before
    ``now``."""
    body = location_json(
        country_code="CO",
        party_id="ICG",
        id=location_id,
        country="COL",
        city="Bogotá",
        time_zone="America/Bogota",
        coordinates={"latitude": "4.6097100", "longitude": "-74.0817500"},
        **changes,
    )
    stamp = (now - status_age).isoformat()
    for evse in body["evses"]:
        evse["last_updated"] = stamp
    return Location.model_validate(body)
