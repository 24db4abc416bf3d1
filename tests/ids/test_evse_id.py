"""EVSE ids in the ISO 15118 / eMI3 and DIN SPEC 91286 forms."""

from __future__ import annotations

import pytest

from intercarga.errors import InvalidInputError
from intercarga.ids import EvseIdFormat, is_valid_evse_id, normalize_evse_id, parse_evse_id


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("DE*ICE*E45B*78C", "DE*ICE*E45B*78C"),  # the eMI3 example
        ("BR*ABC*E12345*1", "BR*ABC*E12345*1"),  # valid per connectors-and-ids.md
        ("de*ice*e45b*78c", "DE*ICE*E45B*78C"),  # case-insensitive
        ("DEICEE45B78C", "DE*ICE*E45B78C"),  # separators are optional
        ("CL*ICG*E1", "CL*ICG*E1"),
        ("  CO*ABC*E0001  ", "CO*ABC*E0001"),
    ],
)
def test_iso_form(written: str, normal: str) -> None:
    assert normalize_evse_id(written) == normal
    assert parse_evse_id(written).format is EvseIdFormat.ISO


def test_iso_parts_and_party() -> None:
    evse = parse_evse_id("CL*ICG*E45B*78C")
    assert (evse.country_code, evse.operator_id, evse.power_outlet_id) == ("CL", "ICG", "45B*78C")
    assert evse.party == "CL-ICG"
    assert evse.compact == "CLICGE45B78C"


def test_longest_outlet_id_is_31_characters() -> None:
    assert is_valid_evse_id("CL*ICG*E" + "A" * 31)
    assert not is_valid_evse_id("CL*ICG*E" + "A" * 32)


def test_din_form() -> None:
    evse = parse_evse_id("+49*810*000*438")
    assert evse.format is EvseIdFormat.DIN
    assert (evse.country_code, evse.operator_id, evse.power_outlet_id) == ("49", "810", "000*438")
    assert normalize_evse_id("56*810*1") == "+56*810*1"


@pytest.mark.parametrize(
    ("value", "part"),
    [
        ("XX*ICE*E1", "country code"),  # not an ISO 3166 country
        ("D1*ICE*E1", "country code"),
        ("DE*I$E*E1", "operator id"),
        ("DE*ICE*X1", "id type"),  # the E is missing
        ("DE*ICE*E", "power outlet id"),
        ("DE*ICE*E*1", "power outlet id"),  # must start with a letter or digit
        ("DE*ICE*E1-2", "power outlet id"),
        ("+49*AB7*840", "operator id"),
        ("+49*645*E840", "power outlet id"),
        ("+4999*810*1", "country code"),
        ("+49*810", "evse id"),
        ("", "evse id"),
    ],
)
def test_malformed_ids_name_the_wrong_part(value: str, part: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_evse_id(value)
    assert caught.value.field == part
