"""OCPP 1.6J conformance of the CSMS, Core profile: boot, authorize, transactions, meter values,
remote start and stop, reset, unlock, availability, configuration, data transfer, lenience.

The station is CO-ICG-0001 (one connector, BOG-USAQUEN, tariff in COP); the CSMS assigns
integer transaction ids. What the CSMS stored is checked through the admin API.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from intercarga.domain import RegistrationStatus
from tests.conformance.harness import (
    BLOCKED,
    EXPIRED,
    GROUP,
    INVALID,
    MASTER,
    MASTER_GROUP,
    PASSWORD,
    STATION_16,
    VALID,
    VALID2,
    CallRefusedError,
    Csms,
    Station16,
    now,
)


def an_hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")


async def test_boot_accepted_with_heartbeat_interval(csms: Csms) -> None:
    station = csms.station16()
    await station.connect()
    answer = await station.booted()
    assert answer["interval"] > 0
    assert "currentTime" in await station.call("Heartbeat", {})
    record = await csms.station_record(STATION_16)
    assert (record["vendor"], record["ocpp_version"]) == ("Intercarga Tests", "ocpp1.6")


async def test_boot_pending_then_accepted(csms: Csms) -> None:
    """Pending: configuration read while pending; accepted, the station is asked to boot."""
    await csms.register(STATION_16, "Pending")
    station = csms.station16()
    await station.connect()
    assert (await station.boot())["status"] == "Pending"
    with pytest.raises(CallRefusedError) as refused:
        await station.status(1, "Available")
    assert refused.value.code == "SecurityError"
    read = await csms.command(STATION_16, "get_variables", {"variables": []})
    assert {r["variable"]["variable"] for r in read["results"]} >= {"HeartbeatInterval"}
    accepted = await csms.register(STATION_16, "Accepted")
    assert accepted["boot_requested"] == "Accepted"
    assert station.last("TriggerMessage") == {"requestedMessage": "BootNotification"}
    await station.booted()


async def test_boot_rejected(csms: Csms) -> None:
    await csms.register(STATION_16, "Rejected")
    station = csms.station16()
    await station.connect()
    assert (await station.boot())["status"] == "Rejected"
    record = await csms.station_record(STATION_16)
    assert record["registration_status"] == RegistrationStatus.REJECTED.value


async def test_authorize(cs16: Station16) -> None:
    assert await cs16.authorize(VALID) == {"status": "Accepted", "parentIdTag": GROUP}
    assert (await cs16.authorize(BLOCKED))["status"] == "Blocked"
    assert (await cs16.authorize(EXPIRED))["status"] == "Expired"
    assert (await cs16.authorize(INVALID))["status"] == "Invalid"
    assert await cs16.authorize(MASTER) == {"status": "Accepted", "parentIdTag": MASTER_GROUP}


async def test_transaction_with_meter_values_and_stop(csms: Csms, cs16: Station16) -> None:
    assert (await cs16.authorize(VALID))["status"] == "Accepted"
    await cs16.status(1, "Preparing")
    started = await cs16.start(VALID)
    assert started["idTagInfo"]["status"] == "Accepted"
    transaction_id = started["transactionId"]
    assert isinstance(transaction_id, int)
    await cs16.status(1, "Charging")
    for wh in (6_000, 7_500):
        assert await cs16.meter_values(wh) == {}
    assert (await csms.session(STATION_16, transaction_id))["status"] == "ACTIVE"
    await cs16.meter_values(8_000)
    stopped = await cs16.stop(token=VALID, reason="Local")
    assert stopped["idTagInfo"]["status"] == "Accepted"
    await cs16.status(1, "Finishing")
    session = await csms.session(STATION_16, transaction_id)
    assert (session["status"], session["stop_reason"]) == ("COMPLETED", "Local")
    assert Decimal(str(session["kwh"])) == Decimal("3")
    assert (session["currency"], session["evse_uid"], session["token_uid"]) == (
        "COP",
        "BOG-USA-1",
        VALID,
    )
    cdr = await csms.client.get(f"/api/v1/cdrs/CO/ICG/{session['id']}")
    assert cdr.status_code == 200
    assert Decimal(str(cdr.json()["total_energy"])) == Decimal("3")


async def test_start_sent_again_gets_the_same_transaction(csms: Csms, cs16: Station16) -> None:
    """A StartTransaction whose answer was lost is sent again: same facts, same id, one session."""
    payload = {"connectorId": 1, "idTag": VALID, "meterStart": 5_000, "timestamp": now()}
    first = await cs16.call("StartTransaction", payload)
    again = await cs16.call("StartTransaction", payload)
    assert first["transactionId"] == again["transactionId"]
    assert len(await csms.sessions(STATION_16)) == 1


async def test_start_with_an_invalid_tag_is_recorded_and_refused(
    csms: Csms, cs16: Station16
) -> None:
    started = await cs16.start(INVALID)
    assert started["idTagInfo"]["status"] == "Invalid"
    await cs16.stop(token=None, reason="DeAuthorized")
    session = await csms.session(STATION_16, started["transactionId"])
    assert (session["status"], session["stop_reason"]) == ("COMPLETED", "DeAuthorized")


async def test_master_pass_never_starts_a_transaction(cs16: Station16) -> None:
    assert (await cs16.start(MASTER))["idTagInfo"] == {
        "status": "Invalid",
        "parentIdTag": MASTER_GROUP,
    }


async def test_stop_by_another_card_of_the_group(csms: Csms, cs16: Station16) -> None:
    started = await cs16.start(VALID)
    stopped = await cs16.stop(token=VALID2)
    assert stopped["idTagInfo"] == {"status": "Accepted", "parentIdTag": GROUP}
    session = await csms.session(STATION_16, started["transactionId"])
    assert (session["token_uid"], session["status"]) == (VALID, "COMPLETED")


async def test_stop_of_an_unknown_transaction_is_acknowledged_and_recorded(
    csms: Csms, cs16: Station16
) -> None:
    """A StopTransaction for a transaction the CSMS never heard of (its start was lost)."""
    cs16.register_wh = 9_000
    stopped = await cs16.stop(
        token=VALID,
        reason="EVDisconnected",
        transaction_id=987654,
        transaction_data=[
            {
                "timestamp": an_hour_ago(),
                "sampledValue": [
                    {
                        "value": "7000",
                        "context": "Transaction.Begin",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    }
                ],
            }
        ],
    )
    assert stopped["idTagInfo"]["status"] == "Accepted"
    session = await csms.session(STATION_16, 987654)
    assert (session["status"], session["stop_reason"]) == ("COMPLETED", "EVDisconnected")
    assert Decimal(str(session["kwh"])) == Decimal("2")


async def test_signed_meter_data_is_kept_verbatim(csms: Csms, cs16: Station16) -> None:
    signed = 'OCMF|{"FV":"1.0","GI":"Intercarga","RD":[{"RV":6.5,"RU":"kWh"}]}|{"SD":"3045"}'
    started = await cs16.start(VALID)
    await cs16.meter_values(6_500, format="SignedData", value=signed, unit="Wh")
    await cs16.stop(
        token=VALID,
        transaction_data=[
            {
                "timestamp": now(),
                "sampledValue": [
                    {
                        "value": signed + "|end",
                        "format": "SignedData",
                        "context": "Transaction.End",
                        "measurand": "Energy.Active.Import.Register",
                    }
                ],
            }
        ],
    )
    session = await csms.session(STATION_16, started["transactionId"])
    assert [s["signed_data"] for s in session["signed_meter_values"]] == [signed, signed + "|end"]


async def test_meter_values_outside_a_transaction(cs16: Station16) -> None:
    cs16.transaction_id = None
    assert await cs16.meter_values(5_100, context="Sample.Clock") == {}
    assert await cs16.meter_values(5_100, connector=0, context="Sample.Clock") == {}


async def test_status_notification_shows_on_the_evse(csms: Csms, cs16: Station16) -> None:
    await cs16.status(1, "Faulted", error="GroundFailure")
    assert await csms.evse_status("BOG-USAQUEN", "BOG-USA-1") == "OUTOFORDER"
    await cs16.status(1, "Available")
    assert await csms.evse_status("BOG-USAQUEN", "BOG-USA-1") == "AVAILABLE"


async def test_remote_start_and_stop(csms: Csms, cs16: Station16) -> None:
    result = await csms.command(
        STATION_16, "remote_start", {"id_token": {"value": VALID}, "evse": 1}
    )
    assert result["status"] == "Accepted"
    assert cs16.last("RemoteStartTransaction") == {"connectorId": 1, "idTag": VALID}
    started = await cs16.start(VALID)
    transaction_id = started["transactionId"]
    session = await csms.session(STATION_16, transaction_id)
    assert session["auth_method"] == "COMMAND"
    result = await csms.command(STATION_16, "remote_stop", {"transaction_id": str(transaction_id)})
    assert result["status"] == "Accepted"
    assert cs16.last("RemoteStopTransaction") == {"transactionId": transaction_id}
    await cs16.stop(token=None, reason="Remote")
    assert (await csms.session(STATION_16, transaction_id))["stop_reason"] == "Remote"


async def test_remote_start_rejected(csms: Csms, cs16: Station16) -> None:
    cs16.reply("RemoteStartTransaction", {"status": "Rejected"})
    result = await csms.command(STATION_16, "remote_start", {"id_token": {"value": VALID}})
    assert result["status"] == "Rejected"
    assert cs16.last("RemoteStartTransaction") == {"idTag": VALID}


@pytest.mark.parametrize(("kind", "sent"), [("Immediate", "Hard"), ("OnIdle", "Soft")])
async def test_reset(csms: Csms, cs16: Station16, kind: str, sent: str) -> None:
    assert (await csms.command(STATION_16, "reset", {"kind": kind}))["status"] == "Accepted"
    assert cs16.last("Reset") == {"type": sent}
    await cs16.close()
    await cs16.connect()
    await cs16.booted()


async def test_reset_of_one_evse_cannot_be_said_in_1_6(csms: Csms, cs16: Station16) -> None:
    problem = await csms.command(STATION_16, "reset", {"evse": 1}, status=422)
    assert "1.6" in problem["detail"]
    assert cs16.requests("Reset") == []


async def test_unlock_connector(csms: Csms, cs16: Station16) -> None:
    result = await csms.command(STATION_16, "unlock_connector", {"evse": 1})
    assert result["status"] == "Unlocked"
    assert cs16.last("UnlockConnector") == {"connectorId": 1}
    cs16.reply("UnlockConnector", {"status": "UnlockFailed"})
    assert (await csms.command(STATION_16, "unlock_connector", {"evse": 1}))[
        "status"
    ] == "UnlockFailed"


async def test_change_availability(csms: Csms, cs16: Station16) -> None:
    result = await csms.command(STATION_16, "change_availability", {"operative": False, "evse": 1})
    assert result["status"] == "Accepted"
    assert cs16.last("ChangeAvailability") == {"connectorId": 1, "type": "Inoperative"}
    await cs16.status(1, "Unavailable")
    assert await csms.evse_status("BOG-USAQUEN", "BOG-USA-1") == "INOPERATIVE"
    cs16.reply("ChangeAvailability", {"status": "Scheduled"})
    result = await csms.command(STATION_16, "change_availability", {"operative": True})
    assert result["status"] == "Scheduled"
    assert cs16.last("ChangeAvailability") == {"connectorId": 0, "type": "Operative"}


async def test_base_report_reads_every_configuration_key(csms: Csms, cs16: Station16) -> None:
    """1.6 has no device model: get_base_report reads every key and keeps them as the report."""
    result = await csms.command(STATION_16, "get_base_report", {"request_id": 9})
    assert cs16.last("GetConfiguration") == {}
    assert result["status"] == "Accepted"
    read = {(r["variable"]["component"], r["variable"]["variable"]): r for r in result["results"]}
    assert read["OCPPCommCtrlr", "HeartbeatInterval"]["value"] == "300"
    response = await csms.client.get(f"/api/v1/stations/{STATION_16}/report")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["request_id"], report["complete"]) == (9, True)
    shown = {(v["component"], v["variable"]): v for v in report["variables"]}
    assert shown["OCPPCommCtrlr", "HeartbeatInterval"] == {
        "component": "OCPPCommCtrlr",
        "variable": "HeartbeatInterval",
        "value": "300",
        "attributes": {"Actual": "300"},
        "component_instance": None,
        "variable_instance": None,
        "evse": None,
        "connector": None,
        "mutability": "ReadWrite",
        "data_type": None,
        "unit": None,
    }
    assert shown["SampledDataCtrlr", "TxUpdatedInterval"]["value"] == "60"


async def test_get_and_change_configuration(csms: Csms, cs16: Station16) -> None:
    read = await csms.command(
        STATION_16,
        "get_variables",
        {
            "variables": [
                {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"},
                {"component": None, "variable": "VendorSpecificKey"},
            ]
        },
    )
    assert cs16.last("GetConfiguration") == {"key": ["HeartbeatInterval", "VendorSpecificKey"]}
    assert [(r["status"], r["value"]) for r in read["results"]] == [
        ("Accepted", "300"),
        ("UnknownVariable", None),
    ]
    changed = await csms.command(
        STATION_16,
        "set_variables",
        {"values": [[{"component": None, "variable": "MeterValueSampleInterval"}, "30"]]},
    )
    assert changed["results"][0]["status"] == "Accepted"
    assert cs16.last("ChangeConfiguration") == {"key": "MeterValueSampleInterval", "value": "30"}
    assert cs16.configuration["MeterValueSampleInterval"] == "30"


async def test_authorization_key_change_is_the_new_password(csms: Csms, cs16: Station16) -> None:
    """1.6 Security Whitepaper: AuthorizationKey accepted → only the new key opens the door."""
    new_key = "a-new-authorization-key-16"
    changed = await csms.command(
        STATION_16,
        "set_variables",
        {"values": [[{"component": None, "variable": "AuthorizationKey"}, new_key]]},
    )
    assert changed["results"][0]["status"] == "Accepted"
    await cs16.close()
    await cs16.connect(password=new_key)
    await cs16.booted()
    await cs16.close()
    station = csms.station16()
    with pytest.raises(Exception, match="401"):
        await station.connect(password=PASSWORD)


async def test_data_transfer(csms: Csms, cs16: Station16) -> None:
    answer = await cs16.call("DataTransfer", {"vendorId": "org.example", "messageId": "Hello"})
    assert answer["status"] in {"UnknownVendorId", "UnknownMessageId", "Rejected"}
    cs16.reply("DataTransfer", {"status": "Accepted", "data": "pong"})
    result = await csms.command(
        STATION_16, "data_transfer", {"vendor_id": "org.example", "message_id": "Ping"}
    )
    assert (result["status"], result["data"]) == ("Accepted", "pong")
    assert cs16.last("DataTransfer") == {"vendorId": "org.example", "messageId": "Ping"}


async def test_lenient_station_gets_warnings_not_errors(csms: Csms) -> None:
    """A serial number longer than CiString25 and a vendor field: refused unless lenient."""
    boot = {
        "chargePointVendor": "Intercarga Tests",
        "chargePointModel": "Conformance 1.6",
        "chargePointSerialNumber": "SN-2024-0000000000000000001",
        "vendorField": "x",
    }
    strict = csms.station16(validate=False)
    await strict.connect()
    with pytest.raises(CallRefusedError):
        await strict.call("BootNotification", boot)
    await strict.close()
    station = await csms.system.store.stations.get(STATION_16)
    await csms.system.store.stations.put(station.model_copy(update={"lenient": True}))
    lenient = csms.station16(validate=False)
    await lenient.connect()
    assert (await lenient.call("BootNotification", boot))["status"] == "Accepted"
    record = await csms.station_record(STATION_16)
    assert record["serial_number"] == "SN-2024-00000000000000000"
