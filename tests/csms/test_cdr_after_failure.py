"""A transaction end whose CDR was never stored gets it when the station sends the end again.

The CSMS stores an end (the session, its CDR, the transaction record) in one write. When it dies
(or loses its database) in that write, the station got no answer and sends the same end again;
that repeat must make the missing CDR, once. Found by the crash harness
(``tests/bench/test_crash.py``), when the CDR was still stored apart from the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import OperationalError

from intercarga.bus import EventBus
from intercarga.csms.authorization import Authorizer
from intercarga.csms.sessions import SessionService
from intercarga.domain.events import CdrCreated
from intercarga.ocpp.events import TransactionEnded, TransactionStarted
from intercarga.sim.example import seed_example_network
from intercarga.store import Store

START = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


async def test_an_end_sent_again_makes_the_cdr_the_first_attempt_did_not_store(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_example_network(store)
    station = await store.stations.get("CL-ICG-0001")
    bus = EventBus()
    created: list[CdrCreated] = []

    async def keep(event: CdrCreated) -> None:
        created.append(event)

    bus.subscribe(CdrCreated, keep)
    service = SessionService(store, bus, Authorizer(store), clock=lambda: START)
    await service.handle(
        station,
        TransactionStarted(
            evse=1,
            connector=1,
            timestamp=START,
            transaction_id="tx-cdr",
            meter_start=Decimal(1000),
            seq_no=0,
        ),
    )
    end = TransactionEnded(
        transaction_id="tx-cdr",
        timestamp=START + timedelta(minutes=30),
        meter_stop=Decimal(8000),
        seq_no=1,
    )
    real_write = store.write

    async def database_gone(*_writes: object) -> None:
        raise OperationalError("INSERT INTO cdrs", {}, ConnectionResetError("connection lost"))

    monkeypatch.setattr(store, "write", database_gone)
    with pytest.raises(OperationalError):
        await service.handle(station, end)  # the station hears a CALLERROR, or nothing
    monkeypatch.setattr(store, "write", real_write)
    assert (await store.cdrs.list(limit=None)).total == 0

    await service.handle(station, end)  # the same end, sent again
    await service.handle(station, end)  # and once more: still one CDR

    cdrs = (await store.cdrs.list(limit=None)).items
    assert len(cdrs) == 1
    assert cdrs[0].total_energy == Decimal("7")
    assert len(created) == 1
