"""UK reliability (SI 2023/1168 reg. 7) and NEVI uptime (23 CFR 680.116(b)) of an EVSE with a
known status history, against values computed by hand in the comments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intercarga.domain import EVSEStatus, Hours, RegularHours
from intercarga.domain.location import ExceptionalPeriod
from intercarga.registry import (
    Period,
    Ratio,
    combine,
    intervals,
    nevi_uptime,
    open_periods,
    uk_reliability,
)

A = EVSEStatus.AVAILABLE
C = EVSEStatus.CHARGING
R = EVSEStatus.RESERVED
I = EVSEStatus.INOPERATIVE  # noqa: E741
O = EVSEStatus.OUTOFORDER  # noqa: E741
U = EVSEStatus.UNKNOWN
B = EVSEStatus.BLOCKED


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)  # 2026-06-01 is a Monday


# One day, Monday 1 June 2026 00:00–24:00 UTC. The EVSE's reported history:
#   (before the day) AVAILABLE since 31 May
#   06:00 CHARGING   08:00 AVAILABLE   10:00 OUTOFORDER   13:00 AVAILABLE
#   15:00 UNKNOWN    16:00 BLOCKED     17:00 RESERVED     18:00 INOPERATIVE   19:00 AVAILABLE
DAY = Period(t(1, 0), t(2, 0))
HISTORY = [
    (datetime(2026, 5, 31, 12, tzinfo=UTC), A),
    (t(1, 6), C),
    (t(1, 8), A),
    (t(1, 10), O),
    (t(1, 13), A),
    (t(1, 15), U),
    (t(1, 16), B),
    (t(1, 17), R),
    (t(1, 18), I),
    (t(1, 19), A),
]
H = timedelta(hours=1)


def test_intervals_follow_the_changes_and_start_with_the_status_held_before() -> None:
    spans = intervals(HISTORY, DAY)
    assert [(s.period.start.hour, s.status) for s in spans] == [
        (0, A), (6, C), (8, A), (10, O), (13, A), (15, U), (16, B), (17, R), (18, I), (19, A),
    ]  # fmt: skip
    assert spans[-1].period.end == t(2, 0)
    assert sum((s.period.length for s in spans), timedelta()) == timedelta(days=1)


def test_no_report_before_the_first_change_is_unknown() -> None:
    spans = intervals([(t(1, 6), A)], DAY)
    assert [(s.status, s.period.length) for s in spans] == [(U, 6 * H), (A, 18 * H)]


def test_uk_reliability_all_day_open() -> None:
    # Working (AVAILABLE, CHARGING, RESERVED): 00–10 (10 h) + 13–15 (2 h) + 17–18 (1 h)
    #   + 19–24 (5 h) = 18 h.
    # Not working (OUTOFORDER, INOPERATIVE): 10–13 (3 h) + 18–19 (1 h) = 4 h.
    # Not counted: UNKNOWN 15–16, BLOCKED 16–17.
    # reliability = 18 / (18 + 4) = 0.8181…  → 81.818 %
    ratio = uk_reliability(intervals(HISTORY, DAY), None, DAY)
    assert ratio == Ratio(18 * H, 22 * H)
    assert ratio.percent == 81.818
    assert ratio.below(0.99)


def test_uk_reliability_counts_only_opening_hours_in_the_locations_time_zone() -> None:
    # Open Monday 07:00–17:00 in America/Bogota (UTC−5) = 12:00–22:00 UTC.
    # Inside 12–22 UTC: working 13–15 (2 h) + 17–18 (1 h) + 19–22 (3 h) = 6 h;
    #   not working 12–13 (OUTOFORDER, 1 h) + 18–19 (1 h) = 2 h; 15–17 not counted.
    # reliability = 6 / 8 = 75 %.
    hours = Hours(
        twentyfourseven=False,
        regular_hours=[RegularHours(weekday=1, period_begin="07:00", period_end="17:00")],
    )
    ratio = uk_reliability(intervals(HISTORY, DAY), hours, DAY, "America/Bogota")
    assert ratio == Ratio(6 * H, 8 * H)
    assert ratio.percent == 75.0


def test_nevi_uptime_every_hour_counts_and_excluded_outage_is_forgiven() -> None:
    # Period 24 h = 1,440 min. Outage (INOPERATIVE, OUTOFORDER, UNKNOWN): 10–13 (3 h)
    #   + 15–16 (1 h) + 18–19 (1 h) = 5 h = 300 min. BLOCKED is up (the charger works).
    # µ = (1440 − 300) / 1440 = 1140 / 1440 = 79.1666… % → 79.167 %.
    spans = intervals(HISTORY, DAY)
    ratio = nevi_uptime(spans, DAY)
    assert ratio == Ratio(19 * H, 24 * H)
    assert ratio.percent == 79.167
    # A documented grid failure 11:00–12:30 is excluded: T_excluded = 90 min of the outage.
    # µ = (1440 − (300 − 90)) / 1440 = 1230 / 1440 = 85.416… % → 85.417 %.
    excused = nevi_uptime(spans, DAY, excluded=[Period(t(1, 11), t(1, 12, 30))])
    assert excused == Ratio(timedelta(minutes=1230), 24 * H)
    assert excused.percent == 85.417


def test_nevi_formula_over_a_year_is_the_rules_525600_minutes() -> None:
    year = Period(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    # 2025 has 365 days = 525,600 min; out of order for 10,000 min: µ = 515,600 / 525,600.
    start = datetime(2025, 3, 1, tzinfo=UTC)
    history = [(year.start, A), (start, O), (start + timedelta(minutes=10_000), A)]
    ratio = nevi_uptime(intervals(history, year), year)
    assert ratio.total == timedelta(minutes=525_600)
    assert ratio.value == pytest.approx(515_600 / 525_600)
    assert ratio.below(0.97) is False


def test_exceptional_closings_and_openings_change_the_hours_counted() -> None:
    # 24/7 but closed 10:00–13:00 UTC (the OUTOFORDER span): only 1 h not working (18–19) is left
    # against 18 h working → 18 / 19.
    hours = Hours(
        twentyfourseven=True,
        exceptional_closings=[ExceptionalPeriod(period_begin=t(1, 10), period_end=t(1, 13))],
    )
    assert uk_reliability(intervals(HISTORY, DAY), hours, DAY) == Ratio(18 * H, 19 * H)
    # Closed on Mondays by regular hours (Tuesday only) but opened exceptionally 18:00–20:00:
    # 18–19 INOPERATIVE, 19–20 AVAILABLE → 1 / 2.
    tuesday = Hours(
        twentyfourseven=False,
        regular_hours=[RegularHours(weekday=2, period_begin="00:00", period_end="24:00")],
        exceptional_openings=[ExceptionalPeriod(period_begin=t(1, 18), period_end=t(1, 20))],
    )
    assert open_periods(tuesday, "UTC", DAY) == [Period(t(1, 18), t(1, 20))]
    assert uk_reliability(intervals(HISTORY, DAY), tuesday, DAY) == Ratio(H, 2 * H)


def test_hours_past_midnight_and_a_network_combined() -> None:
    # Open 22:00–06:00 every day: on 1 June that is 00–06 (Sunday's night) and 22–24.
    night = Hours(
        twentyfourseven=False,
        regular_hours=[
            RegularHours(weekday=d, period_begin="22:00", period_end="06:00") for d in range(1, 8)
        ],
    )
    assert open_periods(night, "UTC", DAY) == [Period(t(1, 0), t(1, 6)), Period(t(1, 22), t(2, 0))]
    # Two EVSEs: 18/22 and 6/8 → the network is (18 + 6) / (22 + 8) = 24 / 30 = 80 %.
    network = combine([Ratio(18 * H, 22 * H), Ratio(6 * H, 8 * H)])
    assert network.percent == 80.0


def test_nothing_counted_is_no_measure() -> None:
    # Only UNKNOWN all day: nothing counts under the UK rule; the ratio has no value.
    ratio = uk_reliability(intervals([], DAY), None, DAY)
    assert ratio.value is None and ratio.below(0.99) is False
