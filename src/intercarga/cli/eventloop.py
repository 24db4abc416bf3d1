"""The event loop ``intercarga serve`` runs on: uvloop's where it is installed and the setting
``uvloop`` wants it, else asyncio's own.

uvloop (libuv under the asyncio API) takes less CPU per station message than asyncio's loop
written in Python (docs/architecture.md, "Event loop"); everything above the loop is the same
code either way. This module chooses and runs the loop; it must never start anything itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["loop_factory", "run_serving"]

T = TypeVar("T")


def loop_factory(uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory when ``uvloop`` and it imports; None (asyncio's own) otherwise."""
    if not uvloop:
        return None
    try:
        import uvloop as chosen
    except ImportError:  # not installed (it is no dependency on Windows): asyncio's own loop
        return None
    return chosen.new_event_loop


def run_serving(coroutine: Coroutine[Any, Any, T], *, uvloop: bool) -> T:
    """:func:`asyncio.run` on the loop :func:`loop_factory` chooses."""
    with asyncio.Runner(loop_factory=loop_factory(uvloop)) as runner:
        return runner.run(coroutine)
