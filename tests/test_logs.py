"""Process logging: the credential headers libraries log at DEBUG show without their values."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator

import pytest

from intercarga.config import LogFormat
from intercarga.logs import configure_logging

PASSWORD = "a-long-station-password"
BASIC = "Basic " + base64.b64encode(f"PE-ICG-0001:{PASSWORD}".encode()).decode()


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """What the process logs, as configured by ``serve``; the root logger put back after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


@pytest.mark.parametrize("log_format", list(LogFormat))
def test_a_handshakes_authorization_header_is_logged_without_its_value(
    output: io.StringIO, log_format: LogFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stderr", output)
    configure_logging(log_format, "DEBUG")
    # As websockets logs each header of an opening handshake at DEBUG.
    logger = logging.getLogger("websockets.server")
    logger.debug("< %s: %s", "Authorization", BASIC)
    logger.debug("< %s: %s", "Sec-WebSocket-Protocol", "ocpp1.6")
    text = output.getvalue()
    assert "Authorization: [hidden]" in text
    assert "Sec-WebSocket-Protocol: ocpp1.6" in text
    assert BASIC.split()[1] not in text and PASSWORD not in text


def test_sqlite_calls_with_their_parameters_are_not_logged_at_debug(
    output: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stderr", output)
    configure_logging(LogFormat.TEXT, "DEBUG")
    # As aiosqlite logs every call, parameters included.
    logging.getLogger("aiosqlite").debug("executing %s", ("UPDATE partners SET ...", "token-b"))
    logging.getLogger("intercarga.test").debug("still at DEBUG")
    assert "token-b" not in output.getvalue()
    assert "still at DEBUG" in output.getvalue()
