"""One OCPP-J connection driven over a WebSocket: the one asyncio adapter of :class:`~intercarga.ocpp.rpc.Protocol`.

Both ends of OCPP use it: the CSMS endpoint (:mod:`intercarga.ocpp.server`) and the simulated
station (:mod:`intercarga.sim.link`). A :class:`Connection` reads text frames into the protocol,
hands the peer's CALLs to its :class:`Peer` and writes the answers, ends each of our CALLs with
the event that ended it (:data:`Ending`), keeps the protocol's clock (our calls time out by
:meth:`~intercarga.ocpp.rpc.Protocol.next_deadline`) and writes whatever the protocol has to
send. When the socket closes, every call of ours still waiting ends with
:class:`~intercarga.ocpp.rpc.CallCancelled` and the work started for the peer is cancelled and
awaited.

Each end turns an :data:`Ending` into the errors its own callers know (the CSMS's
``StationOfflineError``…, the simulator's ``CallRejectedError``…): that is not this module's
business. This module moves frames: it must never decide what an OCPP message means (the
:class:`Peer` does) nor reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from typing import Protocol as TypingProtocol

from websockets.asyncio.connection import Connection as WebSocket
from websockets.exceptions import ConnectionClosed

from intercarga.errors import IntercargaError
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.rpc import (
    CallCancelled,
    CallErrorReceived,
    CallReceived,
    CallResultErrorReceived,
    CallResultReceived,
    CallTimedOut,
    Event,
    Protocol,
    ProtocolViolation,
    SendReceived,
)

__all__ = ["Connection", "Ending", "Notice", "Peer"]

log = logging.getLogger(__name__)

Ending = CallResultReceived | CallErrorReceived | CallTimedOut | CallCancelled
"""How one of our CALLs ended: answered, refused, unanswered in time, or cut off by the close."""

Notice = SendReceived | ProtocolViolation | CallResultErrorReceived
"""What the peer did that needs no answer from us."""


class Peer(TypingProtocol):
    """What one end does with the other end's traffic; the connection only moves frames."""

    def call_received(self, call: CallReceived) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        """The CALLRESULT payload answering ``call``: now (a payload, answered before the next
        frame is read) or later (an awaitable, run beside the connection). Raise
        :class:`CallError` (now or later) for a CALLERROR."""
        ...

    def notice_received(self, notice: Notice) -> None:
        """A SEND message, a frame the protocol rejected, or the peer's CALLRESULTERROR."""
        ...


class Connection:
    """Drives one :class:`Protocol` over one open WebSocket; :meth:`run` must run while it is used.

    :param clock: monotonic seconds, the protocol's time.
    :param on_frame: told of every text frame, ``("received" | "sent", text)``, before it is
        processed or written (the CSMS keeps the last ones for operators).
    :param binary: what a binary frame gets (OCPP-J is text only): the connection closed with
        1003, or ignored.
    """

    def __init__(
        self,
        websocket: WebSocket,
        protocol: Protocol,
        peer: Peer,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_frame: Callable[[str, str], None] | None = None,
        binary: Literal["close", "ignore"] = "close",
    ) -> None:
        self.websocket = websocket
        self.protocol = protocol
        self._peer = peer
        self._clock = clock
        self._on_frame = on_frame
        self._binary = binary
        self._pending: dict[str, asyncio.Future[Ending]] = {}
        self._send_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.stopped = False
        """Whether :meth:`run` ended because its owner cancelled it, not because the socket
        closed."""

    @property
    def open(self) -> bool:
        return not self.protocol.closed

    @property
    def _name(self) -> dict[str, str]:
        return {"station_id": self.protocol.station_id}

    # -- our calls -----------------------------------------------------------------------------

    def send_call(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> str:
        """Queue a CALL (validated: ``OutgoingMessageError`` when it is not ours to send or not
        valid); returns its message id, for :meth:`ending`. The connection must be open."""
        unique_id = self.protocol.send_call(action, payload, timeout=timeout, now=self._clock())
        self._pending[unique_id] = asyncio.get_running_loop().create_future()
        self._wake.set()  # a new deadline, perhaps
        return unique_id

    async def ending(self, unique_id: str) -> Ending:
        """Write the CALL ``unique_id`` out and wait for the event that ends it."""
        future = self._pending.get(unique_id)
        if future is None:
            raise KeyError(f"no call {unique_id!r} is waiting")
        try:
            await self.flush()
            return await future
        finally:
            self._pending.pop(unique_id, None)

    async def call(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> Ending:
        """:meth:`send_call` and :meth:`ending` in one."""
        return await self.ending(self.send_call(action, payload, timeout=timeout))

    # -- running -------------------------------------------------------------------------------

    async def run(self, *, before_reading: Awaitable[None] | None = None) -> None:
        """Keep the clock and read frames until the WebSocket closes; then end every call still
        waiting, and cancel and await the work started for the peer.

        ``before_reading`` (the CSMS's "station connected") is awaited, with the clock already
        kept, before the first frame is read; if it fails, the connection ends the same way.
        """
        timer = asyncio.create_task(
            self._keep_time(), name=f"ocpp-timer-{self.protocol.station_id}"
        )
        try:
            if before_reading is not None:
                await before_reading
            await self._read()
        except asyncio.CancelledError:
            # Before the calls it cuts off resume: they may tell a stop from a lost connection.
            self.stopped = True
            raise
        finally:
            timer.cancel()
            for event in self.protocol.close():
                self._settle(event)
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(timer, *self._tasks, return_exceptions=True)

    def spawn(self, work: Awaitable[None]) -> None:
        """Run ``work`` beside the connection; it is cancelled if the connection ends first."""

        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("work for a peer's message failed", extra=self._name)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Write what the protocol has to send, in order."""
        async with self._send_lock:
            for frame in self.protocol.data_to_send():
                if self._on_frame is not None:
                    self._on_frame("sent", frame)
                try:
                    await self.websocket.send(frame)
                except ConnectionClosed:
                    return

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the WebSocket with a closing handshake; :meth:`run` then ends."""
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)

    def abort(self) -> None:
        """Drop the connection without a closing handshake, as a lost network would."""
        self.websocket.transport.abort()

    # -- internals -----------------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            try:
                message = await self.websocket.recv()
            except ConnectionClosed:
                return
            if isinstance(message, bytes):
                # OCPP-J is text only (OCPP-J 1.6 §3.4, 2.0.1 part 4 §3.1).
                if self._binary == "ignore":
                    continue
                log.warning("binary frame from the peer; closing", extra=self._name)
                await self.websocket.close(1003, "OCPP-J uses text frames")
                return
            if self._on_frame is not None:
                self._on_frame("received", message)
            for event in self.protocol.receive_text(message, now=self._clock()):
                self._on_event(event)
            await self.flush()

    async def _keep_time(self) -> None:
        """Drive the protocol's clock: time out our calls and send the next queued one."""
        while self.open:
            deadline = self.protocol.next_deadline()
            self._wake.clear()
            delay = None if deadline is None else max(0.0, deadline - self._clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            for event in self.protocol.tick(self._clock()):
                self._settle(event)
            await self.flush()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, CallReceived):
            if event.warnings:
                log.warning("lenient: %s", "; ".join(event.warnings), extra=self._name)
            self._answer(event)
        elif isinstance(
            event, CallResultReceived | CallErrorReceived | CallTimedOut | CallCancelled
        ):
            self._settle(event)
            self._wake.set()  # the next queued call went out with a deadline of its own
        else:
            self._peer.notice_received(event)

    def _answer(self, call: CallReceived) -> None:
        try:
            answer = self._peer.call_received(call)
        except Exception as error:
            self._refuse(call, error)
            return
        if inspect.isawaitable(answer):
            self.spawn(self._answer_later(call, answer))
        else:
            self._reply(call, answer)

    async def _answer_later(self, call: CallReceived, answer: Awaitable[dict[str, Any]]) -> None:
        try:
            result = await answer
        except Exception as error:
            self._refuse(call, error)
        else:
            self._reply(call, result)
        if self.open:
            await self.flush()

    def _refuse(self, call: CallReceived, error: Exception) -> None:
        if isinstance(error, CallError):
            self.protocol.send_error(call.unique_id, error)
            return
        log.error("handling %s failed", call.action, exc_info=error, extra=self._name)
        self.protocol.send_error(
            call.unique_id, ErrorCode.INTERNAL_ERROR, f"{call.action} could not be processed"
        )

    def _reply(self, call: CallReceived, result: dict[str, Any]) -> None:
        try:
            self.protocol.send_result(call.unique_id, result)
        except IntercargaError as error:
            log.error("our %s response is invalid: %s", call.action, error, extra=self._name)
            self.protocol.send_error(call.unique_id, ErrorCode.INTERNAL_ERROR, "invalid response")

    def _settle(self, event: Event) -> None:
        """End our call with ``event`` when it is an ending of one (tick and close return only
        endings; a frame may carry anything)."""
        if not isinstance(
            event, CallResultReceived | CallErrorReceived | CallTimedOut | CallCancelled
        ):
            return
        future = self._pending.get(event.unique_id)
        if future is not None and not future.done():
            future.set_result(event)
