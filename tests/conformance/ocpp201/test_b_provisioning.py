"""OCPP 2.0.1 CSMS conformance, block B: provisioning (boot, variables, reports, reset, network)."""

from __future__ import annotations

import pytest

from intercarga.config import UnknownStationPolicy
from tests.conformance.harness import STATION_201, CallRefusedError, Csms, Station201

OFFLINE_THRESHOLD = {"component": "OCPPCommCtrlr", "variable": "OfflineThreshold"}
AUTHORIZE_REMOTE_START = {"component": "AuthCtrlr", "variable": "AuthorizeRemoteStart"}


async def pending_station(csms: Csms) -> Station201:
    """The station, held back by the operator, after a boot answered Pending."""
    await csms.register(STATION_201, "Pending")
    station = csms.station201()
    await station.connect()
    answer = await station.boot()
    assert answer["status"] == "Pending"
    assert answer["interval"] > 0
    return station


async def reboot(station: Station201, reason: str) -> dict[str, object]:
    """The station restarts: a new connection, BootNotification with ``reason``."""
    await station.close()
    await station.connect()
    return await station.boot(reason)


async def test_TC_B_01_CSMS(csms: Csms) -> None:
    """Cold Boot Charging Station - Accepted."""
    station = csms.station201()
    await station.connect()
    answer = await station.booted()
    assert answer["interval"] > 0
    record = await csms.station_record(STATION_201)
    assert record["vendor"] == "Intercarga Tests"
    assert record["model"] == "Conformance"
    assert record["ocpp_version"] == "ocpp2.0.1"
    assert record["connection"]["connected"]


async def test_TC_B_02_CSMS(csms: Csms) -> None:
    """Cold Boot Charging Station - Pending: provisioned while Pending, then accepted."""
    station = await pending_station(csms)
    read = await csms.command(STATION_201, "get_variables", {"variables": [OFFLINE_THRESHOLD]})
    assert read["results"][0]["status"] == "Accepted"
    changed = await csms.command(
        STATION_201, "set_variables", {"values": [[OFFLINE_THRESHOLD, "120"]]}
    )
    assert changed["results"][0]["status"] == "Accepted"
    assert station.device.values["OCPPCommCtrlr", "OfflineThreshold"] == "120"
    await csms.register(STATION_201, "Accepted")
    assert (await station.boot())["status"] == "Accepted"
    await station.status(1, "Available")
    await station.status(2, "Available")


async def test_TC_B_30_CSMS(csms: Csms) -> None:
    """Cold Boot Charging Station - Pending/Rejected - SecurityError."""
    station = await pending_station(csms)
    with pytest.raises(CallRefusedError) as refused:
        await station.status(1, "Available")
    assert refused.value.code == "SecurityError"
    with pytest.raises(CallRefusedError) as refused:
        await station.call("Heartbeat", {})
    assert refused.value.code == "SecurityError"


async def test_TC_B_30_CSMS_rejected(csms: Csms) -> None:
    """Cold Boot Charging Station - Rejected - SecurityError."""
    await csms.register(STATION_201, "Rejected")
    station = csms.station201()
    await station.connect()
    assert (await station.boot())["status"] == "Rejected"
    with pytest.raises(CallRefusedError) as refused:
        await station.status(1, "Available")
    assert refused.value.code == "SecurityError"


async def test_TC_B_31_CSMS(csms: Csms) -> None:
    """Cold Boot Charging Station - Pending/Rejected - TriggerMessage."""
    station = await pending_station(csms)
    accepted = await csms.register(STATION_201, "Accepted")
    assert accepted["boot_requested"] == "Accepted"
    assert station.last("TriggerMessage") == {"requestedMessage": "BootNotification"}
    assert (await station.boot("Triggered"))["status"] == "Accepted"
    await station.status(1, "Available")
    await station.status(2, "Available")


async def test_TC_B_06_CSMS(csms: Csms, cs: Station201) -> None:
    """Get Variables - single value."""
    result = await csms.command(STATION_201, "get_variables", {"variables": [OFFLINE_THRESHOLD]})
    assert cs.last("GetVariables") == {
        "getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}
        ]
    }
    assert result["results"] == [
        {
            "variable": OFFLINE_THRESHOLD | _NO_ADDRESS,
            "status": "Accepted",
            "value": "60",
            "readonly": None,
        }
    ]


_NO_ADDRESS = {
    "component_instance": None,
    "variable_instance": None,
    "evse": None,
    "connector": None,
    "attribute": None,
}


async def test_TC_B_07_CSMS(csms: Csms, cs: Station201) -> None:
    """Get Variables - multiple values."""
    result = await csms.command(
        STATION_201, "get_variables", {"variables": [OFFLINE_THRESHOLD, AUTHORIZE_REMOTE_START]}
    )
    asked = cs.last("GetVariables")["getVariableData"]
    assert [(v["component"]["name"], v["variable"]["name"]) for v in asked] == [
        ("OCPPCommCtrlr", "OfflineThreshold"),
        ("AuthCtrlr", "AuthorizeRemoteStart"),
    ]
    assert all("attributeType" not in v for v in asked)
    assert [(r["status"], r["value"]) for r in result["results"]] == [
        ("Accepted", "60"),
        ("Accepted", "false"),
    ]


async def test_TC_B_09_CSMS(csms: Csms, cs: Station201) -> None:
    """Set Variables - single value."""
    result = await csms.command(
        STATION_201, "set_variables", {"values": [[OFFLINE_THRESHOLD, "123"]]}
    )
    assert cs.last("SetVariables") == {
        "setVariableData": [
            {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "OfflineThreshold"},
                "attributeValue": "123",
            }
        ]
    }
    assert result["results"][0]["status"] == "Accepted"
    assert cs.device.values["OCPPCommCtrlr", "OfflineThreshold"] == "123"


async def test_TC_B_10_CSMS(csms: Csms, cs: Station201) -> None:
    """Set Variables - multiple values."""
    result = await csms.command(
        STATION_201,
        "set_variables",
        {"values": [[OFFLINE_THRESHOLD, "123"], [AUTHORIZE_REMOTE_START, "false"]]},
    )
    sent = cs.last("SetVariables")["setVariableData"]
    assert [(v["variable"]["name"], v["attributeValue"]) for v in sent] == [
        ("OfflineThreshold", "123"),
        ("AuthorizeRemoteStart", "false"),
    ]
    assert [r["status"] for r in result["results"]] == ["Accepted", "Accepted"]


async def base_report(csms: Csms, station: Station201, kind: str) -> None:
    result = await csms.command(STATION_201, "get_base_report", {"request_id": 7, "report": kind})
    assert result["status"] == "Accepted"
    assert station.last("GetBaseReport") == {"requestId": 7, "reportBase": kind}
    items = [
        ("OCPPCommCtrlr", "OfflineThreshold", "60", "ReadWrite"),
        ("AuthCtrlr", "AuthorizeRemoteStart", "false", "ReadWrite"),
        ("EVSE", "AvailabilityState", "Available", "ReadOnly"),
    ]
    for seq_no, (component, variable, value, mutability) in enumerate(items):
        report = {
            "component": {"name": component} | ({"evse": {"id": 1}} if component == "EVSE" else {}),
            "variable": {"name": variable},
            "variableAttribute": [{"type": "Actual", "value": value, "mutability": mutability}],
            "variableCharacteristics": {"dataType": "string", "supportsMonitoring": False},
        }
        answer = await station.call(
            "NotifyReport",
            {
                "requestId": 7,
                "generatedAt": "2026-11-24T12:00:00Z",
                "seqNo": seq_no,
                "tbc": seq_no < len(items) - 1,
                "reportData": [report],
            },
        )
        assert answer == {}
    shown = (await csms.client.get(f"/api/v1/stations/{STATION_201}/report")).json()
    assert shown["request_id"] == 7
    assert shown["complete"] is True
    assert [(v["component"], v["variable"], v["value"]) for v in shown["variables"]] == [
        (c, v, value) for c, v, value, _ in items
    ]


async def test_TC_B_12_CSMS(csms: Csms, cs: Station201) -> None:
    """Get Base Report - ConfigurationInventory; the operator sees the report."""
    await base_report(csms, cs, "ConfigurationInventory")


async def test_TC_B_13_CSMS(csms: Csms, cs: Station201) -> None:
    """Get Base Report - FullInventory; the operator sees the report."""
    await base_report(csms, cs, "FullInventory")


async def test_TC_B_20_CSMS(csms: Csms, cs: Station201) -> None:
    """Reset Charging Station - Without ongoing transaction - OnIdle."""
    result = await csms.command(STATION_201, "reset", {"kind": "OnIdle"})
    assert result["status"] == "Accepted"
    assert cs.last("Reset") == {"type": "OnIdle"}
    assert (await reboot(cs, "RemoteReset"))["status"] == "Accepted"
    await cs.status(1, "Available")
    await cs.status(2, "Available")


async def test_TC_B_21_CSMS(csms: Csms, cs: Station201) -> None:
    """Reset Charging Station - With Ongoing Transaction - OnIdle."""
    await cs.energy_transfer_started()
    transaction_id = cs.transaction(1).id
    cs.reply("Reset", {"status": "Scheduled"})
    result = await csms.command(STATION_201, "reset", {"kind": "OnIdle"})
    assert result["status"] == "Scheduled"
    assert cs.last("Reset") == {"type": "OnIdle"}
    await cs.stop_authorized()
    await cs.transaction_event(
        "Ended",
        "EVCommunicationLost",
        charging_state="Idle",
        stopped_reason="EVDisconnected",
    )
    assert (await reboot(cs, "ScheduledReset"))["status"] == "Accepted"
    await cs.status(1, "Available")
    await cs.status(2, "Available")
    session = await csms.session(STATION_201, transaction_id)
    assert session["status"] == "COMPLETED"
    assert session["stop_reason"] == "EVDisconnected"


async def test_TC_B_22_CSMS(csms: Csms, cs: Station201) -> None:
    """Reset Charging Station - With Ongoing Transaction - Immediate."""
    await cs.energy_transfer_started()
    transaction_id = cs.transaction(1).id
    result = await csms.command(STATION_201, "reset", {"kind": "Immediate"})
    assert result["status"] == "Accepted"
    assert cs.last("Reset") == {"type": "Immediate"}
    await cs.transaction_event(
        "Ended", "ResetCommand", charging_state="EVConnected", stopped_reason="ImmediateReset"
    )
    assert (await reboot(cs, "RemoteReset"))["status"] == "Accepted"
    await cs.status(1, "Occupied")
    await cs.status(2, "Available")
    session = await csms.session(STATION_201, transaction_id)
    assert session["status"] == "COMPLETED"
    assert session["stop_reason"] == "ImmediateReset"


async def test_TC_B_25_CSMS(csms: Csms, cs: Station201) -> None:
    """Reset EVSE - Without ongoing transaction."""
    result = await csms.command(STATION_201, "reset", {"kind": "OnIdle", "evse": 1})
    assert result["status"] == "Accepted"
    assert cs.last("Reset") == {"type": "OnIdle", "evseId": 1}


async def test_TC_B_26_CSMS(csms: Csms, cs: Station201) -> None:
    """Reset EVSE - With Ongoing Transaction - OnIdle."""
    await cs.energy_transfer_started()
    cs.reply("Reset", {"status": "Scheduled"})
    result = await csms.command(STATION_201, "reset", {"kind": "OnIdle", "evse": 1})
    assert result["status"] == "Scheduled"
    assert cs.last("Reset") == {"type": "OnIdle", "evseId": 1}
    await cs.stop_authorized()
    answer = await cs.transaction_event(
        "Ended", "EVCommunicationLost", charging_state="Idle", stopped_reason="EVDisconnected"
    )
    assert answer == {}


async def test_TC_B_27_CSMS(csms: Csms, cs: Station201) -> None:
    """Reset EVSE - With Ongoing Transaction - Immediate."""
    await cs.energy_transfer_started()
    result = await csms.command(STATION_201, "reset", {"kind": "Immediate", "evse": 1})
    assert result["status"] == "Accepted"
    assert cs.last("Reset") == {"type": "Immediate", "evseId": 1}
    answer = await cs.transaction_event(
        "Ended", "ResetCommand", charging_state="EVConnected", stopped_reason="ImmediateReset"
    )
    assert answer == {}


NETWORK_PROFILE = {
    "slot": 1,
    "profile": {
        "url": "wss://csms.example.com/ocpp",
        "security_profile": 2,
        "message_timeout": 30,
        "interface": "Wired0",
    },
}


async def test_TC_B_42_CSMS(csms: Csms, cs: Station201) -> None:
    """Set new NetworkConnectionProfile - Accepted."""
    result = await csms.command(STATION_201, "set_network_profile", NETWORK_PROFILE)
    assert result["status"] == "Accepted"
    assert cs.last("SetNetworkProfile") == {
        "configurationSlot": 1,
        "connectionData": {
            "ocppVersion": "OCPP20",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": "wss://csms.example.com/ocpp",
            "messageTimeout": 30,
            "securityProfile": 2,
            "ocppInterface": "Wired0",
        },
    }


async def test_TC_B_44_CSMS(csms: Csms, cs: Station201) -> None:
    """Set new NetworkConnectionProfile - Failed."""
    cs.reply("SetNetworkProfile", {"status": "Failed"})
    result = await csms.command(STATION_201, "set_network_profile", NETWORK_PROFILE)
    assert result["status"] == "Failed"


async def test_TC_B_02_CSMS_unknown_station(csms: Csms) -> None:
    """Pending for a station id the CSMS has no record of (``unknown_stations = "pending"``): it
    is registered at boot, shown to the operator as Pending, and accepted from there."""
    csms.system.settings.ocpp.unknown_stations = UnknownStationPolicy.PENDING
    station = csms.station201("CL-NEW-0042", password=None)
    await station.connect()
    assert (await station.boot())["status"] == "Pending"
    record = await csms.station_record("CL-NEW-0042")
    assert (record["registration_status"], record["vendor"]) == ("Pending", "Intercarga Tests")
    with pytest.raises(CallRefusedError):
        await station.status(1, "Available")
    assert (await csms.register("CL-NEW-0042", "Accepted"))["boot_requested"] == "Accepted"
    assert (await station.boot("Triggered"))["status"] == "Accepted"
    await station.status(1, "Available")


async def test_registration_and_report_of_unknown_stations(csms: Csms) -> None:
    missing = await csms.client.post(
        "/api/v1/stations/NOBODY/registration", json={"status": "Accepted"}
    )
    assert missing.status_code == 404
    wrong = await csms.client.post(
        f"/api/v1/stations/{STATION_201}/registration", json={"status": "Maybe"}
    )
    assert wrong.status_code == 422
    report = await csms.client.get(f"/api/v1/stations/{STATION_201}/report")
    assert report.status_code == 404
    assert (await csms.client.get("/api/v1/stations/NOBODY/report")).status_code == 404
