"""The dashboard benchmark runs end to end on a tiny store (no figure's size is asserted)."""

from __future__ import annotations

import pytest
from bench.dashboard import AFTER_EDIT, PAGES, render, run_dashboard

pytestmark = pytest.mark.slow


def test_the_dashboard_benchmark_fetches_every_page_signed_in() -> None:
    result = run_dashboard(count=30, seconds=0.2)
    assert result.locations == 30
    assert [address for _label, address, _rate in result.pages] == [a for _l, a, _r in PAGES]
    assert all(result.server_ms[address] > 0 for _l, address, _r in PAGES)  # routes found
    for _label, _address, rate in result.pages:
        assert rate.requests > 0 and rate.p99_ms > 0 and rate.bytes > 0
    # Each edit went through the admin API and the next request of the address was timed.
    assert set(result.after_edit) == {address for _l, address, _r in AFTER_EDIT}
    assert all(edit.server_ms > 0 for edit in result.after_edit.values())
    text = render(result)
    assert "The dashboard with 30 locations" in text
    assert "| map: locations (every marker) | `/map/locations.json` |" in text
    assert "| first map load after one location edit | `/map/locations.json` |" in text
