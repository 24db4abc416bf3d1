import pytest
from pydantic import ValidationError

from intercarga.domain import Location
from tests.factories import location, location_json


def test_valid_location_keeps_every_field() -> None:
    loaded = location()
    assert loaded.model_dump(mode="json") == Location.model_validate(location_json()).model_dump(
        mode="json"
    )
    assert [len(evse.connectors) for evse in loaded.evses] == [2, 1]
    assert loaded.evse("EVSE-2") is not None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "America/Springfield"}, "time_zone"),
        ({"country": "XXX"}, "country"),
        ({"country_code": "cl"}, "country_code"),
        ({"party_id": "TOOLONG"}, "party_id"),
        (
            {"coordinates": {"latitude": "-33.4", "longitude": "-70.5705600"}},
            "coordinates.latitude",
        ),
    ],
)
def test_bad_values_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        location(**changes)
    assert ".".join(str(part) for part in caught.value.errors()[0]["loc"]) == field


def test_evse_uids_and_connector_ids_are_unique() -> None:
    body = location_json()
    body["evses"][1]["uid"] = "EVSE-1"
    with pytest.raises(ValidationError, match="EVSE uids must be unique"):
        Location.model_validate(body)
    body = location_json()
    body["evses"][0]["connectors"][1]["id"] = "1"
    with pytest.raises(ValidationError, match="connector ids must be unique"):
        Location.model_validate(body)


def test_naive_times_are_taken_as_utc() -> None:
    loaded = location(last_updated="2026-11-01T12:00:00")
    assert loaded.last_updated.utcoffset() is not None
    assert loaded.last_updated.isoformat() == "2026-11-01T12:00:00+00:00"
