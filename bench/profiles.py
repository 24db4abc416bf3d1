"""Sampling profiles of a server process under load, with py-spy, summarised as text.

:func:`record` runs ``py-spy record --format raw`` (collapsed stacks) against a running process
for a few seconds; :func:`summarise` turns the stacks into the functions that hold the most
samples, inclusive ("where the time goes, callees included") and by own time. Used by
``bench/run.py`` to say in docs/benchmarks.md what dominated; it measures and must never decide.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Profile", "available", "record", "summarise"]


@dataclass
class Profile:
    samples: int = 0
    inclusive: Counter[str] = field(default_factory=Counter)
    own: Counter[str] = field(default_factory=Counter)

    def top(self, count: int = 12, *, own: bool = False) -> list[tuple[str, float]]:
        table = self.own if own else self.inclusive
        total = max(1, self.samples)
        return [(name, 100.0 * hits / total) for name, hits in table.most_common(count)]


def _py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def available() -> bool:
    return _py_spy() is not None


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/module.py:123)"; keep function + file.
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})" if path else name


def summarise(collapsed: str, *, skip_idle: bool = True) -> Profile:
    """A profile from py-spy's collapsed stacks (one ``frame;frame;… count`` per line)."""
    profile = Profile()
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_frame_name(frame) for frame in stack.split(";") if frame]
        if not frames:
            continue
        if skip_idle and frames[-1].startswith(("select (", "_run_once", "poll (")):
            continue  # the event loop waiting for sockets: idle, not work
        count = int(count_text)
        profile.samples += count
        for name in set(frames):
            profile.inclusive[name] += count
        profile.own[frames[-1]] += count
    return profile


def record(pid: int, seconds: float, *, rate: int = 200) -> Profile | None:
    """Sample ``pid`` for ``seconds``; None when py-spy is missing or may not attach."""
    py_spy = _py_spy()
    if py_spy is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "stacks.txt"
        completed = subprocess.run(  # noqa: S603 (our own argument list, no shell)
            [
                py_spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, round(seconds))),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(output),
                "--gil",  # Python at work: the thread holding the GIL, never idle waits
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        if completed.returncode != 0 or not output.exists():
            return None
        return summarise(output.read_text())
