"""Pending connections counted per address and in total, and bursts logged in a few lines."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket

import pytest

from intercarga.admission import Admission, BurstLog, summarise_accept_errors


def test_pending_connections_are_capped_per_address_and_in_total() -> None:
    admission = Admission("HTTP", total=3, per_address=2)
    first = admission.admit("10.0.0.1")
    second = admission.admit("10.0.0.1")
    assert first is not None and second is not None
    assert admission.admit("10.0.0.1") is None  # a third from the same address
    third = admission.admit("10.0.0.2")
    assert third is not None
    assert admission.admit("10.0.0.3") is None  # three pending in all
    first.release()
    first.release()  # releasing twice frees one place, not two
    assert admission.pending == 2
    assert admission.admit("10.0.0.3") is not None
    assert admission.admit("10.0.0.1") is None


async def test_a_burst_is_one_line_then_one_summary_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tests.admission")
    burst = BurstLog(logger, "OCPP", every=0.2)
    admission = Admission("OCPP", total=1, per_address=1, log=burst)
    kept = admission.admit("10.0.0.1")
    assert kept is not None
    with caplog.at_level(logging.WARNING, logger="tests.admission"):
        for _ in range(1000):
            assert admission.admit("10.0.0.9") is None
        await asyncio.sleep(0.5)
    burst.close()
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("OCPP: connection from 10.0.0.9 refused: 1 connections already")
    assert "999 refused" in lines[1] and "10.0.0.9 (999)" in lines[1]


async def test_accept_errors_for_want_of_file_descriptors_are_one_line_per_burst(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    burst = BurstLog(logging.getLogger("tests.admission"), "listeners", every=0.2)
    summarise_accept_errors(loop, burst)
    try:
        with caplog.at_level(logging.WARNING), socket.socket() as listening:
            listening.bind(("127.0.0.1", 0))
            for _ in range(2000):
                # What asyncio's selector loop reports for each accept() failing with EMFILE.
                loop.call_exception_handler(
                    {
                        "message": "socket.accept() out of system resource",
                        "exception": OSError(errno.EMFILE, "Too many open files"),
                        "socket": listening,
                    }
                )
            loop.call_exception_handler({"message": "something else went wrong"})
            await asyncio.sleep(0.5)
    finally:
        loop.set_exception_handler(None)
        burst.close()
    about_accept = [r for r in caplog.records if "file descriptors" in r.getMessage()]
    assert len(about_accept) == 2
    assert "1999 not accepted" in about_accept[1].getMessage()
    assert not any(r.exc_info for r in about_accept)
    # Anything else still reaches asyncio's own handler.
    assert any("something else went wrong" in r.getMessage() for r in caplog.records)
