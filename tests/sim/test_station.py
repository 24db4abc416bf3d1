"""Simulated stations against a real CsmsServer on 127.0.0.1, as the CSMS sees them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.errors import CallFailedError, ErrorCode
from intercarga.sim.clock import SimClock
from intercarga.sim.power import Vehicle
from intercarga.sim.station import (
    Acknowledged,
    SimulatedStation,
    StationConfig,
    StationRefusedError,
    cancel_and_wait,
)
from tests.sim.csms import MiniCsms, running_csms

SPEED = 600.0  # a simulated minute is 0.1 s
TAG = "04A1B2C3D4E5F6"


def _station(
    url: str, version: OcppVersion, journal: list[Acknowledged] | None = None, **options: Any
) -> SimulatedStation:
    config = StationConfig(
        "SIM-0001",
        url,
        version,
        vehicle=Vehicle(battery_kwh=60, soc=30),
        register_wh=1000.0,
        **options,
    )
    return SimulatedStation(config, SimClock(SPEED), journal=journal)


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polls what the CSMS has seen
            await asyncio.sleep(0.01)


def _register(values: list[dict[str, Any]]) -> float:
    return next(
        float(v["value"]) for v in values if v["measurand"] == "Energy.Active.Import.Register"
    )


async def test_a_16_station_boots_authorizes_charges_and_stops() -> None:
    async with running_csms() as (csms, _, url):
        station = _station(url, OcppVersion.V16)
        try:
            assert await station.power_on(timeout=5) == "Accepted"
            await station.plug_in()
            assert await station.authorize() == "Accepted"
            await station.start()
            await station.charge(minutes=10)
            await station.stop()
            await station.unplug()
            assert await station.flush(5)
        finally:
            await station.shutdown()
    actions = csms.actions()
    assert actions[0] == "BootNotification"
    assert actions.index("Authorize") < actions.index("StartTransaction")
    assert actions.index("StartTransaction") < actions.index("StopTransaction")
    (start,) = csms.of("StartTransaction")
    assert start["idTag"] == TAG and start["meterStart"] == 1000
    meter_values = csms.of("MeterValues")
    assert len(meter_values) >= 6  # every 60 simulated seconds for 10 minutes
    assert {m["transactionId"] for m in meter_values} == {1}
    registers = [_register(m["meterValue"][0]["sampledValue"]) for m in meter_values]
    assert registers == sorted(registers) and registers[0] > 1000
    measurands = {v["measurand"] for v in meter_values[-1]["meterValue"][0]["sampledValue"]}
    assert measurands == {
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Current.Import",
        "SoC",
    }
    (stop,) = csms.of("StopTransaction")
    assert stop["transactionId"] == 1 and stop["reason"] == "Local"
    # Ten minutes at 11 kW is about 1.8 kWh (a little more if the stop comes late).
    assert 1700 < stop["meterStop"] - 1000 < 2600
    assert [s["status"] for s in csms.of("StatusNotification")] == [
        "Available",
        "Preparing",
        "Charging",
        "Finishing",
        "Available",
    ]


async def test_a_201_station_boots_authorizes_charges_and_stops() -> None:
    async with running_csms() as (csms, _, url):
        station = _station(url, OcppVersion.V201)
        try:
            await station.power_on(timeout=5)
            await station.plug_in()
            assert await station.authorize() == "Accepted"
            await station.start()
            await station.charge(minutes=10)
            await station.stop()
            await station.unplug()
            assert await station.flush(5)
        finally:
            await station.shutdown()
    boot = csms.of("BootNotification")[0]
    assert boot["reason"] == "PowerUp"
    assert csms.of("Authorize") == [{"idToken": {"idToken": TAG, "type": "ISO14443"}}]
    events = csms.of("TransactionEvent")
    assert [e["eventType"] for e in events[:2]] == ["Started", "Updated"]
    assert events[-1]["eventType"] == "Ended"
    assert len(events) >= 8
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert len({e["transactionInfo"]["transactionId"] for e in events}) == 1
    assert not any(e.get("offline") for e in events)
    assert events[0]["idToken"]["idToken"] == TAG
    assert events[-1]["transactionInfo"]["stoppedReason"] == "Local"
    registers = [_register(e["meterValue"][0]["sampledValue"]) for e in events]
    assert registers == sorted(registers)
    assert 1700 < registers[-1] - registers[0] < 2600
    assert [s["connectorStatus"] for s in csms.of("StatusNotification")] == [
        "Available",
        "Occupied",
        "Available",
    ]


async def test_boot_is_retried_while_pending_and_heartbeats_follow_the_interval() -> None:
    async with running_csms(MiniCsms(pending_boots=2, heartbeat_interval=60)) as (csms, _, url):
        station = _station(url, OcppVersion.V201)
        try:
            await station.power_on(timeout=5)
            assert station.settings.integer("HeartbeatInterval") == 60
            await station.wait(5 * 60)
        finally:
            await station.shutdown()
    assert csms.actions()[:3] == ["BootNotification"] * 3
    assert 3 <= csms.actions().count("Heartbeat") <= 6


async def test_a_lost_connection_replays_the_queue_in_order_201() -> None:
    async with running_csms() as (csms, _, url):
        station = _station(url, OcppVersion.V201)
        try:
            await station.power_on(timeout=5)
            await station.start()
            await station.charge(minutes=2)
            await station.disconnect(5 * 60)  # five meter intervals without the CSMS
            await station.stop()
            assert await station.flush(5)
        finally:
            await station.shutdown()
    sent = csms.of("TransactionEvent")
    # A message in flight when the link dropped is sent again (its answer was lost): the CSMS
    # may see it twice, identical, which is why it must be idempotent on transactionId + seqNo.
    events = [e for i, e in enumerate(sent) if i == 0 or e["seqNo"] != sent[i - 1]["seqNo"]]
    assert all(
        e == sent[i - 1] for i, e in enumerate(sent) if i and e["seqNo"] == sent[i - 1]["seqNo"]
    )
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    offline = [e for e in events if e.get("offline")]
    assert len(offline) >= 3
    assert all(e["eventType"] == "Updated" for e in offline)
    # Replayed after reconnecting, before the stop that came later.
    assert events[-1]["eventType"] == "Ended" and not events[-1].get("offline")
    assert station.reconnections == 1


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_a_transaction_message_refused_with_a_callerror_is_sent_again(
    version: OcppVersion,
) -> None:
    """A CSMS that failed to process a transaction message (its database away) gets it again
    later, not never (OCPP 1.6 §3.7.1): the station keeps it at the head of its queue."""
    first = "StartTransaction" if version is OcppVersion.V16 else "TransactionEvent"
    async with running_csms(MiniCsms(failing={first: 2})) as (csms, _, url):
        journal: list[Acknowledged] = []
        station = _station(url, version, journal)
        try:
            await station.power_on(timeout=5)
            await station.start()
            await station.charge(minutes=2)
            await station.stop()
            assert await station.flush(5)
        finally:
            await station.shutdown()
    starts = csms.of(first)[:3]
    assert len(starts) == 3 and starts[0] == starts[1] == starts[2]  # the same message, 3 times
    acknowledged = [entry.action for entry in journal]
    assert acknowledged[0] == first and len(acknowledged) >= 3
    assert acknowledged[-1] in ("StopTransaction", "TransactionEvent")
    assert station.last_error is None or "dropped" not in station.last_error


async def test_a_16_session_started_offline_gets_its_transaction_id_on_replay() -> None:
    async with running_csms() as (csms, _, url):
        station = _station(url, OcppVersion.V16)
        try:
            await station.power_on(timeout=5)
            await station.disconnect(4 * 60, wait=False)
            await _until(lambda: not station.online)
            await station.start()
            await station.charge(minutes=3)
            await station.stop()
            await station.wait_online()
            assert await station.flush(5)
        finally:
            await station.shutdown()
    actions = [
        a for a in csms.actions() if a in ("StartTransaction", "MeterValues", "StopTransaction")
    ]
    assert actions[0] == "StartTransaction" and actions[-1] == "StopTransaction"
    assert actions.count("MeterValues") >= 2
    assert {m["transactionId"] for m in csms.of("MeterValues")} == {1}
    assert csms.of("StopTransaction")[0]["transactionId"] == 1


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_remote_start_and_stop_from_the_csms(version: OcppVersion) -> None:
    async with running_csms() as (csms, server, url):
        station = _station(url, version)
        try:
            await station.power_on(timeout=5)
            link = server.require_link("SIM-0001")
            if version is OcppVersion.V16:
                answer = await link.call(
                    "RemoteStartTransaction", {"idTag": "REMOTE1", "connectorId": 1}
                )
            else:
                answer = await link.call(
                    "RequestStartTransaction",
                    {"idToken": {"idToken": "REMOTE1", "type": "Central"}, "remoteStartId": 42},
                )
            assert answer == {"status": "Accepted"}
            await _until(lambda: station.transaction_id() is not None)
            await station.wait(3 * 60)
            transaction_id = station.transaction_id()
            if version is OcppVersion.V16:
                answer = await link.call("RemoteStopTransaction", {"transactionId": transaction_id})
            else:
                answer = await link.call(
                    "RequestStopTransaction", {"transactionId": transaction_id}
                )
            assert answer == {"status": "Accepted"}
            await _until(lambda: station.transaction_id() is None)
            assert await station.flush(5)
        finally:
            await station.shutdown()
    if version is OcppVersion.V16:
        assert csms.of("StartTransaction")[0]["idTag"] == "REMOTE1"
        assert csms.of("StopTransaction")[0]["reason"] == "Remote"
    else:
        events = csms.of("TransactionEvent")
        assert events[0]["triggerReason"] == "RemoteStart"
        assert events[0]["transactionInfo"]["remoteStartId"] == 42
        assert events[-1]["triggerReason"] == "RemoteStop"
        assert events[-1]["transactionInfo"]["stoppedReason"] == "Remote"


async def test_csms_commands_trigger_reset_and_unsupported_calls() -> None:
    async with running_csms() as (csms, server, url):
        station = _station(url, OcppVersion.V201)
        try:
            await station.power_on(timeout=5)
            link = server.require_link("SIM-0001")
            answer = await link.call("TriggerMessage", {"requestedMessage": "Heartbeat"})
            assert answer == {"status": "Accepted"}
            await _until(lambda: "Heartbeat" in csms.actions())
            answer = await link.call(
                "SetVariables",
                {
                    "setVariableData": [
                        {
                            "component": {"name": "SampledDataCtrlr"},
                            "variable": {"name": "TxUpdatedInterval"},
                            "attributeValue": "10",
                        }
                    ]
                },
            )
            assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
            with pytest.raises(CallFailedError) as caught:
                await link.call("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
            assert caught.value.code is ErrorCode.NOT_SUPPORTED
            assert await link.call("Reset", {"type": "Immediate"}) == {"status": "Accepted"}
            await _until(lambda: len(csms.of("BootNotification")) == 2)
        finally:
            await station.shutdown()
    assert csms.of("BootNotification")[1]["reason"] == "RemoteReset"
    assert station.stats.received_calls == 4


async def test_a_blocked_token_ends_the_session_and_a_wrong_password_is_refused() -> None:
    async with running_csms(MiniCsms(blocked_tokens=frozenset({TAG}))) as (csms, _, url):
        station = _station(url, OcppVersion.V16)
        try:
            await station.power_on(timeout=5)
            assert await station.authorize() == "Blocked"
            await station.start()  # the CSMS refuses the token in its StartTransaction answer
            await _until(
                lambda: station.transaction_id(1) is None and bool(csms.of("StopTransaction"))
            )
        finally:
            await station.shutdown()
    assert csms.of("StopTransaction")[0]["reason"] == "DeAuthorized"
    async with running_csms(password="right") as (_, _, url):
        station = _station(url, OcppVersion.V201, password="wrong")
        try:
            with pytest.raises(StationRefusedError, match="401"):
                await station.power_on(timeout=5)
        finally:
            await station.shutdown()
        good = _station(url, OcppVersion.V201, password="right")
        try:
            assert await good.power_on(timeout=5) == "Accepted"
        finally:
            await good.shutdown()


async def test_a_stop_cancelled_while_it_waits_for_its_meter_task_stays_cancelled() -> None:
    """A fleet ending its run cancelled a station mid-stop; the wait for the meter task swallowed
    that cancellation too, and a scenario repeating for ever went on until the test timed out."""
    meter = asyncio.create_task(asyncio.sleep(3600))
    waiting = asyncio.Event()

    async def meter_that_ends_slowly() -> None:
        try:
            await meter
        finally:
            waiting.set()
            await asyncio.sleep(0.05)  # its own clean-up, during which the caller is cancelled

    slow = asyncio.create_task(meter_that_ends_slowly())
    await asyncio.sleep(0)
    stopping = asyncio.create_task(cancel_and_wait(slow))
    await asyncio.wait_for(waiting.wait(), 5)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(stopping, 5)
    assert stopping.cancelled()
    meter.cancel()


async def test_cancel_and_wait_ends_the_task_and_returns() -> None:
    task = asyncio.create_task(asyncio.sleep(3600))
    await asyncio.wait_for(cancel_and_wait(task), 5)
    assert task.cancelled()
