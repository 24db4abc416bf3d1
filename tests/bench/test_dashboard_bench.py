"""The dashboard benchmark runs end to end on a tiny store (no figure's size is asserted)."""

from __future__ import annotations

from bench.dashboard import PAGES, render, run_dashboard


def test_the_dashboard_benchmark_fetches_every_page_signed_in() -> None:
    result = run_dashboard(count=30, seconds=0.2)
    assert result.locations == 30
    assert [address for _label, address, _rate in result.pages] == [a for _l, a, _r in PAGES]
    assert all(result.server_ms[address] > 0 for _l, address, _r in PAGES)  # routes found
    for _label, _address, rate in result.pages:
        assert rate.requests > 0 and rate.p99_ms > 0 and rate.bytes > 0
    text = render(result)
    assert "The dashboard with 30 locations" in text
    assert "| map: locations (every marker) | `/map/locations.json` |" in text
