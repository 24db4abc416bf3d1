"""Sequence numbers kept as ranges: the same answers as a set of every number, and a stored
record stays the same size however long its transaction runs."""

from __future__ import annotations

import json
import random

import pytest

from intercarga.ocpp.transaction import SeqNos, TransactionRecord


@pytest.mark.parametrize("seed", range(8))
def test_ranges_answer_as_a_set_of_every_number(seed: int) -> None:
    chance = random.Random(seed)
    numbers: set[int] = set()
    seen = SeqNos()
    for _ in range(300):
        number = chance.randrange(0, 120) if chance.random() < 0.3 else len(numbers)
        numbers.add(number)
        seen = seen.with_number(number)
        assert seen == SeqNos(numbers)
    assert set(seen) == numbers and len(seen) == len(numbers)
    assert all((n in seen) == (n in numbers) for n in range(-3, 130))
    assert seen.highest == max(numbers)
    expected = tuple(n for n in range(2, max(numbers) + 1) if n not in numbers)
    assert seen.missing(2) == expected


def test_a_long_transaction_is_stored_as_one_range_and_read_back() -> None:
    seen = SeqNos()
    for number in range(5000):
        seen = seen.with_number(number)
    record = TransactionRecord("tx-1", seq_nos=seen, start_seq_no=0)
    stored = json.loads(json.dumps(record.snapshot()))
    assert stored["seq_ranges"] == [[0, 4999]]
    again = TransactionRecord.from_snapshot(stored)
    assert again == record and again.missing_seq_nos == ()


def test_a_record_stored_before_ranges_is_read() -> None:
    stored = {"transaction_id": "tx-1", "state": "active", "seq_nos": [0, 1, 2, 4]}
    record = TransactionRecord.from_snapshot(stored)
    assert record.missing_seq_nos == (3,)
    assert 4 in record.seq_nos and 3 not in record.seq_nos
