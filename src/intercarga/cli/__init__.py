"""The ``intercarga`` command: one Typer app, one module per command group.

This module only assembles the groups and the global options; each command lives in its own
module and reaches the running system only through :mod:`intercarga.app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from intercarga import __version__
from intercarga.cli._common import GlobalOptions, out
from intercarga.cli.assess import assess
from intercarga.cli.config_cmd import app as config_app
from intercarga.cli.db import app as db_app
from intercarga.cli.demo import demo
from intercarga.cli.hardware import register as register_hardware
from intercarga.cli.ids import app as ids_app
from intercarga.cli.ocm import app as ocm_app
from intercarga.cli.partners import app as partners_app
from intercarga.cli.registry import app as registry_app
from intercarga.cli.serve import serve
from intercarga.cli.simulate import simulate
from intercarga.cli.tariff import app as tariff_app
from intercarga.cli.users import app as users_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="intercarga",
    help="Interoperable EV charging for Latin America and the Caribbean: OCPP CSMS, OCPI roaming,"
    " pricing, open data and country assessments.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        out.print(f"intercarga {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="INTERCARGA_CONFIG",
            help="Configuration file (TOML). Default: ./intercarga.toml when it exists.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    ctx.obj = GlobalOptions(config_file=config)


app.command("serve")(serve)
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
register_hardware(app)  # compat, comply, vehicles, connectors
app.add_typer(ids_app, name="ids")
app.add_typer(tariff_app, name="tariff")
app.add_typer(partners_app, name="partners")
app.add_typer(registry_app, name="registry")
app.add_typer(ocm_app, name="ocm")
app.command("simulate")(simulate)
app.command("demo")(demo)
app.command("assess")(assess)
app.add_typer(users_app, name="users")


def main() -> None:
    app()
