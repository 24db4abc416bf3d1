"""Pricing entry points: domain periods or converted ones, and the live estimate from meter values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from intercarga.billing import (
    Period,
    estimate,
    periods_from_charging_periods,
    periods_from_meter_values,
    price_session,
)
from intercarga.domain import CdrDimension, CdrDimensionType, ChargingPeriod, MeterValue
from intercarga.errors import InvalidInputError
from tests.billing.data import LAC, SPEC, tariff_from

D = Decimal
START = datetime(2025, 3, 10, 17, 0, tzinfo=UTC)  # 14:00 in São Paulo


def reading(minutes: int, wh: int, measurand: str = "Energy.Active.Import.Register",
            unit: str = "Wh") -> MeterValue:  # fmt: skip
    return MeterValue(
        timestamp=START + timedelta(minutes=minutes), measurand=measurand, value=D(wh), unit=unit
    )


def test_meter_values_become_charging_and_parking_periods() -> None:
    values = [
        reading(0, 1000),
        reading(0, 22, "Power.Active.Import", "kW"),
        reading(30, 12000),
        reading(30, 20000, "Power.Active.Import", "W"),
        reading(60, 21000),
        reading(90, 21000),
    ]
    periods = periods_from_meter_values(values)
    assert [(p.energy, p.time, p.parking) for p in periods] == [
        (D(11), D("0.5"), D(0)),
        (D(9), D("0.5"), D(0)),
        (D(0), D(0), D("0.5")),  # no energy after some was delivered: parking
    ]
    assert (periods[0].min_power, periods[0].max_power) == (D(20), D(22))
    assert periods[1].max_power == D(20)  # the sample at 30 min
    assert periods[2].max_power is None  # parked: no sample, no average


def test_meter_values_in_an_unknown_unit() -> None:
    with pytest.raises(InvalidInputError, match=r"meter_values\.unit"):
        periods_from_meter_values([reading(0, 1, unit="MWh"), reading(5, 2, unit="MWh")])


def test_live_estimate_at_each_reading() -> None:
    """São Paulo idle-fee tariff: energy at BRL 2.10/kWh, then parking per 5 min."""
    tariff = tariff_from(LAC / "sao_paulo_parking" / "tariff.json")
    values = [reading(0, 0), reading(30, 11000), reading(60, 20000), reading(63, 20000)]
    estimates = estimate(tariff, values, time_zone="America/Sao_Paulo")
    assert [e.timestamp for e in estimates] == [START + timedelta(minutes=m) for m in (30, 60, 63)]
    assert [e.cost.before_taxes for e in estimates] == [D("23.10"), D("42.00"), D("43.00")]
    assert estimates[-1].energy == D(20)
    # Three minutes of parking are already billed as five (step 300 s): what unplugging now costs.
    assert estimates[-1].pricing.total_parking_cost.before_taxes == D("1.00")


def test_estimate_of_a_session_with_a_start_fee_before_any_energy() -> None:
    tariff = tariff_from(SPEC / "2.2.1" / "tariff_9_025kwh_start.json")
    estimates = estimate(tariff, [reading(0, 500), reading(1, 500), reading(2, 1500)])
    assert [e.cost.before_taxes for e in estimates] == [D("0.50"), D("0.75")]


def test_converted_periods_price_the_same_as_domain_periods() -> None:
    tariff = tariff_from(SPEC / "2.2.1" / "tariff_4_complex.json")
    periods = [
        ChargingPeriod(
            start_date_time=START,
            dimensions=[
                CdrDimension(type=CdrDimensionType.TIME, volume=D(1)),
                CdrDimension(type=CdrDimensionType.MAX_CURRENT, volume=D(16)),
            ],
        )
    ]
    end = START + timedelta(hours=1)
    direct = price_session(tariff, periods, start=START, end=end)
    converted = price_session(tariff, periods_from_charging_periods(periods), start=START, end=end)
    assert (
        direct.total_cost
        == converted.total_cost
        == (D("3.50"), D("4.075"), direct.total_cost.taxes)
    )


def _period(*dimensions: tuple[str, str]) -> Period:
    charging = ChargingPeriod(
        start_date_time=START,
        dimensions=[CdrDimension(type=CdrDimensionType(t), volume=D(v)) for t, v in dimensions],
    )
    return periods_from_charging_periods([charging])[0]


def test_what_pricing_reads_from_a_charging_period() -> None:
    # A dimension given twice is added up; power falls back to ENERGY / TIME where not reported.
    period = _period(("ENERGY", "10"), ("ENERGY", "2.5"), ("TIME", "0.5"), ("MAX_POWER", "30"))
    assert period == Period(
        start=int(START.timestamp()),
        energy=D("12.5"),
        time=D("0.5"),
        min_power=D(25),
        max_power=D(30),
        has_energy=True,
    )
    # Imported less exported energy; average current for both bounds; parking only.
    period = _period(("ENERGY_IMPORT", "1E+1"), ("ENERGY_EXPORT", "4"), ("CURRENT", "16"))
    assert (str(period.energy), period.min_current, period.max_current) == ("6", 16, 16)
    period = _period(("ENERGY_IMPORT", "1E+1"))  # nothing exported: 1E+1 - 0, digits as before
    assert str(period.energy) == "10"
    period = _period(("PARKING_TIME", "0.25"), ("STATE_OF_CHARGE", "80"))
    assert (period.parking, period.has_energy, period.session, period.reserved) == (
        D("0.25"), False, True, False,
    )  # fmt: skip
    # Reservation time alone is no session; with any other dimension it is.
    period = _period(("RESERVATION_TIME", "0.5"))
    assert (period.reservation, period.session, period.reserved) == (D("0.5"), False, True)
    period = _period(("RESERVATION_TIME", "0.5"), ("STATE_OF_CHARGE", "80"))
    assert (period.session, period.reserved) == (True, True)
