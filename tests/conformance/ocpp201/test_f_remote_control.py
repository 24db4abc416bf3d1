"""OCPP 2.0.1 CSMS conformance, block F: remote control (remote start, unlock, trigger message)."""

from __future__ import annotations

from tests.conformance.harness import STATION_201, VALID, Csms, Station201, meter_value

REMOTE_START = {"id_token": {"value": VALID, "type": "ISO14443"}, "evse": 1, "remote_start_id": 42}


async def remote_start(csms: Csms, cs: Station201) -> dict[str, object]:
    result = await csms.command(STATION_201, "remote_start", REMOTE_START)
    assert result["status"] == "Accepted"
    assert cs.last("RequestStartTransaction") == {
        "idToken": {"idToken": VALID, "type": "ISO14443"},
        "remoteStartId": 42,
        "evseId": 1,
    }
    return result


async def test_TC_F_01_CSMS(csms: Csms, cs: Station201) -> None:
    """Remote start transaction - Cable plugin first."""
    await cs.ev_connected_pre_session()
    tx = cs.transaction(1)
    cs.reply("RequestStartTransaction", {"status": "Accepted", "transactionId": tx.id})
    result = await remote_start(csms, cs)
    assert result["transaction_id"] == tx.id
    answer = await cs.transaction_event("Updated", "RemoteStart", token=VALID, remote_start_id=42)
    assert answer["idTokenInfo"]["status"] == "Accepted"
    tx.authorized = True
    await cs.energy_transfer_started()
    session = await csms.session(STATION_201, tx.id)
    assert (session["auth_method"], session["token_uid"]) == ("COMMAND", VALID)


async def remote_start_first(csms: Csms, cs: Station201, *, authorize: bool) -> str:
    await remote_start(csms, cs)
    if authorize:
        assert (await cs.authorize(VALID))["status"] == "Accepted"
    answer = await cs.transaction_event(
        "Started",
        "RemoteStart",
        token=VALID,
        remote_start_id=42,
        meter_values=[meter_value(10_000, "Transaction.Begin")],
    )
    assert answer["idTokenInfo"]["status"] == "Accepted"
    cs.transaction(1).authorized = True
    return cs.transaction(1).id


async def test_TC_F_02_CSMS(csms: Csms, cs: Station201) -> None:
    """Remote start transaction - Remote start first - AuthorizeRemoteStart is true."""
    transaction_id = await remote_start_first(csms, cs, authorize=True)
    await cs.energy_transfer_started()
    session = await csms.session(STATION_201, transaction_id)
    assert (session["auth_method"], session["status"]) == ("COMMAND", "ACTIVE")


async def test_TC_F_03_CSMS(csms: Csms, cs: Station201) -> None:
    """Remote start transaction - Remote start first - AuthorizeRemoteStart is false."""
    transaction_id = await remote_start_first(csms, cs, authorize=False)
    await cs.energy_transfer_started()
    session = await csms.session(STATION_201, transaction_id)
    assert (session["auth_method"], session["status"]) == ("COMMAND", "ACTIVE")


async def test_TC_F_04_CSMS(csms: Csms, cs: Station201) -> None:
    """Remote start transaction - Remote start first - Cable plugin timeout."""
    transaction_id = await remote_start_first(csms, cs, authorize=False)
    assert await cs.transaction_event("Updated", "EVConnectTimeout") == {}
    session = await csms.session(STATION_201, transaction_id)
    assert session["auth_method"] == "COMMAND"


async def test_TC_F_06_CSMS(csms: Csms, cs: Station201) -> None:
    """Remote unlock Connector - Without ongoing transaction - Accepted."""
    result = await csms.command(STATION_201, "unlock_connector", {"evse": 1, "connector": 1})
    assert result["status"] == "Unlocked"
    assert cs.last("UnlockConnector") == {"evseId": 1, "connectorId": 1}


async def trigger(
    csms: Csms,
    cs: Station201,
    message: str,
    evse: int | None = None,
    *,
    connectors: tuple[int, ...] = (),
) -> None:
    """The operator names ``message`` (and ``evse``); for a StatusNotification the CSMS asks
    each of the EVSE's ``connectors`` in turn (F06.FR.13: the CSMS names the connector)."""
    body: dict[str, object] = {"message": message}
    if evse is not None:
        body["evse"] = evse
    before = len(cs.requests("TriggerMessage"))
    result = await csms.command(STATION_201, "trigger_message", body)
    assert result["status"] == "Accepted"
    expected: list[dict[str, object]] = [{"requestedMessage": message}]
    if evse is not None:
        expected = [
            {"requestedMessage": message, "evse": {"id": evse} | ({"connectorId": c} if c else {})}
            for c in connectors or (0,)
        ]
    assert cs.requests("TriggerMessage")[before:] == expected


def triggered_meter_values(evse: int) -> dict[str, object]:
    return {"evseId": evse, "meterValue": [meter_value(10_000 * max(evse, 1), "Trigger")]}


async def test_TC_F_11_CSMS(csms: Csms, cs: Station201) -> None:
    """Trigger message - MeterValues - Specific EVSE."""
    await trigger(csms, cs, "MeterValues", evse=1)
    assert await cs.call("MeterValues", triggered_meter_values(1)) == {}


async def test_TC_F_12_CSMS(csms: Csms, cs: Station201) -> None:
    """Trigger message - MeterValues - All EVSE."""
    await trigger(csms, cs, "MeterValues")
    for evse in (1, 2):
        assert await cs.call("MeterValues", triggered_meter_values(evse)) == {}


async def test_TC_F_13_CSMS(csms: Csms, cs: Station201) -> None:
    """Trigger message - TransactionEvent - Specific EVSE."""
    await cs.energy_transfer_started()
    await trigger(csms, cs, "TransactionEvent", evse=1)
    answer = await cs.transaction_event(
        "Updated",
        "Trigger",
        charging_state="Charging",
        meter_values=[meter_value(12_000, "Trigger")],
    )
    assert answer == {}
    session = await csms.session(STATION_201, cs.transaction(1).id)
    assert session["meter_values"][-1]["context"] == "Trigger"


async def test_TC_F_14_CSMS(csms: Csms, cs: Station201) -> None:
    """Trigger message - TransactionEvent - All EVSE."""
    await cs.energy_transfer_started(1)
    await cs.energy_transfer_started(2)
    await trigger(csms, cs, "TransactionEvent")
    for evse in (1, 2):
        answer = await cs.transaction_event(
            "Updated",
            "Trigger",
            evse,
            charging_state="Charging",
            meter_values=[meter_value(30_000, "Trigger")],
            with_evse=False,
        )
        assert answer == {}


async def test_TC_F_15_CSMS(csms: Csms, cs: Station201) -> None:
    """Trigger message - LogStatusNotification - Idle."""
    await trigger(csms, cs, "LogStatusNotification")
    assert await cs.call("LogStatusNotification", {"status": "Idle"}) == {}


async def test_TC_F_18_CSMS(csms: Csms, cs: Station201) -> None:
    """Trigger message - FirmwareStatusNotification - Idle."""
    await trigger(csms, cs, "FirmwareStatusNotification")
    assert await cs.call("FirmwareStatusNotification", {"status": "Idle"}) == {}
    assert (await csms.station_record(STATION_201))["firmware_status"] == "Idle"


async def test_TC_F_20_CSMS(csms: Csms, cs: Station201) -> None:
    """Trigger message - Heartbeat."""
    await trigger(csms, cs, "Heartbeat")
    assert "currentTime" in await cs.call("Heartbeat", {})


async def test_TC_F_23_CSMS(csms: Csms, cs: Station201) -> None:
    """Trigger message - StatusNotification - Specific EVSE - Available."""
    # Part 6 checks only evse.id, but F06.FR.13 (restated by the 2023-12 errata) has the CSMS
    # name evse.connectorId too: the CSMS's EVSE 1 (SCL-PROV-1) has connectors 1 and 2.
    await trigger(csms, cs, "StatusNotification", evse=1, connectors=(1, 2))
    await cs.status(1, "Available")
    assert await csms.evse_status("SCL-PROVIDENCIA", "SCL-PROV-1") == "AVAILABLE"


async def test_TC_F_24_CSMS(csms: Csms, cs: Station201) -> None:
    """Trigger message - StatusNotification - Specific EVSE - Occupied."""
    await cs.status(1, "Occupied")
    await trigger(csms, cs, "StatusNotification", evse=1, connectors=(1, 2))
    await cs.status(1, "Occupied")
    assert await csms.evse_status("SCL-PROVIDENCIA", "SCL-PROV-1") == "CHARGING"


async def test_TC_F_27_CSMS(csms: Csms, cs: Station201) -> None:
    """Trigger message - NotImplemented."""
    cs.reply("TriggerMessage", {"status": "NotImplemented"})
    result = await csms.command(STATION_201, "trigger_message", {"message": "SignV2GCertificate"})
    assert result["status"] == "NotImplemented"


async def test_status_trigger_names_the_connector_asked_for(csms: Csms, cs: Station201) -> None:
    result = await csms.command(
        STATION_201, "trigger_message", {"message": "StatusNotification", "evse": 2, "connector": 1}
    )
    assert result["status"] == "Accepted"
    assert cs.last("TriggerMessage") == {
        "requestedMessage": "StatusNotification",
        "evse": {"id": 2, "connectorId": 1},
    }


async def test_status_trigger_without_an_evse_is_refused(csms: Csms, cs: Station201) -> None:
    problem = await csms.command(
        STATION_201, "trigger_message", {"message": "StatusNotification"}, status=422
    )
    assert problem["errors"] == [
        {
            "field": "evse",
            "message": "a StatusNotification is requested per connector: give evse and connector",
        }
    ]
    assert cs.requests("TriggerMessage") == []


async def test_status_trigger_names_the_connector_a_station_refused(
    csms: Csms, cs: Station201
) -> None:
    cs.reply(
        "TriggerMessage",
        lambda request: {
            "status": "Accepted" if request["evse"]["connectorId"] == 1 else "Rejected"
        },
    )
    result = await csms.command(
        STATION_201, "trigger_message", {"message": "StatusNotification", "evse": 1}
    )
    assert result == {"status": "Rejected", "reason": "connector 2"}
    assert [r["evse"] for r in cs.requests("TriggerMessage")] == [
        {"id": 1, "connectorId": 1},
        {"id": 1, "connectorId": 2},
    ]
