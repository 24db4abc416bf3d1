"""Local wall-clock arithmetic for one IANA time zone, fast enough for the pricing loop.

Tariff restrictions (start/end time, dates, days of the week) are read on the wall clock of the
Location's time zone. Asking :mod:`zoneinfo` for every instant costs a ``datetime`` per call, so a
:class:`ZoneClock` samples the zone once into a table of UTC offset changes (DST transitions,
zone reforms) and afterwards answers with a binary search on integers: instants are whole
seconds since the Unix epoch, UTC.

Nothing here does I/O beyond what :mod:`zoneinfo` itself reads (the packaged tz database).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from intercarga.errors import InvalidInputError

__all__ = ["DAY", "ZoneClock", "zone_clock"]

DAY = 86_400
# The table is sampled once a day: no zone in the tz database changes its offset twice within
# 24 hours, so a daily sample sees every change and a bisection then finds it to the second.
_SAMPLE = DAY
_YEAR = 366 * DAY


class ZoneClock:
    """UTC offsets of one zone as a table; extends itself as instants outside it are asked for."""

    __slots__ = ("_hi", "_instants", "_lo", "_offsets", "zone")

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._lo = 0
        self._hi = 0
        # ``_offsets[i]`` holds from ``_instants[i - 1]`` (inclusive) to ``_instants[i]``.
        self._instants: list[int] = []
        self._offsets: list[int] = [self._probe(0)]

    @property
    def name(self) -> str:
        return self.zone.key

    def _probe(self, instant: int) -> int:
        offset = datetime.fromtimestamp(instant, UTC).astimezone(self.zone).utcoffset()
        return 0 if offset is None else int(offset.total_seconds())

    def cover(self, first: int, last: int) -> None:
        """Make sure the table spans ``first`` to ``last`` (with a year of margin each side)."""
        if self._lo <= first and last < self._hi:
            return
        lo = min(self._lo, first - _YEAR) if self._hi else first - _YEAR
        hi = max(self._hi, last + _YEAR)
        instants: list[int] = []
        offsets = [self._probe(lo)]
        previous_instant = lo
        for instant in range(lo + _SAMPLE, hi + _SAMPLE, _SAMPLE):
            offset = self._probe(instant)
            if offset != offsets[-1]:
                # Bisect to the first second that carries the new offset.
                a, b = previous_instant, instant
                while b - a > 1:
                    middle = (a + b) // 2
                    if self._probe(middle) == offset:
                        b = middle
                    else:
                        a = middle
                instants.append(b)
                offsets.append(offset)
            previous_instant = instant
        self._lo, self._hi = lo, hi
        self._instants, self._offsets = instants, offsets

    def offset(self, instant: int) -> int:
        """Seconds to add to a UTC instant to read the local wall clock."""
        return self._offsets[bisect_right(self._instants, instant)]

    def next_cut(self, instant: int, cuts: tuple[int, ...]) -> int:
        """The first instant after ``instant`` where the local second of the day is one of
        ``cuts`` (sorted, non-empty) or the UTC offset changes, whichever comes first.

        A local time that a DST change skips never comes; one it repeats comes twice.
        """
        return self.locate(instant, cuts)[1]

    def locate(self, instant: int, cuts: tuple[int, ...]) -> tuple[int, int]:
        """Where ``instant`` falls on the local clock, and :meth:`next_cut` from it, in one search:
        (weekday (Monday = 0) × (len(cuts) + 1) + ``bisect_right(cuts, local second of the
        day)``, the next cut). The fast pricing path indexes its weekday × time-of-day table
        with the first number.
        """
        instants = self._instants
        i = bisect_right(instants, instant)
        offset = self._offsets[i]
        local = instant + offset
        day, second = divmod(local, DAY)
        j = bisect_right(cuts, second)
        if j < len(cuts):
            candidate = local - second + cuts[j] - offset
        else:
            candidate = local - second + DAY + cuts[0] - offset
        if i < len(instants) and instants[i] < candidate:
            candidate = instants[i]
        # 1970-01-01 was a Thursday: day 0 is weekday 3.
        return (day + 3) % 7 * (len(cuts) + 1) + j, candidate

    def transitions(self, start: int, end: int) -> list[int]:
        """The instants strictly inside (start, end) where the offset changes."""
        instants = self._instants
        i = bisect_right(instants, start)
        found = []
        while i < len(instants) and instants[i] < end:
            found.append(instants[i])
            i += 1
        return found

    @property
    def fixed(self) -> bool:
        """True when the zone never changes offset within the table (UTC, Bogotá today...)."""
        return not self._instants


@lru_cache(maxsize=256)
def zone_clock(name: str) -> ZoneClock:
    """The shared clock of an IANA zone name; an unknown name is an input error."""
    try:
        return ZoneClock(ZoneInfo(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(
            f"{name!r} is not an IANA time zone name (e.g. America/Santiago)", "time_zone"
        ) from None
