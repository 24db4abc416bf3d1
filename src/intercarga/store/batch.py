"""Group commit: the writes that arrive while one commit runs go together in the next one.

A hot path (a station's meter values, a heartbeat's last-seen time) hands :meth:`WriteBatcher.write`
the statements of one atomic write as :class:`Write` items, and waits until they are committed,
so no message is acknowledged before it is stored. While a commit is running, the writes of
other stations queue up; the next commit takes all of them in one database transaction, and
writes of the same shape (the same statements in the same order) run each statement once with
all their parameter rows (``executemany``). Under load that turns hundreds of small commits into
a few large ones; with one writer at a time it is one commit per write, with no added delay.

If a batch fails, each of its writes is tried again alone, so only the write at fault fails.
Writes in one batch may run in another order than they were submitted: callers serialize the
writes that touch the same rows (the CSMS handles one station's messages one at a time).
This module runs statements; it must never build them (repositories do) nor decide anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

__all__ = ["Write", "WriteBatcher"]


@dataclass(frozen=True, slots=True)
class Write:
    """One statement of an atomic write and its parameter rows (none: nothing to run)."""

    statement: Executable
    rows: Sequence[Mapping[str, Any]]


@dataclass(slots=True)
class _Job:
    writes: tuple[Write, ...]
    done: asyncio.Future[None]

    @property
    def shape(self) -> tuple[int, ...]:
        # Statements are built once per repository, so their identity names them.
        return tuple(id(write.statement) for write in self.writes)


class WriteBatcher:
    """Commits writes in batches over one engine; see the module docstring."""

    def __init__(self, engine: AsyncEngine, *, max_batch: int = 500) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: list[_Job] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, *writes: Write) -> None:
        """Run ``writes`` in one transaction (with others' writes); return once committed."""
        job = _Job(writes, asyncio.get_running_loop().create_future())
        # A waiter cancelled meanwhile must not leave an exception nobody retrieves; its write
        # stays queued and is committed all the same.
        job.done.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._queue.append(job)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="store-write-batcher")
        await job.done

    async def _drain(self) -> None:
        # One connection for as long as writes keep coming: no pool round trip per batch. The
        # last batch's writers hear of their commit only once the connection is back in the
        # pool, so whoever disposes of the engine next finds nothing half-closed. Writes queued
        # while the connection closes are taken by the outer loop: the task ends only when,
        # with no await left, the queue is empty.
        while self._queue:
            taken: list[_Job] = []
            outcome: list[tuple[_Job, BaseException | None]] = []
            try:
                async with self._engine.connect() as connection:
                    while self._queue:
                        _settle(outcome)
                        taken = self._queue[: self._max_batch]
                        del self._queue[: self._max_batch]
                        outcome = await self._commit(connection, taken)
                        taken = []
            except BaseException as error:
                # The connection itself failed: every write taken or waiting fails with it.
                failed, self._queue = [*taken, *self._queue], []
                reason = error if isinstance(error, Exception) else asyncio.CancelledError()
                _settle([*outcome, *((job, reason) for job in failed)])
                if not isinstance(error, Exception):
                    raise
                continue
            _settle(outcome)

    async def _commit(
        self, connection: AsyncConnection, jobs: list[_Job]
    ) -> list[tuple[_Job, BaseException | None]]:
        try:
            async with connection.begin():
                await _run(connection, jobs)
        except Exception as error:
            if len(jobs) == 1:
                return [(jobs[0], error)]
            outcome: list[tuple[_Job, BaseException | None]] = []
            for job in jobs:  # find the write at fault: each alone
                outcome.extend(await self._commit(connection, [job]))
            return outcome
        return [(job, None) for job in jobs]


def _settle(outcome: list[tuple[_Job, BaseException | None]]) -> None:
    for job, error in outcome:
        if job.done.done():
            continue
        if error is None:
            job.done.set_result(None)
        else:
            job.done.set_exception(error)
    outcome.clear()


async def _run(connection: AsyncConnection, jobs: list[_Job]) -> None:
    shapes: dict[tuple[int, ...], list[_Job]] = {}
    for job in jobs:
        shapes.setdefault(job.shape, []).append(job)
    for group in shapes.values():
        for index, write in enumerate(group[0].writes):
            rows = [dict(row) for job in group for row in job.writes[index].rows]
            if len(rows) == 1:
                await connection.execute(write.statement, rows[0])
            elif rows:
                await connection.execute(write.statement, rows)
