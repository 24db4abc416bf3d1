"""The zone clock: UTC offsets from a table, DST transitions, wall-clock cut points."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intercarga.billing.clock import DAY, zone_clock
from intercarga.errors import InvalidInputError


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def test_offsets_follow_santiago_dst() -> None:
    clock = zone_clock("America/Santiago")
    clock.cover(utc("2025-01-01T00:00"), utc("2025-12-31T00:00"))
    assert clock.offset(utc("2025-04-06T02:59:59")) == -3 * 3600
    assert clock.offset(utc("2025-04-06T03:00:00")) == -4 * 3600
    assert clock.offset(utc("2025-09-07T03:59:59")) == -4 * 3600
    assert clock.offset(utc("2025-09-07T04:00:00")) == -3 * 3600
    assert clock.transitions(utc("2025-01-01T00:00"), utc("2025-12-31T00:00")) == [
        utc("2025-04-06T03:00"),
        utc("2025-09-07T04:00"),
    ]


def test_zones_without_dst() -> None:
    for name in ("UTC", "America/Bogota", "America/Sao_Paulo", "America/Mexico_City"):
        clock = zone_clock(name)
        clock.cover(utc("2025-01-01T00:00"), utc("2025-12-31T00:00"))
        assert clock.transitions(utc("2025-01-01T00:00"), utc("2025-12-31T00:00")) == []


def test_the_table_extends_itself() -> None:
    clock = zone_clock("America/Santiago")
    clock.cover(utc("2030-06-01T00:00"), utc("2030-06-02T00:00"))
    assert clock.offset(utc("2030-06-01T12:00")) == -4 * 3600
    clock.cover(utc("1995-06-01T00:00"), utc("1995-06-02T00:00"))
    assert clock.offset(utc("1995-06-01T12:00")) == -4 * 3600
    assert clock.offset(utc("2030-01-01T12:00")) == -3 * 3600


def test_next_cut_skips_a_local_time_that_does_not_exist() -> None:
    clock = zone_clock("America/Santiago")
    clock.cover(utc("2025-09-01T00:00"), utc("2025-09-10T00:00"))
    cuts = (0, 30 * 60)  # local 00:00 and 00:30
    # Saturday 22:00 −04: the next cut is the DST change itself (local 00:00 becomes 01:00) ...
    first = clock.next_cut(utc("2025-09-07T02:00"), cuts)
    assert first == utc("2025-09-07T04:00")
    # ... and after it, the next local midnight, a day later.
    assert clock.next_cut(first, cuts) == utc("2025-09-08T03:00")


def test_next_cut_repeats_a_local_time_that_happens_twice() -> None:
    clock = zone_clock("America/Santiago")
    clock.cover(utc("2025-04-01T00:00"), utc("2025-04-10T00:00"))
    cuts = (23 * 3600 + 30 * 60,)  # local 23:30
    first = clock.next_cut(utc("2025-04-06T01:00"), cuts)  # Saturday 22:00 −03
    assert first == utc("2025-04-06T02:30")  # 23:30 −03
    change = clock.next_cut(first, cuts)
    assert change == utc("2025-04-06T03:00")  # back to 23:00 −04
    assert clock.next_cut(change, cuts) == utc("2025-04-06T03:30")  # 23:30 −04, again


def test_locate_finds_the_weekday_and_stretch_of_the_local_day_and_the_next_cut() -> None:
    clock = zone_clock("America/Santiago")
    clock.cover(utc("2025-01-01T00:00"), utc("2025-09-30T00:00"))
    cuts = (0, 18 * 3600, 22 * 3600)  # local midnight, 18:00 and 22:00: four stretches a day
    # Tuesday 17:20 −03 (weekday 1, second stretch); the next cut is 18:00 −03.
    assert clock.locate(utc("2025-01-14T20:20"), cuts) == (1 * 4 + 1, utc("2025-01-14T21:00"))
    # Sunday 23:30 −03 (weekday 6, last stretch); the next cut is Monday's midnight.
    assert clock.locate(utc("2025-01-20T02:30"), cuts) == (6 * 4 + 3, utc("2025-01-20T03:00"))
    # Saturday 22:00 −04 before the DST change: the change comes before local midnight.
    assert clock.locate(utc("2025-09-07T02:00"), cuts) == (5 * 4 + 3, utc("2025-09-07T04:00"))
    for instant in range(utc("2025-09-05T00:00"), utc("2025-09-09T00:00"), 1_111):
        where, _ = clock.locate(instant, cuts)
        local = datetime.fromtimestamp(instant, UTC).astimezone(clock.zone)
        second = local.hour * 3600 + local.minute * 60 + local.second
        assert where == local.weekday() * 4 + sum(1 for c in cuts if c <= second)


def test_unknown_zone_is_an_input_error() -> None:
    with pytest.raises(InvalidInputError, match="time_zone: 'America/Atlantis' is not an IANA"):
        zone_clock("America/Atlantis")


def test_day_constant() -> None:
    assert DAY == 24 * 3600
