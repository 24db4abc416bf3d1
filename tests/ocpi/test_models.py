"""The spec's own example messages parse and serialize back to the same JSON value.

Whole objects as objects, PATCH bodies as partial updates, envelopes as envelopes; the examples
that break the spec are rejected with an error naming the field.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from intercarga.ocpi.envelope import Envelope, describe_validation_error
from intercarga.ocpi.models import dump, parse, patch_model, v211, v221, v230

EXAMPLES = Path(__file__).parent.parent / "data" / "ocpi-examples"
MODULES: dict[str, Any] = {"2.2.1": v221, "2.3.0": v230}

# Examples that break the spec: (version, file) -> the fields the error must name.
BROKEN = {
    ("2.2.1", "location_put_example_add_evse.json"): [
        "floor",
        "physical_reference",
        "connectors.0.power_type",
    ],
    ("2.3.0", "location_put_example_add_evse.json"): [
        "physical_reference",
        "connectors.0.power_type",
    ],
    ("2.2.1", "tariff_put_example.json"): ["last_updated"],
    ("2.3.0", "tariff_put_example.json"): ["last_updated"],
    ("2.3.0", "cdr_example.json"): ["tariffs.0.tax_included"],
}


def _examples() -> list[tuple[str, str]]:
    return [
        (version, path.name)
        for version in ("2.2.1", "2.3.0")
        for path in sorted((EXAMPLES / version).glob("*.json"))
    ]


def _kind(name: str, module: Any) -> tuple[str, Any]:
    """How an example is read: ("whole"|"patch"|"fragment:<key>"|"envelope"|"list", class)."""
    stem = name.removesuffix(".json")
    if stem.startswith("transport_and_format_"):
        data = {
            "get_token_example": module.Token,
            "get_token_list_example": list[module.Token],
            "version_details_example": module.VersionDetails,
            "version_info_example": list[module.Version],
        }[stem.removeprefix("transport_and_format_")]
        return "envelope", data
    if stem == "versions_info_example":
        return "list", module.Version
    if stem.startswith("location_energymix"):
        return "fragment:energy_mix", module.EnergyMix
    if stem == "location_regularhours_example":
        return "fragment:opening_times", module.Hours
    if stem.startswith("location_hours"):
        return "whole", module.Hours
    patches = {
        "location_patch_example_location": module.Location,
        "location_patch_example_remove_evse": module.EVSE,
        "location_patch_example_status": module.EVSE,
        "location_patch_example_tariff": module.Connector,
        "session_patch_example_charging_period": module.Session,
        "session_patch_example_total_cost": module.Session,
        "token_patch_example": module.Token,
    }
    if stem in patches:
        return "patch", patches[stem]
    if stem == "location_put_example_add_evse":
        return "whole", module.EVSE
    prefixes = {
        "cdr_": module.CDR,
        "credentials_": module.Credentials,
        "location_example": module.Location,
        "session_example": module.Session,
        "tariff": module.Tariff,
        "token_": module.Token,
        "type_displaytext": module.DisplayText,
        "version_details": module.VersionDetails,
    }
    for prefix, model in prefixes.items():
        if stem.startswith(prefix):
            return "whole", model
    raise AssertionError(f"no rule for example {name}")


def _round_trip(version: str, name: str) -> tuple[Any, Any]:
    module = MODULES[version]
    original = json.loads((EXAMPLES / version / name).read_text())
    kind, model = _kind(name, module)
    is_open = version == "2.3.0"
    if kind == "whole":
        return original, dump(parse(model, original))
    if kind == "patch":
        return original, dump(parse(patch_model(model), original), partial=True)
    if kind.startswith("fragment:"):
        key = kind.split(":", 1)[1]
        assert list(original) == [key]
        return original, {key: dump(parse(model, original[key]))}
    if kind == "list":
        return original, [dump(parse(model, item)) for item in original]
    envelope = parse(Envelope[model], original, open_version=is_open)
    return original, dump(envelope)


@pytest.mark.parametrize(("version", "name"), [e for e in _examples() if e not in BROKEN])
def test_example_round_trips_to_the_same_json_value(version: str, name: str) -> None:
    original, written = _round_trip(version, name)
    assert written == original


@pytest.mark.parametrize(("version", "name"), sorted(BROKEN))
def test_examples_that_break_the_spec_are_rejected_naming_the_field(
    version: str, name: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _round_trip(version, name)
    described = describe_validation_error(caught.value)
    for field in BROKEN[(version, name)]:
        assert f"{field}: " in described, described


def test_every_example_is_checked() -> None:
    assert len(_examples()) == 59 + 61


def test_the_2_3_0_cdr_example_is_fine_under_2_2_1_rules_only_for_its_tariff() -> None:
    original = json.loads((EXAMPLES / "2.3.0" / "cdr_example.json").read_text())
    original["tariffs"][0]["tax_included"] = "NO"
    assert dump(parse(v230.CDR, original)) == original


# -- limits the spec puts in its types ------------------------------------------------------
def _location(**changes: Any) -> dict[str, Any]:
    data = json.loads((EXAMPLES / "2.2.1" / "location_example.json").read_text())
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "x" * 37}, "id"),
        ({"party_id": "BECX"}, "party_id"),
        ({"city": "C" * 46}, "city"),
        ({"name": "tab\there"}, "name"),
        ({"id": "ñandú"}, "id"),
        ({"coordinates": {"latitude": "51.04", "longitude": "3.729944"}}, "coordinates.latitude"),
        ({"coordinates": {"latitude": "151.047599", "longitude": "3.7"}}, "coordinates.latitude"),
        ({"last_updated": "2015-06-29T20:39:09+02:00"}, "last_updated"),
        ({"last_updated": "29/06/2015"}, "last_updated"),
        ({"publish": "yes"}, "publish"),
        ({"parking_type": "ON_THE_MOON"}, "parking_type"),
        ({"directions": [{"language": "eng", "text": "left"}]}, "directions.0.language"),
        ({"time_zone": None}, "time_zone"),
    ],
)
def test_spec_limits_are_enforced_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(v221.Location, _location(**changes))
    assert f"{field}: " in describe_validation_error(caught.value)


def test_cistring_keeps_case_and_datetime_fractions_round_trip() -> None:
    data = _location(party_id="bec", last_updated="2016-12-29T17:45:09.2Z")
    location = parse(v221.Location, data)
    assert dump(location)["party_id"] == "bec"
    assert dump(location)["last_updated"] == "2016-12-29T17:45:09.2Z"


def test_a_datetime_without_z_means_utc() -> None:
    location = parse(v221.Location, _location(last_updated="2015-06-29T20:39:09"))
    assert dump(location)["last_updated"] == "2015-06-29T20:39:09Z"


def test_numbers_are_exact_and_strings_are_not_numbers() -> None:
    price = parse(v221.Price, {"excl_vat": 0.1, "incl_vat": 0.121})
    assert price.excl_vat == Decimal("0.1")
    assert dump(price) == {"excl_vat": 0.1, "incl_vat": 0.121}
    with pytest.raises(ValidationError):
        parse(v221.Price, {"excl_vat": "0.10"})


def test_2_2_1_refuses_unknown_fields_and_2_3_0_accepts_them() -> None:
    data = json.loads((EXAMPLES / "2.3.0" / "token_example_1_app_user.json").read_text())
    with pytest.raises(ValidationError) as caught:
        parse(v221.Token, {**data, "loyalty_level": "gold"})
    assert "loyalty_level: unknown field" in describe_validation_error(caught.value)
    token = parse(v230.Token, {**data, "loyalty_level": "gold"})
    assert dump(token) == data


def test_2_3_0_open_enums_keep_values_the_spec_does_not_list() -> None:
    connector = {
        "id": "1",
        "standard": "ACME_FUTURE_PLUG",
        "format": "CABLE",
        "power_type": "DC",
        "max_voltage": 1000,
        "max_amperage": 500,
        "capabilities": ["ISO_15118_20_PLUG_AND_CHARGE", "ACME_BIDIRECTIONAL"],
        "last_updated": "2024-12-05T18:30:14Z",
    }
    assert dump(parse(v230.Connector, connector)) == connector
    assert (
        parse(v230.Connector, {**connector, "standard": "MCS"}).standard is v230.ConnectorType.MCS
    )
    with pytest.raises(ValidationError):
        parse(v221.Connector, connector)
    with pytest.raises(ValidationError):  # closed enums stay closed in 2.3.0
        parse(v230.Connector, {**connector, "power_type": "AC_4_PHASE"})


def test_patch_bodies_need_last_updated() -> None:
    with pytest.raises(ValidationError) as caught:
        parse(patch_model(v221.EVSE), {"status": "CHARGING"})
    assert "last_updated: Field required" in describe_validation_error(caught.value)


def test_hub_role_exists_in_2_2_1_but_not_in_2_3_0() -> None:
    role = {
        "role": "HUB",
        "party_id": "HUB",
        "country_code": "NL",
        "business_details": {"name": "H"},
    }
    assert parse(v221.CredentialsRole, role).role is v221.Role.HUB
    with pytest.raises(ValidationError):
        parse(v230.CredentialsRole, role)


def test_2_1_1_location_and_token_are_read() -> None:
    location = parse(
        v211.Location,
        {
            "id": "LOC1",
            "type": "ON_STREET",
            "address": "Av. Providencia 1234",
            "city": "Santiago",
            "postal_code": "7500000",
            "country": "CHL",
            "coordinates": {"latitude": "-33.425000", "longitude": "-70.611000"},
            "evses": [
                {
                    "uid": "E1",
                    "status": "AVAILABLE",
                    "connectors": [
                        {
                            "id": "1",
                            "standard": "IEC_62196_T2",
                            "format": "SOCKET",
                            "power_type": "AC_3_PHASE",
                            "voltage": 230,
                            "amperage": 32,
                            "tariff_id": "T1",
                            "last_updated": "2020-01-01T00:00:00Z",
                        }
                    ],
                    "last_updated": "2020-01-01T00:00:00Z",
                }
            ],
            "last_updated": "2020-01-01T00:00:00Z",
        },
    )
    assert location.evses is not None
    assert location.evses[0].connectors[0].voltage == 230
    token = parse(
        v211.Token,
        {
            "uid": "012345678",
            "type": "RFID",
            "auth_id": "CL-ABC-C12345678-9",
            "issuer": "Old eMSP",
            "valid": True,
            "whitelist": "ALLOWED",
            "last_updated": "2020-01-01T00:00:00Z",
        },
    )
    assert token.auth_id == "CL-ABC-C12345678-9"


def test_every_model_class_declares_its_fields() -> None:
    for module in (v211, v221, v230):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, BaseModel):
                assert value.model_fields or name in ("Open", "Legacy"), name
