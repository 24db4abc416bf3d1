"""OCPP 2.0.1 CSMS conformance, block P: data transfer and custom data."""

from __future__ import annotations

from tests.conformance.harness import STATION_201, Csms, Station201, meter_value, now

CUSTOM = {"vendorId": "org.intercarga.conformance", "note": "not in OCPP", "level": 3}


async def test_TC_P_02_CSMS(cs: Station201) -> None:
    """Data Transfer to the CSMS - Rejected / Unknown VendorId / Unknown MessageId."""
    answer = await cs.call(
        "DataTransfer", {"vendorId": "org.example.unknown", "messageId": "Conformance"}
    )
    assert answer["status"] in {"UnknownVendorId", "UnknownMessageId", "Rejected"}


async def test_TC_P_03_CSMS(csms: Csms, cs: Station201) -> None:
    """CustomData - Receive custom data (on a message and inside one of its objects)."""
    answer = await cs.call(
        "StatusNotification",
        {
            "timestamp": now(),
            "connectorStatus": "Occupied",
            "evseId": 1,
            "connectorId": 1,
            "customData": CUSTOM,
        },
    )
    assert answer == {}
    answer = await cs.transaction_event(
        "Started",
        "CablePluggedIn",
        charging_state="EVConnected",
        meter_values=[meter_value(10_000, "Transaction.Begin")],
        customData=CUSTOM,
    )
    assert answer == {}
    tx = cs.transaction(1)
    payload = {
        "eventType": "Updated",
        "timestamp": now(),
        "triggerReason": "ChargingStateChanged",
        "seqNo": tx.next_seq_no,
        "transactionInfo": {
            "transactionId": tx.id,
            "chargingState": "Charging",
            "customData": CUSTOM,
        },
        "customData": CUSTOM,
    }
    assert await cs.call("TransactionEvent", payload) == {}
    session = await csms.session(STATION_201, tx.id)
    assert session["status"] == "ACTIVE"
