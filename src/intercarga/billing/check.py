"""Compare a pricing with the totals a CDR states: the ``--check`` of ``intercarga tariff price``.

Amounts are compared at the precision the CDR writes them, but never coarser than the currency's
minor unit: a CDR that says ``0.3002`` EUR is compared to 4 decimals, one that says ``5.5`` to
cents. Volumes (hours, kWh) at the CDR's precision but at least 2 decimals, so that ``0`` is
not a match for 0.3 h. The engine's exact amounts are rounded half up to that precision; the
stated number must equal it. A cost total the CDR leaves out counts as zero (OCPI leaves them
out when there is nothing); ``total_energy`` is not checked when no period carries ENERGY, since
the engine cannot know it. Pure; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from intercarga.billing.documents import OcpiVersion
from intercarga.billing.result import CdrPricing, Price
from intercarga.domain.tariff import TaxAmount

__all__ = ["CheckedCdr", "Mismatch", "check_totals"]

_ZERO = Decimal(0)


class CheckedCdr(Protocol):
    """The totals a CDR states: a domain :class:`Cdr` or a CDR excerpt."""

    @property
    def total_cost(self) -> TaxAmount | None: ...
    @property
    def total_fixed_cost(self) -> TaxAmount | None: ...
    @property
    def total_energy_cost(self) -> TaxAmount | None: ...
    @property
    def total_time_cost(self) -> TaxAmount | None: ...
    @property
    def total_parking_cost(self) -> TaxAmount | None: ...
    @property
    def total_reservation_cost(self) -> TaxAmount | None: ...
    @property
    def total_energy(self) -> Decimal | None: ...
    @property
    def total_time(self) -> Decimal | None: ...
    @property
    def total_parking_time(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One total where the CDR and the engine disagree, at the precision compared."""

    field: str
    stated: Decimal
    computed: Decimal
    note: str = ""

    def __str__(self) -> str:
        text = f"{self.field}: the CDR says {self.stated}, the engine computes {self.computed}"
        return f"{text} ({self.note})" if self.note else text


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _at(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def _compare(
    found: list[Mismatch], field: str, stated: Decimal, computed: Decimal, floor: int, note: str
) -> None:
    places = max(_places(stated), floor)
    if _at(stated, places) != _at(computed, places):
        found.append(Mismatch(field, stated, _at(computed, places), note))


def _limit_note(pricing: CdrPricing, field: str) -> str:
    if field != "total_cost" or pricing.limit is None:
        return ""
    before = pricing.cost_before_limits
    return (
        f"{pricing.limit} applied; {before.before_taxes.normalize():f} before taxes and"
        f" {before.after_taxes.normalize():f} after taxes before the limit"
    )


def check_totals(
    pricing: CdrPricing, cdr: CheckedCdr, version: OcpiVersion = "2.2.1"
) -> tuple[list[Mismatch], list[str]]:
    """Each stated total the pricing does not reproduce, and notes on totals not checked."""
    exact = pricing.exact
    minor = pricing.currency.minor_unit
    found: list[Mismatch] = []
    notes: list[str] = []
    # 2.2.1 states excl_vat and incl_vat; 2.3.0 states before_taxes and the taxes, compared as
    # their sum (the itemisation by name may differ: "IVA" here, "VAT" there).
    before_name = "excl_vat" if version == "2.2.1" else "before_taxes"
    computed_prices: dict[str, Price] = exact.costs()
    for field, computed in computed_prices.items():
        stated: TaxAmount | None = getattr(cdr, field)
        note = _limit_note(exact, field)
        if stated is None:
            if field == "total_cost":
                notes.append("total_cost: the CDR states none, nothing to compare")
                continue
            stated = TaxAmount(excl_vat=_ZERO, incl_vat=_ZERO)
        _compare(
            found, f"{field}.{before_name}", stated.excl_vat, computed.before_taxes, minor, note
        )
        if stated.incl_vat is None:
            continue
        if version == "2.2.1":
            _compare(found, f"{field}.incl_vat", stated.incl_vat, computed.after_taxes, minor, note)
        else:
            taxes = computed.after_taxes - computed.before_taxes
            _compare(found, f"{field}.taxes", stated.incl_vat - stated.excl_vat, taxes, minor, note)
    volumes: Sequence[tuple[str, Decimal | None, Decimal | None]] = (
        ("total_energy", cdr.total_energy, exact.total_energy),
        ("total_time", cdr.total_time, exact.total_time),
        ("total_parking_time", cdr.total_parking_time or _ZERO, exact.total_parking_time),
    )
    for field, stated_volume, computed_volume in volumes:
        if stated_volume is None:
            continue
        if computed_volume is None:
            notes.append(f"{field}: not checked, no charging period carries ENERGY")
            continue
        _compare(found, field, stated_volume, computed_volume, 2, "")
    return found, notes
