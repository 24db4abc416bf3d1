"""The engine against the worked examples of OCPI 2.2.1 (mod_tariffs, mod_cdrs) and its own rules.

Each test names the example it reproduces; amounts are the spec's, settled to cents unless said.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from intercarga.billing import (
    CdrPricing,
    CompiledTariff,
    compile_tariff,
    price_session,
    read_tariff_terms,
)
from intercarga.domain import CdrDimension, CdrDimensionType, ChargingPeriod
from intercarga.errors import InvalidInputError
from tests.billing.data import SPEC, tariff_from

D = Decimal


def spec_tariff(name: str, version: str = "2.2.1") -> CompiledTariff:
    return tariff_from(SPEC / version / name)


def tariff(*elements: dict[str, Any], **fields: Any) -> CompiledTariff:
    body = {"currency": "EUR", "elements": list(elements), **fields}
    return compile_tariff(read_tariff_terms(body))


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def period(start: str, **volumes: str | int) -> ChargingPeriod:
    return ChargingPeriod(
        start_date_time=at(start),
        dimensions=[
            CdrDimension(type=CdrDimensionType(k), volume=D(v)) for k, v in volumes.items()
        ],
    )


def price(
    compiled: CompiledTariff,
    start: str,
    end: str,
    *periods: ChargingPeriod,
    zone: str = "UTC",
    **options: Any,
) -> CdrPricing:
    return price_session(
        compiled, list(periods), start=at(start), end=at(end), time_zone=zone, **options
    ).settled()


def totals(pricing: CdrPricing) -> tuple[Decimal, Decimal]:
    return pricing.total_cost.before_taxes, pricing.total_cost.after_taxes


# --- mod_tariffs examples --------------------------------------------------------------------


def test_parking_and_start_fee_40_minutes_billed_as_45() -> None:
    """€0.25/kWh + parking + start fee: 20 kWh, parked 40 min → € 7.00 / € 7.90."""
    pricing = price(
        spec_tariff("tariff_10_025kwh_parking_start.json"),
        "2025-01-13T10:00:00Z",
        "2025-01-13T11:40:00Z",
        period("2025-01-13T10:00:00Z", ENERGY=20, TIME=1),
        period("2025-01-13T11:00:00Z", PARKING_TIME="0.6667"),
    )
    assert totals(pricing) == (D("7.00"), D("7.90"))
    assert pricing.total_parking_cost.before_taxes == D("1.50")


@pytest.mark.parametrize(("kwh", "expected"), [(50, ("10.00", "11.00")), (30, ("8.00", "8.85"))])
def test_max_price(kwh: int, expected: tuple[str, str]) -> None:
    """€0.25/kWh + start fee + max price € 10 / € 11: 50 kWh → 10 / 11; 30 kWh → 8.00 / 8.85."""
    pricing = price(
        spec_tariff("tariff_6_025kwh_start_max_price.json"),
        "2019-01-13T10:00:00Z",
        "2019-01-13T12:00:00Z",
        period("2019-01-13T10:00:00Z", ENERGY=kwh),
    )
    assert totals(pricing) == (D(expected[0]), D(expected[1]))
    assert pricing.limit == ("max_price" if kwh == 50 else None)


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_min_price_below_2_kwh(version: str) -> None:
    """€0.25/kWh + min price: 20 kWh → 5.00 / 5.50; 1.5 kWh → 0.50 / 0.55."""
    compiled = spec_tariff("tariff_12_025kwh_min_price.json", version)
    start, end = "2025-01-13T10:00:00Z", "2025-01-13T11:00:00Z"
    assert totals(price(compiled, start, end, period(start, ENERGY=20))) == (D("5.00"), D("5.50"))
    small = price(compiled, start, end, period(start, ENERGY="1.5"))
    assert totals(small) == (D("0.50"), D("0.55"))
    assert small.total_cost.taxes[0].amount == D("0.05")  # taxes follow the limited price


def test_two_hours_and_a_half_at_2_euro() -> None:
    """€2/hour, step 60 s: 2.5 h → 5.00 / 5.50."""
    start = "2025-01-13T10:00:00Z"
    pricing = price(
        spec_tariff("tariff_1_simple_2hour.json"),
        start,
        "2025-01-13T12:30:00Z",
        period(start, TIME="2.5"),
    )
    assert totals(pricing) == (D("5.00"), D("5.50"))


def test_alt_text_tariff_vat_5_2_percent() -> None:
    """€1.90/hour, 5.2 % VAT, step 300 s: 2.5 h → 4.75 / 5.00."""
    start = "2025-01-13T10:00:00Z"
    pricing = price(
        spec_tariff("tariff_2_alt_text.json"),
        start,
        "2025-01-13T12:30:00Z",
        period(start, TIME="2.5"),
    )
    assert totals(pricing) == (D("4.75"), D("5.00"))


def test_alt_url_energy_step_100_wh() -> None:
    """Start fee + €0.25/kWh billed per 0.1 kWh: 20.45 kWh billed as 20.5 → 5.63 / 6.24."""
    start = "2025-01-13T10:00:00Z"
    pricing = price(
        spec_tariff("tariff_3_alt_url.json"),
        start,
        "2025-01-13T11:00:00Z",
        period(start, ENERGY="20.45"),
    )
    assert totals(pricing) == (D("5.63"), D("6.24"))
    assert pricing.total_energy_cost == (D("5.13"), D("5.64"), pricing.total_energy_cost.taxes)
    step = [line for line in pricing.lines if line.kind == "step_size"]
    assert step[0].volume == D("0.05")


def test_complex_tariff_monday_morning() -> None:
    """Monday 09:30, 165 min at ≤ 16 A, then 42 min parking → 9.00 / 10.30."""
    pricing = price(
        spec_tariff("tariff_4_complex.json"),
        "2025-01-13T09:30:00Z",
        "2025-01-13T12:57:00Z",
        period("2025-01-13T09:30:00Z", TIME="2.75", MAX_CURRENT=16),
        period("2025-01-13T12:15:00Z", PARKING_TIME="0.7"),
    )
    assert totals(pricing) == (D("9.00"), D("10.30"))
    assert pricing.total_parking_cost.before_taxes == D("3.75")  # 45 minutes


def test_complex_tariff_saturday_afternoon() -> None:
    """Saturday 13:30, 114 min at ≥ 43 A, then 71 min parking.

    The spec prints € 12.28 / € 13.861, but its own breakdown line "114 minutes at 1.25 per hour
    = 2.28" is an arithmetic slip (1.9 h × 1.25 = 2.375). With that line corrected the spec's
    method gives 2.50 + 2.375 + 7.50 = 12.375 → 12.38, and 2.875 + 2.85 + 8.25 = 13.975 → 13.98.
    """
    pricing = price(
        spec_tariff("tariff_4_complex.json"),
        "2025-01-18T13:30:00Z",
        "2025-01-18T16:35:00Z",
        period("2025-01-18T13:30:00Z", TIME="1.9", MIN_CURRENT=43, MAX_CURRENT=43),
        period("2025-01-18T15:24:00Z", PARKING_TIME="1.1833"),
    )
    assert pricing.total_time_cost.before_taxes == D("2.38")  # 2.375 rounded once, half up
    assert pricing.total_parking_cost.before_taxes == D("7.50")  # 75 minutes at € 6
    assert totals(pricing) == (D("12.38"), D("13.98"))


def test_free_of_charge() -> None:
    start = "2025-01-13T10:00:00Z"
    pricing = price(
        spec_tariff("tariff_5_free_of_charge.json"),
        start,
        "2025-01-13T11:00:00Z",
        period(start, ENERGY=20, TIME=1),
    )
    assert totals(pricing) == (D("0.00"), D("0.00"))
    assert pricing.warnings == ()


def test_reservation_5_euro_per_hour() -> None:
    """Reservation 15 min at € 5/h + start fee + 20 kWh → 6.75 / 7.60."""
    pricing = price(
        spec_tariff("tariff_15_reservation_5_euro_per_hour.json"),
        "2025-01-13T10:00:00Z",
        "2025-01-13T11:15:00Z",
        period("2025-01-13T10:00:00Z", RESERVATION_TIME="0.25"),
        period("2025-01-13T10:15:00Z", ENERGY=20, TIME=1),
    )
    assert totals(pricing) == (D("6.75"), D("7.60"))
    assert pricing.total_reservation_cost.before_taxes == D("1.25")
    assert pricing.total_fixed_cost.before_taxes == D("0.50")


def test_reservation_fee_and_13_minutes_billed_as_15() -> None:
    """Reservation fee € 2 + € 5/h per 5 min, 13 min, + start fee + 20 kWh → 8.75 / 10.00."""
    pricing = price(
        spec_tariff("tariff_16_reservation_2_euro_fee_5_euro_per_hour.json"),
        "2025-01-13T10:00:00Z",
        "2025-01-13T11:13:00Z",
        period("2025-01-13T10:00:00Z", RESERVATION_TIME="0.2167"),
        period("2025-01-13T10:13:00Z", ENERGY=20, TIME=1),
    )
    assert totals(pricing) == (D("8.75"), D("10.00"))
    assert pricing.total_reservation_cost.before_taxes == D("3.25")


@pytest.mark.parametrize(
    ("name", "used", "expired"),
    [
        ("tariff_17_reservation_with_expire_fee.json", ("6.50", "7.30"), ("6.00", "7.20")),
        ("tariff_18_reservation_with_expire_time.json", ("7.00", "7.90"), ("9.00", "10.80")),
    ],
)
def test_reservations_used_and_expired(
    name: str, used: tuple[str, str], expired: tuple[str, str]
) -> None:
    """Examples 17 and 18: 22 min reservation then 20 kWh; or the reservation expires."""
    compiled = spec_tariff(name)
    charged = price(
        compiled,
        "2025-01-13T10:00:00Z",
        "2025-01-13T11:22:00Z",
        period("2025-01-13T10:00:00Z", RESERVATION_TIME="0.3667"),
        period("2025-01-13T10:22:00Z", ENERGY=20, TIME=1),
    )
    assert totals(charged) == (D(used[0]), D(used[1]))
    hours = "1" if "17" in name else "1.5"
    unused = price(
        compiled,
        "2025-01-13T10:00:00Z",
        "2025-01-13T11:30:00Z" if hours == "1.5" else "2025-01-13T11:00:00Z",
        period("2025-01-13T10:00:00Z", RESERVATION_TIME=hours),
    )
    assert totals(unused) == (D(expired[0]), D(expired[1]))
    assert unused.total_fixed_cost.before_taxes == D("0.00")  # no session, no start fee


def test_max_power_restriction_example() -> None:
    """1 kWh at 6 kW, 40 kWh at 48 kW, 0.5 kWh at 4 kW → € 20.30."""
    pricing = price(
        spec_tariff("tariffrestriction_example_max_power.json"),
        "2025-01-13T10:00:00Z",
        "2025-01-13T11:10:00Z",
        period("2025-01-13T10:00:00Z", ENERGY=1, MAX_POWER=6),
        period("2025-01-13T10:10:00Z", ENERGY=40, MAX_POWER=48),
        period("2025-01-13T11:00:00Z", ENERGY="0.5", MAX_POWER=4),
    )
    assert pricing.total_cost.before_taxes == D("20.30")


def test_max_duration_restriction_example() -> None:
    """40 min session: 5 kWh in the first 30 min (free), 1.2 kWh after at € 0.25 → € 0.30."""
    pricing = price(
        spec_tariff("tariffrestriction_example_max_duration.json"),
        "2025-01-13T10:00:00Z",
        "2025-01-13T10:40:00Z",
        period("2025-01-13T10:00:00Z", ENERGY=5),
        period("2025-01-13T10:30:00Z", ENERGY="1.2"),
    )
    assert pricing.total_cost.before_taxes == D("0.30")


def test_max_duration_splits_one_long_period() -> None:
    """The same session as ONE period of 6.2 kWh over 40 min: the engine cuts it at 30 min."""
    pricing = price(
        spec_tariff("tariffrestriction_example_max_duration.json"),
        "2025-01-13T10:00:00Z",
        "2025-01-13T10:40:00Z",
        period("2025-01-13T10:00:00Z", ENERGY="6.2"),
    )
    # 3/4 of the energy (4.65 kWh) is free, 1.55 kWh at € 0.25.
    assert pricing.exact.total_cost.before_taxes == D("0.3875")
    assert [line.start for line in pricing.lines] == [1736762400, 1736764200]


# --- step_size examples (mod_tariffs TariffElement, mod_cdrs step_size) -----------------------


def test_step_size_switching_element_2() -> None:
    """16:35, 35 min of charging: 25 min at € 1.20, 20 min (10 + step) at € 2.40 → € 1.30."""
    pricing = price(
        spec_tariff("tariff_14_step_size.json"),
        "2025-01-13T16:35:00Z",
        "2025-01-13T17:10:00Z",
        period("2025-01-13T16:35:00Z", TIME="0.5833"),
    )
    assert pricing.total_cost.before_taxes == D("1.30")


def test_step_size_switching_to_free_parking() -> None:
    """19:40, 12 min charging, 20 min parking of which 8 are billable → 15 min: € 0.73."""
    pricing = price(
        spec_tariff("tariff_14_step_size.json"),
        "2025-01-13T19:40:00Z",
        "2025-01-13T20:12:00Z",
        period("2025-01-13T19:40:00Z", TIME="0.2"),
        period("2025-01-13T19:52:00Z", PARKING_TIME="0.3333"),
    )
    assert pricing.total_cost.before_taxes == D("0.73")
    assert pricing.total_parking_cost.before_taxes == D("0.25")
    assert len(pricing.warnings) == 1 and "PARKING_TIME" in pricing.warnings[0]


def test_step_size_uses_the_session_total_of_energy() -> None:
    """mod_cdrs: 4.3 kWh before 17:00 at 0.20 and 1.1 after at 0.27, step 500 Wh: 5.4 → 5.5."""
    compiled = tariff(
        {
            "price_components": [{"type": "ENERGY", "price": "0.20", "step_size": 500}],
            "restrictions": {"end_time": "17:00"},
        },
        {"price_components": [{"type": "ENERGY", "price": "0.27", "step_size": 500}]},
    )
    pricing = price(
        compiled,
        "2025-01-13T16:00:00Z",
        "2025-01-13T18:00:00Z",
        period("2025-01-13T16:00:00Z", ENERGY="4.3"),
        period("2025-01-13T17:00:00Z", ENERGY="1.1"),
    )
    assert pricing.exact.total_cost.before_taxes == D("0.86") + D("1.2") * D("0.27")


def test_step_size_uses_the_session_total_of_time() -> None:
    """mod_cdrs: 6 min before 17:00 at € 5/h, 22 after at € 7/h, step 10 min → 24 min after."""
    compiled = tariff(
        {
            "price_components": [{"type": "TIME", "price": 5, "step_size": 600}],
            "restrictions": {"end_time": "17:00"},
        },
        {"price_components": [{"type": "TIME", "price": 7, "step_size": 600}]},
    )
    pricing = price(
        compiled,
        "2025-01-13T16:54:00Z",
        "2025-01-13T17:22:00Z",
        period("2025-01-13T16:54:00Z", TIME="0.1"),
        period("2025-01-13T17:00:00Z", TIME="0.3667"),
    )
    assert pricing.total_cost.before_taxes == D("3.30")  # 0.50 + 24 min × € 7/h


def test_step_size_with_parking_rounds_parking_only() -> None:
    """mod_cdrs: charge 21 min at € 1/h, parked 16 min at € 2/h, step 10 min: 21 + 20 min."""
    compiled = tariff(
        {
            "price_components": [
                {"type": "TIME", "price": 1, "step_size": 600},
                {"type": "PARKING_TIME", "price": 2, "step_size": 600},
            ]
        }
    )
    pricing = price(
        compiled,
        "2025-01-13T10:00:00Z",
        "2025-01-13T10:37:00Z",
        period("2025-01-13T10:00:00Z", TIME="0.35"),
        period("2025-01-13T10:21:00Z", PARKING_TIME="0.2667"),
    )
    assert pricing.exact.total_time_cost.before_taxes == D("0.35")
    assert pricing.total_parking_cost.before_taxes == D("0.67")  # 20 min at € 2/h


def test_a_little_parking_moves_the_time_step_to_parking() -> None:
    """mod_cdrs: with parking, only parking is rounded. So 1 min of charging at € 0.60/h, step
    5 min, costs € 0.05 alone but € 0.01 when a minute of free, unrounded parking follows —
    the one way a longer session can cost less (found by the property tests; docs/pricing.md)."""
    compiled = tariff(
        {
            "price_components": [
                {"type": "TIME", "price": "0.60", "step_size": 300},
                {"type": "PARKING_TIME", "price": 0, "step_size": 0},
            ]
        }
    )
    start = "2025-01-13T10:00:00Z"
    alone = price(compiled, start, "2025-01-13T10:01:00Z", period(start, TIME="0.0166667"))
    parked = price(
        compiled,
        start,
        "2025-01-13T10:02:00Z",
        period(start, TIME="0.0166667"),
        period("2025-01-13T10:01:00Z", PARKING_TIME="0.0166667"),
    )
    assert alone.total_cost.before_taxes == D("0.05")
    assert parked.total_cost.before_taxes == D("0.01")


def test_step_size_1_wh_bills_whole_watt_hours() -> None:
    """PriceComponent note: 115.2 Wh with step 1 → 116 Wh; step 25 → 125 Wh; 500 → 500 Wh."""
    start, end = "2025-01-13T10:00:00Z", "2025-01-13T10:10:00Z"
    for step, billed in ((1, "0.116"), (25, "0.125"), (500, "0.5")):
        compiled = tariff(
            {"price_components": [{"type": "ENERGY", "price": "0.25", "step_size": step}]}
        )
        pricing = price(compiled, start, end, period(start, ENERGY="0.1152"))
        assert pricing.exact.total_cost.before_taxes == D(billed) * D("0.25")


# --- restrictions and the engine's own rules -------------------------------------------------


def test_time_window_across_midnight() -> None:
    """22:00–06:00 wraps to the next day; one 20:00–08:00 period is cut at 22:00 and 06:00."""
    compiled = tariff(
        {
            "price_components": [{"type": "ENERGY", "price": "0.10", "step_size": 1}],
            "restrictions": {"start_time": "22:00", "end_time": "06:00"},
        },
        {"price_components": [{"type": "ENERGY", "price": "0.30", "step_size": 1}]},
    )
    pricing = price(
        compiled,
        "2025-01-13T20:00:00Z",
        "2025-01-14T08:00:00Z",
        period("2025-01-13T20:00:00Z", ENERGY=12),
    )
    # 2 h + 2 h at 0.30, 8 h at 0.10, 1 kWh an hour.
    assert pricing.total_cost.before_taxes == D("2.00")
    assert [line.component.element for line in pricing.lines if line.component] == [1, 0, 1]


def test_end_time_midnight_means_end_of_day() -> None:
    compiled = tariff(
        {
            "price_components": [{"type": "TIME", "price": 4, "step_size": 1}],
            "restrictions": {"start_time": "20:00", "end_time": "00:00"},
        },
        {"price_components": [{"type": "TIME", "price": 1, "step_size": 1}]},
    )
    pricing = price(
        compiled,
        "2025-01-13T19:00:00Z",
        "2025-01-14T01:00:00Z",
        period("2025-01-13T19:00:00Z", TIME=6),
    )
    assert pricing.total_cost.before_taxes == D("18.00")  # 1 + 4 × 4 + 1


def test_day_of_week_and_dates_are_local() -> None:
    """Sunday 23:30 in Santiago is Monday 02:30 UTC: a Sunday-only price still applies."""
    compiled = tariff(
        {
            "price_components": [{"type": "ENERGY", "price": "0.10", "step_size": 1}],
            "restrictions": {
                "day_of_week": ["SUNDAY"],
                "start_date": "2025-01-12",
                "end_date": "2025-01-13",
            },
        },
        {"price_components": [{"type": "ENERGY", "price": "0.30", "step_size": 1}]},
    )
    start, end = "2025-01-13T02:30:00Z", "2025-01-13T03:30:00Z"
    local = price(compiled, start, end, period(start, ENERGY=10), zone="America/Santiago")
    utc = price(compiled, start, end, period(start, ENERGY=10), zone="UTC")
    assert local.total_cost.before_taxes == D("0.50") + D("1.50")  # cut at local midnight
    assert utc.total_cost.before_taxes == D("3.00")


def test_kwh_restriction_cuts_inside_a_period() -> None:
    """first_hour_kwh_free's energy part: the first kWh free, then € 0.20 — in one period."""
    compiled = tariff_from(SPEC.parent / "ocpi-tariff-cases/first_hour_kwh_free/tariff.json")
    start = "2025-01-13T10:00:00Z"
    pricing = price(compiled, start, "2025-01-13T11:00:00Z", period(start, ENERGY=11))
    assert pricing.total_cost.before_taxes == D("2.00")


def test_min_current_unknown_is_taken_as_met_and_said() -> None:
    compiled = spec_tariff("tariff_4_complex.json")
    start = "2025-01-13T10:00:00Z"
    pricing = price(compiled, start, "2025-01-13T11:00:00Z", period(start, TIME=1))
    time_line = next(line for line in pricing.lines if line.dimension == "TIME")
    assert time_line.component is not None and time_line.component.element == 1
    from intercarga.billing.explain import why

    assert "current not reported for this period: taken as met" in why(time_line, pricing)
    # The same reasons in the dashboard's other languages.
    spanish = why(time_line, pricing, "es")
    assert "corriente no informado en este período: se da por cumplido" in spanish
    assert spanish.startswith("elements[1] aplica (")
    assert why(time_line, pricing, "pt").startswith("elements[1] se aplica (")


def test_average_power_is_derived_from_energy_and_time() -> None:
    """No power dimension: 30 kWh in 0.5 h is 60 kW, above the 32 kW limit of element 2."""
    pricing = price(
        spec_tariff("tariffrestriction_example_max_power.json"),
        "2025-01-13T10:00:00Z",
        "2025-01-13T10:30:00Z",
        period("2025-01-13T10:00:00Z", ENERGY=30, TIME="0.5"),
    )
    assert pricing.total_cost.before_taxes == D("15.00")


def test_unpriced_dimension_is_free_with_a_warning() -> None:
    compiled = tariff(
        {
            "price_components": [{"type": "ENERGY", "price": "0.30", "step_size": 1}],
            "restrictions": {"max_kwh": 10},
        }
    )
    start = "2025-01-13T10:00:00Z"
    pricing = price(compiled, start, "2025-01-13T11:00:00Z", period(start, ENERGY=25))
    assert pricing.total_cost.before_taxes == D("3.00")
    assert pricing.warnings == (
        "charging period 0: no element prices ENERGY from 2025-01-13T10:24:00Z; 15 kWh of it is"
        " free",
    )
    assert [line.kind for line in pricing.lines] == ["charge", "unpriced"]


def test_flat_fee_is_charged_once_when_first_active() -> None:
    compiled = tariff(
        {
            "price_components": [{"type": "FLAT", "price": 3, "step_size": 0}],
            "restrictions": {"min_kwh": 20},
        },
        {"price_components": [{"type": "ENERGY", "price": "0.10", "step_size": 1}]},
    )
    start = "2025-01-13T10:00:00Z"
    big = price(compiled, start, "2025-01-13T12:00:00Z", period(start, ENERGY=15),
                period("2025-01-13T11:00:00Z", ENERGY=15))  # fmt: skip
    small = price(compiled, start, "2025-01-13T11:00:00Z", period(start, ENERGY=15))
    assert big.total_fixed_cost.before_taxes == D("3.00")
    assert small.total_fixed_cost.before_taxes == D("0.00")
    assert big.total_cost.before_taxes == D("6.00")


def test_tax_included_yes_splits_the_price() -> None:
    compiled = tariff(
        {"price_components": [{"type": "ENERGY", "price": "1.19", "vat": 19, "step_size": 1}]},
        tax_included="YES",
    )
    start = "2025-01-13T10:00:00Z"
    pricing = price(compiled, start, "2025-01-13T11:00:00Z", period(start, ENERGY=10))
    assert totals(pricing) == (D("10.00"), D("11.90"))
    assert pricing.total_cost.taxes[0].amount == D("1.90")


def test_tax_included_yes_without_a_rate_and_not_applicable() -> None:
    start = "2025-01-13T10:00:00Z"
    inclusive = tariff_from(SPEC / "2.3.0" / "tariff_20_simple_north_american_inclusive.json")
    pricing = price(inclusive, start, "2025-01-13T12:30:00Z", period(start, TIME="2.5"))
    assert totals(pricing) == (D("5.25"), D("5.25"))
    assert "unknown rate" in pricing.warnings[0]
    exempt = tariff(
        {"price_components": [{"type": "TIME", "price": 2, "vat": 10, "step_size": 1}]},
        tax_included="N/A",
    )
    assert totals(price(exempt, start, "2025-01-13T11:00:00Z", period(start, TIME=1))) == (
        D("2.00"),
        D("2.00"),
    )


def test_min_price_without_after_taxes_scales_the_taxes() -> None:
    compiled = tariff(
        {"price_components": [{"type": "ENERGY", "price": "0.25", "vat": 10, "step_size": 1}]},
        min_price={"excl_vat": 1},
    )
    start = "2025-01-13T10:00:00Z"
    pricing = price(compiled, start, "2025-01-13T11:00:00Z", period(start, ENERGY=2))
    assert totals(pricing) == (D("1.00"), D("1.10"))


def test_currencies_must_match() -> None:
    compiled = tariff({"price_components": [{"type": "TIME", "price": 1, "step_size": 1}]})
    with pytest.raises(
        InvalidInputError, match="currency: the tariff is in EUR and the CDR in COP"
    ):
        price_session(compiled, [period("2025-01-13T10:00:00Z", TIME=1)], currency="COP")


def test_periods_out_of_order_name_the_period() -> None:
    compiled = tariff({"price_components": [{"type": "TIME", "price": 1, "step_size": 1}]})
    with pytest.raises(InvalidInputError, match=r"charging_periods\[0\]\.start_date_time"):
        price_session(
            compiled,
            [period("2025-01-13T11:00:00Z", TIME=1), period("2025-01-13T10:00:00Z", TIME=1)],
        )


def test_breakdown_lines_sum_to_the_dimension_totals() -> None:
    pricing = price(
        spec_tariff("tariff_4_complex.json"),
        "2025-01-13T09:30:00Z",
        "2025-01-13T12:57:00Z",
        period("2025-01-13T09:30:00Z", TIME="2.75", MAX_CURRENT=16),
        period("2025-01-13T12:15:00Z", PARKING_TIME="0.7"),
    )
    exact = pricing.exact
    by_dimension: dict[str, Decimal] = {}
    for line in exact.lines:
        by_dimension[line.dimension] = by_dimension.get(line.dimension, D(0)) + line.cost
    assert by_dimension["FLAT"] == exact.total_fixed_cost.before_taxes
    assert by_dimension["TIME"] == exact.total_time_cost.before_taxes
    assert by_dimension["PARKING_TIME"] == exact.total_parking_cost.before_taxes


def test_settled_is_rounded_once_from_the_exact_amounts() -> None:
    compiled = tariff(
        {"price_components": [{"type": "ENERGY", "price": "0.3333", "vat": 19, "step_size": 1}]},
        currency="CLP",
    )
    start = "2025-01-13T10:00:00Z"
    pricing = price_session(
        compiled, [period(start, ENERGY="1.5")], start=at(start), end=at("2025-01-13T11:00:00Z")
    )
    assert pricing.total_cost.before_taxes == D("0.49995")
    settled = pricing.settled()
    assert settled.total_cost.before_taxes == D("0")  # CLP: 0 decimals, half up
    assert settled.total_cost.after_taxes == D("1")  # 0.5949405 → 1, never from a rounded net
    assert settled.settled() is settled and settled.exact is pricing
