"""Contract ids: the ISO 15118 check-character vectors of connectors-and-ids.md, DIN SPEC 91286
check digits, and the errors a user sees for a malformed id."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intercarga.errors import InvalidInputError
from intercarga.ids import (
    din_check_digit,
    is_valid_contract_id,
    iso_check_character,
    normalize_contract_id,
    parse_contract_id,
)

# Vectors from research/connectors-and-ids.md (first 14 characters → check character).
ISO_VECTORS = [
    ("NN123ABCDEFGHI", "T"),
    ("FRXYZ123456789", "2"),
    ("ITA1B2C3E4F5G6", "4"),
    ("ESZU8WOX834H1D", "R"),
    ("PT73902837ABCZ", "Z"),
    ("DE83DUIEN83QGZ", "D"),
    ("DE83DUIEN83ZGQ", "M"),
    ("DE8AA001234567", "0"),
    ("NLTNM000122045", "U"),  # NL-TNM-000122045 with separators
]


@pytest.mark.parametrize(("body", "check"), ISO_VECTORS)
def test_iso_check_character_vectors(body: str, check: str) -> None:
    assert iso_check_character(body) == check


def test_iso_check_character_is_case_insensitive() -> None:
    assert iso_check_character("nltnm000122045") == "U"


def test_iso_check_character_of_another_known_id() -> None:
    # NL-TNM-000722345-X: the check character can be X, which is not the DIN "10".
    assert iso_check_character("NLTNM000722345") == "X"


@pytest.mark.parametrize(
    ("body", "digit"),
    [("NLTNM012204", "5"), ("DETNM002965", "8"), ("NLBMW00009L", "1")],
)
def test_din_check_digit(body: str, digit: str) -> None:
    assert din_check_digit(body) == digit


def test_din_check_digit_ten_is_written_x() -> None:
    # C=12 → 1,2; L=21 → 2,1; I=18 → 1,8; C → 1,2; G=16 → 1,6; then 0,0,0,0,0,4, weighted by
    # 2^0, 2^1, …: the sum is 135013 = 11 x 12273 + 10.
    assert din_check_digit("CLICG000004") == "X"
    assert str(parse_contract_id("CL-ICG-000004-X")).startswith("CL-ICG-00000004X-")


@pytest.mark.parametrize(
    "written",
    [
        "NL-TNM-000122045-U",
        "nl-tnm-000122045-u",
        "NLTNM000122045",
        "NLTNM000122045U",
        "NL-TNM-000122045",
        "NL-TNM-012204-5",  # DIN SPEC 91286 form of the same contract
    ],
)
def test_every_form_normalizes_to_the_emaid(written: str) -> None:
    assert normalize_contract_id(written) == "NL-TNM-000122045-U"


def test_din_forms_with_asterisks_and_letters() -> None:
    parsed = parse_contract_id("NL*BMW*00009L*1")
    assert str(parsed) == "NL-BMW-0000009L1-Z"
    assert parsed.din == "NL-BMW-00009L-1"


def test_german_din_id_maps_to_iso() -> None:
    assert str(parse_contract_id("DE-TNM-002965-8")) == "DE-TNM-000029658-Q"


def test_emaid_without_din_form() -> None:
    assert parse_contract_id("NL-TNM-012345678").din is None


def test_emi3_instance_is_recognised() -> None:
    body = "CLICGC12345678"
    parsed = parse_contract_id(body + iso_check_character(body))
    assert parsed.is_emi3
    assert parsed.compact == body + iso_check_character(body)


@pytest.mark.parametrize(
    ("value", "part"),
    [
        ("NL-TNM-000122045-X", "check character"),
        ("NL-TNM-012204-4", "check character"),
        ("NL-TNM-012204", "check character"),  # DIN form needs its digit
        ("XX-TNM-000122045", "country code"),
        ("N1-TNM-000122045", "country code"),
        ("NL-T|M-000122045", "provider id"),
        ("NL-TNMN-000122045", "provider id"),
        ("NL-TNM-0001220", "instance"),
        ("NLTNM076", "contract id"),
        ("", "contract id"),
    ],
)
def test_malformed_ids_name_the_wrong_part(value: str, part: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_contract_id(value)
    assert caught.value.field == part
    assert not is_valid_contract_id(value)


def test_wrong_check_character_says_the_right_one() -> None:
    with pytest.raises(InvalidInputError, match="check character is U"):
        parse_contract_id("NL-TNM-000122045-X")


ALNUM = string.ascii_uppercase + string.digits


@given(st.text(alphabet=ALNUM, min_size=9, max_size=9), st.integers(0, 13), st.data())
def test_any_single_character_error_is_detected(
    instance: str, position: int, data: st.DataObject
) -> None:
    body = "CL" + "ICG" + instance
    check = iso_check_character(body)
    replacement = data.draw(st.sampled_from([c for c in ALNUM if c != body[position]]))
    changed = body[:position] + replacement + body[position + 1 :]
    assert iso_check_character(changed) != check


@given(st.text(alphabet=ALNUM, min_size=9, max_size=9), st.integers(0, 12))
def test_adjacent_transpositions_are_detected(instance: str, position: int) -> None:
    body = "CLICG" + instance
    swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]
    if swapped != body:
        assert iso_check_character(swapped) != iso_check_character(body)
