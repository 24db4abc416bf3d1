"""Fleets: ids, tokens and cars per station; a run bounded by --duration."""

from __future__ import annotations

from intercarga.domain.station import OcppVersion
from intercarga.sim.fleet import Fleet, FleetConfig, station_configs
from intercarga.sim.scenario import parse_scenario
from tests.sim.csms import running_csms


def test_stations_differ_in_id_token_car_and_meter() -> None:
    configs = station_configs(FleetConfig("ws://h/ocpp", stations=3, id_prefix="CL-"))
    assert [c.station_id for c in configs] == ["CL-0001", "CL-0002", "CL-0003"]
    assert len({c.id_tag for c in configs}) == 3
    assert len({c.vehicle.soc for c in configs}) == 3
    assert len({c.register_wh for c in configs}) == 3


async def test_a_forever_scenario_runs_until_the_duration_ends() -> None:
    scenario = parse_scenario(
        "repeat: 0\nsteps: [boot, plug_in, start, {charge: {minutes: 5}}, stop, unplug]"
    )
    async with running_csms() as (csms, _, url):
        fleet = Fleet(
            FleetConfig(url, stations=2, version=OcppVersion.V21, speed=3000, scenario=scenario)
        )
        summary = await fleet.run(duration=1.5)
    assert summary["failed_stations"] == 0 and summary["messages"]["errors"] == 0
    assert summary["sessions"]["completed"] >= 4  # several rounds each
    assert summary["ocpp"] == "2.1"
    assert summary["duration_s"] >= 1.5
    assert {c.version for c in csms.calls} == {OcppVersion.V21}
