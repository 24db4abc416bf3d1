"""``intercarga users``: the dashboard's operator accounts (add, password, list)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from intercarga.app import System
from intercarga.cli._common import out, run, settings_from
from intercarga.dashboard import Accounts, Role

__all__ = ["app"]

app = typer.Typer(help="Dashboard accounts: admin, operator or viewer.", no_args_is_help=True)


@app.command("add")
@run
def add_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Sign-in name: a-z, 0-9, '.', '_', '-', '@'.")],
    role: Annotated[
        Role, typer.Option("--role", "-r", help="admin, operator (sends commands) or viewer.")
    ] = Role.OPERATOR,
) -> None:
    """Add an account and print its password once (only its scrypt hash is stored)."""
    settings = settings_from(ctx)

    async def add() -> str:
        system = await System.open(settings)
        try:
            return await Accounts(system.store.users).add(name, role)
        finally:
            await system.close()

    out.print(asyncio.run(add()), soft_wrap=True, markup=False)


@app.command("list")
@run
def list_command(ctx: typer.Context) -> None:
    """The accounts and their roles."""
    settings = settings_from(ctx)

    async def names() -> list[tuple[str, str]]:
        system = await System.open(settings)
        try:
            return [(user.name, user.role) for user in await system.store.users.list()]
        finally:
            await system.close()

    for name, role in asyncio.run(names()):
        out.print(f"{name}\t{role}", markup=False)
