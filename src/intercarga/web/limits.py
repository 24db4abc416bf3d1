"""Limits every HTTP request meets before any route sees it: request rate and announced size.

* **Rate**: a token bucket per client address (``rate_limit`` requests a second, bursts of
  ``rate_burst``); over it, 429 with ``Retry-After``.
* **Size**: a ``Content-Length`` over ``max_body_size`` is answered 413 at once, before a byte
  of the body is read and before any authentication. A body without a length (chunked) is
  counted as it streams by FastAPI's own ``max_body_size`` (set with the same value), whose 413
  leaves through the problem handlers.

Each refusal is problem JSON. Plain ASGI around the whole application (the listener puts it
there), so that a refused request costs no routing, no body and no authentication. (Deadlines for request heads and stalled bodies are the listener's,
:mod:`intercarga.web.listener`.) This module must never read a body, nor know any route.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from intercarga.config import HttpSettings
from intercarga.web.problems import body_too_large, problem

__all__ = ["HttpLimits", "RateLimiter"]


class RateLimiter:
    """A token bucket per key: ``rate`` tokens a second, holding at most ``burst``."""

    # Beyond this many keys, full buckets (clients quiet long enough) are forgotten.
    SWEEP_ABOVE = 10_000

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def retry_after(self, key: str, now: float) -> int | None:
        """Take one token for ``key``; None when there was one, else seconds to wait for it."""
        tokens, since = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - since) * self.rate)
        if tokens >= 1:
            if len(self._buckets) > self.SWEEP_ABOVE:
                self._sweep(now)
            self._buckets[key] = (tokens - 1, now)
            return None
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / self.rate))

    def _sweep(self, now: float) -> None:
        self._buckets = {
            key: (tokens, since)
            for key, (tokens, since) in self._buckets.items()
            if tokens + (now - since) * self.rate < self.burst
        }


class HttpLimits:
    """ASGI middleware applying :class:`~intercarga.config.HttpSettings`' rate and size limits."""

    def __init__(
        self,
        app: ASGIApp,
        settings: HttpSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self._max_body_size = settings.max_body_size
        self._clock = clock
        self._rate = (
            RateLimiter(settings.rate_limit, settings.rate_burst) if settings.rate_limit else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._rate is not None:
            client = scope.get("client")
            wait = self._rate.retry_after(str(client[0]) if client else "?", self._clock())
            if wait is not None:
                refused = problem(429, "too many requests from this address; retry later")
                refused.headers["Retry-After"] = str(wait)
                await refused(scope, receive, send)
                return
        length = _content_length(scope)
        if length is not None and length > self._max_body_size:
            await body_too_large(self._max_body_size)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
