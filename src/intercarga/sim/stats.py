"""Counting what simulated stations send and how fast the CSMS answers.

One :class:`MessageStats` per station (or per load client), merged into a fleet total with
:meth:`MessageStats.merge`. Latencies are kept as raw samples, so percentiles over several
stations or processes are exact, not averages of percentiles. Pure bookkeeping: this module must
never time anything itself (callers pass durations) nor do I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MessageStats", "percentile"]


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ascending ``ordered`` (``fraction`` in 0..1), None if empty."""
    if not ordered:
        return None
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be between 0 and 1")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class MessageStats:
    """Messages sent, answered and failed, and the round-trip time of each answered one."""

    sent: int = 0
    answered: int = 0
    errors: int = 0
    received_calls: int = 0  # calls the CSMS made to us
    latencies: list[float] = field(default_factory=list)  # seconds
    by_action: dict[str, int] = field(default_factory=dict)

    def on_sent(self, action: str) -> None:
        self.sent += 1
        self.by_action[action] = self.by_action.get(action, 0) + 1

    def on_answered(self, seconds: float) -> None:
        self.answered += 1
        self.latencies.append(seconds)

    def on_error(self) -> None:
        self.errors += 1

    @classmethod
    def merge(cls, many: Iterable[MessageStats]) -> MessageStats:
        total = cls()
        for stats in many:
            total.sent += stats.sent
            total.answered += stats.answered
            total.errors += stats.errors
            total.received_calls += stats.received_calls
            total.latencies.extend(stats.latencies)
            for action, count in stats.by_action.items():
                total.by_action[action] = total.by_action.get(action, 0) + count
        return total

    def latency_ms(self) -> dict[str, float | None]:
        """p50, p99 and max round-trip time in milliseconds (None when nothing was answered)."""
        ordered = sorted(self.latencies)

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000.0, 3)

        return {
            "p50": ms(percentile(ordered, 0.5)),
            "p99": ms(percentile(ordered, 0.99)),
            "max": ms(ordered[-1] if ordered else None),
        }

    def summary(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "answered": self.answered,
            "errors": self.errors,
            "received_calls": self.received_calls,
            "by_action": dict(sorted(self.by_action.items())),
            "latency_ms": self.latency_ms(),
        }
