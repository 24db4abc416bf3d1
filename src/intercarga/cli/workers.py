"""``intercarga serve --workers N``: N serving processes on one host, one supervising parent.

Each worker is a whole ``serve`` in a process of its own (forked, so it starts from the settings
already read), listening on the same HTTP and OCPP ports with SO_REUSEPORT: the kernel spreads
new connections over them, and each worker is a cluster node (``node_id`` with ``-w0``, ``-w1``,
… appended) so a command, an event or an OCPI lane reaches the right worker through NATS and
PostgreSQL exactly as between hosts. Hence workers need ``[cluster] nats_url`` and PostgreSQL.

Worker 0 starts alone and the others once it is up: it migrates the database, makes the first
admin token and the dashboard's first password (shown once), and seeds, so no two workers race
for those. The parent serves nothing and touches neither database nor NATS; it must never exit
leaving a worker behind: on SIGTERM or SIGINT it asks each to stop and awaits each, killing one
that has not ended in time. A worker that dies once it served is started again; one that dies
before it served (a configuration error, a port taken: it would again) stops them all with its
exit code.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.context import ForkProcess
from multiprocessing.synchronize import Event as ProcessEvent
from types import FrameType
from typing import Any

from rich.markup import escape

from intercarga.cli._common import EXIT_USAGE, err
from intercarga.config import Settings
from intercarga.errors import ConfigurationError, IntercargaError
from intercarga.sim.processes import die_with_parent

__all__ = ["check_workers", "serve_workers", "worker_node_id"]

log = logging.getLogger(__name__)

# Seconds a worker may take to answer (migrations included) before the start is given up.
START_TIMEOUT = 300.0
# Seconds each worker has to stop after SIGTERM; serve's own background tasks get 30.
STOP_TIMEOUT = 40.0


def check_workers(settings: Settings, workers: int) -> None:
    """:class:`ConfigurationError` unless ``workers`` processes can serve with ``settings``."""
    if workers <= 1:
        return
    if settings.cluster.nats_url is None:
        raise ConfigurationError(
            "serve --workers: needs cluster.nats_url (each worker is a cluster node)"
        )
    if not settings.database_url.get_secret_value().startswith("postgresql"):
        raise ConfigurationError(
            "serve --workers: needs a PostgreSQL database_url (the workers share it)"
        )
    if settings.http_port == 0 or settings.ocpp_port == 0:
        raise ConfigurationError("serve --workers: needs fixed ports (0 would give each its own)")


def worker_node_id(base: str, index: int) -> str:
    """The cluster ``node_id`` of worker ``index``: the configured one, suffixed (≤ 64 chars)."""
    suffix = f"-w{index}"
    return base[: 64 - len(suffix)] + suffix


# What a worker runs: the settings of its own, a flag to set once it serves, and whether it
# is the first worker (which alone may show a first start's secrets and play the demo).
ServeWorker = Callable[[Settings, asyncio.Event, bool], Coroutine[Any, Any, None]]


@dataclass
class _Worker:
    index: int
    settings: Settings
    process: ForkProcess
    ready: ProcessEvent


def _run_worker(serve: ServeWorker, settings: Settings, ready: ProcessEvent, first: bool) -> None:
    """A worker process's body: ``serve`` until SIGTERM; an error is one line and exit 2."""
    die_with_parent()
    # The parent's handlers came with the fork; serve installs its own once it runs.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    class Served(asyncio.Event):
        # The parent learns it at once, not at this loop's next turn: a worker busy taking
        # stations and killed in between would count as one that never served.
        def set(self) -> None:
            super().set()
            ready.set()

    async def main() -> None:
        served = Served()
        task = asyncio.ensure_future(serve(settings, served, first))
        waiter = asyncio.ensure_future(served.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if served.is_set():
            ready.set()
        waiter.cancel()
        await task

    try:
        asyncio.run(main())
    except IntercargaError as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        sys.exit(0)


class _Supervisor:
    def __init__(self, settings: Settings, count: int, serve: ServeWorker) -> None:
        self._settings = settings
        self._count = count
        self._serve = serve
        self._context = multiprocessing.get_context("fork")
        self._workers: list[_Worker] = []
        self._stopping = False

    def _stop_soon(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _start(self, index: int) -> _Worker:
        cluster = self._settings.cluster.model_copy(
            update={"node_id": worker_node_id(self._settings.cluster.node_id, index)}
        )
        settings = self._settings.model_copy(update={"cluster": cluster})
        ready = self._context.Event()
        process = self._context.Process(
            target=_run_worker,
            args=(self._serve, settings, ready, index == 0),
            name=f"intercarga-worker-{index}",
        )
        process.start()
        log.info(
            "worker started",
            extra={"worker": index, "pid": process.pid, "node": cluster.node_id},
        )
        return _Worker(index, settings, process, ready)

    def _await_ready(self, workers: list[_Worker]) -> int | None:
        """None once every one of ``workers`` serves; else the exit code to end with."""
        deadline = time.monotonic() + START_TIMEOUT
        while not all(worker.ready.is_set() for worker in workers):
            if self._stopping:
                return 0
            for worker in workers:
                if not worker.process.is_alive():
                    return worker.process.exitcode or 1
            if time.monotonic() > deadline:
                log.error("a worker did not start in %g s", START_TIMEOUT)
                return 1
            time.sleep(0.1)
        return None

    def run(self) -> int:
        previous = {
            signum: signal.signal(signum, self._stop_soon)
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            return self._supervise()
        finally:
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _supervise(self) -> int:
        # The first alone: it migrates and makes the first secrets before the others look.
        self._workers.append(self._start(0))
        failed = self._await_ready(self._workers[:1])
        if failed is not None:
            return failed
        self._workers += [self._start(index) for index in range(1, self._count)]
        failed = self._await_ready(self._workers)
        if failed is not None:
            return failed
        log.info("all workers serve", extra={"workers": self._count})
        restarted: list[_Worker] = []  # started again, not yet serving
        while not self._stopping:
            wait([worker.process.sentinel for worker in self._workers], timeout=0.5)
            for worker in [w for w in restarted if w.ready.is_set()]:
                # Said, so that an operator (or a test) knows the node is back.
                log.info("worker %d serves again", worker.index, extra={"worker": worker.index})
                restarted.remove(worker)
            for position, worker in enumerate(self._workers):
                if self._stopping or worker.process.is_alive():
                    continue
                code = worker.process.exitcode
                worker.process.join()
                if not worker.ready.is_set():
                    log.error(
                        "worker %d exited with code %s before it served; stopping",
                        worker.index,
                        code,
                    )
                    return code or 1
                log.warning("worker %d exited with code %s; starting it again", worker.index, code)
                self._workers[position] = self._start(worker.index)
                restarted = [w for w in restarted if w is not worker]
                restarted.append(self._workers[position])
        return 0

    def _stop_all(self) -> None:
        """SIGTERM to every worker, then await each; one still running after the timeout is
        killed (and awaited)."""
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                log.error("worker %d did not stop in %g s; killed", worker.index, STOP_TIMEOUT)
                worker.process.kill()
                worker.process.join(5)
        log.info("all workers stopped")


def serve_workers(settings: Settings, count: int, serve: ServeWorker) -> int:
    """Run ``count`` workers, each ``serve(settings, ready, first)`` (a coroutine function)
    in a process of its own, until SIGTERM or SIGINT; the exit code to end with."""
    check_workers(settings, count)
    return _Supervisor(settings, count, serve).run()
