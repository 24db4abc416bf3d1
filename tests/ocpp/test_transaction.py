"""The transaction state machine: 1.6 start/meter/stop, 2.x seqNo, repeats, replays, expiry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intercarga.ocpp.events import IdToken, TransactionEnded, TransactionStarted, TransactionUpdated
from intercarga.ocpp.transaction import (
    TRANSITIONS,
    Effect,
    Expire,
    IllegalTransitionError,
    TransactionFact,
    TransactionRecord,
    TxInput,
    TxState,
    advance,
    expire_due,
)

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
TX = "1042"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def start(seq_no: int | None = None, minutes: int = 0, offline: bool = False) -> TransactionStarted:
    return TransactionStarted(
        evse=1,
        connector=1,
        timestamp=at(minutes),
        transaction_id=TX,
        id_token=IdToken("04A2B3C4D5E680"),
        meter_start=Decimal(15423),
        seq_no=seq_no,
        offline=offline,
    )


def update(
    seq_no: int | None = None, minutes: int = 15, offline: bool = False
) -> TransactionUpdated:
    return TransactionUpdated(TX, at(minutes), seq_no=seq_no, offline=offline)


def end(seq_no: int | None = None, minutes: int = 45) -> TransactionEnded:
    return TransactionEnded(TX, at(minutes), meter_stop=Decimal(19876), seq_no=seq_no)


def run(*facts: TransactionFact) -> tuple[TransactionRecord, list[Effect]]:
    record = TransactionRecord(TX)
    effects = []
    for fact in facts:
        record, step = advance(record, fact)
        effects.append(step.effect)
    return record, effects


def test_v16_start_meter_stop_with_repeats() -> None:
    record, effects = run(start(), update(), update(), update(minutes=30), end(), end())
    assert effects == [
        Effect.OPEN,
        Effect.RECORD,
        Effect.DUPLICATE,  # MeterValues resent: same kind and timestamp
        Effect.RECORD,
        Effect.CLOSE,
        Effect.DUPLICATE,  # StopTransaction resent
    ]
    assert record.state is TxState.ENDED
    assert record.complete
    assert record.last_activity == at(45)


def test_v201_sequence_numbers_with_a_gap_filled_late() -> None:
    record, effects = run(start(0), update(1), update(1), end(3))
    assert effects == [Effect.OPEN, Effect.RECORD, Effect.DUPLICATE, Effect.CLOSE]
    assert record.missing_seq_nos == (2,)
    assert not record.complete

    record, step = advance(record, update(2, minutes=30))
    assert (step.effect, step.late, step.after) == (Effect.RECORD_LATE, True, TxState.ENDED)
    assert record.missing_seq_nos == () and record.complete


def test_offline_replay_where_the_update_comes_before_its_start() -> None:
    record, effects = run(update(1, offline=True), start(0, offline=True), end(2))
    assert effects == [Effect.OPEN_IMPLIED, Effect.AMEND_START, Effect.CLOSE]
    assert record.offline and record.complete
    _, step = advance(TransactionRecord(TX, newest=at(15), seq_nos=frozenset({1})), start(0))
    assert step.late


def test_stop_for_an_unknown_transaction_is_recorded_closed() -> None:
    record, effects = run(end())
    assert effects == [Effect.OPEN_AND_CLOSE]
    assert record.state is TxState.ENDED
    assert not record.complete  # its start was never seen


def test_an_ended_transaction_never_reopens() -> None:
    record, effects = run(
        start(0), end(2), start(5, minutes=50), update(6, minutes=55), end(7, minutes=60)
    )
    assert effects == [
        Effect.OPEN,
        Effect.CLOSE,
        Effect.AMEND_START,
        Effect.RECORD_LATE,
        Effect.RECORD_LATE,
    ]
    assert record.state is TxState.ENDED


def test_expiry_then_the_real_end_corrects_it() -> None:
    record, _ = run(start(0), update(1))
    assert not expire_due(record, at(60), timedelta(hours=1))
    assert expire_due(record, at(75), timedelta(hours=1))
    record, step = advance(record, Expire(at(75)))
    assert (step.effect, step.after) == (Effect.CLOSE_FORCED, TxState.EXPIRED)
    assert not expire_due(record, at(500), timedelta(hours=1))

    record, step = advance(record, update(2, minutes=30))
    assert (step.effect, record.state) == (Effect.RECORD_LATE, TxState.EXPIRED)
    record, step = advance(record, end(3, minutes=40))
    assert (step.effect, record.state) == (Effect.CORRECT_CLOSE, TxState.ENDED)
    assert record.complete


@pytest.mark.parametrize("state", [TxState.UNKNOWN, TxState.ENDED, TxState.EXPIRED])
def test_only_an_active_transaction_can_be_expired(state: TxState) -> None:
    with pytest.raises(IllegalTransitionError):
        advance(TransactionRecord(TX, state=state), Expire(at(90)))


def test_facts_of_another_transaction_are_refused() -> None:
    with pytest.raises(ValueError, match="1042"):
        advance(TransactionRecord(TX), TransactionUpdated("other", T0))


def test_the_table_is_total_for_station_inputs_and_ended_is_final() -> None:
    for state in TxState:
        for kind in (TxInput.START, TxInput.UPDATE, TxInput.END):
            assert (state, kind) in TRANSITIONS
    assert [key for key in TRANSITIONS if key[1] is TxInput.EXPIRE] == [
        (TxState.ACTIVE, TxInput.EXPIRE)
    ]
    for (state, _), (after, _) in TRANSITIONS.items():
        if state is TxState.ENDED:
            assert after is TxState.ENDED
        assert after is not TxState.UNKNOWN


def test_snapshot_round_trips_through_json() -> None:
    record, _ = run(update(1, offline=True), start(0), update(3, minutes=20))
    copy = TransactionRecord.from_snapshot(json.loads(json.dumps(record.snapshot())))
    assert copy == record
    v16, _ = run(start(), update())
    assert TransactionRecord.from_snapshot(json.loads(json.dumps(v16.snapshot()))) == v16


FACTS = st.one_of(
    st.builds(start, st.none() | st.integers(0, 6), st.integers(0, 60), st.booleans()),
    st.builds(update, st.none() | st.integers(0, 6), st.integers(0, 60), st.booleans()),
    st.builds(end, st.none() | st.integers(0, 6), st.integers(0, 60)),
)


@given(st.lists(FACTS, max_size=12))
def test_any_order_of_station_facts_is_handled(facts: list[TransactionFact]) -> None:
    record = TransactionRecord(TX)
    ended = False
    for fact in facts:
        before = record
        record, step = advance(record, fact)
        if step.duplicate:
            assert record == before
        assert (step.before, step.after) == (before.state, record.state)
        ended = ended or record.state is TxState.ENDED
        if ended:
            assert record.state is TxState.ENDED
        # Replaying the same fact is always a no-op.
        again, repeat = advance(record, fact)
        assert repeat.duplicate and again == record
