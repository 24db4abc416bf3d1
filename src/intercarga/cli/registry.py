"""``intercarga registry``: the national access point as a regulator reads it.

``status`` prints one row per reporting CPO (its quality score, refusals, flags, silent or not,
the failing rules) and then every flag of the freshness monitor; ``reliability`` prints the UK
reliability and NEVI uptime per CPO (``--level`` for locations or EVSEs) over a period, marking
the CPOs below the configured threshold. Both read the database directly, like ``partners``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from intercarga.app import System
from intercarga.cli._common import out, run, run_async, settings_from
from intercarga.domain._types import utc_now
from intercarga.errors import InvalidInputError
from intercarga.registry import Period, Ratio

__all__ = ["app"]

app = typer.Typer(
    help="The national access point: reporting CPOs, freshness, quality, reliability.",
    no_args_is_help=True,
)


@app.command("status")
@run
def status(ctx: typer.Context) -> None:
    """The reporting CPOs with their quality scores, and every freshness flag."""
    settings = settings_from(ctx)

    async def read() -> tuple[Table, Table]:
        system = await System.open(settings)
        try:
            flags = await system.registry.flags()
            quality = await system.registry.quality()
        finally:
            await system.close()
        cpos = Table("CPO", "score", "locations", "refused", "flags", "silent", "failing rules")
        for q in quality.cpos:
            mine = [
                f for f in flags if (f.country_code, f.party_id) == (q.country_code, q.party_id)
            ]
            silent = any(f.rule == "silent" for f in mine)
            cpos.add_row(
                f"{q.country_code}-{q.party_id}",
                f"{q.score:.1f}",
                str(q.locations),
                str(q.refusals),
                str(len(mine)),
                "[red]silent[/red]" if silent else "no",
                ", ".join(q.failing_rules),
            )
        table = Table("level", "subject", "rule", "detail")
        for f in flags:
            table.add_row(f.level, f.subject, f.rule, f.detail)
        return cpos, table

    cpos, flags = run_async(read())
    if cpos.row_count == 0:
        out.print("no CPO reports here yet: invite one (`intercarga partners invite`)")
        return
    out.print(cpos)
    out.print(flags if flags.row_count else "no flags: every CPO reports within its rule")


def _percent(ratio: Ratio) -> str:
    return "—" if ratio.percent is None else f"{ratio.percent:.3f} %"


@app.command("reliability")
@run
def reliability(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(help="The period: the last this many days.", min=1)] = 30,
    until: Annotated[
        datetime | None, typer.Option(help="The period's end (UTC; default: now).")
    ] = None,
    level: Annotated[str, typer.Option(help="CPO, LOCATION or EVSE.")] = "CPO",
) -> None:
    """UK reliability (SI 2023/1168) and NEVI uptime (23 CFR 680.116) over a period."""
    settings = settings_from(ctx)
    if level.upper() not in ("CPO", "LOCATION", "EVSE"):
        raise InvalidInputError(f"--level {level}: one of CPO, LOCATION, EVSE", "level")
    end = until or utc_now()
    if end.tzinfo is None:  # typer's datetimes are naive: read as UTC
        end = end.replace(tzinfo=UTC)
    period = Period(end - timedelta(days=days), end)

    async def read() -> tuple[Table, float]:
        system = await System.open(settings)
        try:
            found = await system.registry.reliability(period)
            threshold = system.registry.reliability_threshold
        finally:
            await system.close()
        table = Table(level.upper(), "UK reliability", "NEVI uptime", "below threshold")
        for item in found:
            if item.level == level.upper():
                below = item.uk.below(threshold)
                table.add_row(
                    item.subject,
                    _percent(item.uk),
                    _percent(item.nevi),
                    "[red]yes[/red]" if below else "no",
                )
        return table, threshold

    table, threshold = run_async(read())
    out.print(
        f"{period.start:%Y-%m-%d %H:%M} – {period.end:%Y-%m-%d %H:%M} UTC, threshold {threshold:.0%}"
    )
    out.print(table if table.row_count else "no status history in this period")
