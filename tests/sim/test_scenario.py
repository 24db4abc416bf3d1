"""Scenario files: every step parses, and every mistake names its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from intercarga.errors import InvalidInputError
from intercarga.sim.power import Current
from intercarga.sim.scenario import (
    DEFAULT_SCENARIO,
    STEP_NAMES,
    ChargeStep,
    DisconnectStep,
    StopStep,
    load_scenario,
    parse_scenario,
)

FULL = """
name: commuter
description: every step once
station: {evses: 2, current: DC, max_kw: 50, meter_interval: 30}
vehicle: {battery_kwh: 77, soc: 25, max_dc_kw: 120}
id_tag: "CARD{n:04d}"
repeat: 2
steps:
  - boot
  - plug_in: {evse: 2}
  - authorize
  - start: {evse: 2, id_tag: OTHERCARD}
  - charge: {evse: 2, minutes: 45, target_soc: 80}
  - disconnect: {seconds: 120, wait: false}
  - stop: {evse: 2, reason: Remote}
  - unplug: {evse: 2}
  - wait: {seconds: 600}
"""


def test_every_step_parses() -> None:
    scenario = parse_scenario(FULL)
    assert sorted(step.kind for step in scenario.steps) == sorted(STEP_NAMES)
    assert scenario.repeat == 2
    assert scenario.station.current is Current.DC
    assert scenario.station.charge_point().max_kw == 50
    assert scenario.vehicle.vehicle(1).battery_kwh == 77
    assert scenario.token(7) == "CARD0007"
    charge = scenario.steps[4]
    assert isinstance(charge, ChargeStep)
    assert (charge.evse, charge.minutes, charge.target_soc) == (2, 45, 80)
    disconnect = scenario.steps[5]
    assert isinstance(disconnect, DisconnectStep) and not disconnect.wait
    stop = scenario.steps[6]
    assert isinstance(stop, StopStep) and stop.reason == "Remote"


def test_the_shipped_example_parses() -> None:
    example = Path(__file__).parents[2] / "docs" / "scenarios" / "commuter.yaml"
    assert load_scenario(example).steps


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps: [boot, fly]", "steps.1: unknown step 'fly'"),
        ("steps: [{charge: {minutes: -5}}]", "steps.0.charge.minutes"),
        ("steps: [{charge: {hours: 1}}]", "steps.0.charge.hours"),
        ("steps: [{stop: {reason: Bored}}]", "steps.0.stop.reason"),
        ("steps: [{wait: 5}]", "steps.0: the arguments of wait must be a mapping"),
        ("steps: []", "steps"),
        ("name: x", "steps: a list of steps is required"),
        ("steps: [{plug_in: {evse: 3}}]", "the station has 1 EVSE"),
        ("id_tag: '{n:030d}'\nsteps: [boot]", "1 to 20 characters"),
        ("steps: [boot", "not valid YAML"),
        ("- boot", "a scenario is a YAML mapping"),
    ],
)
def test_mistakes_are_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_scenario(text)
    assert message in str(caught.value)


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")


def test_the_default_scenario_is_one_session() -> None:
    assert [s.kind for s in DEFAULT_SCENARIO.steps] == [
        "boot",
        "plug_in",
        "authorize",
        "start",
        "charge",
        "stop",
        "unplug",
    ]
