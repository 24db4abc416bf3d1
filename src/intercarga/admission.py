"""Admission of new connections before they have shown who they are, for both listeners.

A connection is *pending* from the moment it is accepted until it has proved to be a real peer:
on the OCPP port until its WebSocket handshake (with authentication) is done, on the HTTP port
until a complete request head has arrived. Pending connections are what a slowloris holds open
for free, so they are capped per remote address and in total; one over either cap is closed at
once. Stations behind one carrier NAT share an address, so the per-address cap counts only
connections still pending, never connected stations.

Refusals and timeouts come in bursts of thousands; :class:`BurstLog` writes the first of a burst
at once and then one summary line per interval, never one line per socket.

This module counts and logs; it must never touch a socket (the listeners close what it refuses).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Admission", "BurstLog", "Ticket", "summarise_accept_errors"]


class BurstLog:
    """One log line for the first event of a burst, then at most one summary per ``every``."""

    def __init__(self, logger: logging.Logger, listener: str, every: float = 10.0) -> None:
        self._logger = logger
        self._listener = listener
        self._every = every
        self._counts: Counter[str] = Counter()
        self._addresses: Counter[str] = Counter()
        self._flush: asyncio.TimerHandle | None = None

    def note(self, what: str, address: str) -> None:
        """Count one event (``what`` says what happened, e.g. "refused: over the cap")."""
        if self._flush is None:
            self._logger.warning(
                "%s: connection from %s %s (more like it are summarised every %g s)",
                self._listener,
                address,
                what,
                self._every,
            )
            self._flush = asyncio.get_running_loop().call_later(self._every, self._summarise)
            return
        self._counts[what] += 1
        self._addresses[address] += 1

    def _summarise(self) -> None:
        if not self._counts:
            self._flush = None
            return
        events = ", ".join(f"{count} {what}" for what, count in self._counts.most_common())
        top = ", ".join(f"{address} ({count})" for address, count in self._addresses.most_common(3))
        self._logger.warning(
            "%s: in the last %g s, connections %s; most from %s",
            self._listener,
            self._every,
            events,
            top,
        )
        self._counts.clear()
        self._addresses.clear()
        self._flush = asyncio.get_running_loop().call_later(self._every, self._summarise)

    def close(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None


def summarise_accept_errors(loop: asyncio.AbstractEventLoop, burst: BurstLog) -> None:
    """Make asyncio's "accept() out of system resource" errors one line per burst.

    asyncio logs every accept() that fails for want of file descriptors with a traceback: with
    a full backlog that is thousands of tracebacks a second, which fill the disk next.
    """

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        message = str(context.get("message", ""))
        if message.startswith("socket.accept() out of system resource"):
            listening = context.get("socket")
            where = listening.getsockname() if hasattr(listening, "getsockname") else "?"
            burst.note("not accepted: the process is out of file descriptors", str(where))
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


@dataclass
class Ticket:
    """One admitted pending connection; :meth:`release` once it is past its handshake or gone."""

    admission: Admission
    address: str
    released: bool = field(default=False)

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.admission._release(self.address)


class Admission:
    """Counts the pending connections of one listener, per remote address and in total."""

    def __init__(
        self, listener: str, *, total: int, per_address: int, log: BurstLog | None = None
    ) -> None:
        self.listener = listener
        self.total = total
        self.per_address = per_address
        self.log = log
        self._pending: Counter[str] = Counter()
        self._count = 0

    @property
    def pending(self) -> int:
        return self._count

    def admit(self, address: str) -> Ticket | None:
        """A ticket for a new connection from ``address``, or None when it must be closed."""
        if self._count >= self.total:
            self._note(f"refused: {self.total} connections already pending", address)
            return None
        if self._pending[address] >= self.per_address:
            self._note(
                f"refused: {self.per_address} connections from one address already pending",
                address,
            )
            return None
        self._pending[address] += 1
        self._count += 1
        return Ticket(self, address)

    def timed_out(self, address: str, what: str) -> None:
        """A pending connection was closed for taking too long (to be logged in the burst)."""
        self._note(what, address)

    def _release(self, address: str) -> None:
        self._count -= 1
        self._pending[address] -= 1
        if self._pending[address] <= 0:
            del self._pending[address]

    def close(self) -> None:
        if self.log is not None:
            self.log.close()

    def _note(self, what: str, address: str) -> None:
        if self.log is not None:
            self.log.note(what, address)
