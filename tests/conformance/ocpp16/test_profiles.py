"""OCPP 1.6J conformance of the CSMS, the other feature profiles: Remote Trigger, Local Auth List
Management, Reservation, Smart Charging, Firmware Management (and diagnostics), and the
Security Whitepaper's certificate and log messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conformance.harness import GROUP, STATION_16, VALID, Csms, Station16, now

IN_AN_HOUR = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)


# --- Remote Trigger ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "sent", "then"),
    [
        ("BootNotification", "BootNotification", ("BootNotification", None)),
        ("Heartbeat", "Heartbeat", ("Heartbeat", {})),
        ("StatusNotification", "StatusNotification", None),
        ("MeterValues", "MeterValues", None),
        ("FirmwareStatusNotification", "FirmwareStatusNotification", None),
        ("LogStatusNotification", "DiagnosticsStatusNotification", None),
    ],
)
async def test_trigger_message(
    csms: Csms,
    cs16: Station16,
    message: str,
    sent: str,
    then: tuple[str, dict[str, Any] | None] | None,
) -> None:
    evse = 1 if message in {"StatusNotification", "MeterValues"} else None
    body = {"message": message} | ({"evse": evse} if evse else {})
    result = await csms.command(STATION_16, "trigger_message", body)
    assert result["status"] == "Accepted"
    assert cs16.last("TriggerMessage") == {"requestedMessage": sent} | (
        {"connectorId": evse} if evse else {}
    )
    if message == "BootNotification":
        assert (await cs16.boot())["status"] == "Accepted"
    elif message == "Heartbeat":
        assert "currentTime" in await cs16.call("Heartbeat", {})
    elif message == "StatusNotification":
        await cs16.status(1, "Available")
    elif message == "MeterValues":
        await cs16.meter_values(5_200, transaction_id=None, context="Trigger")
        # No transaction named: kept with its EVSE, not lost.
        kept = await csms.client.get(f"/api/v1/stations/{STATION_16}/meter-values")
        [item] = kept.json()["items"]
        assert (item["evse"], item["meter_values"][0]["value"]) == (1, "5200")
        assert item["meter_values"][0]["context"] == "Trigger"
    elif message == "FirmwareStatusNotification":
        assert await cs16.call("FirmwareStatusNotification", {"status": "Idle"}) == {}
    else:
        assert await cs16.call("DiagnosticsStatusNotification", {"status": "Idle"}) == {}


async def test_trigger_message_not_implemented(csms: Csms, cs16: Station16) -> None:
    cs16.reply("TriggerMessage", {"status": "NotImplemented"})
    result = await csms.command(STATION_16, "trigger_message", {"message": "Heartbeat"})
    assert result["status"] == "NotImplemented"


async def test_extended_trigger_for_a_certificate(csms: Csms, cs16: Station16) -> None:
    cs16.reply("ExtendedTriggerMessage", {"status": "Accepted"})
    result = await csms.command(
        STATION_16, "trigger_message", {"message": "SignChargingStationCertificate"}
    )
    assert result["status"] == "Accepted"
    assert cs16.last("ExtendedTriggerMessage") == {"requestedMessage": "SignChargePointCertificate"}


# --- Local Auth List Management ----------------------------------------------------------------

ENTRY = {
    "id_token": {"value": VALID},
    "authorization": {"status": "Accepted", "group_id": GROUP},
}


async def held_version(csms: Csms) -> int | None:
    version: int | None = (await csms.station_record(STATION_16))["local_list_version"]
    return version


async def test_local_list_version_is_kept(csms: Csms, cs16: Station16) -> None:
    cs16.reply("GetLocalListVersion", {"listVersion": 3})
    result = await csms.command(STATION_16, "get_local_list_version")
    assert result == {"version": 3, "status": "Accepted"}
    assert await held_version(csms) == 3


async def test_send_local_list_follows_the_version_the_station_holds(
    csms: Csms, cs16: Station16
) -> None:
    """Without a version, the CSMS asks the station which it holds and sends the next one."""
    cs16.reply("GetLocalListVersion", {"listVersion": 7})
    result = await csms.command(STATION_16, "send_local_list", {"entries": [ENTRY]})
    assert result["status"] == "Accepted"
    assert cs16.last("SendLocalList") == {
        "listVersion": 8,
        "updateType": "Full",
        "localAuthorizationList": [
            {"idTag": VALID, "idTagInfo": {"status": "Accepted", "parentIdTag": GROUP}}
        ],
    }
    assert await held_version(csms) == 8
    removal = {"entries": [{"id_token": {"value": VALID}}], "full": False}
    assert (await csms.command(STATION_16, "send_local_list", removal))["status"] == "Accepted"
    assert cs16.last("SendLocalList") == {
        "listVersion": 9,
        "updateType": "Differential",
        "localAuthorizationList": [{"idTag": VALID}],
    }
    assert len(cs16.requests("GetLocalListVersion")) == 1
    assert await held_version(csms) == 9


@pytest.mark.parametrize("answer", ["Failed", "VersionMismatch", "NotSupported"])
async def test_a_list_the_station_refused_is_not_its_version(
    csms: Csms, cs16: Station16, answer: str
) -> None:
    cs16.reply("SendLocalList", {"status": answer})
    result = await csms.command(STATION_16, "send_local_list", {"version": 4, "entries": [ENTRY]})
    assert result["status"] == answer
    assert await held_version(csms) is None


async def test_clear_cache(csms: Csms, cs16: Station16) -> None:
    assert (await csms.command(STATION_16, "clear_cache"))["status"] == "Accepted"
    assert cs16.last("ClearCache") == {}


# --- Reservation -------------------------------------------------------------------------------


async def test_reserve_and_use_the_reservation(csms: Csms, cs16: Station16) -> None:
    body = {
        "reservation_id": 5,
        "expiry": IN_AN_HOUR.isoformat(),
        "id_token": {"value": VALID},
        "evse": 1,
    }
    assert (await csms.command(STATION_16, "reserve_now", body))["status"] == "Accepted"
    sent = cs16.last("ReserveNow")
    assert (sent["connectorId"], sent["idTag"], sent["reservationId"]) == (1, VALID, 5)
    assert datetime.fromisoformat(sent["expiryDate"]) == IN_AN_HOUR
    await cs16.status(1, "Reserved")
    assert await csms.evse_status("BOG-USAQUEN", "BOG-USA-1") == "RESERVED"
    started = await cs16.call(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": VALID,
            "meterStart": 5_000,
            "timestamp": now(),
            "reservationId": 5,
        },
    )
    assert started["idTagInfo"]["status"] == "Accepted"


@pytest.mark.parametrize("answer", ["Occupied", "Faulted", "Unavailable", "Rejected"])
async def test_reservation_refused(csms: Csms, cs16: Station16, answer: str) -> None:
    cs16.reply("ReserveNow", {"status": answer})
    body = {"reservation_id": 6, "expiry": IN_AN_HOUR.isoformat(), "id_token": {"value": VALID}}
    assert (await csms.command(STATION_16, "reserve_now", body))["status"] == answer
    assert cs16.last("ReserveNow")["connectorId"] == 0


@pytest.mark.parametrize("answer", ["Accepted", "Rejected"])
async def test_cancel_reservation(csms: Csms, cs16: Station16, answer: str) -> None:
    cs16.reply("CancelReservation", {"status": answer})
    result = await csms.command(STATION_16, "cancel_reservation", {"reservation_id": 5})
    assert result["status"] == answer
    assert cs16.last("CancelReservation") == {"reservationId": 5}


# --- Smart Charging ----------------------------------------------------------------------------

PROFILE = {
    "evse": 1,
    "profile": {
        "id": 3,
        "stack_level": 1,
        "purpose": "TxDefaultProfile",
        "kind": "Relative",
        "schedules": [
            {
                "unit": "A",
                "periods": [{"start": 0, "limit": "16"}, {"start": 1800, "limit": "10.5"}],
                "duration": 3600,
            }
        ],
    },
}


async def test_set_and_clear_charging_profile(csms: Csms, cs16: Station16) -> None:
    assert (await csms.command(STATION_16, "set_charging_profile", PROFILE))["status"] == "Accepted"
    sent = cs16.last("SetChargingProfile")
    assert sent["connectorId"] == 1
    profile = sent["csChargingProfiles"]
    assert (profile["chargingProfileId"], profile["chargingProfilePurpose"]) == (
        3,
        "TxDefaultProfile",
    )
    assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16},
        {"startPeriod": 1800, "limit": 10.5},
    ]
    result = await csms.command(STATION_16, "clear_charging_profile", {"profile_id": 3})
    assert result["status"] == "Accepted"
    assert cs16.last("ClearChargingProfile") == {"id": 3}


async def test_charging_profile_rejected(csms: Csms, cs16: Station16) -> None:
    cs16.reply("SetChargingProfile", {"status": "Rejected"})
    assert (await csms.command(STATION_16, "set_charging_profile", PROFILE))["status"] == "Rejected"


async def test_composite_schedule(csms: Csms, cs16: Station16) -> None:
    cs16.reply(
        "GetCompositeSchedule",
        {
            "status": "Accepted",
            "connectorId": 1,
            "scheduleStart": "2026-11-24T12:00:00Z",
            "chargingSchedule": {
                "duration": 3600,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            },
        },
    )
    result = await csms.command(
        STATION_16, "get_composite_schedule", {"evse": 1, "duration": 3600, "unit": "A"}
    )
    assert cs16.last("GetCompositeSchedule") == {
        "connectorId": 1,
        "duration": 3600,
        "chargingRateUnit": "A",
    }
    assert result["status"] == "Accepted"
    assert result["schedule"]["periods"] == [{"start": 0, "limit": "16.0", "phases": None}]


# --- Firmware Management and diagnostics -------------------------------------------------------


async def test_firmware_update(csms: Csms, cs16: Station16) -> None:
    body = {
        "location": "https://firmware.example.com/fw.bin",
        "retrieve_at": IN_AN_HOUR.isoformat(),
    }
    assert (await csms.command(STATION_16, "update_firmware", body))["status"] == "Accepted"
    sent = cs16.last("UpdateFirmware")
    assert sent["location"] == body["location"]
    for status in ("Downloading", "Downloaded", "Installing"):
        assert await cs16.call("FirmwareStatusNotification", {"status": status}) == {}
    await cs16.close()
    await cs16.connect()
    await cs16.booted()
    assert await cs16.call("FirmwareStatusNotification", {"status": "Installed"}) == {}
    assert (await csms.station_record(STATION_16))["firmware_status"] == "Installed"


async def test_signed_firmware_update(csms: Csms, cs16: Station16) -> None:
    """Security Whitepaper: a signed update goes as SignedUpdateFirmware."""
    cs16.reply("SignedUpdateFirmware", {"status": "Accepted"})
    body = {
        "location": "https://firmware.example.com/fw.bin",
        "retrieve_at": IN_AN_HOUR.isoformat(),
        "request_id": 9,
        "signing_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "signature": "MEUCIQ==",
    }
    assert (await csms.command(STATION_16, "update_firmware", body))["status"] == "Accepted"
    assert cs16.last("SignedUpdateFirmware")["requestId"] == 9
    answer = await cs16.call(
        "SignedFirmwareStatusNotification", {"status": "SignatureVerified", "requestId": 9}
    )
    assert answer == {}
    assert (await csms.station_record(STATION_16))["firmware_status"] == "SignatureVerified"


async def test_diagnostics(csms: Csms, cs16: Station16) -> None:
    body = {"location": "ftp://logs.example.com/", "kind": "DiagnosticsLog"}
    result = await csms.command(STATION_16, "get_log", body)
    assert (result["status"], result["filename"]) == ("Accepted", "diagnostics.zip")
    assert cs16.last("GetDiagnostics") == {"location": "ftp://logs.example.com/"}
    for status in ("Uploading", "Uploaded"):
        assert await cs16.call("DiagnosticsStatusNotification", {"status": status}) == {}


async def test_no_diagnostics_available(csms: Csms, cs16: Station16) -> None:
    cs16.reply("GetDiagnostics", {})
    body = {"location": "ftp://logs.example.com/", "kind": "DiagnosticsLog"}
    result = await csms.command(STATION_16, "get_log", body)
    assert result["status"] == "Rejected"


async def test_security_log(csms: Csms, cs16: Station16) -> None:
    cs16.reply("GetLog", {"status": "Accepted", "filename": "security.log"})
    body = {"location": "https://logs.example.com/", "kind": "SecurityLog", "request_id": 3}
    result = await csms.command(STATION_16, "get_log", body)
    assert (result["status"], result["filename"]) == ("Accepted", "security.log")
    assert cs16.last("GetLog")["logType"] == "SecurityLog"
    for status in ("Uploading", "Uploaded"):
        answer = await cs16.call("LogStatusNotification", {"status": status, "requestId": 3})
        assert answer == {}


# --- Security Whitepaper: certificates and security events -------------------------------------


async def test_certificates(csms: Csms, cs16: Station16) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIBkTCB\n-----END CERTIFICATE-----"
    hashes = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "ab" * 32,
        "issuerKeyHash": "cd" * 32,
        "serialNumber": "01",
    }
    cs16.reply("InstallCertificate", {"status": "Accepted"})
    result = await csms.command(
        STATION_16, "install_certificate", {"use": "CSMSRootCertificate", "certificate": pem}
    )
    assert result["status"] == "Accepted"
    assert cs16.last("InstallCertificate") == {
        "certificateType": "CentralSystemRootCertificate",
        "certificate": pem,
    }
    cs16.reply(
        "GetInstalledCertificateIds", {"status": "Accepted", "certificateHashData": [hashes]}
    )
    listed = await csms.command(
        STATION_16, "get_installed_certificate_ids", {"uses": ["CSMSRootCertificate"]}
    )
    [certificate] = listed["certificates"]
    assert certificate["use"] == "CSMSRootCertificate"
    cs16.reply("DeleteCertificate", {"status": "Accepted"})
    deleted = await csms.command(
        STATION_16, "delete_certificate", {"hash_data": certificate["hash_data"]}
    )
    assert deleted["status"] == "Accepted"
    assert cs16.last("DeleteCertificate") == {"certificateHashData": hashes}


async def test_security_event(cs16: Station16) -> None:
    answer = await cs16.call(
        "SecurityEventNotification",
        {"type": "FirmwareUpdated", "timestamp": now(), "techInfo": "2.1.0"},
    )
    assert answer == {}
