"""Scripted scenarios: what each simulated station does, step by step, written in YAML.

A scenario file (see docs/simulator.md for the full reference)::

    name: commuter
    description: Plugs in after work, charges to 80 %, leaves.
    station: {evses: 1, current: AC, phases: 3, amps: 32, meter_interval: 60}
    vehicle: {battery_kwh: 60, soc: 25, max_ac_kw: 11}
    id_tag: "04A1{n:010X}"      # {n} is the station's number in the fleet
    repeat: 1                  # 0: again and again until --duration ends
    steps:
      - boot
      - plug_in
      - authorize
      - start
      - charge: {minutes: 90, target_soc: 80}
      - disconnect: {seconds: 120}
      - stop: {reason: Local}
      - unplug
      - wait: {seconds: 600}

A step is its name alone or its name with a mapping of arguments. Files are checked completely
before anything runs; a mistake is one :class:`~intercarga.errors.InvalidInputError` naming the
place (``steps.4.charge.minutes: …``). This module parses and runs steps on a station; it must
never open connections itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from intercarga.errors import InvalidInputError
from intercarga.sim.link import SimulationError
from intercarga.sim.power import ChargePoint, Current, Vehicle
from intercarga.sim.station import SimulatedStation

__all__ = [
    "DEFAULT_SCENARIO",
    "STEP_NAMES",
    "Scenario",
    "ScenarioStepError",
    "StationOptions",
    "Step",
    "VehicleOptions",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BootStep(_Strict):
    """Power on: connect and boot; waits (up to ``timeout`` real seconds) for Accepted."""

    kind: Literal["boot"] = "boot"
    timeout: float = Field(default=60.0, gt=0)


class PlugInStep(_Strict):
    kind: Literal["plug_in"] = "plug_in"
    evse: int = Field(default=1, ge=1)


class AuthorizeStep(_Strict):
    """Present an RFID card; the scenario fails unless the answer is ``expect``."""

    kind: Literal["authorize"] = "authorize"
    evse: int = Field(default=1, ge=1)
    id_tag: str | None = Field(default=None, min_length=1, max_length=20)
    expect: str = "Accepted"


class StartStep(_Strict):
    kind: Literal["start"] = "start"
    evse: int = Field(default=1, ge=1)
    id_tag: str | None = Field(default=None, min_length=1, max_length=20)


class ChargeStep(_Strict):
    """Let the car charge ``minutes`` (simulated) or until ``target_soc``, whichever comes first."""

    kind: Literal["charge"] = "charge"
    evse: int = Field(default=1, ge=1)
    minutes: float | None = Field(default=None, gt=0)
    target_soc: float | None = Field(default=None, gt=0, le=100)


class StopStep(_Strict):
    kind: Literal["stop"] = "stop"
    evse: int = Field(default=1, ge=1)
    reason: Literal[
        "Local", "Remote", "EVDisconnected", "DeAuthorized", "EmergencyStop", "PowerLoss", "Other"
    ] = "Local"


class UnplugStep(_Strict):
    kind: Literal["unplug"] = "unplug"
    evse: int = Field(default=1, ge=1)


class DisconnectStep(_Strict):
    """Lose the connection for ``seconds``; ``wait: false`` goes on with the next step at once."""

    kind: Literal["disconnect"] = "disconnect"
    seconds: float = Field(default=60.0, ge=0)
    wait: bool = True


class WaitStep(_Strict):
    kind: Literal["wait"] = "wait"
    seconds: float = Field(ge=0)


Step = Annotated[
    BootStep
    | PlugInStep
    | AuthorizeStep
    | StartStep
    | ChargeStep
    | StopStep
    | UnplugStep
    | DisconnectStep
    | WaitStep,
    Field(discriminator="kind"),
]

STEP_NAMES = (
    "boot",
    "plug_in",
    "authorize",
    "start",
    "charge",
    "stop",
    "unplug",
    "disconnect",
    "wait",
)


class StationOptions(_Strict):
    evses: int = Field(default=1, ge=1, le=32)
    current: Current = Current.AC
    phases: Literal[1, 3] = 3
    volts: float = Field(default=230.0, gt=0)
    amps: float = Field(default=32.0, gt=0)
    max_kw: float = Field(default=50.0, gt=0)
    meter_interval: int = Field(default=60, ge=1, description="simulated seconds")
    heartbeat: int = Field(default=300, ge=1, description="until the CSMS gives its interval")

    def charge_point(self) -> ChargePoint:
        return ChargePoint(
            current=self.current,
            phases=self.phases,
            volts=self.volts,
            amps=self.amps,
            max_kw=self.max_kw,
        )


class VehicleOptions(_Strict):
    battery_kwh: float = Field(default=60.0, gt=0)
    soc: float | None = Field(default=None, ge=0, le=100, description="None: varies per station")
    max_ac_kw: float = Field(default=11.0, gt=0)
    ac_phases: Literal[1, 3] = 3
    max_dc_kw: float = Field(default=100.0, gt=0)
    taper_soc: float = Field(default=80.0, gt=0, lt=100)

    def vehicle(self, number: int) -> Vehicle:
        # Cars arrive with different charge: 10 % to 59 %, spread evenly over the fleet.
        soc = self.soc if self.soc is not None else 10.0 + (number * 37) % 50
        return Vehicle(
            battery_kwh=self.battery_kwh,
            soc=soc,
            max_ac_kw=self.max_ac_kw,
            ac_phases=self.ac_phases,
            max_dc_kw=self.max_dc_kw,
            taper_soc=self.taper_soc,
        )


class Scenario(_Strict):
    name: str = "default"
    description: str = ""
    station: StationOptions = Field(default_factory=StationOptions)
    vehicle: VehicleOptions = Field(default_factory=VehicleOptions)
    id_tag: str = Field(default="04A1{n:010X}", description="{n}: the station's number")
    repeat: int = Field(default=1, ge=0)
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        try:
            tag = self.token(1)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"id_tag: {error}") from None
        if not 0 < len(tag) <= 20:
            raise ValueError("id_tag must give 1 to 20 characters (an OCPP 1.6 idTag)")
        for step in self.steps:
            evse = getattr(step, "evse", 1)
            if evse > self.station.evses:
                raise ValueError(f"{step.kind}: the station has {self.station.evses} EVSE(s)")
        return self

    def token(self, number: int) -> str:
        return self.id_tag.format(n=number)


DEFAULT_SCENARIO = Scenario(
    name="default",
    description="Boot, one 30-minute RFID session with meter values, then leave.",
    steps=[
        BootStep(),
        PlugInStep(),
        AuthorizeStep(),
        StartStep(),
        ChargeStep(minutes=30),
        StopStep(),
        UnplugStep(),
    ],
)


def _step_dict(raw: Any, index: int) -> dict[str, Any]:
    if isinstance(raw, str):
        return {"kind": raw}
    if isinstance(raw, dict) and len(raw) == 1:
        ((name, args),) = raw.items()
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise InvalidInputError(f"the arguments of {name} must be a mapping", f"steps.{index}")
        return {"kind": name, **args}
    raise InvalidInputError(
        "a step is a name, or a name with a mapping of arguments", f"steps.{index}"
    )


def parse_scenario(text: str) -> Scenario:
    """Read a scenario from YAML text; see the module docstring for the format."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInputError(f"not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise InvalidInputError("a scenario is a YAML mapping with at least 'steps'")
    steps = document.get("steps")
    if not isinstance(steps, list):
        raise InvalidInputError("a list of steps is required", "steps")
    for index, raw in enumerate(steps):
        step = _step_dict(raw, index)
        if step["kind"] not in STEP_NAMES:
            raise InvalidInputError(
                f"unknown step {step['kind']!r}; steps are {', '.join(STEP_NAMES)}",
                f"steps.{index}",
            )
        steps[index] = step
    try:
        return Scenario.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInputError(first["msg"], where or None) from None


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInputError(f"cannot read the scenario: {error.strerror}", str(path)) from None
    return parse_scenario(text)


class ScenarioStepError(SimulationError):
    """A step could not be carried out; the station's scenario ends there."""


async def _run_step(station: SimulatedStation, step: Step) -> None:
    if isinstance(step, BootStep):
        await station.power_on(timeout=step.timeout)
    elif isinstance(step, PlugInStep):
        await station.plug_in(step.evse)
    elif isinstance(step, AuthorizeStep):
        status = await station.authorize(step.id_tag, step.evse)
        if status != step.expect:
            raise ScenarioStepError(f"token answered {status}, expected {step.expect}")
    elif isinstance(step, StartStep):
        await station.start(step.evse, step.id_tag)
    elif isinstance(step, ChargeStep):
        await station.charge(step.evse, minutes=step.minutes, target_soc=step.target_soc)
    elif isinstance(step, StopStep):
        await station.stop(step.evse, step.reason)
    elif isinstance(step, UnplugStep):
        await station.unplug(step.evse)
    elif isinstance(step, DisconnectStep):
        await station.disconnect(step.seconds, wait=step.wait)
    else:
        await station.wait(step.seconds)


async def run_scenario(
    station: SimulatedStation,
    scenario: Scenario,
    *,
    on_step: Callable[[int, Step], None] | None = None,
) -> None:
    """Play ``scenario`` on ``station`` (``repeat`` times, or forever when 0).

    Raises :class:`ScenarioStepError` naming the step that failed.
    """
    rounds = 0
    while scenario.repeat == 0 or rounds < scenario.repeat:
        rounds += 1
        for index, step in enumerate(scenario.steps):
            if on_step is not None:
                on_step(index, step)
            try:
                await _run_step(station, step)
            except (InvalidInputError, SimulationError) as error:
                raise ScenarioStepError(f"step {index + 1} ({step.kind}): {error}") from None
