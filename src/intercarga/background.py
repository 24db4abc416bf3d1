"""Stopping background loops between two runs of their work, never in the middle of one.

A loop that talks to the database (the outbox's lanes, the change watcher, the expiry of silent
transactions) must not be cancelled while it holds a connection. SQLAlchemy answers a
``CancelledError`` inside a query by throwing the connection away; if the task is cancelled
again while that close runs (anyio's cancel scopes, which Starlette's middleware uses, cancel
over and over), the close is orphaned: on SQLite it waits for ever on a worker thread that has
already gone, and an event loop that ends then never finishes closing; on PostgreSQL the
session may stay open in its transaction and hold its locks.

So a loop's owner asks it to stop (a flag, an event) and :func:`stop_tasks` waits for the loop
to notice between two runs; only a loop still busy after a grace period (a partner that does not
answer) is cancelled, once, and awaited. Loops sleep with :func:`pause`, which a stop cuts short.

A process stopping on SIGTERM has a :class:`Deadline` (``stop_timeout``): each step of its stop
gets a share of what is left, and :func:`within` abandons a step that outlives its share (a
database that no longer answers would hold it for ever). Nothing acknowledged is lost by that:
what a step still waits for was never acknowledged, and the process's end closes its sockets.
This module owns no loop and decides no policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterable
from typing import Any

__all__ = ["Deadline", "pause", "stop_tasks", "within"]

log = logging.getLogger(__name__)


async def pause(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less when ``stopping`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)


async def stop_tasks(tasks: Iterable[asyncio.Task[Any]], grace: float) -> None:
    """Wait for ``tasks`` (already asked to stop) to end, at most ``grace`` seconds; then cancel
    those still running, once each, and wait for them (again at most ``grace``) to end."""
    running = [task for task in tasks if not task.done()]
    if not running:
        return
    _done, late = await asyncio.wait(running, timeout=grace)
    for task in late:
        log.warning("%s did not stop within %.1f s: cancelled", task.get_name(), grace)
        task.cancel()
    if late:
        _done, stuck = await asyncio.wait(late, timeout=grace)
        for task in stuck:
            log.error("%s ignores its cancellation", task.get_name())
    for task in running:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())


class Deadline:
    """The moment a stop must be over, on the running event loop's clock."""

    def __init__(self, seconds: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._at = self._loop.time() + seconds

    def left(self, share: float = 1.0) -> float:
        """``share`` of the seconds left (0 once it has passed)."""
        return max(0.0, self._at - self._loop.time()) * share


async def within(step: Awaitable[None], seconds: float, what: str) -> bool:
    """Await ``step`` at most ``seconds``; a step still running then is cancelled and left
    (its cancellation waited for at most a second more). Whether it ended in time; a failure
    of the step is logged, not raised: the rest of a stop goes on."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        log.warning("%s did not end within %.1f s: abandoned", what, seconds)
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
        return False
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed", what, exc_info=task.exception())
    return True
