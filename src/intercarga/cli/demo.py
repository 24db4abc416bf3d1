"""``intercarga demo``: start the demo region, show it live, summarize, stop everything.

This module parses options and prints; the region and its processes are
:mod:`intercarga.sim.region`'s.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from intercarga.cli._common import err, out, run
from intercarga.sim.region import Demo, DemoOptions, PartyStatus, load_plan, running

__all__ = ["demo"]


def _table(statuses: list[PartyStatus], elapsed: float) -> Table:
    table = Table(title=f"Intercarga demo region — {elapsed:.0f} s", title_justify="left")
    for column, justify in (
        ("party", "left"),
        ("up", "center"),
        ("stations online", "right"),
        ("sessions (active)", "right"),
        ("CDRs", "right"),
        ("by currency", "left"),
        ("partners", "right"),
        ("push backlog (failed)", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for s in statuses:
        table.add_row(
            s.title,
            "[green]yes[/]" if s.up else "[red]no[/]",
            f"{s.stations_online}/{s.stations}" if s.stations else "",
            f"{s.sessions} ({s.sessions_active})",
            str(s.cdrs),
            ", ".join(f"{n} {c}" for c, n in sorted(s.cdrs_by_currency.items())),
            str(s.partners),
            f"{s.push_pending} ({s.push_failed})",
        )
    return table


def _print_summary(summary: dict[str, Any]) -> None:
    flows = Table(title="roaming flows (CPO → eMSP)", title_justify="left")
    for column in ("CPO", "eMSP", "CDRs made", "at the eMSP", "duplicated", "currency"):
        flows.add_column(column)
    for flow in summary["flows"]:
        flows.add_row(
            flow["cpo"], flow["emsp"], str(flow["cdrs"]), str(flow["delivered"]),
            str(flow["duplicated"]), ", ".join(flow["currencies"]),
        )  # fmt: skip
    out.print(flows)
    if summary["failures"]:
        for failure in summary["failures"]:
            err.print(f"[red]failure:[/] {failure}")
    else:
        out.print("[green]every roaming CDR reached its eMSP exactly once[/]")


@run
def demo(
    folder: Annotated[
        Path | None,
        typer.Option(
            "--folder",
            help="A new folder for the parties' deployments (kept afterwards). Default: a "
            "temporary folder, removed at the end.",
            show_default=False,
        ),
    ] = None,
    sessions: Annotated[int, typer.Option(min=1, help="Charges per station.")] = 2,
    stations: Annotated[
        int | None,
        typer.Option(
            min=1, help="Stations per CPO (default: every station of the plan).", show_default=False
        ),
    ] = None,
    speed: Annotated[
        float, typer.Option(min=0.001, help="Simulated seconds per real second.")
    ] = 300.0,
    seed: Annotated[int, typer.Option(help="Seed of the drivers' choices (reproducible).")] = 1,
    duration: Annotated[
        float | None,
        typer.Option(
            min=1, help="Stop the traffic after this many real seconds.", show_default=False
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="No live table; the summary as JSON at the end.")
    ] = False,
) -> None:
    """Start a live roaming region: CPOs in Chile, Colombia and Brazil, two eMSPs, a hub and an
    access point, each its own `intercarga serve`; simulated drivers charge across borders."""
    plan = load_plan()
    with tempfile.TemporaryDirectory(prefix="intercarga-demo-") as scratch:
        options = DemoOptions(
            folder=folder or Path(scratch) / "region",
            sessions=sessions,
            speed=speed,
            seed=seed,
            stations=stations,
            duration=duration,
        )
        summary = _run(Demo(plan, options), live=not as_json)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_summary(summary)
    if summary["failures"]:
        raise typer.Exit(1)


def _run(region: Demo, *, live: bool) -> dict[str, Any]:
    def progress(message: str) -> None:
        if live:
            out.print(f"[dim]{message}[/]")

    with running(region):
        region.create(progress)
        region.start(progress)
        if live:
            for spec in region.plan.deployments:
                deployment = region.deployments[spec.key]
                out.print(f"{spec.title}: {deployment.base_url} (admin token in "
                          f"{deployment.folder / 'intercarga.toml'})")  # fmt: skip
        region.register(progress)
        region.prepare(progress)
        region.start_traffic()
        began = time.monotonic()
        try:
            if live:
                with Live(_table(region.status(), 0), console=out, refresh_per_second=1) as view:
                    while region.traffic_running:
                        time.sleep(1)
                        view.update(_table(region.status(), time.monotonic() - began))
                    region.wait_for_delivery()
                    view.update(_table(region.status(), time.monotonic() - began))
            else:
                while region.traffic_running:
                    time.sleep(0.5)
                region.wait_for_delivery()
        except KeyboardInterrupt:
            progress("stopping (Ctrl-C)")
        return region.summary()
