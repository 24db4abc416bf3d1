"""``intercarga db``: migrate the database, load the example network, issue admin tokens."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from intercarga.app import System
from intercarga.cli._common import err, out, run, settings_from
from intercarga.config import Settings
from intercarga.sim.example import example_network, load_network, seed_network
from intercarga.store.migrate import current_revision, head_revision

__all__ = ["app"]

app = typer.Typer(help="Database: migrate, inspect, seed, admin tokens.", no_args_is_help=True)


async def _upgrade(settings: Settings) -> tuple[str | None, str]:
    from intercarga.store import check_database, create_engine, upgrade

    engine = create_engine(settings.database_url.get_secret_value(), settings.database_schema)
    try:
        await check_database(engine)
        before = await current_revision(engine)
        await upgrade(engine)
        return before, head_revision()
    finally:
        await engine.dispose()


@app.command("upgrade")
@run
def upgrade_command(ctx: typer.Context) -> None:
    """Migrate the database to the newest schema (a missing SQLite file is created)."""
    settings = settings_from(ctx)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True
    ) as progress:
        progress.add_task("migrating…", total=None)
        before, after = asyncio.run(_upgrade(settings))
    if before == after:
        out.print(f"database already at revision [bold]{after}[/]")
    else:
        out.print(f"database migrated from {before or 'empty'} to revision [bold]{after}[/]")


@app.command("status")
@run
def status_command(ctx: typer.Context) -> None:
    """Show the database's schema revision and the newest one this version knows."""
    settings = settings_from(ctx)

    async def read() -> str | None:
        system = await System.open(settings, migrate=False)
        try:
            return await current_revision(system.engine)
        finally:
            await system.close()

    current = asyncio.run(read())
    head = head_revision()
    state = "up to date" if current == head else "needs `intercarga db upgrade`"
    out.print(f"revision {current or 'none'} (newest {head}): {state}")


@app.command("seed")
@run
def seed_command(
    ctx: typer.Context,
    network_file: Annotated[
        Path | None,
        typer.Option(
            "--network",
            help="A network file in the example network's format instead of the example.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load the example network (Santiago, Bogotá, São Paulo) into an empty database."""
    settings = settings_from(ctx)
    network = load_network(network_file) if network_file is not None else example_network()

    async def seed() -> bool:
        system = await System.open(settings)
        try:
            return await seed_network(system.store, network)
        finally:
            await system.close()

    if asyncio.run(seed()):
        out.print(f"{network_file or 'example network'} loaded")
    else:
        out.print("the database already holds parties or locations: nothing loaded")


@app.command("admin-token")
@run
def admin_token_command(
    ctx: typer.Context,
    revoke_others: Annotated[
        bool, typer.Option("--revoke-others", help="Invalidate every earlier token.")
    ] = False,
) -> None:
    """Issue a new admin API token and print it once (only its hash is stored)."""
    settings = settings_from(ctx)
    if settings.admin_token is not None:
        err.print("note: INTERCARGA_ADMIN_TOKEN is set, so the API accepts only that token")

    async def issue() -> str:
        system = await System.open(settings)
        try:
            return await system.admin_auth.issue_token(revoke_others=revoke_others)
        finally:
            await system.close()

    out.print(asyncio.run(issue()), soft_wrap=True)
