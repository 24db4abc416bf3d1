"""The composition root's listeners: bound before anything starts, answers sent at once."""

from __future__ import annotations

import asyncio
import socket

import pytest
from sqlalchemy import text

from intercarga.app import System, _expire_transactions, bind
from intercarga.errors import IntercargaError


def test_a_connection_to_a_listener_has_nagle_off() -> None:
    """Without TCP_NODELAY a response written in two parts waits for the peer's delayed ACK:
    every request on a kept-alive connection took 44 ms more."""
    listener = bind("HTTP", "127.0.0.1", 0)
    with listener.socket, socket.create_connection(("127.0.0.1", listener.port)):
        listener.socket.setblocking(True)
        accepted, _ = listener.socket.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_a_taken_port_is_one_clear_error() -> None:
    first = bind("OCPP", "127.0.0.1", 0)
    with first.socket, pytest.raises(IntercargaError, match="cannot listen for OCPP on"):
        bind("OCPP", "127.0.0.1", first.port)


async def test_expiring_silent_transactions_outlives_a_database_error(system: System) -> None:
    """The loop that closes silent transactions runs for the life of the process: a database
    that is away when it looks must not end it for good."""
    async with system.engine.begin() as connection:
        await connection.execute(text("DROP TABLE ocpp_transactions"))
    expiry = asyncio.create_task(_expire_transactions(system))
    try:
        await asyncio.sleep(0.5)
        assert not expiry.done(), expiry.exception()
    finally:
        expiry.cancel()
        with pytest.raises(asyncio.CancelledError):
            await expiry
