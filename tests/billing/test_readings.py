"""The register readings a session is billed from: one begin, the readings between, one end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from intercarga.billing import periods_from_meter_values
from intercarga.billing.readings import billing_readings, register_of
from intercarga.domain import MeterValue

START = datetime(2025, 3, 10, 17, 0, tzinfo=UTC)


def reading(minutes: int, wh: int, context: str | None = "Sample.Periodic") -> MeterValue:
    return MeterValue(
        timestamp=START + timedelta(minutes=minutes), value=Decimal(wh), context=context
    )


def test_a_begin_reading_stamped_late_still_opens_the_series() -> None:
    """A 1.6 StopTransaction's transactionData stamped at the stop: its begin restates meterStart."""
    values = [
        reading(0, 1000, "Transaction.Begin"),  # meterStart
        reading(10, 3000),
        reading(20, 5000),
        reading(30, 1000, "Transaction.Begin"),
        reading(30, 6000, "Transaction.End"),
    ]
    register = register_of(values)
    assert [r.value for r in register.readings] == [1000, 3000, 5000, 6000]
    assert register.kwh == 5
    assert register.backwards == ()
    periods = periods_from_meter_values(billing_readings(values))
    assert sum(p.energy for p in periods) == 5


def test_the_last_end_reading_given_wins() -> None:
    values = [
        reading(0, 1000, "Transaction.Begin"),
        reading(5, 6500, "Transaction.End"),
        reading(5, 6000, "Transaction.End"),  # meterStop, given last
    ]
    assert register_of(values).kwh == 5


def test_steps_back_are_not_billed_and_are_named() -> None:
    values = [reading(0, 5_000_000, "Transaction.Begin"), reading(9, 1000, "Transaction.End")]
    register = register_of(values)
    assert register.kwh == 0
    assert register.warnings() == [
        "energy register went back from 5000000 Wh to 1000 Wh at "
        "2025-03-10T17:09:00+00:00: not billed"
    ]
    periods = periods_from_meter_values(billing_readings(values))
    assert [p.energy for p in periods] == [0]


def test_energy_is_the_sum_of_the_steps_forward() -> None:
    values = [reading(0, 1000), reading(1, 3000), reading(2, 500), reading(3, 2500)]
    assert register_of(values).kwh == 4
    assert len(register_of(values).backwards) == 1


def test_a_meter_stop_rounding_the_last_reading_down_is_not_a_step_back() -> None:
    """1.6 meterStop is whole Wh: a station whose last periodic reading said 1032586.1 Wh, and
    that delivered nothing more before it stopped, sends meterStop 1032586. Seen in the crash
    test: the step back is not billed (energy stays the readings' own), and it is no register
    going back, so the operator is not told one did."""
    at = START + timedelta(minutes=30)
    values = [
        reading(0, 1031676, "Transaction.Begin"),  # meterStart
        MeterValue(timestamp=at, value=Decimal("1032586.1"), context="Sample.Periodic"),
        MeterValue(timestamp=at, value=Decimal("1032586.1"), context="Transaction.End"),
        MeterValue(timestamp=at, value=Decimal(1032586), context="Transaction.End"),  # meterStop
    ]
    register = register_of(values)
    assert register.kwh == Decimal("0.9101")
    assert register.warnings() == []


def test_a_step_back_of_less_than_a_wh_between_readings_with_decimals_is_named() -> None:
    values = [
        MeterValue(timestamp=START, value=Decimal("1000.5")),
        MeterValue(timestamp=START + timedelta(minutes=1), value=Decimal("999.7")),
    ]
    assert len(register_of(values).backwards) == 1
