"""Reading OCPI tariffs and CDRs (2.2.1 and 2.3.0) into the domain, with errors that name fields."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from intercarga.billing import read_cdr, read_cdr_excerpt, read_tariff, read_tariff_terms
from intercarga.billing.documents import detect_version, load_json, price_json
from intercarga.billing.result import Price, TaxLine
from intercarga.domain import TaxIncluded
from intercarga.errors import InvalidInputError
from tests.billing.data import ORACLES, SPEC, load

D = Decimal


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_every_spec_tariff_example_reads(version: str) -> None:
    paths = sorted((SPEC / version).glob("tariff*.json"))
    assert len(paths) >= 20
    for path in paths:
        data = load(path)
        if "last_updated" not in data:  # tariff_put_example.json is a PUT body without it
            read_tariff_terms(data)
        else:
            tariff = read_tariff(data)
            assert tariff.elements


def test_2_3_0_price_limits_and_tax_included() -> None:
    tariff = read_tariff(load(SPEC / "2.3.0" / "tariff_12_025kwh_min_price.json"))
    assert tariff.tax_included is TaxIncluded.NO
    assert tariff.min_price is not None
    assert (tariff.min_price.excl_vat, tariff.min_price.incl_vat) == (D("0.50"), D("0.55"))


def test_numbers_are_read_as_decimals() -> None:
    tariff = read_tariff(load(SPEC / "2.2.1" / "tariff_2_alt_text.json"))
    component = tariff.elements[0].price_components[0]
    assert component.price == D("1.90") and component.vat == D("5.2")


def test_spec_cdr_example_reads_whole() -> None:
    for version in ("2.2.1", "2.3.0"):
        cdr = read_cdr(load(SPEC / version / "cdr_example.json"))
        assert cdr.cdr_location.latitude == "3.729944"
        assert cdr.total_cost.excl_vat == D("4.00")
        assert cdr.total_cost.incl_vat == D("4.40")
    assert cdr.total_cost.taxes[0].name == "VAT"


def test_the_strict_reading_names_a_missing_owner() -> None:
    data = load(ORACLES / "grace_period_parking_time" / "tariff.json")
    with pytest.raises(InvalidInputError) as raised:
        read_tariff(data)
    assert raised.value.field == "country_code"
    assert "required field is missing" in str(raised.value)
    terms = read_tariff_terms(data)  # the excerpt reading accepts it
    assert terms.id == "foo" and terms.country_code is None


def _tariff() -> dict[str, Any]:
    return copy.deepcopy(load(SPEC / "2.2.1" / "tariff_4_complex.json"))


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda t: t["elements"][1]["price_components"][0].update(step_size=-5),
         "elements[1].price_components[0].step_size", "greater than or equal to 0"),
        (lambda t: t["elements"][2]["restrictions"].update(start_time="25:00"),
         "elements[2].restrictions.start_time", "should match pattern"),
        (lambda t: t["elements"][2]["restrictions"].update(day_of_week=["MONDAY", "FUNDAY"]),
         "elements[2].restrictions.day_of_week[1]", "should be 'MONDAY'"),
        (lambda t: t["elements"][0]["price_components"][0].update(type="KWH"),
         "elements[0].price_components[0].type", "should be 'ENERGY'"),
        (lambda t: t.update(currency="XYZ"), "currency", "not an ISO 4217 currency code"),
        (lambda t: t.update(elements=[]), "elements", "at least 1 item"),
        (lambda t: t.pop("elements"), "elements", "required field is missing"),
        (lambda t: t.update(min_price={"excl_vat": 1, "before_taxes": 1}),
         "min_price.excl_vat", "unknown field"),  # before_taxes makes it a 2.3.0 document
        (lambda t: t.update(start_date_time="yesterday"), "start_date_time", "valid datetime"),
    ],
)  # fmt: skip
def test_bad_tariffs_name_the_field(change: Any, field: str, message: str) -> None:
    data = _tariff()
    change(data)
    with pytest.raises(InvalidInputError) as raised:
        read_tariff_terms(data)
    assert raised.value.field == field
    assert message in str(raised.value)


def test_bad_cdrs_name_the_field() -> None:
    data = load(ORACLES / "step_size" / "cdr1.json")
    data["charging_periods"][1]["dimensions"][0]["type"] = "SECONDS"
    with pytest.raises(InvalidInputError) as raised:
        read_cdr_excerpt(data)
    assert raised.value.field == "charging_periods[1].dimensions[0].type"
    data = load(ORACLES / "step_size" / "cdr1.json")
    data["end_date_time"] = "2022-01-13T10:00:00Z"
    with pytest.raises(InvalidInputError, match="end_date_time: the session ends before it starts"):
        read_cdr_excerpt(data)
    data = load(SPEC / "2.3.0" / "cdr_example.json")
    data["total_cost"] = {"before_taxes": 4, "taxes": [{"name": "VAT"}]}
    with pytest.raises(InvalidInputError) as raised:
        read_cdr(data)
    assert raised.value.field == "total_cost.taxes[0].amount"
    data = load(SPEC / "2.2.1" / "cdr_example.json")
    del data["cdr_location"]["coordinates"]
    with pytest.raises(InvalidInputError, match=r"cdr_location\.coordinates"):
        read_cdr(data)


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(
        InvalidInputError, match=r"TARIFF: not JSON: Expecting property name .* at line 1 column 2"
    ):
        load_json("{oops", "TARIFF")
    with pytest.raises(InvalidInputError, match="expected a JSON object, got list"):
        read_tariff([])


def test_version_is_told_by_the_fields() -> None:
    assert detect_version(load(SPEC / "2.2.1" / "cdr_example.json")) == "2.2.1"
    assert detect_version(load(SPEC / "2.3.0" / "cdr_example.json")) == "2.3.0"
    assert detect_version(load(SPEC / "2.3.0" / "tariff_1_simple_2hour.json")) == "2.3.0"
    assert detect_version({"currency": "EUR"}) == "2.2.1"


def test_2_2_1_fields_in_a_2_3_0_document_are_refused() -> None:
    data = load(SPEC / "2.3.0" / "tariff_12_025kwh_min_price.json")
    data["min_price"] = {"excl_vat": 1}
    with pytest.raises(InvalidInputError) as raised:
        read_tariff(data)
    assert raised.value.field == "min_price.excl_vat"


def test_prices_are_written_in_each_version_shape() -> None:
    price = Price(D("4.00"), D("4.40"), (TaxLine(D(10), D("0.40")),))
    assert price_json(price, "2.2.1") == {"excl_vat": "4.00", "incl_vat": "4.40"}
    assert price_json(price, "2.3.0") == {
        "before_taxes": "4.00",
        "taxes": [{"name": "VAT", "percentage": "10", "amount": "0.40"}],
    }
