"""A station whose clock repeats or goes back: an indexed summary gives, message by message, the
session the whole gives, and stays a summary (the full path is not taken again and again)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from intercarga.billing.readings import register_of
from intercarga.csms.lifecycle import SessionState, Tally, next_state
from intercarga.domain import MeterValue, Session
from intercarga.ocpp.events import TransactionUpdated
from intercarga.ocpp.transaction import Effect
from tests.csms.test_lifecycle import NOW, REGISTER, START, session


def value(
    seconds: int, wh: int | str, measurand: str = REGISTER, context: str | None = None
) -> MeterValue:
    return MeterValue(
        timestamp=START + timedelta(seconds=seconds),
        measurand=measurand,
        value=Decimal(wh),
        unit="Wh" if measurand == REGISTER else "W",
        context=context or "Sample.Periodic",
    )


def update(*values: MeterValue) -> TransactionUpdated:
    return TransactionUpdated(
        transaction_id="tx-1", timestamp=values[-1].timestamp, meter_values=values
    )


def replay(
    begin: MeterValue | None, messages: list[tuple[MeterValue, ...]]
) -> tuple[int, Session, Session]:
    """Run the messages through the whole path and, like the session service, through an
    indexed summary (reading the whole when it answers None); how often the whole was needed
    and both sessions at the end (the fast one with the meter values it added)."""
    whole = SessionState.whole(session(*([begin] if begin else [])))
    fast = whole.summary(indexed=True)
    stored = list(whole.session.meter_values)
    fallbacks = 0
    for values in messages:
        fact = update(*values)
        by_whole = next_state(whole, fact, Effect.RECORD, verdict=None, now=NOW)
        assert by_whole is not None
        by_summary = next_state(fast, fact, Effect.RECORD, verdict=None, now=NOW)
        if by_summary is None:
            fallbacks += 1
            by_summary = next_state(
                SessionState.whole(fast.session.model_copy(update={"meter_values": stored})),
                fact,
                Effect.RECORD,
                verdict=None,
                now=NOW,
            )
            assert by_summary is not None
            fast = by_summary.state.summary(indexed=True)
            stored = list(by_summary.session.meter_values)
        else:
            fast = by_summary.state
            stored.extend(by_summary.added)
        assert by_summary.added == by_whole.added
        assert by_summary.session.model_dump(exclude={"meter_values"}) == (
            by_whole.session.model_dump(exclude={"meter_values"})
        )
        whole = by_whole.state
    assert sorted(stored, key=lambda v: v.timestamp) == whole.session.meter_values
    return fallbacks, fast.session, whole.session


def test_a_clock_that_wraps_costs_one_reading_of_the_whole() -> None:
    # Every 60 messages the clock starts again while the register keeps counting: each wrap
    # puts readings before later ones, the register goes back between timestamps.
    messages = [
        (
            value(index % 60, 1000 + 10 * index),
            value(index % 60, 7000 + index % 3, "Power.Active.Import"),
            value(index % 60, 230, "Voltage"),
        )
        for index in range(1, 400)
    ]
    fallbacks, fast, whole = replay(value(0, 1000, context="Transaction.Begin"), messages)
    assert fallbacks == 1  # the register's first step back: billed by the whole, and logged
    assert fast.kwh == whole.kwh
    assert fast.warnings == whole.warnings
    assert len(whole.warnings) == 59


def test_values_sent_again_are_kept_once_without_the_whole() -> None:
    first = [(value(s, 1000 + s), value(s, 7000, "Power.Active.Import")) for s in range(1, 30)]
    again = [(value(s, 1000 + s), value(s, 7000, "Power.Active.Import")) for s in range(5, 15)]
    fallbacks, fast, whole = replay(None, first + again + first[20:])
    assert fallbacks == 0
    assert fast.kwh == whole.kwh == Decimal("0.028")


@pytest.mark.parametrize("seed", range(12))
def test_any_order_of_readings_bills_as_the_whole(seed: int) -> None:
    chance = random.Random(seed)
    messages = []
    for _ in range(chance.randrange(20, 120)):
        at = chance.randrange(0, 40)
        count = chance.randrange(1, 4)
        values = [
            value(at, chance.randrange(900, 1400))
            if chance.random() < 0.7
            else value(at, chance.randrange(0, 50), "Power.Active.Import")
            for _ in range(count)
        ]
        values.sort(key=lambda v: v.timestamp)
        messages.append(tuple(values))
    begin = value(chance.randrange(0, 10), 950, context="Transaction.Begin") if seed % 2 else None
    _, fast, whole = replay(begin, messages)
    assert fast.kwh == whole.kwh == register_of(whole.meter_values).kwh
    assert fast.warnings == whole.warnings


def test_an_unindexed_summary_still_leaves_older_readings_to_the_whole() -> None:
    state = SessionState.whole(session(value(0, 1000), value(5, 1100))).summary()
    assert next_state(state, update(value(3, 1050)), Effect.RECORD, verdict=None, now=NOW) is None


def test_a_tally_that_moved_on_answers_none() -> None:
    tally = Tally.of([value(0, 1000), value(5, 1100)])
    assert tally.extended([value(6, 1200)]) is not None
    assert tally.extended([value(7, 1300)]) is None
