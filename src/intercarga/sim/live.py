"""The live view of a running fleet: one Rich table row per station, refreshed while it runs.

A fleet of thousands shows its first ``rows`` stations and a total line. Rendering reads the
stations' counters and never changes them; this module must never touch the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from intercarga.sim.connector import ConnectorStatus
from intercarga.sim.fleet import Fleet
from intercarga.sim.station import ConnectionState, SimulatedStation
from intercarga.sim.stats import MessageStats

__all__ = ["fleet_table", "run_with_live_view"]

T = TypeVar("T")

_STATE_STYLE = {
    ConnectionState.ACCEPTED: "green",
    ConnectionState.PENDING: "yellow",
    ConnectionState.BOOTING: "yellow",
    ConnectionState.CONNECTING: "yellow",
    ConnectionState.OFFLINE: "red",
    ConnectionState.REJECTED: "red",
    ConnectionState.REFUSED: "bold red",
    ConnectionState.OFF: "dim",
}
_CONNECTOR_STYLE = {
    ConnectorStatus.CHARGING: "green",
    ConnectorStatus.SUSPENDED_EV: "cyan",
    ConnectorStatus.PREPARING: "yellow",
    ConnectorStatus.FINISHING: "yellow",
    ConnectorStatus.FAULTED: "red",
    ConnectorStatus.UNAVAILABLE: "dim",
}


def _connectors(station: SimulatedStation) -> Text:
    text = Text()
    for number, status in station.connector_statuses().items():
        if number > 1:
            text.append(" ")
        text.append(status.value, style=_CONNECTOR_STYLE.get(status, ""))
    return text


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def fleet_table(fleet: Fleet, *, rows: int = 25) -> Table:
    """The table of the fleet as it is now."""
    table = Table(
        title=f"intercarga simulate · OCPP {fleet.config.version.value.removeprefix('ocpp')} · "
        f"{len(fleet.stations)} station(s) · ×{fleet.config.speed:g}",
        title_justify="left",
        expand=False,
    )
    for name, justify in (
        ("station", "left"),
        ("link", "left"),
        ("connectors", "left"),
        ("step", "left"),
        ("kWh", "right"),
        ("kW", "right"),
        ("SoC %", "right"),
        ("sent", "right"),
        ("answered", "right"),
        ("queued", "right"),
        ("errors", "right"),
        ("p50 ms", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for index, station in enumerate(fleet.stations[:rows]):
        step, failure, _ = fleet.activity(index)
        stats = station.stats
        soc = station.soc()
        table.add_row(
            station.station_id,
            Text(station.state.value, style=_STATE_STYLE.get(station.state, "")),
            _connectors(station),
            Text(failure[:40], style="red") if failure else Text(step),
            f"{station.energy_wh() / 1000:.2f}",
            f"{station.power_w() / 1000:.1f}",
            "–" if soc is None else f"{soc:.0f}",
            str(stats.sent),
            str(stats.answered),
            str(station.queued),
            Text(str(stats.errors), style="red" if stats.errors else ""),
            _ms(stats.latency_ms()["p50"]),
        )
    total = MessageStats.merge(station.stats for station in fleet.stations)
    online = sum(1 for s in fleet.stations if s.state is ConnectionState.ACCEPTED)
    hidden = len(fleet.stations) - rows
    table.add_section()
    table.add_row(
        Text(f"all{f' (+{hidden} more)' if hidden > 0 else ''}", style="bold"),
        f"{online} online",
        "",
        "",
        f"{sum(s.energy_wh() for s in fleet.stations) / 1000:.2f}",
        f"{sum(s.power_w() for s in fleet.stations) / 1000:.1f}",
        "",
        str(total.sent),
        str(total.answered),
        str(sum(s.queued for s in fleet.stations)),
        str(total.errors),
        _ms(total.latency_ms()["p50"]),
    )
    return table


async def run_with_live_view(
    fleet: Fleet, work: Awaitable[T], console: Console, *, refresh_s: float = 0.5
) -> T:
    """Await ``work`` (normally ``fleet.run(...)``) while showing :func:`fleet_table`."""

    def render() -> Any:
        return Group(fleet_table(fleet), Text("Ctrl-C stops the fleet", style="dim"))

    with Live(render(), console=console, refresh_per_second=4, transient=False) as live:
        task = asyncio.ensure_future(work)
        while not task.done():
            await asyncio.wait({task}, timeout=refresh_s)
            live.update(render())
    console.print()
    return task.result()
