"""The cliff benchmark runs end to end against a real ``intercarga serve``: both clocks and the
reconnecting station answered message by message without a CALLERROR, and the report shows them
side by side."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bench.cliff import run_cliff
from bench.run import CLIFF_TITLE, Report, Sizes, render

pytestmark = pytest.mark.slow


def test_both_clocks_and_the_reconnecting_station_are_answered_and_reported() -> None:
    result = run_cliff(
        stations=2, messages_per_station=70, wrap=30, reconnect=25, progress=lambda _: None
    )
    assert [(run.wrap, run.reconnect) for run in result.runs] == [(0, 0), (30, 0), (0, 25)]
    for run in result.runs:
        assert run.messages == 2 * 70 and run.errors == 0 and not run.failures
        assert run.rate and run.p99_ms is not None and run.cpu_us_per_message is not None
    report = Report(datetime.now(UTC), Sizes.quick(), "python -m bench.run")
    report.cliff = result
    text = render(report)
    assert CLIFF_TITLE in text
    assert "| clock wrapping every 30 messages | 140 |" in text
    assert "| reconnecting every 25 messages, replaying | 140 |" in text
