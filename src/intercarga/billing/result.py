"""What pricing a session gives: exact totals, the breakdown line by line, and settled amounts.

Every amount here is an exact Decimal until :meth:`CdrPricing.settled` rounds each reported number
once, half up, to the currency's minor unit (:meth:`intercarga.domain.money.Money.rounded`).
Nothing is ever computed from a rounded number. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, NamedTuple

from intercarga.billing.compiled import Channel, CompiledTariff, Component, State
from intercarga.domain.money import Currency
from intercarga.domain.tariff import Tax, TaxAmount

__all__ = ["ZERO_PRICE", "CdrPricing", "Line", "LineKind", "Price", "TaxLine"]

_ZERO = Decimal(0)

LineKind = Literal["charge", "flat", "step_size", "unpriced"]


class TaxLine(NamedTuple):
    """One tax of a price: its rate in percent (None when unknown) and its amount."""

    percentage: Decimal | None
    amount: Decimal
    name: str = "VAT"


class Price(NamedTuple):
    """An amount before and after taxes, with the taxes itemised by rate.

    A NamedTuple: pricing makes several per session and a tuple is the cheapest immutable record.
    """

    before_taxes: Decimal
    after_taxes: Decimal
    taxes: tuple[TaxLine, ...] = ()

    def rounded(self, currency: Currency) -> Price:
        """Each number rounded once from its exact value (so taxes may not add up to the cent)."""
        return _rounded(self, currency.quantum)

    def to_domain(self) -> TaxAmount:
        """The domain's price: ``excl_vat`` before taxes, ``incl_vat`` after, taxes itemised."""
        return TaxAmount(
            excl_vat=self.before_taxes,
            incl_vat=self.after_taxes,
            taxes=[Tax(name=t.name, percentage=t.percentage, amount=t.amount) for t in self.taxes],
        )


ZERO_PRICE = Price(_ZERO, _ZERO)
_new = tuple.__new__  # builds a NamedTuple in C, without its Python-level __new__
_HALF_UP = ROUND_HALF_UP
_ROUNDED_ZERO: dict[Decimal, Price] = {}  # ZERO_PRICE rounded, by quantum


def _rounded(price: Price, quantum: Decimal) -> Price:
    """``price`` with each number rounded half up to ``quantum``: the rule of Money.rounded
    (Currency.round), spelled out because settling a pricing rounds about a dozen numbers.

    ``amount.quantize(...)`` rather than ``Decimal.quantize(amount, ...)``: CPython calls a
    method of a C type faster than the same method taken from the class.
    """
    if price is ZERO_PRICE:
        # Most sessions leave two or three totals at zero; round the zero once per currency.
        known = _ROUNDED_ZERO.get(quantum)
        if known is None:
            zero = _ZERO.quantize(quantum, ROUND_HALF_UP)
            known = _ROUNDED_ZERO[quantum] = _new(Price, (zero, zero, ()))
        return known
    before, after, taxes = price
    if taxes:
        if len(taxes) == 1:  # the usual case: one rate
            rate, amount, name = taxes[0]
            taxes = (_new(TaxLine, (rate, amount.quantize(quantum, _HALF_UP), name)),)
        else:
            taxes = tuple(
                [_new(TaxLine, (t[0], t[1].quantize(quantum, _HALF_UP), t[2])) for t in taxes]
            )
    return _new(
        Price, (before.quantize(quantum, _HALF_UP), after.quantize(quantum, _HALF_UP), taxes)
    )


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the breakdown: what was priced, when, by which element, for how much.

    ``period`` is the index of the charging period (None for a session-wide line); ``start`` and
    ``end`` are UTC seconds since the epoch; ``dimension`` is the CDR dimension priced (ENERGY,
    TIME, PARKING_TIME, RESERVATION_TIME, FLAT); ``component`` is None for an unpriced line;
    ``state`` is what the restrictions were checked against at ``start`` (see compiled.State).
    """

    kind: LineKind
    period: int | None
    start: int
    end: int
    dimension: str
    volume: Decimal
    component: Component | None
    cost: Decimal
    state: State | None
    reservation: bool = False


# What the pricing loop records for one line; built into a Line only when someone reads it.
RawLine = tuple[LineKind, int | None, int, int, str, Decimal, Component | None, State | None, bool]


class CdrPricing:
    """The totals of a priced session, exact, with its breakdown and warnings.

    Cost fields are :class:`Price`; volumes are Decimal (``total_energy`` is None when no period
    carries an ENERGY dimension: unknown, not zero). ``cost_before_limits`` is the total before
    ``min_price``/``max_price``; ``limit`` names the one that changed the total, if any.
    """

    __slots__ = (
        "_lines",
        "_raw",
        "cost_before_limits",
        "limit",
        "reservation_channel",
        "session_end",
        "session_start",
        "settled_from",
        "tariff",
        "time_zone",
        "total_cost",
        "total_energy",
        "total_energy_cost",
        "total_fixed_cost",
        "total_parking_cost",
        "total_parking_time",
        "total_reservation_cost",
        "total_reservation_time",
        "total_time",
        "total_time_cost",
        "warnings",
    )

    def __init__(
        self,
        tariff: CompiledTariff,
        time_zone: str,
        session_start: int,
        session_end: int,
        total_cost: Price,
        cost_before_limits: Price,
        limit: str | None,
        total_fixed_cost: Price,
        total_energy_cost: Price,
        total_time_cost: Price,
        total_parking_cost: Price,
        total_reservation_cost: Price,
        total_energy: Decimal | None,
        total_time: Decimal,
        total_parking_time: Decimal,
        total_reservation_time: Decimal,
        raw_lines: list[RawLine] | Callable[[], list[RawLine]],
        warnings: tuple[str, ...],
        reservation_channel: Channel | None = None,
        settled_from: CdrPricing | None = None,
    ) -> None:
        self.tariff = tariff
        self.time_zone = time_zone
        self.session_start = session_start
        self.session_end = session_end
        self.total_cost = total_cost
        self.cost_before_limits = cost_before_limits
        self.limit = limit
        self.total_fixed_cost = total_fixed_cost
        self.total_energy_cost = total_energy_cost
        self.total_time_cost = total_time_cost
        self.total_parking_cost = total_parking_cost
        self.total_reservation_cost = total_reservation_cost
        self.total_energy = total_energy
        self.total_time = total_time
        self.total_parking_time = total_parking_time
        self.total_reservation_time = total_reservation_time
        self._raw = raw_lines
        self._lines: tuple[Line, ...] | None = None
        self.warnings = warnings
        self.reservation_channel = reservation_channel  # which one priced reservation time
        self.settled_from = settled_from

    @property
    def currency(self) -> Currency:
        return self.tariff.currency

    @property
    def replayed(self) -> bool:
        """True when the pricing recorded no breakdown as it went (the fast path): reading
        ``lines`` runs the general loop once on the same input."""
        return callable(self._raw)

    @property
    def raw_lines(self) -> list[RawLine]:
        """The breakdown as the pricing loop recorded it; the fast path, which records none,
        leaves a replay of the general loop here, run when someone asks (``lines`` keeps it)."""
        raw = self._raw
        return raw() if callable(raw) else raw

    @property
    def lines(self) -> tuple[Line, ...]:
        """The breakdown, in the order the session consumed it (step and flat lines included)."""
        if self.settled_from is not None:
            return self.settled_from.lines  # the same lines: they keep their exact costs
        if self._lines is None:
            self._lines = tuple(
                Line(
                    kind=kind,
                    period=period,
                    start=start,
                    end=end,
                    dimension=dimension,
                    volume=volume,
                    component=component,
                    cost=volume * component.price if component is not None else _ZERO,
                    state=state,
                    reservation=reservation,
                )
                for kind, period, start, end, dimension, volume, component, state, reservation in (
                    self.raw_lines
                )
            )
        return self._lines

    def costs(self) -> dict[str, Price]:
        """The CDR cost totals by their OCPI field names."""
        return {
            "total_cost": self.total_cost,
            "total_fixed_cost": self.total_fixed_cost,
            "total_energy_cost": self.total_energy_cost,
            "total_time_cost": self.total_time_cost,
            "total_parking_cost": self.total_parking_cost,
            "total_reservation_cost": self.total_reservation_cost,
        }

    def volumes(self) -> dict[str, Decimal | None]:
        """The CDR volume totals by their OCPI field names (hours and kWh)."""
        return {
            "total_energy": self.total_energy,
            "total_time": self.total_time,
            "total_parking_time": self.total_parking_time,
        }

    def settled(self) -> CdrPricing:
        """The same pricing with every cost rounded once to the currency's minor unit.

        This is the one rounding point: the exact pricing stays available as ``settled_from``.
        Breakdown lines keep their exact costs (they explain; the totals are what is billed).
        """
        if self.settled_from is not None:
            return self
        quantum = self.tariff.quantum
        total = _rounded(self.total_cost, quantum)
        before = self.cost_before_limits
        # Built slot by slot rather than through __init__'s keywords: settling runs once per
        # priced CDR, and the copy is the same fields with the costs rounded.
        settled = object.__new__(CdrPricing)
        settled.tariff = self.tariff
        settled.time_zone = self.time_zone
        settled.session_start = self.session_start
        settled.session_end = self.session_end
        settled.total_cost = total
        # The same Price object (total and cost before limits, most often) is rounded once.
        settled.cost_before_limits = (
            total if before is self.total_cost else _rounded(before, quantum)
        )
        settled.limit = self.limit
        # Most sessions leave two or three totals at ZERO_PRICE: its rounding is looked up.
        zero = _ROUNDED_ZERO.get(quantum) or _rounded(ZERO_PRICE, quantum)
        price = self.total_fixed_cost
        settled.total_fixed_cost = zero if price is ZERO_PRICE else _rounded(price, quantum)
        price = self.total_energy_cost
        settled.total_energy_cost = zero if price is ZERO_PRICE else _rounded(price, quantum)
        price = self.total_time_cost
        settled.total_time_cost = zero if price is ZERO_PRICE else _rounded(price, quantum)
        price = self.total_parking_cost
        settled.total_parking_cost = zero if price is ZERO_PRICE else _rounded(price, quantum)
        price = self.total_reservation_cost
        settled.total_reservation_cost = zero if price is ZERO_PRICE else _rounded(price, quantum)
        settled.total_energy = self.total_energy
        settled.total_time = self.total_time
        settled.total_parking_time = self.total_parking_time
        settled.total_reservation_time = self.total_reservation_time
        settled._raw = self._raw
        settled._lines = None
        settled.warnings = self.warnings
        settled.reservation_channel = self.reservation_channel
        settled.settled_from = self
        return settled

    @property
    def exact(self) -> CdrPricing:
        """The unrounded pricing (itself, unless this one is settled)."""
        return self.settled_from if self.settled_from is not None else self

    def cdr_totals(self) -> dict[str, object]:
        """Settled totals as domain values, ready to write into a :class:`~intercarga.domain.Cdr`.

        Optional cost fields that are zero are left out, as OCPI leaves them out.
        """
        settled = self.settled()
        totals: dict[str, object] = {"total_cost": settled.total_cost.to_domain()}
        for name, price in settled.costs().items():
            if name != "total_cost" and (price.before_taxes or price.after_taxes):
                totals[name] = price.to_domain()
        if self.total_energy is not None:  # unknown: leave what the CDR already says
            totals["total_energy"] = self.total_energy
        totals["total_time"] = self.total_time
        if self.total_parking_time:
            totals["total_parking_time"] = self.total_parking_time
        return totals
