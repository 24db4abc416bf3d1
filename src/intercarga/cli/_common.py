"""What every command shares: the consoles, the global options, and the one-line error rule.

A user's mistake ends as one line on stderr and exit code 2, never a traceback. Commands raise
:class:`intercarga.errors.IntercargaError`; :func:`run` translates it. Nothing here may hold
state between commands except the options of the current invocation.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from intercarga.config import Settings, load_settings
from intercarga.errors import IntercargaError

__all__ = ["EXIT_USAGE", "GlobalOptions", "err", "fail", "out", "run", "settings_from"]

EXIT_USAGE = 2

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class GlobalOptions:
    config_file: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    """The effective settings for this invocation: file, environment, then command-line flags."""
    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    merged = {**options.overrides, **{k: v for k, v in overrides.items() if v is not None}}
    return load_settings(options.config_file, merged)


def fail(message: str) -> typer.Exit:
    """Print ``message`` as the one error line and return the exit to raise."""
    # The message is text, not markup: "[cluster] nats_url" or a TOML table name must show.
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(EXIT_USAGE)


def run(function: Callable[P, T]) -> Callable[P, T]:
    """Decorate a command so that an :class:`IntercargaError` ends it with one line and exit 2."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except IntercargaError as error:
            raise fail(str(error)) from None

    return wrapper


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion for a command; errors pass through to :func:`run`."""
    return asyncio.run(coroutine)
