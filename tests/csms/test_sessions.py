"""Sessions from transactions: the hot path (updates from memory) stores what the full path does;
what a station reports is billed as it meant it, whatever the version (a 1.6 or 2.0.1 station over
a real WebSocket, the conformance suites' harness), and no session ends without a CDR or a reason.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.bus import EventBus
from intercarga.csms.authorization import Authorizer
from intercarga.csms.sessions import SessionService
from intercarga.domain import MeterValue, Session, Station
from intercarga.domain.events import SessionChanged
from intercarga.ocpp.events import TransactionEnded, TransactionStarted, TransactionUpdated
from intercarga.store import Store
from tests.conformance.harness import (
    STATION_16,
    STATION_201,
    VALID,
    CallRefusedError,
    Csms,
    Station16,
    Station201,
    now,
)

START = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
STATION = Station(id="HOT-1", country_code="CL", party_id="ICG", security_profile=0)
REGISTER = "Energy.Active.Import.Register"


def _values(minute: int, wh: int) -> tuple[MeterValue, ...]:
    at = START + timedelta(minutes=minute)
    return (
        MeterValue(timestamp=at, measurand="Power.Active.Import", value=Decimal(7000), unit="W"),
        MeterValue(timestamp=at, measurand=REGISTER, value=Decimal(wh)),
        MeterValue(
            timestamp=at, measurand="Current.Import", value=Decimal(30), unit="A", phase="L1"
        ),
    )


def _update(seq_no: int, minute: int, wh: int) -> TransactionUpdated:
    return TransactionUpdated(
        transaction_id="tx-1",
        timestamp=START + timedelta(minutes=minute),
        seq_no=seq_no,
        trigger="MeterValuePeriodic",
        meter_values=_values(minute, wh),
    )


FACTS = [
    TransactionStarted(
        evse=1,
        connector=1,
        timestamp=START,
        transaction_id="tx-1",
        meter_start=Decimal(1000),
        seq_no=0,
        meter_values=_values(0, 1000),
    ),
    _update(1, 1, 1100),
    _update(2, 2, 1250),
    _update(2, 2, 1250),  # a repeat: stored once
    _update(3, 3, 1400),
    _update(4, 2, 1250),  # an older timestamp, same values: merged, not doubled
    _update(5, 4, 1600),
]


_begin = MeterValue(
    timestamp=START, measurand=REGISTER, value=Decimal(1000), context="Transaction.Begin"
)


def _without_clock(session: Session) -> dict[str, object]:
    return session.model_dump(exclude={"id", "last_updated", "station_id"})


async def _play(
    store: Store,
    station: Station,
    *,
    forget_each_time: bool,
    facts: list[TransactionStarted | TransactionUpdated] = FACTS,
    park_each_time: bool = False,
) -> tuple[Session, list[SessionChanged]]:
    await store.stations.put(station)
    bus = EventBus()
    published: list[SessionChanged] = []

    async def keep(event: SessionChanged) -> None:
        published.append(event)

    bus.subscribe(SessionChanged, keep)
    service = SessionService(store, bus, Authorizer(store), clock=lambda: START)
    for fact in facts:
        if forget_each_time:
            service.forget(station.id)  # every message takes the full path
        if park_each_time:
            service.park(station.id)  # the station reconnects before every message
        await service.handle(station, fact)
    page = await store.sessions.list(limit=None, filters={"station_id": station.id})
    assert page.total == 1
    return page.items[0], published


async def test_updates_from_memory_store_the_same_session_as_the_full_path(store: Store) -> None:
    hot, hot_events = await _play(store, STATION, forget_each_time=False)
    other = STATION.model_copy(update={"id": "FULL-1"})
    full, _ = await _play(store, other, forget_each_time=True)
    assert _without_clock(hot) == _without_clock(full)
    assert hot.kwh == Decimal("0.6")  # (1600 - 1000) Wh
    assert len(hot.meter_values) == 3 * 5  # five distinct timestamps, three values each
    # An update from memory announces the session with the values it added.
    assert [len(event.session.meter_values) for event in hot_events[1:3]] == [3, 3]
    # Subscribers (the OCPI push, the dashboard) serialize what is announced: it holds the types
    # its model declares (a tuple of meter values where a list is declared made Pydantic warn).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for event in hot_events:
            event.session.model_dump_json()


async def test_a_station_that_reconnects_is_stored_alike_without_its_session_read_again(
    store: Store, engine: AsyncEngine
) -> None:
    """Issue 16: a station that reconnects (or replays its queue after a drop) takes its
    transaction's summary back when the stored record shows nothing happened meanwhile: its
    messages store the same session, and the session's meter values are not read again."""
    statements: list[str] = []

    def seen(_c: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "meter_values" in statement:
            statements.append(statement)

    # The session's meter values read, or not, while the messages are handled.
    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        parked, _ = await _play(store, STATION, forget_each_time=False, park_each_time=True)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert len(statements) == 1  # _play's read of what was stored, after the last message
    other = STATION.model_copy(update={"id": "FULL-1"})
    full, _ = await _play(store, other, forget_each_time=True)
    assert _without_clock(parked) == _without_clock(full)


async def test_a_station_back_from_another_node_is_read_from_the_store(store: Store) -> None:
    """Two nodes on one store: the station speaks to A, reconnects to B, then to A again. A's
    parked summary is not the stored record any more, so A reads the session: what is stored
    is what one node alone stores."""
    await store.stations.put(STATION)
    nodes = [
        SessionService(store, EventBus(), Authorizer(store), clock=lambda: START) for _ in "AB"
    ]
    # On B the register goes back (a replaced meter): A's summary knows nothing of it, and
    # would bill 1000 → 1300 Wh without a warning.
    facts = [*FACTS[:3], _update(3, 3, 400), _update(4, 4, 900), _update(5, 5, 1300)]
    for fact, node in zip(facts, [0, 0, 0, 1, 1, 0], strict=True):
        for each in nodes:
            each.park(STATION.id)  # it reconnects to ``node``
        await nodes[node].handle(STATION, fact)
    (hopped,) = (await store.sessions.list(limit=None, filters={"station_id": STATION.id})).items
    other = STATION.model_copy(update={"id": "FULL-1"})
    full, _ = await _play(store, other, forget_each_time=True, facts=facts)
    assert _without_clock(hopped) == _without_clock(full)
    assert hopped.kwh == Decimal("1.15")  # 1000 → 1250, then 400 → 1300
    assert len(hopped.warnings) == 1


async def test_an_end_after_updates_from_memory_closes_the_session(store: Store) -> None:
    await store.stations.put(STATION)
    service = SessionService(store, EventBus(), Authorizer(store), clock=lambda: START)
    for fact in FACTS[:3]:
        await service.handle(STATION, fact)
    await service.handle(
        STATION,
        TransactionEnded(
            transaction_id="tx-1",
            timestamp=START + timedelta(minutes=5),
            meter_stop=Decimal(1700),
            seq_no=3,
        ),
    )
    (session,) = (await store.sessions.list(limit=None)).items
    assert session.status.value == "COMPLETED"
    assert session.kwh == Decimal("0.7")
    assert session.end_date_time == START + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("facts", "kwh", "warned"),
    [
        # A meter replaced mid-session: the hot path leaves the step back to the full path.
        ([*FACTS[:3], _update(3, 3, 400), _update(4, 4, 900)], "0.75", 1),
        # A 2.x start's Transaction.Begin reading, then updates from memory.
        ([replace(FACTS[0], meter_values=(_begin,)), *FACTS[1:3]], "0.25", 0),
    ],
    ids=["register-going-back", "begin-reading"],
)
async def test_billed_readings_are_read_alike_from_memory_and_in_full(
    store: Store,
    facts: list[TransactionStarted | TransactionUpdated],
    kwh: str,
    warned: int,
) -> None:
    hot, events = await _play(store, STATION, forget_each_time=False, facts=facts)
    other = STATION.model_copy(update={"id": "FULL-1"})
    full, _ = await _play(store, other, forget_each_time=True, facts=facts)
    assert _without_clock(hot) == _without_clock(full)
    assert hot.kwh == Decimal(kwh)
    assert len(hot.warnings) == warned
    assert len(events[1].session.meter_values) == 3  # the first update came from memory


# -- through OCPP, as a station reports it -------------------------------------------------------


async def _cdr(csms: Csms, session: dict[str, Any]) -> dict[str, Any] | None:
    response = await csms.client.get(
        f"/api/v1/cdrs/{session['country_code']}/{session['party_id']}/{session['id']}"
    )
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    cdr: dict[str, Any] = response.json()
    return cdr


def _register(wh: float, context: str) -> dict[str, Any]:
    return {"value": str(wh), "context": context, "measurand": REGISTER, "unit": "Wh"}


async def _start16(station: Station16, meter_start: int) -> int:
    station.register_wh = meter_start
    await station.start()
    assert station.transaction_id is not None
    return station.transaction_id


async def _stop16(
    station: Station16, meter_stop: int, timestamp: str, data: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "transactionId": station.transaction_id,
        "idTag": VALID,
        "meterStop": meter_stop,
        "timestamp": timestamp,
    }
    if data is not None:
        payload["transactionData"] = data
    return await station.call("StopTransaction", payload)


async def _billed(
    csms: Csms, station_id: str, transaction_id: object, kwh: Decimal | int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ended session of a transaction and its CDR, both of ``kwh``."""
    session = await csms.session(station_id, str(transaction_id))
    assert session["status"] == "COMPLETED"
    assert Decimal(session["kwh"]) == kwh
    cdr = await _cdr(csms, session)
    assert cdr is not None, session["no_cdr_reason"]
    assert Decimal(cdr["total_energy"]) == kwh
    return session, cdr


async def _every_ended_session_has_a_cdr_or_a_reason(csms: Csms, station_id: str) -> None:
    for session in await csms.sessions(station_id, status="COMPLETED"):
        assert await _cdr(csms, session) is not None or session["no_cdr_reason"], session


@pytest.mark.parametrize("apart", [False, True], ids=["same-instant", "one-instant-apart"])
async def test_a_16_stop_with_begin_and_end_in_its_transaction_data_bills_its_meter_stop(
    csms: Csms, cs16: Station16, apart: bool
) -> None:
    transaction_id = await _start16(cs16, 1000)
    begin_at = now()
    end_at = now() if apart else begin_at
    data = [
        {"timestamp": begin_at, "sampledValue": [_register(1000, "Transaction.Begin")]},
        {"timestamp": end_at, "sampledValue": [_register(6000, "Transaction.End")]},
    ]
    answer = await _stop16(cs16, 6000, end_at, data)
    assert answer["idTagInfo"]["status"] == "Accepted"
    _, cdr = await _billed(csms, STATION_16, transaction_id, 5)
    assert Decimal(cdr["total_cost"]["excl_vat"]) > 0


async def test_a_16_meter_stop_wins_over_a_different_end_reading(
    csms: Csms, cs16: Station16
) -> None:
    transaction_id = await _start16(cs16, 1000)
    at = now()
    data = [{"timestamp": at, "sampledValue": [_register(6500, "Transaction.End")]}]
    await _stop16(cs16, 6000, at, data)
    session = await csms.session(STATION_16, transaction_id)
    assert Decimal(session["kwh"]) == 5
    assert session["warnings"] == []


async def test_a_201_end_with_begin_and_end_readings_stamped_alike_is_billed(
    csms: Csms, cs: Station201
) -> None:
    await cs.energy_transfer_started()  # Begin at 10 000 Wh, then 11 500 Wh
    transaction_id = cs.transaction(1).id
    at = now()
    await cs.transaction_event(
        "Ended",
        "EVCommunicationLost",
        stopped_reason="EVDisconnected",
        meter_values=[
            {
                "timestamp": at,
                "sampledValue": [
                    {"value": 10_000, "context": "Transaction.Begin", "measurand": REGISTER},
                    {"value": 13_000, "context": "Transaction.End", "measurand": REGISTER},
                ],
            }
        ],
        timestamp=at,
    )
    await _billed(csms, STATION_201, transaction_id, 3)


async def test_a_meter_going_back_is_flagged_and_never_credited(
    csms: Csms, cs16: Station16, caplog: pytest.LogCaptureFixture
) -> None:
    transaction_id = await _start16(cs16, 5_000_000)
    cs16.register_wh = 1000  # a rollover, or a meter replaced
    with caplog.at_level(logging.WARNING, logger="intercarga.csms.sessions"):
        await cs16.stop()
    session, cdr = await _billed(csms, STATION_16, transaction_id, 0)
    (warning,) = session["warnings"]
    assert "went back from 5000000 Wh to 1000 Wh" in warning
    assert any("not billed" in r.getMessage() for r in caplog.records)
    assert Decimal(cdr["total_cost"]["excl_vat"]) >= 0
    assert Decimal(cdr["total_cost"]["incl_vat"]) >= 0
    assert all(Decimal(d["volume"]) >= 0 for p in cdr["charging_periods"] for d in p["dimensions"])
    assert "went back" in cdr["remark"]


async def test_a_meter_replaced_mid_session_bills_what_it_delivered(
    csms: Csms, cs16: Station16
) -> None:
    transaction_id = await _start16(cs16, 1000)
    await cs16.meter_values(3000)
    await cs16.meter_values(500)  # the new meter
    cs16.register_wh = 2500
    await cs16.stop()
    # 2 kWh on the old meter, 2 on the new one
    session, cdr = await _billed(csms, STATION_16, transaction_id, 4)
    assert len(session["warnings"]) == 1
    assert Decimal(cdr["total_cost"]["excl_vat"]) > 0


IMPLAUSIBLE = [
    pytest.param(10**25, None, id="1e25-Wh"),
    pytest.param(10**300, None, id="1e300-Wh"),
    pytest.param(6000, "9999-12-31T23:59:59Z", id="year-9999"),
]


@pytest.mark.parametrize(("wh", "at"), IMPLAUSIBLE)
async def test_a_16_stop_with_an_implausible_value_is_refused_before_anything_changes(
    csms: Csms, cs16: Station16, wh: int, at: str | None
) -> None:
    transaction_id = await _start16(cs16, 1000)
    for _ in range(2):  # the station's retry is refused alike
        with pytest.raises(CallRefusedError) as refused:
            await _stop16(cs16, wh, at or now())
        assert refused.value.code == "PropertyConstraintViolation"
    session = await csms.session(STATION_16, transaction_id)
    assert session["status"] == "ACTIVE"
    assert await _cdr(csms, session) is None
    await _stop16(cs16, 6000, now())  # the station's clock and meter set right
    await _billed(csms, STATION_16, transaction_id, 5)
    await _every_ended_session_has_a_cdr_or_a_reason(csms, STATION_16)


@pytest.mark.parametrize(("wh", "at"), IMPLAUSIBLE)
async def test_a_201_end_with_an_implausible_value_is_refused_before_anything_changes(
    csms: Csms, cs: Station201, wh: int, at: str | None
) -> None:
    await cs.energy_transfer_started()
    transaction_id = cs.transaction(1).id
    end = {
        "timestamp": at or now(),
        "sampledValue": [{"value": float(wh), "context": "Transaction.End", "measurand": REGISTER}],
    }
    for _ in range(2):
        with pytest.raises(CallRefusedError) as refused:
            await cs.transaction_event(
                "Ended",
                "EVCommunicationLost",
                stopped_reason="EVDisconnected",
                meter_values=[end],
                seq_no=10,
                timestamp=at or now(),
            )
        assert refused.value.code == "PropertyConstraintViolation"
    session = await csms.session(STATION_201, transaction_id)
    assert session["status"] == "ACTIVE"
    await cs.ev_disconnected()
    await _billed(csms, STATION_201, transaction_id, Decimal("1.5"))
    await _every_ended_session_has_a_cdr_or_a_reason(csms, STATION_201)


async def test_a_session_that_cannot_have_a_cdr_says_why(csms: Csms, cs16: Station16) -> None:
    """Connector 2 of the 1.6 station is mapped to no Location EVSE: no CDR can be made."""
    await cs16.start(connector=2)
    transaction_id = cs16.transaction_id
    cs16.register_wh += 2000
    answer = await cs16.stop()
    assert answer["idTagInfo"]["status"] == "Accepted"
    session = await csms.session(STATION_16, transaction_id)
    assert session["status"] == "COMPLETED"
    assert await _cdr(csms, session) is None
    assert "location" in session["no_cdr_reason"]
