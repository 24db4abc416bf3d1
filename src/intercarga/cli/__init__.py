"""The ``intercarga`` command: one Typer app, one module per command group.

This module only assembles the groups and the global options; each command lives in its own
module and reaches the running system only through :mod:`intercarga.app`.

A command's module is imported only when that command runs (or when help lists it): the
commands pull in very different parts of the system (the demo its region plan and simulator,
``assess`` the assessment), and every ``intercarga serve`` or ``intercarga simulate`` process
would otherwise pay for all of them before doing anything (the test suite starts hundreds).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click import Command  # Typer's own click, which its groups hold (vendored in 0.2x)
from typer.core import TyperGroup
from typer.main import get_group

from intercarga import __version__
from intercarga.cli._common import GlobalOptions, out

__all__ = ["COMMANDS", "app", "main"]

#: The commands in the order help lists them (single commands, then groups): each name's
#: ``module:attribute``, a command function or a Typer app of subcommands. A new command is one
#: more line here.
COMMANDS: Mapping[str, str] = {
    "serve": "intercarga.cli.serve:serve",
    "compat": "intercarga.cli.hardware:compat",
    "comply": "intercarga.cli.hardware:comply_command",
    "simulate": "intercarga.cli.simulate:simulate",
    "demo": "intercarga.cli.demo:demo",
    "assess": "intercarga.cli.assess:assess",
    "db": "intercarga.cli.db:app",
    "config": "intercarga.cli.config_cmd:app",
    "vehicles": "intercarga.cli.hardware:vehicles_app",
    "connectors": "intercarga.cli.hardware:connectors_app",
    "ids": "intercarga.cli.ids:app",
    "tariff": "intercarga.cli.tariff:app",
    "partners": "intercarga.cli.partners:app",
    "registry": "intercarga.cli.registry:app",
    "ocm": "intercarga.cli.ocm:app",
    "users": "intercarga.cli.users:app",
}


def _load(name: str) -> Command:
    """The click command ``name``, built by Typer as if registered on the root app."""
    module, attribute = COMMANDS[name].split(":")
    target = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer(add_completion=False, rich_markup_mode="rich")  # as the root app's
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return get_group(holder).commands[name]


class _Commands(MutableMapping[str, Command]):
    """The root group's commands: every name known, each command loaded on first use."""

    def __init__(self) -> None:
        self._loaded: dict[str, Command] = {}
        self._added: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name in self._added:
            return self._added[name]
        if name not in COMMANDS:
            raise KeyError(name)
        if name not in self._loaded:
            self._loaded[name] = _load(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._added[name] = command

    def __delitem__(self, name: str) -> None:
        del self._added[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._added if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + len(self._added.keys() - COMMANDS.keys())


class _LazyGroup(TyperGroup):
    """The root group, whose commands are :class:`_Commands`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        commands = _Commands()
        commands.update(self.commands)  # any registered on the app itself
        self.commands = commands


app = typer.Typer(
    name="intercarga",
    cls=_LazyGroup,
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


def main() -> None:
    app()
