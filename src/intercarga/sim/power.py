"""The physics of a simulated charge: how much power flows, and what the meter and battery see.

Theory of the curve (simplified from how real EVs charge; figures are typical, not a model of a
particular car):

* **Limit.** The power is capped by the lowest of the charger and the vehicle. AC: the charger
  offers ``phases × volts × amps`` and the car's on-board charger accepts at most ``max_ac_kw``
  (a car with a single-phase on-board charger draws on one phase only). DC: the charger's
  ``max_kw`` and the car's ``max_dc_kw``.
* **Ramp.** The power rises linearly from zero to the limit in the first ``ramp_s`` seconds
  (a few seconds on AC, about half a minute on DC while the car negotiates and the contactors
  settle).
* **Constant current.** Then it stays at the limit…
* **Taper.** …until the state of charge passes ``taper_soc`` (about 80 %); from there it falls
  linearly towards ``floor_fraction`` of the limit at 100 %, where it stops.
* **Target.** At the car's target state of charge it draws nothing (the session stays open,
  SuspendedEV).

The meter counts energy from the grid; the battery gains it less the charging losses
(``efficiency``). Everything here is pure: state in, state out, no clock, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

__all__ = [
    "ChargePoint",
    "ChargingState",
    "Current",
    "Vehicle",
    "advance",
    "power_limit_w",
    "power_w",
]

_STEP_S: Final = 5.0  # integration step: fine enough for the ramp and the taper


class Current(StrEnum):
    AC = "AC"
    DC = "DC"


@dataclass(frozen=True, slots=True)
class ChargePoint:
    """What the charging station can deliver on one connector."""

    current: Current = Current.AC
    phases: int = 3
    volts: float = 230.0
    amps: float = 32.0
    max_kw: float = 50.0  # DC only
    dc_volts: float = 400.0  # DC only: the battery voltage the current is reported against

    def __post_init__(self) -> None:
        if self.phases not in (1, 3):
            raise ValueError("phases must be 1 or 3")
        if self.volts <= 0 or self.amps <= 0 or self.max_kw <= 0 or self.dc_volts <= 0:
            raise ValueError("volts, amps and max_kw must be positive")


@dataclass(frozen=True, slots=True)
class Vehicle:
    """The simulated car: its battery and what it accepts."""

    battery_kwh: float = 60.0
    soc: float = 20.0
    target_soc: float = 100.0
    max_ac_kw: float = 11.0
    ac_phases: int = 3
    max_dc_kw: float = 100.0
    taper_soc: float = 80.0
    floor_fraction: float = 0.1

    def __post_init__(self) -> None:
        if self.battery_kwh <= 0:
            raise ValueError("battery_kwh must be positive")
        if not 0 <= self.soc <= 100 or not 0 <= self.target_soc <= 100:
            raise ValueError("soc and target_soc are percentages")
        if not 0 < self.taper_soc < 100:
            raise ValueError("taper_soc must be between 0 and 100")


@dataclass(frozen=True, slots=True)
class ChargingState:
    """Where a charge stands: the meter, the battery and the power flowing now."""

    vehicle: Vehicle
    energy_wh: float = 0.0  # energy metered since the session started
    power_w: float = 0.0
    seconds: float = 0.0  # since the power started flowing

    @property
    def soc(self) -> float:
        return self.vehicle.soc


def power_limit_w(point: ChargePoint, vehicle: Vehicle) -> float:
    """The constant-current power: the lower of what the charger offers and the car accepts."""
    if point.current is Current.DC:
        return 1000.0 * min(point.max_kw, vehicle.max_dc_kw)
    phases = min(point.phases, vehicle.ac_phases)
    return min(phases * point.volts * point.amps, 1000.0 * vehicle.max_ac_kw)


def _ramp_s(point: ChargePoint) -> float:
    return 30.0 if point.current is Current.DC else 5.0


def power_w(point: ChargePoint, vehicle: Vehicle, seconds: float) -> float:
    """The power drawn ``seconds`` after the charge began, at the vehicle's state of charge."""
    soc = vehicle.soc
    if soc >= min(vehicle.target_soc, 100.0):
        return 0.0
    limit = power_limit_w(point, vehicle)
    if soc > vehicle.taper_soc:
        left = (100.0 - soc) / (100.0 - vehicle.taper_soc)
        limit *= vehicle.floor_fraction + (1.0 - vehicle.floor_fraction) * left
    ramp = _ramp_s(point)
    if seconds < ramp:
        limit *= max(seconds, 0.0) / ramp
    return limit


def _efficiency(point: ChargePoint) -> float:
    # Losses between the meter and the cells: on-board charger on AC, cable and battery on DC.
    return 0.95 if point.current is Current.DC else 0.9


def advance(point: ChargePoint, state: ChargingState, seconds: float) -> ChargingState:
    """The state ``seconds`` later, integrated in small steps so the ramp and taper are followed."""
    if seconds <= 0:
        return state
    vehicle, energy, elapsed = state.vehicle, state.energy_wh, state.seconds
    efficiency = _efficiency(point)
    steps = max(1, math.ceil(seconds / _STEP_S))
    step = seconds / steps
    power = state.power_w
    for _ in range(steps):
        # Midpoint rule: the power at the middle of the step, so the ramp integrates exactly.
        power = power_w(point, vehicle, elapsed + step / 2)
        wh = power * step / 3600.0
        gained = wh * efficiency / 1000.0 / vehicle.battery_kwh * 100.0
        soc = min(vehicle.soc + gained, 100.0, max(vehicle.target_soc, vehicle.soc))
        vehicle = replace(vehicle, soc=soc)
        energy += wh
        elapsed += step
    power = power_w(point, vehicle, elapsed)
    return ChargingState(vehicle, energy, power, elapsed)
