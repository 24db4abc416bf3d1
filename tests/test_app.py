"""The composition root's listeners: bound before anything starts, answers sent at once."""

from __future__ import annotations

import socket

import pytest

from intercarga.app import bind
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
