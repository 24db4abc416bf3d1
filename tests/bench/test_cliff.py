"""The cliff benchmark runs end to end against a real ``intercarga serve``: both clocks answered
message by message without a CALLERROR, and the report shows them side by side."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bench.cliff import run_cliff
from bench.run import Report, Sizes, render

pytestmark = pytest.mark.slow


def test_both_clocks_are_answered_and_reported() -> None:
    result = run_cliff(stations=2, messages_per_station=70, wrap=30, progress=lambda _: None)
    assert [run.wrap for run in result.runs] == [0, 30]
    for run in result.runs:
        assert run.messages == 2 * 70 and run.errors == 0 and not run.failures
        assert run.rate and run.p99_ms is not None and run.cpu_us_per_message is not None
    report = Report(datetime.now(UTC), Sizes.quick(), "python -m bench.run")
    report.cliff = result
    text = render(report)
    assert "### 1b. A clock that repeats or goes back (no cliff)" in text
    assert "| clock wrapping every 30 messages | 140 |" in text
