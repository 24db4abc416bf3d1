"""The energy register readings a session is billed from, and the ones that cannot be trusted.

A station reports its energy register (Energy.Active.Import.Register, in Wh) when a transaction
begins (context ``Transaction.Begin``; 1.6 meterStart), along the way, and when it ends
(``Transaction.End``; 1.6 meterStop). What it sends is not always tidy, and billing reads it so:

- **One begin, one end.** A begin reading states the register at the start, whatever its
  timestamp says (stations stamp a StopTransaction's transactionData with the stop time, begin
  reading included): the earliest begin reading opens the series, the others restate it. The
  end reading closes the series; when several were sent, the last one given wins (the session
  service gives 1.6's meterStop last, as the station's own word on the end). Readings in
  between are taken in time order.
- **Energy is never negative.** A register that goes back (a meter replaced, a rollover, a
  reset) delivers no energy in that step: the step is not billed, and :attr:`Register.backwards`
  names it so the operator can see it. Energy is the sum of the steps forward. A step back of
  less than 1 Wh to or from a whole number of Wh is not named: it is 1.6's integer meterStart /
  meterStop rounding a reading sent with decimals, not a register going back.

Pure: no I/O, no clock. :func:`billing_readings` is what :func:`periods_from_meter_values`
reads, so a CDR's periods add up to the session's kWh.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise

from intercarga.domain.session import MeterValue

__all__ = ["ENERGY_REGISTER", "Register", "billing_readings", "is_register", "register_of"]

ENERGY_REGISTER = "Energy.Active.Import.Register"
_BEGIN = "Transaction.Begin"
_END = "Transaction.End"
_KILO = Decimal(1000)


def is_register(value: MeterValue) -> bool:
    """Whether ``value`` is a reading of the whole energy register (not a phase's), in Wh."""
    return value.measurand == ENERGY_REGISTER and value.phase is None and value.unit == "Wh"


@dataclass(frozen=True, slots=True)
class Register:
    """A session's energy register as billed: the readings in order and what they delivered."""

    readings: tuple[MeterValue, ...]
    delivered_wh: Decimal
    backwards: tuple[tuple[MeterValue, MeterValue], ...]  # (before, after) steps not billed

    @property
    def kwh(self) -> Decimal:
        return self.delivered_wh / _KILO

    @property
    def last(self) -> MeterValue | None:
        return self.readings[-1] if self.readings else None

    def warnings(self) -> list[str]:
        """One line per step back, for the operator: what was not billed."""
        return [
            f"energy register went back from {before.value.normalize():f} Wh to "
            f"{after.value.normalize():f} Wh at {after.timestamp.isoformat()}: not billed"
            for before, after in self.backwards
        ]


def register_of(values: Iterable[MeterValue]) -> Register:
    """The register series of a session's meter values, the energy it delivered and its steps back."""
    readings = _series([v for v in values if is_register(v)])
    delivered = Decimal(0)
    backwards = []
    for before, after in pairwise(readings):
        step = after.value - before.value
        if step >= 0:
            delivered += step
        elif not _rounded(before.value, after.value):
            backwards.append((before, after))
    return Register(tuple(readings), delivered, tuple(backwards))


def _rounded(before: Decimal, after: Decimal) -> bool:
    """Whether a step back from ``before`` to ``after`` is one of them rounded to whole Wh."""
    whole = before == before.to_integral_value() or after == after.to_integral_value()
    return whole and before - after < 1


def billing_readings(values: Sequence[MeterValue]) -> list[MeterValue]:
    """The meter values as the pricing reads them: the register series and every other
    measurand, in time order (:func:`~intercarga.billing.periods.periods_from_meter_values`)."""
    series = _series([v for v in values if is_register(v)])
    others = [v for v in values if not is_register(v)]
    # A stable sort with the series first keeps its order where timestamps are equal.
    return sorted([*series, *others], key=lambda v: v.timestamp)


def _series(registers: list[MeterValue]) -> list[MeterValue]:
    begins = [v for v in registers if v.context == _BEGIN]
    ends = [v for v in registers if v.context == _END]
    between = sorted((v for v in registers if v.context not in (_BEGIN, _END)), key=_at)
    series = list(between)
    if begins:
        begin = min(begins, key=_at)  # min keeps the first of equal timestamps
        if series and begin.timestamp > series[0].timestamp:
            begin = begin.model_copy(update={"timestamp": series[0].timestamp})
        series.insert(0, begin)
    if ends:
        end = max(reversed(ends), key=_at)  # the last given of the latest timestamp
        if series and end.timestamp < series[-1].timestamp:
            end = end.model_copy(update={"timestamp": series[-1].timestamp})
        series.append(end)
    return series


def _at(value: MeterValue) -> datetime:
    return value.timestamp
