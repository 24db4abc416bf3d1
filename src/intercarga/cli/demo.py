"""``intercarga demo``: start the demo region, show it live, summarize, stop everything.

This module parses options and prints; the region and its processes are
:mod:`intercarga.sim.region`'s.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from intercarga.cli._common import err, out, run
from intercarga.sim.region import Demo, DemoOptions, PartyStatus, load_plan, running

__all__ = ["demo"]


def _table(statuses: list[PartyStatus], elapsed: float, timeline: list[dict[str, Any]]) -> Table:
    last = f" — {timeline[-1]['event']}" if timeline else ""
    table = Table(title=f"Intercarga demo region — {elapsed:.0f} s{last}", title_justify="left")
    for column, justify in (
        ("party", "left"),
        ("up", "center"),
        ("stations online", "right"),
        ("sessions (active)", "right"),
        ("CDRs", "right"),
        ("by currency", "left"),
        ("partners", "right"),
        ("push backlog (failed)", "right"),
        ("flagged silent", "left"),
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
            "[yellow]" + ", ".join(s.silent) + "[/]" if s.silent else "",
        )
    return table


def _print_summary(summary: dict[str, Any]) -> None:
    flows = Table(title="roaming flows (CPO → eMSP)", title_justify="left")
    for column in ("CPO", "eMSP", "planned", "CDRs made", "at the eMSP", "duplicated", "currency"):
        flows.add_column(column)
    for flow in summary["flows"]:
        flows.add_row(
            flow["cpo"], flow["emsp"], str(flow["planned"]), str(flow["cdrs"]),
            str(flow["delivered"]),
            str(flow["duplicated"]), ", ".join(flow["currencies"]),
        )  # fmt: skip
    out.print(flows)
    events = Table(title="what happened", title_justify="left")
    events.add_column("s", justify="right")
    events.add_column("event")
    for event in summary["timeline"]:
        events.add_row(f"{event['at_s']:.0f}", event["event"])
    out.print(events)
    if summary["failures"]:
        for failure in summary["failures"]:
            err.print(f"[red]failure:[/] {failure}", markup=True)
    else:
        out.print(
            "[green]every roaming CDR reached its eMSP exactly once; every incident played out[/]"
        )


def _print_access(region: Demo) -> None:
    """Each party's dashboard and how to sign in (the demo's own folders hold the secrets)."""
    access = Table(title="the parties (dashboard, sign-in, admin API)", title_justify="left")
    for column in ("party", "dashboard", "sign in as admin with", "admin API token"):
        access.add_column(column, overflow="fold")
    for spec in region.plan.deployments:
        deployment = region.deployments[spec.key]
        access.add_row(
            spec.title,
            f"{deployment.base_url}/",
            deployment.dashboard_password() or "(see serve.log)",
            deployment.admin_token,
        )
    out.print(access)


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
        float, typer.Option(min=30, help="Real seconds of traffic (the incidents fit in it).")
    ] = 240.0,
    outage: Annotated[
        float,
        typer.Option(min=1, help="Real seconds the eMSP of the outage is down (≤ duration / 2)."),
    ] = 60.0,
    database: Annotated[
        str | None,
        typer.Option(
            help="postgresql://user@host:port/db: the parties in one PostgreSQL, a schema each "
            "(demo_cl_cpo, …; dropped and made new). Default: SQLite in each party's folder.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="No live table; the summary as JSON at the end.")
    ] = False,
) -> None:
    """Start a live roaming region: CPOs in Chile, Colombia and Brazil, two eMSPs, a hub and an
    access point, each its own `intercarga serve`; simulated drivers charge across borders."""
    # The simulated stations run in this process: only their errors, not their chatter.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    plan = load_plan()
    with tempfile.TemporaryDirectory(prefix="intercarga-demo-") as scratch:
        options = DemoOptions(
            folder=folder or Path(scratch) / "region",
            speed=speed,
            seed=seed,
            stations=stations,
            duration=duration,
            outage=outage,
            database=database,
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
        region.register(progress)
        region.prepare(progress)
        if live:
            _print_access(region)
        try:
            if live:
                with Live(
                    _table(region.status(), 0, []), console=out, refresh_per_second=1
                ) as view:

                    def tick() -> None:
                        view.update(_table(region.status(), region.elapsed, region.timeline))

                    region.run(tick)
                    tick()
            else:
                region.run(lambda: None)
        except KeyboardInterrupt:
            progress("stopping (Ctrl-C)")
        return region.summary()
