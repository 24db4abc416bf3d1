"""``intercarga simulate``: simulated charging stations against a CSMS, for demos, tests and load.

Two modes. **Scenario** (default): N stations play a YAML scenario (or the built-in one) with a
live table, or with ``--no-live`` / ``--json`` a summary at the end. **Load**
(``--load KIND``): N stations send ``--messages`` messages back to back and the command reports
messages/s and latency percentiles. Exit code 0 when every station did its part without an
error, 1 when some did not, 2 for a usage mistake (bad scenario file, bad option).

This module parses options and prints; the work is in :mod:`intercarga.sim`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from intercarga.cli._common import out, run
from intercarga.domain.station import OcppVersion
from intercarga.sim.fleet import Fleet, FleetConfig
from intercarga.sim.live import run_with_live_view
from intercarga.sim.load import LoadConfig, LoadKind, run_load_in_processes
from intercarga.sim.scenario import DEFAULT_SCENARIO, load_scenario

__all__ = ["simulate"]


class OcppChoice(StrEnum):
    V16 = "1.6"
    V201 = "2.0.1"
    V21 = "2.1"

    def version(self) -> OcppVersion:
        return OcppVersion(f"ocpp{self.value}")


def _print_summary(summary: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    table = Table(title="simulation summary", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    messages = summary["messages"]
    latency = summary["latency_ms"]
    rows: list[tuple[str, Any]] = [
        ("OCPP", summary["ocpp"]),
        ("stations", summary["stations"]),
    ]
    if "load" in summary:
        rows += [
            ("load", summary["load"]),
            ("connected / booted", f"{summary['connected']} / {summary['booted']}"),
            ("ready after s", summary["ready_s"]),
            ("answered", messages["answered"]),
            ("errors", messages["errors"]),
            ("messages/s", summary["messages_per_s"]),
        ]
    else:
        rows += [
            ("scenario", summary["scenario"]),
            ("accepted", summary["accepted"]),
            (
                "sessions started / completed",
                f"{summary['sessions']['started']} / {summary['sessions']['completed']}",
            ),
            ("energy kWh", summary["energy_kwh"]),
            ("messages sent", messages["sent"]),
            ("answered", messages["answered"]),
            ("errors", messages["errors"]),
            ("calls from the CSMS", messages["received_calls"]),
        ]
    rows += [("latency p50 ms", latency["p50"]), ("latency p99 ms", latency["p99"])]
    for name, value in rows:
        table.add_row(name, "–" if value is None else str(value))
    out.print(table)
    for failure in summary.get("failures", []):
        out.print(f"[red]failed:[/] {failure}")


@run
def simulate(
    url: Annotated[
        str, typer.Option(help="The CSMS's OCPP base URL; the station id is appended.")
    ] = "ws://127.0.0.1:9000/ocpp",
    stations: Annotated[
        int, typer.Option("--stations", "-n", min=1, help="How many stations.")
    ] = 1,
    ocpp: Annotated[
        OcppChoice | None,
        typer.Option(
            help="OCPP version the stations speak. Default 2.0.1; in load mode 1.6 for"
            " meter-values.",
            show_default=False,
        ),
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="HTTP Basic password (security profile 1), the same for every station."),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            help="YAML scenario file (docs/simulator.md). Default: one 30-minute session."
        ),
    ] = None,
    speed: Annotated[
        float, typer.Option(min=0.001, help="Simulated seconds per real second.")
    ] = 1.0,
    duration: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="Stop after this many real seconds (stations stay connected until then).",
            show_default=False,
        ),
    ] = None,
    id_prefix: Annotated[
        str, typer.Option(help="Station ids are PREFIX0001, PREFIX0002, …")
    ] = "SIM-",
    first: Annotated[
        int,
        typer.Option(
            "--first", min=1, max=9999, help="Number of the first station (scenario mode)."
        ),
    ] = 1,
    no_live: Annotated[
        bool, typer.Option("--no-live", help="No live table; a summary at the end.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON (implies --no-live).")
    ] = False,
    load: Annotated[
        LoadKind | None,
        typer.Option(
            help="Load mode: send --messages messages back to back and measure.", show_default=False
        ),
    ] = None,
    messages: Annotated[
        int, typer.Option(min=0, help="Load mode: messages in total, spread over the stations.")
    ] = 10_000,
    processes: Annotated[
        int, typer.Option(min=1, help="Load mode: split the stations over this many processes.")
    ] = 1,
) -> None:
    """Run simulated charging stations against a CSMS."""
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    if load is not None:
        config = LoadConfig(
            url=url,
            kind=load,
            stations=stations,
            messages=messages,
            version=ocpp.version() if ocpp is not None else None,
            password=password,
            id_prefix=id_prefix,
        )
        result = run_load_in_processes(config, processes)
        summary = result.to_dict()
        _print_summary(summary, as_json=as_json)
        if result.failures or result.errors:
            raise typer.Exit(1)
        return
    fleet = Fleet(
        FleetConfig(
            url=url,
            stations=stations,
            version=(ocpp or OcppChoice.V201).version(),
            password=password,
            id_prefix=id_prefix,
            first=first,
            speed=speed,
            scenario=load_scenario(scenario) if scenario is not None else DEFAULT_SCENARIO,
        )
    )
    live = not (no_live or as_json)
    try:
        if live:
            summary = asyncio.run(run_with_live_view(fleet, fleet.run(duration), out))
        else:
            summary = asyncio.run(fleet.run(duration))
    except KeyboardInterrupt:
        summary = fleet.summary()
    _print_summary(summary, as_json=as_json)
    if summary["failed_stations"] or summary["messages"]["errors"]:
        raise typer.Exit(1)
