"""``intercarga serve``: run the HTTP and OCPP servers in one asyncio process (or, with
``--workers N``, in N processes on the same ports: see ``cli/workers.py``).

Once serve has stopped (within ``stop_timeout``, see :func:`intercarga.app.serve`) the process
ends within :data:`EXIT_WITHIN` seconds more, whatever a library left behind: the event loop's
end cancels and awaits every task still pending, and the interpreter's end joins every thread,
and either may wait on a peer that no longer answers (a query's cancel request sent to a
database gone silent, a connection's graceful close). Everything was closed or abandoned by
then, and nothing acknowledged depends on those waits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Awaitable
from typing import Annotated

import typer

from intercarga.cli._common import err, run, settings_from
from intercarga.cli.workers import check_workers, serve_workers
from intercarga.config import LogFormat, Settings
from intercarga.logs import configure_logging

__all__ = ["EXIT_WITHIN", "serve"]

log = logging.getLogger(__name__)

# Seconds a process has to end once serve has stopped.
EXIT_WITHIN = 2.0


@run
def serve(
    ctx: typer.Context,
    http_port: Annotated[
        int | None,
        typer.Option(
            help="HTTP port (admin API, OCPI, open data). Default 8000.", show_default=False
        ),
    ] = None,
    ocpp_port: Annotated[
        int | None, typer.Option(help="OCPP WebSocket port. Default 9000.", show_default=False)
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            help="Address to listen on for both servers. Default 127.0.0.1.", show_default=False
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None, typer.Option(help="text or json.", show_default=False)
    ] = None,
    seed: Annotated[
        bool, typer.Option("--seed", help="Load the example network if the store is empty.")
    ] = False,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Also play the example network's stations in-process, charging again and again"
            " (implies --seed).",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Serving processes on the same ports (SO_REUSEPORT), each a cluster node;"
            " more than 1 needs [cluster] nats_url and PostgreSQL.",
        ),
    ] = 1,
) -> None:
    """Serve until SIGINT or SIGTERM; the database is migrated on start."""
    settings = settings_from(
        ctx,
        http_port=http_port,
        ocpp_port=ocpp_port,
        http_host=host,
        ocpp_host=host,
        log_format=log_format,
    )
    check_workers(settings, workers)
    configure_logging(settings.log_format, settings.log_level)
    from intercarga.app import serve as serve_forever

    if workers > 1:

        async def worker(settings: Settings, ready: asyncio.Event, first: bool) -> None:
            await _then_exit(
                serve_forever(
                    settings,
                    seed=seed or demo,
                    demo=demo and first,
                    show_admin_token=_show_admin_token,
                    show_admin_password=_show_admin_password,
                    ready=ready,
                    reuse_port=True,
                )
            )

        code = serve_workers(settings, workers, worker)
        if code:
            raise typer.Exit(code)
        return
    asyncio.run(
        _then_exit(
            serve_forever(
                settings,
                seed=seed,
                demo=demo,
                show_admin_token=_show_admin_token,
                show_admin_password=_show_admin_password,
            )
        )
    )


async def _then_exit(serving: Awaitable[None]) -> None:
    """Await ``serving``; once it has stopped, end the process within :data:`EXIT_WITHIN`,
    also when it stopped by a failure (then with status 1): the loop's clean-up after a
    failure waits on the same leftovers (a driver's cancellation against a silent database)."""
    code = 1
    try:
        await serving
        code = 0
    finally:
        timer = threading.Timer(EXIT_WITHIN, _exit_now, args=(code,))
        timer.daemon = True  # it must not hold the exit it guards
        timer.start()


def _exit_now(code: int) -> None:
    """The process's end is held up by what a library left: end it (serve has stopped)."""
    waiting = [thread.name for thread in threading.enumerate() if not thread.daemon]
    log.warning(
        "the process did not end %.0f s after it stopped: ending it now",
        EXIT_WITHIN,
        extra={"threads": ", ".join(waiting)},
    )
    logging.shutdown()  # flushes the log's handlers, which os._exit would not
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _show_admin_token(token: str) -> None:
    """The first start's admin token, on stderr beside the log but not a log record (README)."""
    err.print(f"admin API token (shown once, store it now): {token}", soft_wrap=True, markup=False)


def _show_admin_password(password: str) -> None:
    """The dashboard's first admin password, shown like the admin token: once, never logged."""
    err.print(
        f"dashboard: sign in at / as admin with password (shown once): {password}",
        soft_wrap=True,
        markup=False,
    )
