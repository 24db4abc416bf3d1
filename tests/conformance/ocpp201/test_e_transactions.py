"""OCPP 2.0.1 CSMS conformance, block E: transactions (start and stop points, offline queues,
transaction status, seqNo)."""

from __future__ import annotations

from decimal import Decimal

from intercarga.ocpp.transaction import TransactionRecord
from tests.conformance.harness import (
    INVALID,
    STATION_201,
    VALID,
    Csms,
    Station201,
    meter_value,
)

SIGNED = {
    "signedMeterData": "AP////8AAAABAAAAAAAAAABhbmQgc28gb24=",
    "signingMethod": "ECDSA-secp256r1-SHA256",
    "encodingMethod": "OCMF",
    "publicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
}


async def completed(
    csms: Csms, transaction_id: str, reason: str | None = None
) -> dict[str, object]:
    session = await csms.session(STATION_201, transaction_id)
    assert session["status"] == "COMPLETED", session
    if reason is not None:
        assert session["stop_reason"] == reason
    return session


async def local_start(
    cs: Station201, charging_state: str, trigger: str = "ChargingStateChanged"
) -> None:
    """Authorize, plug in, and a transaction starting at ``charging_state`` (E01 S5/S6)."""
    assert (await cs.authorize(VALID))["status"] == "Accepted"
    await cs.status(1, "Occupied")
    answer = await cs.transaction_event(
        "Started",
        trigger,
        token=VALID,
        charging_state=charging_state,
        meter_values=[meter_value(1000, "Transaction.Begin")],
    )
    assert answer["idTokenInfo"]["status"] == "Accepted"


async def test_TC_E_01_CSMS(csms: Csms, cs: Station201) -> None:
    """Start transaction options - PowerPathClosed."""
    await local_start(cs, "SuspendedEVSE")
    assert (
        await cs.transaction_event("Updated", "ChargingStateChanged", charging_state="Charging")
        == {}
    )
    session = await csms.session(STATION_201, cs.transaction(1).id)
    assert (session["status"], session["token_uid"]) == ("ACTIVE", VALID)


async def test_TC_E_02_CSMS(csms: Csms, cs: Station201) -> None:
    """Start transaction options - EnergyTransfer."""
    await local_start(cs, "Charging")
    session = await csms.session(STATION_201, cs.transaction(1).id)
    assert session["evse_uid"] == "SCL-PROV-1"


async def test_TC_E_03_CSMS(csms: Csms, cs: Station201) -> None:
    """Local start transaction - Cable plugin first - Success."""
    await cs.ev_connected_pre_session()
    await cs.authorized()
    await cs.energy_transfer_started()
    session = await csms.session(STATION_201, cs.transaction(1).id)
    assert (session["status"], session["token_uid"]) == ("ACTIVE", VALID)


async def test_TC_E_04_CSMS(csms: Csms, cs: Station201) -> None:
    """Local start transaction - Authorization first - Success."""
    await cs.authorized()
    await cs.energy_transfer_started()
    session = await csms.session(STATION_201, cs.transaction(1).id)
    assert Decimal(session["kwh"]) == Decimal("1.5")


async def test_TC_E_39_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop transaction options - Deauthorized - timeout."""
    await cs.authorized()
    transaction_id = cs.transaction(1).id
    await cs.transaction_event("Ended", "EVConnectTimeout", stopped_reason="Timeout")
    await completed(csms, transaction_id, "Timeout")


async def test_TC_E_14_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop transaction options - EVDisconnected - Charging Station side."""
    await cs.energy_transfer_started()
    await cs.stop_authorized()
    await cs.ev_connected_post_session()
    transaction_id = cs.transaction(1).id
    await cs.ev_disconnected()
    session = await completed(csms, transaction_id, "EVDisconnected")
    assert Decimal(str(session["kwh"])) == Decimal("1.5")


async def test_TC_E_20_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop transaction options - EVDisconnected - EV side (able to charge IEC 61851-1 EV)."""
    await cs.energy_transfer_started()
    await cs.energy_transfer_suspended()
    await cs.stop_authorized()
    await cs.ev_connected_post_session()
    transaction_id = cs.transaction(1).id
    await cs.ev_disconnected()
    await completed(csms, transaction_id, "EVDisconnected")


async def test_TC_E_15_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop transaction options - StopAuthorized - Local."""
    await cs.energy_transfer_started()
    transaction_id = cs.transaction(1).id
    await cs.transaction_event("Ended", "StopAuthorized", stopped_reason="Local")
    await completed(csms, transaction_id, "Local")


async def test_TC_E_21_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop transaction options - StopAuthorized - Remote."""
    await cs.energy_transfer_started()
    transaction_id = cs.transaction(1).id
    result = await csms.command(STATION_201, "remote_stop", {"transaction_id": transaction_id})
    assert result["status"] == "Accepted"
    assert cs.last("RequestStopTransaction") == {"transactionId": transaction_id}
    await cs.transaction_event("Ended", "RemoteStop", stopped_reason="Remote")
    await completed(csms, transaction_id, "Remote")


async def test_TC_E_09_CSMS(csms: Csms, cs: Station201) -> None:
    """Start transaction options - EVConnected."""
    await cs.status(1, "Occupied")
    answer = await cs.transaction_event("Started", "CablePluggedIn", charging_state="EVConnected")
    assert answer == {}
    session = await csms.session(STATION_201, cs.transaction(1).id)
    assert session["status"] == "ACTIVE"


async def test_TC_E_10_CSMS(csms: Csms, cs: Station201) -> None:
    """Start transaction options - Authorized - Local."""
    assert (await cs.authorize(VALID))["status"] == "Accepted"
    answer = await cs.transaction_event("Started", "Authorized", token=VALID)
    assert answer["idTokenInfo"]["status"] == "Accepted"


async def test_TC_E_11_CSMS(csms: Csms, cs: Station201) -> None:
    """Start transaction options - DataSigned: the signed reading is kept verbatim."""
    assert (await cs.authorize(VALID))["status"] == "Accepted"
    await cs.status(1, "Occupied")
    answer = await cs.transaction_event(
        "Started",
        "SignedDataReceived",
        token=VALID,
        meter_values=[meter_value(0.0, "Transaction.Begin", signed=SIGNED)],
    )
    assert answer["idTokenInfo"]["status"] == "Accepted"
    await cs.transaction_event("Updated", "ChargingStateChanged", charging_state="Charging")
    session = await csms.session(STATION_201, cs.transaction(1).id)
    [signed] = session["signed_meter_values"]
    assert signed["signed_data"] == SIGNED["signedMeterData"]
    assert signed["signing_method"] == SIGNED["signingMethod"]
    assert signed["encoding_method"] == SIGNED["encodingMethod"]
    assert signed["public_key"] == SIGNED["publicKey"]


async def test_TC_E_12_CSMS(csms: Csms, cs: Station201) -> None:
    """Start transaction options - ParkingBayOccupied."""
    assert await cs.transaction_event("Started", "EVDetected") == {}
    session = await csms.session(STATION_201, cs.transaction(1).id)
    assert session["status"] == "ACTIVE"


async def test_TC_E_38_CSMS(csms: Csms, cs: Station201) -> None:
    """Local start transaction - EV not ready."""
    await cs.authorized()
    await cs.ev_connected_pre_session()
    answer = await cs.transaction_event(
        "Updated", "ChargingStateChanged", charging_state="SuspendedEV"
    )
    assert answer == {}


async def test_TC_E_07_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop transaction options - PowerPathClosed - Local stop."""
    await cs.energy_transfer_started()
    transaction_id = cs.transaction(1).id
    await cs.transaction_event("Ended", "StopAuthorized", stopped_reason="Local")
    await completed(csms, transaction_id, "Local")


async def test_TC_E_08_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop transaction options - EnergyTransfer stopped - StopAuthorized."""
    await cs.energy_transfer_started()
    await cs.stop_authorized()
    transaction_id = cs.transaction(1).id
    await cs.transaction_event(
        "Ended", "ChargingStateChanged", charging_state="EVConnected", stopped_reason="Local"
    )
    await completed(csms, transaction_id, "Local")


async def test_TC_E_16_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop transaction options - Deauthorized - Invalid idToken."""
    answer = await cs.transaction_event("Started", "Authorized", token=INVALID)
    assert answer["idTokenInfo"]["status"] in {"Invalid", "Unknown"}
    transaction_id = cs.transaction(1).id
    await cs.transaction_event("Ended", "Deauthorized", stopped_reason="DeAuthorized")
    await completed(csms, transaction_id, "DeAuthorized")


async def test_TC_E_17_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop transaction options - Deauthorized - EV side disconnect."""
    await cs.energy_transfer_started()
    await cs.energy_transfer_suspended()
    transaction_id = cs.transaction(1).id
    await cs.transaction_event(
        "Ended", "EVCommunicationLost", charging_state="Idle", stopped_reason="EVDisconnected"
    )
    await completed(csms, transaction_id, "EVDisconnected")


async def test_TC_E_22_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop transaction options - EnergyTransfer stopped - SuspendedEV."""
    await cs.energy_transfer_started()
    transaction_id = cs.transaction(1).id
    await cs.transaction_event(
        "Ended", "ChargingStateChanged", charging_state="SuspendedEV", stopped_reason="StoppedByEV"
    )
    await completed(csms, transaction_id, "StoppedByEV")


async def test_TC_E_19_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop transaction options - ParkingBayUnoccupied (the EV left after unplugging)."""
    await cs.energy_transfer_started()
    await cs.stop_authorized()
    await cs.ev_connected_post_session()
    await cs.status(1, "Available")
    transaction_id = cs.transaction(1).id
    await cs.transaction_event("Updated", "EVCommunicationLost", charging_state="Idle")
    await cs.transaction_event("Ended", "EVDeparted", stopped_reason="Local")
    await completed(csms, transaction_id, "Local")


async def test_TC_E_26_CSMS(csms: Csms, cs: Station201) -> None:
    """Disconnect cable on EV-side - Suspend transaction, then charge again."""
    await cs.energy_transfer_started()
    await cs.energy_transfer_suspended()
    await cs.transaction_event("Updated", "EVCommunicationLost", charging_state="Idle")
    await cs.status(1, "Available")
    await cs.transaction_event("Updated", "CablePluggedIn", charging_state="EVConnected")
    await cs.charging()
    session = await csms.session(STATION_201, cs.transaction(1).id)
    assert session["status"] == "ACTIVE"
    assert Decimal(str(session["kwh"])) == Decimal("4.5")


async def offline_for_a_while(cs: Station201) -> None:
    """The connection is lost and comes back (no new boot: the station did not restart)."""
    await cs.drop()
    await cs.connect()


async def test_TC_E_29_CSMS(csms: Csms, cs: Station201) -> None:
    """Check Transaction status - Transaction with id ongoing - with message in queue."""
    await cs.energy_transfer_started()
    tx = cs.transaction(1)
    await offline_for_a_while(cs)
    cs.reply("GetTransactionStatus", {"ongoingIndicator": True, "messagesInQueue": True})
    result = await csms.command(STATION_201, "get_transaction_status", {"transaction_id": tx.id})
    assert result == {"messages_in_queue": True, "ongoing": True}
    assert cs.last("GetTransactionStatus") == {"transactionId": tx.id}
    answer = await cs.transaction_event(
        "Updated", "MeterValuePeriodic", meter_values=[meter_value(13_000)], offline=True
    )
    assert answer == {}
    session = await csms.session(STATION_201, tx.id)
    assert Decimal(str(session["kwh"])) == Decimal("3")


async def test_TC_E_30_CSMS(csms: Csms, cs: Station201) -> None:
    """Check Transaction status - Transaction with id ongoing - without message in queue."""
    await cs.energy_transfer_started()
    tx = cs.transaction(1)
    cs.reply("GetTransactionStatus", {"ongoingIndicator": True, "messagesInQueue": False})
    result = await csms.command(STATION_201, "get_transaction_status", {"transaction_id": tx.id})
    assert result == {"messages_in_queue": False, "ongoing": True}
    assert cs.last("GetTransactionStatus") == {"transactionId": tx.id}


async def test_TC_E_31_CSMS(csms: Csms, cs: Station201) -> None:
    """Check Transaction status - Transaction with id ended - with message in queue: the end
    arrives first with a seqNo gap, the missing messages after it, offline."""
    await cs.energy_transfer_started()
    tx = cs.transaction(1)
    transaction_id, gap = tx.id, tx.next_seq_no
    await offline_for_a_while(cs)
    await cs.transaction_event(
        "Ended",
        "EVCommunicationLost",
        charging_state="Idle",
        stopped_reason="EVDisconnected",
        meter_values=[meter_value(12_000, "Transaction.End")],
        offline=True,
        seq_no=gap + 2,
    )
    record = await csms.system.store.transactions.find(STATION_201, transaction_id)
    assert record is not None
    assert TransactionRecord.from_snapshot(record.record).missing_seq_nos == (gap, gap + 1)
    cs.reply("GetTransactionStatus", {"ongoingIndicator": False, "messagesInQueue": True})
    result = await csms.command(
        STATION_201, "get_transaction_status", {"transaction_id": transaction_id}
    )
    assert result == {"messages_in_queue": True, "ongoing": False}
    cs.transactions[1] = tx  # the queued messages of the ended transaction
    await cs.transaction_event("Updated", "StopAuthorized", token=VALID, offline=True, seq_no=gap)
    await cs.transaction_event(
        "Updated",
        "ChargingStateChanged",
        charging_state="EVConnected",
        offline=True,
        seq_no=gap + 1,
    )
    record = await csms.system.store.transactions.find(STATION_201, transaction_id)
    assert record is not None
    assert TransactionRecord.from_snapshot(record.record).complete
    session = await completed(csms, transaction_id, "EVDisconnected")
    assert Decimal(str(session["kwh"])) == Decimal("2")


async def test_TC_E_33_CSMS(csms: Csms, cs: Station201) -> None:
    """Check Transaction status - Without transactionId - with message in queue."""
    await cs.energy_transfer_started()
    await offline_for_a_while(cs)
    cs.reply("GetTransactionStatus", {"messagesInQueue": True})
    result = await csms.command(STATION_201, "get_transaction_status")
    assert result == {"messages_in_queue": True, "ongoing": None}
    assert cs.last("GetTransactionStatus") == {}
    answer = await cs.transaction_event(
        "Updated", "MeterValuePeriodic", meter_values=[meter_value(12_500)], offline=True
    )
    assert answer == {}


async def test_TC_E_34_CSMS(csms: Csms, cs: Station201) -> None:
    """Check Transaction status - Without transactionId - without message in queue."""
    result = await csms.command(STATION_201, "get_transaction_status")
    assert result == {"messages_in_queue": False, "ongoing": None}
    assert cs.last("GetTransactionStatus") == {}


async def test_TC_E_53_CSMS(csms: Csms, cs: Station201) -> None:
    """Reset Sequence Number - CSMS accepting seqNo = 0 at start of transaction."""
    transactions = []
    for _ in range(2):
        await cs.energy_transfer_started()
        transactions.append(cs.transaction(1).id)
        await cs.ev_disconnected()
    for transaction_id in transactions:
        await completed(csms, transaction_id, "EVDisconnected")
