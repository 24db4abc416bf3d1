"""The open-data benchmark runs end to end on a tiny store (no figure's size is asserted)."""

from __future__ import annotations

import pytest
from bench.open_data import (
    BBOX_PAGE,
    OCPI_PAGE,
    OCPI_SINCE_PAGE,
    SINCE_PAGE,
    render,
    run_open_data,
)

pytestmark = pytest.mark.slow


def test_the_open_data_benchmark_measures_every_part() -> None:
    result = run_open_data(count=40, seconds=0.2, small=20)
    assert result.locations == 40
    # Each list walked at both store sizes, on a store grown from the one to the other.
    assert [(cost.page, cost.locations) for cost in result.pages] == [
        (page, size)
        for size in (20, 40)
        for page in (OCPI_PAGE, OCPI_SINCE_PAGE, BBOX_PAGE, SINCE_PAGE)
    ]
    for cost in result.pages:
        assert cost.pages >= 1 and cost.first_ms > 0 and cost.later_p50_ms > 0
    for rate in (result.bbox, result.bbox_static, result.since, result.since_static):
        assert rate.requests > 0 and rate.per_second > 0 and rate.p99_ms > 0
    # The static file is the API's own answer, byte for byte.
    assert result.bbox.bytes == result.bbox_static.bytes > 0
    assert result.since.bytes == result.since_static.bytes > 0
    assert result.bulk_bytes > 0 and result.bulk_first_seconds > 0
    text = render(result)
    assert "Open data over 40 published Locations" in text
    assert "| bbox (greater Santiago, 100 a page) |" in text
    assert f"| {OCPI_PAGE} | 40 |" in text and "40 ÷ 20" in text
