"""A simulated clock that runs ``speed`` times faster than the wall clock.

Everything a simulated station does in its own time (heartbeat intervals, meter-value intervals,
charging minutes, how long a connection stays lost, boot retries) is measured in simulated
seconds, so a test can charge an hour in a second. Network time (how long the CSMS takes to
answer, call timeouts) stays real: latency is measured, never simulated.

This module must never sleep on the wall clock for a simulated duration without dividing by the
speed, and never touch a socket.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["SimClock", "format_timestamp"]


class SimClock:
    """Simulated UTC time starting at ``start`` (default: now) and running ``speed`` × faster.

    :param speed: how many simulated seconds pass per real second; must be positive.
    :param start: the simulated time at creation.
    :param monotonic: the real clock (injectable for tests).
    """

    def __init__(
        self,
        speed: float = 1.0,
        *,
        start: datetime | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._monotonic = monotonic
        self._origin_real = monotonic()
        self._origin = start if start is not None else datetime.now(UTC)

    def elapsed(self) -> float:
        """Simulated seconds since the clock was created."""
        return (self._monotonic() - self._origin_real) * self.speed

    def now(self) -> datetime:
        """The simulated time, in UTC."""
        return self._origin + timedelta(seconds=self.elapsed())

    def real_seconds(self, simulated: float) -> float:
        """How many real seconds ``simulated`` seconds take."""
        return max(0.0, simulated) / self.speed

    async def sleep(self, simulated: float) -> None:
        """Wait ``simulated`` seconds of simulated time."""
        await asyncio.sleep(self.real_seconds(simulated))


def format_timestamp(moment: datetime) -> str:
    """OCPP's dateTime: UTC, milliseconds, ``Z`` suffix (RFC 3339)."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
