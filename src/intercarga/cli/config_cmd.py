"""``intercarga config``: show the effective configuration."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from intercarga.cli._common import out, run, settings_from

__all__ = ["app"]

app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@app.command("show")
@run
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print the effective configuration (file + environment + defaults), secrets masked."""
    values = settings_from(ctx).masked()
    if as_json:
        out.print_json(json.dumps(values))
        return
    table = Table("setting", "value", title="Effective configuration")
    for key, value in values.items():
        table.add_row(key, "" if value is None else str(value))
    out.print(table)
