"""The access point's status history, refusals and pull marks on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intercarga.app import System
from intercarga.domain import EVSEStatus
from intercarga.store.registry import EvseKey, PullMark, Refusal, StatusChange, pull_key

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
E1 = EvseKey("CO", "ABC", "L1", "E1")
E2 = EvseKey("CO", "ABC", "L1", "E2")


def _change(evse: EvseKey, minutes: int, status: EVSEStatus) -> StatusChange:
    at = T0 + timedelta(minutes=minutes)
    return StatusChange(evse, at, status, "CO-ABC", "PUSH", at + timedelta(milliseconds=250))


async def test_history_starts_with_the_status_held_before_the_period(system: System) -> None:
    history = system.store.status_history
    await history.record(
        [
            _change(E1, 0, EVSEStatus.AVAILABLE),
            _change(E1, 10, EVSEStatus.CHARGING),
            _change(E1, 20, EVSEStatus.AVAILABLE),
            _change(E1, 30, EVSEStatus.OUTOFORDER),
            _change(E2, 5, EVSEStatus.AVAILABLE),
        ]
    )
    found = await history.history(E1, T0 + timedelta(minutes=15), T0 + timedelta(minutes=30))
    # CHARGING (from minute 10) is the status the period starts in; minute 30 is its end.
    assert [(c.status, c.at) for c in found] == [
        (EVSEStatus.CHARGING, T0 + timedelta(minutes=10)),
        (EVSEStatus.AVAILABLE, T0 + timedelta(minutes=20)),
    ]
    assert found[0].received_at == T0 + timedelta(minutes=10, milliseconds=250)
    network = await history.of_party(
        "CO", "ABC", T0 + timedelta(minutes=15), T0 + timedelta(hours=1)
    )
    assert [c.status for c in network[E1]] == [
        EVSEStatus.CHARGING,
        EVSEStatus.AVAILABLE,
        EVSEStatus.OUTOFORDER,
    ]
    assert [c.status for c in network[E2]] == [EVSEStatus.AVAILABLE]
    last = await history.last_received()
    assert last[E1] == T0 + timedelta(minutes=30, milliseconds=250)
    assert last[E1].tzinfo is not None
    assert await history.count_since(T0 + timedelta(minutes=10)) == {E1: 3}


async def test_refusals_and_pull_marks(system: System) -> None:
    refusal = Refusal("CO", "ABC", "locations", "L9", 2001, "address: Field required", T0)
    await system.store.refusals.add(refusal)
    assert await system.store.refusals.list(since=T0) == [refusal]
    assert await system.store.refusals.list(since=T0 + timedelta(seconds=1)) == []
    key = pull_key("locations", "CO", "ABC")
    await system.store.pull_marks.put(PullMark("p1", key, T0, 3))
    await system.store.pull_marks.put(PullMark("p1", key, T0 + timedelta(minutes=5), 1))
    assert await system.store.pull_marks.get("p1", key) == PullMark(
        "p1", key, T0 + timedelta(minutes=5), 1
    )
    assert await system.store.pull_marks.get("p1", pull_key("tariffs", "CO", "ABC")) is None
