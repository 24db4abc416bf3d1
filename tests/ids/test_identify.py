"""``identify``: what an id is, and which part of a malformed one is wrong."""

from __future__ import annotations

import pytest

from intercarga.ids import IdKind, identify, is_valid_party_id, normalize_party_id


@pytest.mark.parametrize(
    ("value", "kind", "normal"),
    [
        ("DE*ICE*E45B*78C", IdKind.EVSE_ID, "DE*ICE*E45B*78C"),
        ("+49*810*000*438", IdKind.EVSE_ID, "+49*810*000*438"),
        ("NL-TNM-000122045-U", IdKind.CONTRACT_ID, "NL-TNM-000122045-U"),
        ("NL-TNM-012204-5", IdKind.CONTRACT_ID, "NL-TNM-000122045-U"),
        ("cl-icg", IdKind.PARTY_ID, "CL-ICG"),
        ("CLICG", IdKind.PARTY_ID, "CL-ICG"),
    ],
)
def test_valid_ids_are_recognised(value: str, kind: IdKind, normal: str) -> None:
    check = identify(value)
    assert check.valid
    assert check.kind is kind
    assert check.normalized == normal


def test_contract_id_reports_its_din_form() -> None:
    assert identify("NL-TNM-000122045-U").parts["DIN SPEC 91286 form"] == "NL-TNM-012204-5"


@pytest.mark.parametrize(
    ("value", "kind", "part"),
    [
        ("NL-TNM-000122045-X", IdKind.CONTRACT_ID, "check character"),
        ("DE*ICE*X45", IdKind.EVSE_ID, "id type"),
        ("ZZ*ICE*E45", IdKind.EVSE_ID, "country code"),
        ("CL-I$G", IdKind.PARTY_ID, "party id"),
        ("QQ-ICG", IdKind.PARTY_ID, "country code"),
    ],
)
def test_invalid_ids_say_what_they_look_like_and_what_is_wrong(
    value: str, kind: IdKind, part: str
) -> None:
    check = identify(value)
    assert not check.valid
    assert check.kind is kind
    assert check.wrong_part == part
    assert check.error


def test_forced_kind() -> None:
    check = identify("CL-ICG", kind=IdKind.EVSE_ID)
    assert not check.valid
    assert check.kind is IdKind.EVSE_ID


def test_ambiguous_value_lists_other_kinds() -> None:
    # Valid as an EVSE id and, by coincidence, as a DIN contract id with "*" separators.
    check = identify("BR*ABC*E12345*1")
    assert check.kind is IdKind.EVSE_ID
    assert IdKind.CONTRACT_ID in check.also_valid_as


def test_party_id_helpers() -> None:
    assert normalize_party_id("co*abc") == "CO-ABC"
    assert not is_valid_party_id("CO-AB")


def test_result_serializes_to_json() -> None:
    assert '"kind":"contract id"' in identify("NL-TNM-000122045-U").model_dump_json()


def test_field_types_normalize_and_refuse_at_the_edge() -> None:
    from pydantic import BaseModel, ValidationError

    from intercarga.ids import ContractIdField, EvseIdField, PartyIdField

    class Body(BaseModel):
        evse_id: EvseIdField
        contract_id: ContractIdField
        party: PartyIdField

    body = Body(evse_id="cl*icg*e1", contract_id="NL-TNM-012204-5", party="cl icg")
    assert (body.evse_id, body.contract_id, body.party) == (
        "CL*ICG*E1",
        "NL-TNM-000122045-U",
        "CL-ICG",
    )
    with pytest.raises(ValidationError, match="operator id"):
        Body(evse_id="CL*I$G*E1", contract_id="NL-TNM-012204-5", party="CL-ICG")
