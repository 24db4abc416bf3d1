"""Pricing entry points on domain objects: a CDR or a session's charging periods, and a live estimate.

These wrap the loop in :mod:`intercarga.billing.engine` with the conversions from the domain
(:class:`ChargingPeriod`, :class:`MeterValue`, datetimes) and the currency rule: a tariff and a CDR
in different currencies are an input error, never a conversion. Pure; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from intercarga.billing.compiled import CompiledTariff
from intercarga.billing.engine import price_periods
from intercarga.billing.periods import (
    Period,
    PeriodRow,
    epoch_seconds,
    periods_from_meter_values,
    rows_from_charging_periods,
)
from intercarga.billing.result import CdrPricing, Price
from intercarga.domain.session import ChargingPeriod, MeterValue
from intercarga.errors import InvalidInputError

__all__ = ["Estimate", "PricedCdr", "estimate", "price_cdr", "price_session"]


def _same_currency(tariff: CompiledTariff, code: str) -> None:
    if code.upper() != tariff.currency.code:
        raise InvalidInputError(
            f"the tariff is in {tariff.currency.code} and the CDR in {code}", "currency"
        )


def price_session(
    tariff: CompiledTariff,
    charging_periods: Sequence[ChargingPeriod] | Sequence[Period],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    time_zone: str = "UTC",
    currency: str | None = None,
    reservation_expired: bool | None = None,
) -> CdrPricing:
    """Price charging periods (domain or already converted) that ran from ``start`` to ``end``."""
    if currency is not None:
        _same_currency(tariff, currency)
    periods: Sequence[PeriodRow]
    # A Period is a tuple and a ChargingPeriod is not: isinstance on tuple is a plain C check,
    # where on a pydantic model class it goes through ABCMeta's (pydantic's metaclass).
    if charging_periods and not isinstance(charging_periods[0], tuple):
        periods = rows_from_charging_periods(charging_periods)  # type: ignore[arg-type]
    else:
        periods = charging_periods  # type: ignore[assignment]
    return price_periods(
        tariff,
        periods,
        session_start=None if start is None else epoch_seconds(start),
        session_end=None if end is None else epoch_seconds(end),
        time_zone=time_zone,
        reservation_expired=reservation_expired,
    )


class PricedCdr(Protocol):
    """What :func:`price_cdr` reads: a domain :class:`Cdr` or a CDR excerpt."""

    @property
    def currency(self) -> str: ...
    @property
    def start_date_time(self) -> datetime: ...
    @property
    def end_date_time(self) -> datetime: ...
    @property
    def charging_periods(self) -> Sequence[ChargingPeriod]: ...


def price_cdr(tariff: CompiledTariff, cdr: PricedCdr, *, time_zone: str = "UTC") -> CdrPricing:
    """Price a CDR's charging periods with ``tariff`` (restrictions read in ``time_zone``)."""
    return price_session(
        tariff,
        cdr.charging_periods,
        start=cdr.start_date_time,
        end=cdr.end_date_time,
        time_zone=time_zone,
        currency=cdr.currency,
    )


@dataclass(frozen=True, slots=True)
class Estimate:
    """The cost so far at one meter value, as if the session ended then (settled amounts)."""

    timestamp: datetime
    energy: Decimal  # kWh delivered so far
    cost: Price
    pricing: CdrPricing


def estimate(
    tariff: CompiledTariff,
    meter_values: Sequence[MeterValue],
    *,
    start: datetime | None = None,
    time_zone: str = "UTC",
) -> list[Estimate]:
    """Cost so far at each energy reading after the first, for driver apps and the dashboard.

    Each estimate prices the session as if it stopped at that reading, so step_size, FLAT and
    min_price already count: what the driver would pay if they unplugged now.
    """
    periods = periods_from_meter_values(meter_values)
    session_start = epoch_seconds(start) if start is not None else None
    estimates: list[Estimate] = []
    energy = Decimal(0)
    for count, period in enumerate(periods, start=1):
        energy += period.energy
        pricing = price_periods(
            tariff,
            periods[:count],
            session_start=session_start,
            session_end=period.end,
            time_zone=time_zone,
        ).settled()
        at = datetime.fromtimestamp(period.end or period.start, UTC)
        estimates.append(Estimate(at, energy, pricing.total_cost, pricing))
    return estimates
