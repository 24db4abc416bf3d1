"""Fixture country files (tests/data/assessment/) and live-data snapshots for the assessment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from intercarga.assessment import CountryFile, load_countries
from intercarga.domain import Location, Tariff
from intercarga.sim.example import example_network
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


def co_tariff() -> Tariff:
    """The tariff ``DC-1`` of the Colombian party CO-ICG."""
    return (
        example_network()
        .tariffs[0]
        .model_copy(update={"country_code": "CO", "party_id": "ICG", "id": "DC-1"})
    )


def clean_co_location(location_id: str, now: datetime = NOW, **changes: Any) -> Location:
    """A Bogotá location that passes every data quality rule of the registry when the store
    holds :func:`co_tariff`: Colombian EVSE ids, every connector priced, a fresh status."""
    body = co_location(location_id, timedelta(seconds=5), now).model_dump(mode="json")
    for number, evse in enumerate(body["evses"], start=1):
        evse["evse_id"] = f"CO*ICG*E{location_id.replace('-', '')}*{number}"
        for connector in evse["connectors"]:
            connector["tariff_ids"] = ["DC-1"]
    return Location.model_validate({**body, **changes})
