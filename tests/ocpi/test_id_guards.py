"""Ids entering through OCPI are checked: EVSE ids always, contract ids when in EMAID shape."""

import json
from pathlib import Path

import pytest

from intercarga.errors import InvalidInputError
from intercarga.ocpi.mapping import location_to_domain, model_for, token_to_domain

EXAMPLES = Path(__file__).parent.parent / "data" / "ocpi-examples" / "2.2.1"


def _example(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((EXAMPLES / name).read_text())
    return data


def test_a_malformed_evse_id_is_refused_naming_the_part() -> None:
    body = _example("location_example.json")
    body["evses"][0]["evse_id"] = "BE*BEC*X041503001"  # type: ignore[index]
    with pytest.raises(InvalidInputError) as caught:
        location_to_domain(model_for("2.2.1", "Location").model_validate(body))
    assert caught.value.field == "evses.0.evse_id"
    assert "id type" in str(caught.value)


def test_contract_ids_in_emaid_shape_must_check_out() -> None:
    body = (
        _example("token_example_2_rfid.json")
        if (EXAMPLES / "token_example_2_rfid.json").exists()
        else None
    )
    token = body or {
        "country_code": "DE",
        "party_id": "TNM",
        "uid": "12345678905880",
        "type": "RFID",
        "contract_id": "DE8ACC12E46L89",
        "issuer": "TheNewMotion",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2018-12-10T17:25:10Z",
    }
    token["contract_id"] = "NL-TNM-000122045-X"  # the right check character is U
    with pytest.raises(InvalidInputError) as caught:
        token_to_domain(model_for("2.2.1", "Token").model_validate(token))
    assert caught.value.field == "contract_id"
    assert "check character" in str(caught.value)
    token["contract_id"] = "NL-TNM-000122045-U"
    assert (
        token_to_domain(model_for("2.2.1", "Token").model_validate(token)).contract_id
        == "NL-TNM-000122045-U"
    )
    # A partner's own contract id format (OCPI only recommends eMI3) is kept as it is.
    token["contract_id"] = "FA54320"
    assert (
        token_to_domain(model_for("2.2.1", "Token").model_validate(token)).contract_id == "FA54320"
    )
