"""The live table shows each station and the fleet total."""

from __future__ import annotations

from rich.console import Console

from intercarga.sim.fleet import Fleet, FleetConfig
from intercarga.sim.live import fleet_table, run_with_live_view
from tests.sim.csms import running_csms


def _render(fleet: Fleet) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(fleet_table(fleet, rows=2))
    return console.export_text()


async def test_the_table_lists_stations_and_totals() -> None:
    async with running_csms() as (_, _, url):
        fleet = Fleet(FleetConfig(url, stations=3, speed=3000))
        before = _render(fleet)
        assert "SIM-0001" in before and "SIM-0002" in before and "SIM-0003" not in before
        assert "(+1 more)" in before and "off" in before
        console = Console(record=True, width=200, color_system=None)
        summary = await run_with_live_view(fleet, fleet.run(), console, refresh_s=0.05)
    assert summary["sessions"]["completed"] == 3
    after = _render(fleet)
    assert "done" in after and "Available" in after
    assert "SIM-0001" in console.export_text()
