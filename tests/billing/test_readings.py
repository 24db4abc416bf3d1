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
