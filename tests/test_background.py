"""A stop's deadline and its steps (:mod:`intercarga.background`): a step that outlives its share
is abandoned, even one that ignores its cancellation; a step's failure does not stop the rest."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from intercarga.background import Deadline, within


async def test_a_step_that_ends_in_time_is_awaited() -> None:
    done: list[str] = []

    async def step() -> None:
        await asyncio.sleep(0.01)
        done.append("step")

    assert await within(step(), 5, "a step") is True
    assert done == ["step"]


async def test_a_step_that_waits_for_ever_is_cancelled_and_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cancelled = asyncio.Event()

    async def step() -> None:
        try:
            await asyncio.Event().wait()  # a database that does not answer
        except asyncio.CancelledError:
            cancelled.set()
            raise

    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert await within(step(), 0.2, "the silent step") is False
    assert time.monotonic() - started < 1.5
    assert cancelled.is_set()
    assert "the silent step did not end within 0.2 s: abandoned" in caplog.text


async def test_a_step_that_ignores_its_cancellation_is_left_all_the_same() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue  # as a library's close that swallows cancellation

    started = time.monotonic()
    assert await within(stubborn(), 0.2, "a stubborn step") is False
    assert time.monotonic() - started < 2.5  # its share, then a second for the cancellation
    release.set()
    await asyncio.sleep(0)


async def test_a_step_that_fails_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def failing() -> None:
        raise RuntimeError("the partner went away")

    with caplog.at_level(logging.ERROR):
        assert await within(failing(), 5, "a failing step") is True
    assert "a failing step failed" in caplog.text


async def test_a_deadline_shares_what_is_left() -> None:
    deadline = Deadline(10)
    assert 9 < deadline.left() <= 10
    assert 4.5 < deadline.left(0.5) <= 5
    passed = Deadline(0.01)
    await asyncio.sleep(0.05)
    assert passed.left() == 0.0
