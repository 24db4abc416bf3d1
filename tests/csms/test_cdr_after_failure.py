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
from intercarga.domain import Station
from intercarga.domain.events import CdrCreated
from intercarga.ocpp.events import TransactionEnded, TransactionStarted
from intercarga.sim.example import seed_example_network
from intercarga.store import Store

START = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


async def _started(
    store: Store, transaction_id: str, meter_stop: int
) -> tuple[SessionService, Station, TransactionEnded, list[CdrCreated]]:
    """A session started at the example network's first station, its end, and the CDRs
    announced."""
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
            transaction_id=transaction_id,
            meter_start=Decimal(1000),
            seq_no=0,
        ),
    )
    end = TransactionEnded(
        transaction_id=transaction_id,
        timestamp=START + timedelta(minutes=30),
        meter_stop=Decimal(meter_stop),
        seq_no=1,
    )
    return service, station, end, created


async def test_an_end_sent_again_makes_the_cdr_the_first_attempt_did_not_store(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, station, end, created = await _started(store, "tx-cdr", 8000)
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


async def test_an_end_sent_again_makes_the_cdr_an_older_version_left_unstored(
    store: Store,
) -> None:
    """Before an end was stored in one write, a crash between the session and its CDR left an
    ended session with neither a CDR nor the reason: the station's repeat makes it, once."""
    service, station, end, created = await _started(store, "tx-old", 4000)
    await service.handle(station, end)
    (cdr,) = (await store.cdrs.list(limit=None)).items
    await store.cdrs.delete(cdr.country_code, cdr.party_id, cdr.id)  # as the crash left it
    created.clear()

    await service.handle(station, end)
    await service.handle(station, end)

    (made,) = (await store.cdrs.list(limit=None)).items
    assert made.total_energy == Decimal("3")
    assert len(created) == 1
