"""OCPI ↔ domain: the spec's examples go to the domain and come back the same, less only the
fields the domain does not hold (listed here, so that losing anything else fails)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from intercarga.domain import ConnectorStandard, ParkingType, TokenType
from intercarga.errors import InvalidInputError
from intercarga.ocpi import mapping
from intercarga.ocpi.models import parse, v211, v221, v230

EXAMPLES = Path(__file__).parent.parent / "data" / "ocpi-examples"
MODULES: dict[str, Any] = {"2.2.1": v221, "2.3.0": v230}

# What the domain does not keep, per example (dotted paths).
DROPPED = {
    "location_example.json": {"operator", "evses.0.parking", "evses.1.parking", "parking_places"},
    "location_example_parking_garage_opening_hours.json": {"evses.0.parking", "parking_places"},
    "location_example_uc4_limited_visibility.json": {"publish_allowed_to"},
    "location_example_uc5_home_charge_point.json": {"publish_allowed_to"},
    "session_example_2_short_finished.json": {"total_cost.incl_vat", "total_cost.taxes"},
    "token_example_2_full_rfid.json": {"default_profile_type", "energy_contract"},
}


def _drop(data: Any, paths: set[str]) -> Any:
    for path in paths:
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.get(part, {})
        if isinstance(node, dict):
            node.pop(last, None)
    return data


def _cases() -> list[tuple[str, str]]:
    names = []
    for version in ("2.2.1", "2.3.0"):
        for path in sorted((EXAMPLES / version).glob("*.json")):
            name = path.name
            if name == "tariff_put_example.json":
                continue
            if name.startswith(("location_example", "token_example", "tariff", "session_example")):
                names.append((version, name))
            if name in ("token_put_example.json", "cdr_example.json"):
                names.append((version, name))
    return names


def _through_domain(version: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    module = MODULES[version]
    if name.startswith("location"):
        return mapping.location_to_ocpi(
            mapping.location_to_domain(parse(module.Location, data)), version
        )
    if name.startswith("token"):
        return mapping.token_to_ocpi(mapping.token_to_domain(parse(module.Token, data)), version)
    if name.startswith("tariff"):
        return mapping.tariff_to_ocpi(mapping.tariff_to_domain(parse(module.Tariff, data)), version)
    if name.startswith("session"):
        session, token = mapping.session_to_domain(parse(module.Session, data))
        return mapping.session_to_ocpi(session, token, version)
    return mapping.cdr_to_ocpi(mapping.cdr_to_domain(parse(module.CDR, data)), version)


@pytest.mark.parametrize(("version", "name"), _cases())
def test_examples_survive_the_domain(version: str, name: str) -> None:
    original = json.loads((EXAMPLES / version / name).read_text())
    if version == "2.3.0" and name == "cdr_example.json":
        original["tariffs"][0]["tax_included"] = "NO"  # the example forgets it (see NOTICE.md)
    written = _through_domain(version, name, json.loads(json.dumps(original)))
    assert written == _drop(original, DROPPED.get(name, set()))


def test_a_2_2_1_location_becomes_a_2_3_0_one_and_back() -> None:
    data = json.loads((EXAMPLES / "2.2.1" / "location_example.json").read_text())
    location = mapping.location_to_domain(parse(v221.Location, data))
    as_230 = mapping.location_to_ocpi(location, "2.3.0")
    assert parse(v230.Location, as_230).evses is not None
    assert mapping.location_to_domain(parse(v230.Location, as_230)) == location


def test_prices_move_between_the_2_2_1_and_2_3_0_shapes() -> None:
    data = json.loads((EXAMPLES / "2.2.1" / "tariff_6_025kwh_start_max_price.json").read_text())
    tariff = mapping.tariff_to_domain(parse(v221.Tariff, data))
    as_230 = mapping.tariff_to_ocpi(tariff, "2.3.0")
    assert as_230["max_price"] == {"before_taxes": 10, "after_taxes": 11}
    assert as_230["tax_included"] == "NO"
    cdr = json.loads((EXAMPLES / "2.3.0" / "cdr_example.json").read_text())
    cdr["tariffs"][0]["tax_included"] = "NO"
    as_221 = mapping.cdr_to_ocpi(mapping.cdr_to_domain(parse(v230.CDR, cdr)), "2.2.1")
    assert as_221["total_cost"] == {"excl_vat": 4, "incl_vat": 4.4}


def test_keys_are_upper_cased_on_the_way_in() -> None:
    data = json.loads((EXAMPLES / "2.2.1" / "token_put_example.json").read_text())
    token = mapping.token_to_domain(
        parse(v221.Token, {**data, "country_code": "de", "party_id": "tnm"})
    )
    assert (token.country_code, token.party_id) == ("DE", "TNM")


def test_values_the_domain_cannot_hold_name_the_field() -> None:
    data = json.loads((EXAMPLES / "2.3.0" / "location_example.json").read_text())
    data["evses"][0]["connectors"][0]["standard"] = "ACME_FUTURE_PLUG"
    with pytest.raises(InvalidInputError) as caught:
        mapping.location_to_domain(parse(v230.Location, data))
    assert caught.value.field == "evses.0.connectors.0.standard"
    data = json.loads((EXAMPLES / "2.2.1" / "location_example.json").read_text())
    data["time_zone"] = "Mars/Olympus"
    with pytest.raises(InvalidInputError) as caught:
        mapping.location_to_domain(parse(v221.Location, data))
    assert caught.value.field == "time_zone"


def test_2_3_0_emaid_tokens_and_new_connectors_reach_the_domain() -> None:
    data = json.loads((EXAMPLES / "2.3.0" / "token_put_example.json").read_text())
    token = mapping.token_to_domain(parse(v230.Token, {**data, "type": "EMAID"}))
    assert token.type is TokenType.EMAID
    assert ConnectorStandard("SAE_J3400")


def test_2_1_1_objects_map_with_the_party_of_the_connection() -> None:
    location = parse(
        v211.Location,
        {
            "id": "LOC1",
            "type": "PARKING_LOT",
            "address": "Carrera 7 # 71-21",
            "city": "Bogotá",
            "postal_code": "110231",
            "country": "COL",
            "coordinates": {"latitude": "4.655000", "longitude": "-74.056000"},
            "evses": [
                {
                    "uid": "E1",
                    "status": "CHARGING",
                    "capabilities": ["RFID_READER"],
                    "connectors": [
                        {
                            "id": "1",
                            "standard": "IEC_62196_T2_COMBO",
                            "format": "CABLE",
                            "power_type": "DC",
                            "voltage": 500,
                            "amperage": 125,
                            "tariff_id": "T1",
                            "last_updated": "2020-01-01T00:00:00Z",
                        }
                    ],
                    "last_updated": "2020-01-01T00:00:00Z",
                }
            ],
            "time_zone": "America/Bogota",
            "last_updated": "2020-01-01T00:00:00Z",
        },
    )
    mapped = mapping.location_to_domain(location, ("co", "abc"))
    assert (mapped.country_code, mapped.party_id) == ("CO", "ABC")
    assert mapped.parking_type is ParkingType.PARKING_LOT
    connector = mapped.evses[0].connectors[0]
    assert (connector.max_voltage, connector.max_amperage, connector.tariff_ids) == (
        500,
        125,
        ["T1"],
    )
    assert mapping.location_to_ocpi(mapped, "2.1.1")["evses"][0]["connectors"][0]["voltage"] == 500
    token = mapping.token_to_domain(
        parse(
            v211.Token,
            {
                "uid": "04A1B2C3",
                "type": "RFID",
                "auth_id": "CO-ABC-C00000001",
                "issuer": "Legacy eMSP",
                "valid": True,
                "whitelist": "ALLOWED",
                "last_updated": "2020-01-01T00:00:00Z",
            },
        ),
        ("CO", "ABC"),
    )
    assert token.contract_id == "CO-ABC-C00000001"
    with pytest.raises(InvalidInputError):
        mapping.token_to_domain(parse(v211.Token, mapping.token_to_ocpi(token, "2.1.1")))
