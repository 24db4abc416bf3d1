"""Money: a Decimal amount with its ISO 4217 currency and that currency's minor unit.

Amounts are never floats. Rounding to the minor unit happens only when a caller asks for it
(:meth:`Money.rounded`), so sums of many small prices stay exact until the one point where a
total is settled. This module must never do I/O or depend on a protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from intercarga.errors import InvalidInputError

__all__ = ["MINOR_UNITS", "Currency", "Money", "currency"]

# ISO 4217 minor units (List One, "Minor unit" column, amendment 178, 2024) for the currencies of
# Latin America and the Caribbean and the ones roaming partners commonly bill in. The table is
# written out rather than taken from CLDR because CLDR's "digits" differ from ISO 4217 for some
# of these (CLDR rounds COP and others to cash digits in places).
MINOR_UNITS: Final[dict[str, int]] = {
    "ARS": 2, "BBD": 2, "BMD": 2, "BOB": 2, "BRL": 2, "BSD": 2, "BZD": 2, "CAD": 2, "CLF": 4,
    "CLP": 0, "COP": 2, "CRC": 2, "CUP": 2, "DOP": 2, "EUR": 2, "GBP": 2, "GTQ": 2, "GYD": 2,
    "HNL": 2, "HTG": 2, "JMD": 2, "KYD": 2, "MXN": 2, "NIO": 2, "PAB": 2, "PEN": 2, "PYG": 0,
    "SRD": 2, "TTD": 2, "USD": 2, "UYI": 0, "UYU": 2, "VES": 2, "XCD": 2, "AWG": 2, "ANG": 2,
    "CHF": 2, "CNY": 2, "JPY": 0, "KRW": 0, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "AUD": 2,
}  # fmt: skip


_QUANTA: Final[dict[int, Decimal]] = {digits: Decimal(1).scaleb(-digits) for digits in range(5)}


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency: its alphabetic code and the number of digits after the point."""

    code: str
    minor_unit: int

    @property
    def quantum(self) -> Decimal:
        return _QUANTA.get(self.minor_unit) or Decimal(1).scaleb(-self.minor_unit)

    def round(self, amount: Decimal) -> Decimal:
        """``amount`` rounded half-up to this currency's minor unit: the one rounding rule."""
        quantum = _QUANTA.get(self.minor_unit)
        return amount.quantize(quantum or self.quantum, ROUND_HALF_UP)

    def __str__(self) -> str:
        return self.code


def currency(code: str) -> Currency:
    """The currency for an ISO 4217 alphabetic code; unknown codes are an input error."""
    normalized = code.strip().upper()
    try:
        return Currency(normalized, MINOR_UNITS[normalized])
    except KeyError:
        raise InvalidInputError(f"unknown ISO 4217 currency code {code!r}", "currency") from None


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Adding two currencies is an error, never a conversion."""

    amount: Decimal
    currency: Currency

    @classmethod
    def of(cls, amount: Decimal | int | str, code: str) -> Money:
        return cls(Decimal(amount), currency(code))

    @classmethod
    def zero(cls, code: str) -> Money:
        return cls(Decimal(0), currency(code))

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidInputError(
                f"cannot combine {self.currency.code} with {other.currency.code}", "currency"
            )

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * Decimal(factor), self.currency)

    def rounded(self) -> Money:
        """The amount rounded half-up to the currency's minor unit (CLP 0 digits, COP 2, …)."""
        return Money(self.currency.round(self.amount), self.currency)

    def __str__(self) -> str:
        return f"{self.rounded().amount} {self.currency.code}"
