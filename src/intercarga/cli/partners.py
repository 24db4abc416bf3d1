"""``intercarga partners``: OCPI roaming partners — invite, register, list, remove, sync, outbox.

``invite`` prints our versions URL and a fresh TOKEN_A to hand to the partner (shown once);
``register`` does the credentials handshake with a partner that invited us. Both need the
partner's side to be reachable over HTTP (``register``) or our ``intercarga serve`` to be running
when the partner comes (``invite``). ``sync`` queues a full push of our objects to a partner and
``outbox`` shows what waits for it (``--retry`` makes it due now); the running server sends.
Tokens other than a new TOKEN_A are never printed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from intercarga.app import System
from intercarga.cli._common import out, run, run_async, settings_from
from intercarga.config import Settings
from intercarga.domain._types import utc_now
from intercarga.ocpi.envelope import OcpiError
from intercarga.ocpi.roaming import Roaming

__all__ = ["app"]

app = typer.Typer(
    help="OCPI roaming partners: invite, register, list, remove, sync, outbox.",
    no_args_is_help=True,
)

T = TypeVar("T")


async def _with_roaming(settings: Settings, work: Callable[[Roaming], Awaitable[T]]) -> T:
    system = await System.open(settings)
    roaming = Roaming.build(settings, system.store)
    try:
        return await work(roaming)
    except OcpiError as error:
        # A partner's OCPI status reaches the operator as one line like any other error.
        from intercarga.ocpi.client import PartnerError

        raise PartnerError(str(error), error.status_code) from None
    finally:
        await roaming.client.aclose()
        await system.close()


@app.command("invite")
@run
def invite(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="A name for the partner.")] = None,
) -> None:
    """Make a fresh TOKEN_A for a new partner; print it with our versions URL (shown once)."""
    settings = settings_from(ctx)
    invitation = run_async(_with_roaming(settings, lambda roaming: roaming.registrar.invite(name)))
    out.print(f"partner:      {invitation.partner_id}")
    out.print(f"versions URL: {invitation.versions_url}")
    out.print(f"TOKEN_A:      {invitation.token}")


@app.command("register")
@run
def register(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url", help="The partner's OCPI versions URL.")],
    token: Annotated[str, typer.Option("--token", help="The TOKEN_A the partner gave us.")],
    name: Annotated[str | None, typer.Option(help="A name for the partner.")] = None,
) -> None:
    """Register with a partner that invited us: the full credentials handshake."""
    settings = settings_from(ctx)
    partner = run_async(
        _with_roaming(settings, lambda roaming: roaming.registrar.register(url, token, name))
    )
    parties = ", ".join(f"{r.country_code}-{r.party_id} {r.role}" for r in partner.roles)
    out.print(f"registered with {partner.name} ({partner.id}), OCPI {partner.version}: {parties}")


@app.command("list")
@run
def list_partners(ctx: typer.Context) -> None:
    """List partners with their state, version and parties."""
    settings = settings_from(ctx)

    async def read(roaming: Roaming) -> Table:
        page = await roaming.registrar.partners.list(limit=1000)
        table = Table("id", "name", "state", "version", "parties", "versions URL")
        for partner in page.items:
            table.add_row(
                partner.id,
                partner.name,
                partner.state.value,
                partner.version or "",
                ", ".join(f"{r.country_code}-{r.party_id} {r.role}" for r in partner.roles),
                partner.versions_url or "",
            )
        return table

    table = run_async(_with_roaming(settings, read))
    if table.row_count == 0:
        out.print("no partners yet: `intercarga partners invite` or `partners register`")
    else:
        out.print(table)


@app.command("remove")
@run
def remove(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner's id (see `partners list`).")],
) -> None:
    """Remove a partner, unregistering first (DELETE credentials) when registered."""
    settings = settings_from(ctx)
    told = run_async(_with_roaming(settings, lambda roaming: roaming.registrar.remove(partner_id)))
    suffix = " (the partner was told)" if told else ""
    out.print(f"removed partner {partner_id}{suffix}")


@app.command("sync")
@run
def sync(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner's id (see `partners list`).")],
) -> None:
    """Queue a push of every Location, Tariff and Token of ours that the partner receives."""
    settings = settings_from(ctx)

    async def push(roaming: Roaming) -> int:
        return await roaming.pusher.push_all(await roaming.registrar.partners.get(partner_id))

    count = run_async(_with_roaming(settings, push))
    out.print(f"queued {count} pushes for partner {partner_id} (`intercarga serve` sends them)")


@app.command("outbox")
@run
def outbox(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner's id (see `partners list`).")],
    retry: Annotated[
        bool, typer.Option("--retry", help="Make pending and failed pushes due now.")
    ] = False,
) -> None:
    """Show what waits to be pushed to a partner (and, with --retry, try it again now)."""
    settings = settings_from(ctx)

    async def read(roaming: Roaming) -> tuple[Table, str]:
        repository = roaming.outbox.repository
        await roaming.registrar.partners.get(partner_id)
        if retry:
            await repository.retry_now(partner_id, utc_now(), failed=True)
        backlog = await repository.backlog(partner_id)
        entries, _total = await repository.entries(partner_id, state="PENDING", limit=20)
        failed, _count = await repository.entries(partner_id, state="FAILED", limit=20)
        table = Table("id", "state", "request", "object", "tries", "last error")
        for entry in [*entries, *failed]:
            table.add_row(
                str(entry.id),
                entry.state,
                f"{entry.method} {entry.module}",
                entry.object_key,
                str(entry.attempts),
                entry.last_error or "",
            )
        summary = f"pending {backlog.pending}, failed {backlog.failed}, sent {backlog.sent}" + (
            f"; next try {backlog.next_attempt_at:%Y-%m-%d %H:%M:%S}"
            if backlog.pending and backlog.next_attempt_at
            else ""
        )
        return table, summary

    table, summary = run_async(_with_roaming(settings, read))
    out.print(summary)
    if table.row_count:
        out.print(table)
