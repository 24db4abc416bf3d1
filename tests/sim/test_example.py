"""The example network a fresh install can seed: the same objects, whatever the file that holds them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from intercarga.domain import Location, Party, Station, Tariff, Token
from intercarga.domain._types import utc_now
from intercarga.sim.example import ExampleNetwork, example_network

EXPECTED = Path(__file__).parents[1] / "data" / "example-network" / "expected.json"
KINDS: dict[str, type[BaseModel]] = {
    "parties": Party,
    "locations": Location,
    "stations": Station,
    "tokens": Token,
    "tariffs": Tariff,
}


def _without(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without(key, v) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [_without(key, item) for item in value]
    return value


def _stamps(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["last_updated"]] if "last_updated" in value else []
        return found + [s for v in value.values() for s in _stamps(v)]
    if isinstance(value, list):
        return [s for item in value for s in _stamps(item)]
    return []


def _dump(network: ExampleNetwork) -> dict[str, list[dict[str, Any]]]:
    dumped: dict[str, list[dict[str, Any]]] = {}
    for kind, model in KINDS.items():
        objects = getattr(network, kind)
        assert all(type(item) is model for item in objects)
        dumped[kind] = [item.model_dump(mode="json") for item in objects]
    return dumped


def test_the_example_network_is_the_one_we_ship() -> None:
    # JSON mode keeps what equality would hide: "1450.00" is not "1450", "-33.4263000" not "-33.4263".
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert _without("last_updated", _dump(example_network())) == expected


def test_every_object_is_stamped_when_the_network_is_built() -> None:
    before = utc_now()
    dumped = _dump(example_network())
    after = utc_now()
    stamps = [datetime.fromisoformat(stamp) for stamp in _stamps(dumped)]
    # Stamped as it is built, never a date frozen into the data: a peer pulling a freshly seeded
    # network sees it as new.
    assert stamps
    assert all(before <= stamp <= after for stamp in stamps)


def test_every_reference_in_the_example_network_resolves() -> None:
    network = example_network()
    parties = {(p.country_code, p.party_id) for p in network.parties}
    tariffs = {(t.country_code, t.party_id, t.id) for t in network.tariffs}
    evses = {(loc.id, evse.uid) for loc in network.locations for evse in loc.evses}
    for location in network.locations:
        assert (location.country_code, location.party_id) in parties
        for evse in location.evses:
            for connector in evse.connectors:
                for tariff_id in connector.tariff_ids:
                    assert (location.country_code, location.party_id, tariff_id) in tariffs
    for station in network.stations:
        assert (station.country_code, station.party_id) in parties
        assert {(e.location_id, e.evse_uid) for e in station.evses} <= evses
    for owned in [*network.tokens, *network.tariffs]:
        assert (owned.country_code, owned.party_id) in parties
