from decimal import Decimal

import pytest

from intercarga.domain import Money, currency
from intercarga.errors import InvalidInputError


def test_minor_units_follow_iso_4217() -> None:
    assert currency("CLP").minor_unit == 0
    assert currency("cop").minor_unit == 2
    assert currency("BRL").minor_unit == 2
    assert currency("PYG").minor_unit == 0


def test_rounding_is_half_up_to_the_minor_unit() -> None:
    assert Money.of("1234.5", "CLP").rounded().amount == Decimal("1235")
    assert Money.of("10.005", "COP").rounded().amount == Decimal("10.01")
    assert str(Money.of("2.1", "BRL")) == "2.10 BRL"


def test_amounts_stay_exact_until_rounded() -> None:
    total = Money.zero("USD")
    for _ in range(10):
        total = total + Money.of("0.1", "USD")
    assert total.amount == Decimal("1.0")


def test_currencies_never_mix() -> None:
    with pytest.raises(InvalidInputError, match="cannot combine CLP with USD"):
        Money.of(1, "CLP") + Money.of(1, "USD")


def test_unknown_currency_is_an_input_error() -> None:
    with pytest.raises(InvalidInputError, match="unknown ISO 4217 currency code 'XYZ'"):
        currency("XYZ")
