"""The power curve: limits, ramp, taper and what the meter and battery see."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intercarga.sim.power import (
    ChargePoint,
    ChargingState,
    Current,
    Vehicle,
    advance,
    power_limit_w,
    power_w,
)


def test_ac_power_is_limited_by_phases_amps_and_the_onboard_charger() -> None:
    car = Vehicle(max_ac_kw=11)
    assert power_limit_w(ChargePoint(phases=1, amps=32), car) == pytest.approx(7360)
    assert power_limit_w(ChargePoint(phases=3, amps=16), car) == pytest.approx(11000)
    assert power_limit_w(ChargePoint(phases=3, amps=10), car) == pytest.approx(6900)
    # A car with a single-phase on-board charger draws on one phase of a three-phase point.
    single = Vehicle(max_ac_kw=7.4, ac_phases=1)
    assert power_limit_w(ChargePoint(phases=3, amps=32), single) == pytest.approx(7360)


def test_dc_power_is_the_lower_of_charger_and_car() -> None:
    assert power_limit_w(ChargePoint(Current.DC, max_kw=50), Vehicle(max_dc_kw=100)) == 50_000
    assert power_limit_w(ChargePoint(Current.DC, max_kw=150), Vehicle(max_dc_kw=100)) == 100_000


def test_power_ramps_up_then_holds_then_tapers_above_80_percent() -> None:
    point = ChargePoint(Current.DC, max_kw=50)
    car = Vehicle(soc=30)
    assert power_w(point, car, 0) == 0
    assert power_w(point, car, 15) == pytest.approx(25_000)  # half way up the 30 s ramp
    assert power_w(point, car, 600) == pytest.approx(50_000)
    tapering = [power_w(point, Vehicle(soc=soc), 600) for soc in (80, 85, 90, 95, 99)]
    assert tapering == sorted(tapering, reverse=True)
    assert tapering[0] == pytest.approx(50_000)
    assert tapering[-1] < 0.2 * 50_000
    assert power_w(point, Vehicle(soc=100), 600) == 0


def test_the_car_stops_drawing_at_its_target() -> None:
    point = ChargePoint()
    state = ChargingState(Vehicle(battery_kwh=10, soc=70, target_soc=75))
    state = advance(point, state, 3 * 3600)
    assert state.soc == pytest.approx(75)
    assert state.power_w == 0


def test_an_hour_of_ac_at_11_kw_meters_about_11_kwh() -> None:
    state = advance(ChargePoint(), ChargingState(Vehicle(battery_kwh=100, soc=10)), 3600)
    assert state.energy_wh == pytest.approx(11_000, rel=0.01)
    # The battery gains the metered energy less 10 % losses: 9.9 kWh of 100 kWh.
    assert state.soc == pytest.approx(10 + 9.9, rel=0.01)


@given(
    soc=st.floats(0, 99),
    seconds=st.floats(1, 20_000),
    dc=st.booleans(),
)
def test_energy_only_grows_and_soc_stays_in_range(soc: float, seconds: float, dc: bool) -> None:
    point = ChargePoint(Current.DC) if dc else ChargePoint()
    before = ChargingState(Vehicle(soc=soc))
    after = advance(point, before, seconds)
    assert after.energy_wh >= before.energy_wh
    assert before.soc <= after.soc <= 100
    assert after.power_w <= power_limit_w(point, after.vehicle) + 1e-9
