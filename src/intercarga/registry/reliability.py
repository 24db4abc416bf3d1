"""Reliability and uptime of EVSEs from their status history: the UK and the NEVI formulas.

Pure: status changes and periods in, :class:`Ratio` out. Time is always passed in; nothing here
reads a clock, the store or the network, and nothing here may ever import them.

**Intervals.** A status history is a list of ``(at, status)`` changes. :func:`intervals` cuts the
period into :class:`StatusInterval` s: each status holds from its change until the next one. The
time before the first known change inside the period takes the last status known before the
period (``initial``), else it is UNKNOWN — an EVSE that reports nothing cannot count as working.

**UK** — The Public Charge Point Regulations 2023 (SI 2023/1168), reg. 7
(legislation.gov.uk/uksi/2023/1168/part/3/made): a rapid network must be reliable 99 % of the
time in each calendar year; *working* = AVAILABLE, CHARGING, RESERVED; *not counted* = UNKNOWN,
BLOCKED; *not working* = INOPERATIVE, OUTOFORDER; only opening hours count. Here::

    reliability = working / (working + not working)        (seconds inside opening hours)

PLANNED and REMOVED (not yet, or no longer, in service) are not counted either [inferred: the
regulation names only the six statuses above].

**NEVI** — 23 CFR 680.116(b) (final rule of 28 Feb 2023): average annual uptime above 97 %,
µ = ((525,600 − (T_outage − T_excluded)) / 525,600) × 100, in minutes of a year. Here the
525,600 minutes are the period's length (any period), every hour counts (no opening hours),
*outage* = INOPERATIVE, OUTOFORDER and UNKNOWN (no report: not shown to work) [inferred: the rule
speaks of a port "operational", not of OCPI statuses], and *excluded* = the part of the outage
inside the ``excluded`` windows the operator documents (grid failure, vandalism, scheduled
maintenance — §680.116(b)(2)'s list)::

    uptime = (period − (outage − excluded)) / period
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from intercarga.domain import EVSEStatus, Hours

__all__ = [
    "NEVI_OUTAGE",
    "NEVI_THRESHOLD",
    "UK_NOT_WORKING",
    "UK_THRESHOLD",
    "UK_WORKING",
    "Period",
    "Ratio",
    "StatusInterval",
    "combine",
    "intervals",
    "nevi_uptime",
    "open_periods",
    "uk_reliability",
]

UK_WORKING = frozenset({EVSEStatus.AVAILABLE, EVSEStatus.CHARGING, EVSEStatus.RESERVED})
UK_NOT_WORKING = frozenset({EVSEStatus.INOPERATIVE, EVSEStatus.OUTOFORDER})
UK_THRESHOLD = 0.99
"""SI 2023/1168 reg. 7: 99 % of the time in each calendar year (rapid networks)."""
NEVI_OUTAGE = frozenset({EVSEStatus.INOPERATIVE, EVSEStatus.OUTOFORDER, EVSEStatus.UNKNOWN})
NEVI_THRESHOLD = 0.97
"""23 CFR 680.116(b): average annual uptime above 97 %."""

_NO_TIME = timedelta(0)


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of time ``[start, end)``, both timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period's start and end must be timezone-aware")
        if self.end < self.start:
            raise ValueError("a period must not end before it starts")

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def overlap(self, other: Period) -> timedelta:
        """How long this period and ``other`` share."""
        return max(_NO_TIME, min(self.end, other.end) - max(self.start, other.start))


@dataclass(frozen=True, slots=True)
class StatusInterval:
    """``status`` held through ``period``."""

    period: Period
    status: EVSEStatus


@dataclass(frozen=True, slots=True)
class Ratio:
    """``counted`` time out of ``total`` time; :attr:`value` is ``None`` when nothing counted."""

    counted: timedelta
    total: timedelta

    @property
    def value(self) -> float | None:
        if self.total <= _NO_TIME:
            return None
        return self.counted / self.total

    @property
    def percent(self) -> float | None:
        value = self.value
        return None if value is None else round(value * 100, 3)

    def below(self, threshold: float) -> bool:
        """True when measured and under ``threshold`` (a fraction: 0.99)."""
        value = self.value
        return value is not None and value < threshold


def intervals(
    changes: Iterable[tuple[datetime, EVSEStatus]],
    period: Period,
    *,
    initial: EVSEStatus | None = None,
) -> list[StatusInterval]:
    """The period cut into the statuses the EVSE held, from its ``(at, status)`` changes.

    Changes before the period set the status it starts with (as ``initial`` does); changes at or
    after its end are ignored. Before any known status the EVSE is UNKNOWN.
    """
    current = initial or EVSEStatus.UNKNOWN
    cursor = period.start
    found: list[StatusInterval] = []
    for at, status in sorted(changes, key=lambda change: change[0]):
        if at >= period.end:
            break
        if at > cursor:
            found.append(StatusInterval(Period(cursor, at), current))
            cursor = at
        current = status
    if period.end > cursor:
        found.append(StatusInterval(Period(cursor, period.end), current))
    return found


def open_periods(hours: Hours | None, time_zone: str, period: Period) -> list[Period]:
    """The spans of ``period`` inside the opening hours (local to ``time_zone``).

    No opening hours, or 24/7, is open the whole period. Exceptional closings are cut out and
    exceptional openings added, as OCPI 2.2.1 Hours says.
    """
    if hours is None or (hours.twentyfourseven and not hours.exceptional_closings):
        return [period]
    zone = ZoneInfo(time_zone)
    spans: list[Period] = []
    if hours.twentyfourseven:
        spans.append(period)
    else:
        day = period.start.astimezone(zone).date() - timedelta(days=1)
        last = period.end.astimezone(zone).date()
        while day <= last:
            for regular in hours.regular_hours:
                if regular.weekday != day.isoweekday():
                    continue
                begin = _local(day, regular.period_begin, zone)
                end = _local(day, regular.period_end, zone)
                if end <= begin:  # "22:00"–"06:00": open past midnight
                    end = _local(day + timedelta(days=1), regular.period_end, zone)
                spans.append(Period(begin, end))
            day += timedelta(days=1)
    spans.extend(Period(p.period_begin, p.period_end) for p in hours.exceptional_openings)
    closed = [Period(p.period_begin, p.period_end) for p in hours.exceptional_closings]
    return _clip(_subtract(_merge(spans), closed), period)


def uk_reliability(
    history: Sequence[StatusInterval],
    opening_hours: Hours | None,
    period: Period,
    time_zone: str = "UTC",
) -> Ratio:
    """SI 2023/1168 reg. 7: working time over working + not-working time, opening hours only."""
    opened = open_periods(opening_hours, time_zone, period)
    working = not_working = _NO_TIME
    for interval in history:
        inside = sum((interval.period.overlap(span) for span in opened), _NO_TIME)
        if interval.status in UK_WORKING:
            working += inside
        elif interval.status in UK_NOT_WORKING:
            not_working += inside
    return Ratio(working, working + not_working)


def nevi_uptime(
    history: Sequence[StatusInterval],
    period: Period,
    excluded: Sequence[Period] = (),
) -> Ratio:
    """23 CFR 680.116(b): (period − (outage − excluded outage)) / period, every hour counted."""
    outage = excused = _NO_TIME
    windows = _merge(list(excluded))
    for interval in history:
        if interval.status not in NEVI_OUTAGE:
            continue
        span = _clip([interval.period], period)
        outage += sum((part.length for part in span), _NO_TIME)
        excused += sum((part.overlap(w) for part in span for w in windows), _NO_TIME)
    return Ratio(period.length - (outage - excused), period.length)


def combine(ratios: Iterable[Ratio]) -> Ratio:
    """Several EVSEs as one (a location's, a CPO network's): time added up, then divided."""
    counted = total = _NO_TIME
    for ratio in ratios:
        counted += ratio.counted
        total += ratio.total
    return Ratio(counted, total)


def _local(day: date, clock: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    extra = timedelta(days=1) if hour == 24 else _NO_TIME  # "24:00" ends the day
    moment = datetime.combine(day, time(hour % 24, minute), zone)
    return moment + extra


def _merge(spans: list[Period]) -> list[Period]:
    merged: list[Period] = []
    for span in sorted(spans, key=lambda p: p.start):
        if merged and span.start <= merged[-1].end:
            if span.end > merged[-1].end:
                merged[-1] = Period(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


def _subtract(spans: list[Period], cuts: list[Period]) -> list[Period]:
    for cut in cuts:
        kept: list[Period] = []
        for span in spans:
            if cut.end <= span.start or cut.start >= span.end:
                kept.append(span)
                continue
            if span.start < cut.start:
                kept.append(Period(span.start, cut.start))
            if cut.end < span.end:
                kept.append(Period(cut.end, span.end))
        spans = kept
    return spans


def _clip(spans: list[Period], period: Period) -> list[Period]:
    return [
        Period(max(s.start, period.start), min(s.end, period.end))
        for s in spans
        if s.end > period.start and s.start < period.end
    ]
