"""OCPP 2.0.1 CSMS conformance, block L: secure firmware update.

The operator starts the update with the update_firmware command (signed: a signing certificate
and a signature); the station reports its progress, which the CSMS keeps as the station's
firmware status.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conformance.harness import STATION_201, Csms, Station201

SIGNING_CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----"
SIGNATURE = "MEUCIQDbX5oUQ7Bv0p1nDk2P2vVf9K3yXc0sS8pZ2wGm0aVxZQIgYq7r"


def update(request_id: int, **times: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location": "https://firmware.example.com/terra-2.1.0.bin",
        "retrieve_at": times.get("retrieve_at", datetime.now(UTC)).isoformat(),
        "request_id": request_id,
        "signing_certificate": SIGNING_CERTIFICATE,
        "signature": SIGNATURE,
    }
    if "install_at" in times:
        body["install_at"] = times["install_at"].isoformat()
    return body


async def start_update(
    csms: Csms, cs: Station201, request_id: int, answer: str = "Accepted", **times: datetime
) -> dict[str, Any]:
    cs.reply("UpdateFirmware", {"status": answer})
    result = await csms.command(STATION_201, "update_firmware", update(request_id, **times))
    assert result["status"] == answer
    sent = cs.last("UpdateFirmware")
    assert sent["requestId"] == request_id
    assert sent["firmware"]["signingCertificate"] == SIGNING_CERTIFICATE
    assert sent["firmware"]["signature"] == SIGNATURE
    return sent


async def progress(cs: Station201, request_id: int, *statuses: str) -> None:
    for status in statuses:
        answer = await cs.call(
            "FirmwareStatusNotification", {"status": status, "requestId": request_id}
        )
        assert answer == {}


async def reboots_into_new_firmware(csms: Csms, cs: Station201, request_id: int, last: str) -> None:
    await progress(cs, request_id, "InstallRebooting")
    await cs.close()
    await cs.connect()
    await cs.booted("FirmwareUpdate")
    await progress(cs, request_id, last)
    assert (await csms.station_record(STATION_201))["firmware_status"] == last


async def test_TC_L_01_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - Installation successful."""
    await start_update(csms, cs, 1)
    await progress(cs, 1, "Downloading", "Downloaded", "SignatureVerified", "Installing")
    await reboots_into_new_firmware(csms, cs, 1, "Installed")


async def test_TC_L_02_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - InstallScheduled."""
    later = datetime.now(UTC) + timedelta(hours=2)
    sent = await start_update(csms, cs, 2, install_at=later)
    assert datetime.fromisoformat(sent["firmware"]["installDateTime"]) > datetime.now(UTC)
    await progress(cs, 2, "Downloading", "Downloaded", "SignatureVerified", "InstallScheduled")
    assert (await csms.station_record(STATION_201))["firmware_status"] == "InstallScheduled"
    await progress(cs, 2, "Installing")
    await reboots_into_new_firmware(csms, cs, 2, "Installed")


async def test_TC_L_03_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - DownloadScheduled."""
    later = datetime.now(UTC) + timedelta(hours=1)
    sent = await start_update(csms, cs, 3, retrieve_at=later)
    assert datetime.fromisoformat(sent["firmware"]["retrieveDateTime"]) > datetime.now(UTC)
    await progress(cs, 3, "DownloadScheduled", "Downloading", "Downloaded", "SignatureVerified")
    await progress(cs, 3, "Installing")
    await reboots_into_new_firmware(csms, cs, 3, "Installed")


async def test_TC_L_04_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - RevokedCertificate."""
    await start_update(csms, cs, 4, "RevokedCertificate")


async def test_TC_L_05_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - InvalidCertificate."""
    await start_update(csms, cs, 5, "InvalidCertificate")


async def test_TC_L_06_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - InvalidSignature."""
    await start_update(csms, cs, 6)
    await progress(cs, 6, "Downloading", "Downloaded", "InvalidSignature")
    assert (await csms.station_record(STATION_201))["firmware_status"] == "InvalidSignature"


async def test_TC_L_07_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - DownloadFailed."""
    await start_update(csms, cs, 7)
    await progress(cs, 7, "Downloading", "DownloadFailed")
    assert (await csms.station_record(STATION_201))["firmware_status"] == "DownloadFailed"


async def test_TC_L_08_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - InstallVerificationFailed."""
    await start_update(csms, cs, 8)
    await progress(
        cs,
        8,
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "Installing",
        "InstallVerificationFailed",
    )
    assert (await csms.station_record(STATION_201))[
        "firmware_status"
    ] == "InstallVerificationFailed"


async def test_TC_L_09_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - InstallationFailed."""
    await start_update(csms, cs, 9)
    await progress(cs, 9, "Downloading", "Downloaded", "SignatureVerified", "Installing")
    await reboots_into_new_firmware(csms, cs, 9, "InstallationFailed")


async def test_TC_L_10_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - AcceptedCanceled: a second update replaces the first."""
    await start_update(csms, cs, 10)
    await progress(cs, 10, "Downloading")
    await start_update(csms, cs, 11, "AcceptedCanceled")
    await progress(cs, 11, "Downloading", "Downloaded", "SignatureVerified", "Installing")
    await reboots_into_new_firmware(csms, cs, 11, "Installed")


async def test_TC_L_11_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - Unable to cancel: the first update goes on."""
    await start_update(csms, cs, 12)
    await progress(cs, 12, "Downloading")
    await start_update(csms, cs, 13, "Rejected")
    await progress(cs, 12, "Downloaded", "SignatureVerified", "Installing")
    await reboots_into_new_firmware(csms, cs, 12, "Installed")


async def test_TC_L_13_CSMS(csms: Csms, cs: Station201) -> None:
    """Secure Firmware Update - Unable to download/install firmware with ongoing transaction -
    AllowNewSessionsPendingFirmwareUpdate is false."""
    await cs.energy_transfer_started()
    transaction_id = cs.transaction(1).id
    await start_update(csms, cs, 14)
    await progress(cs, 14, "DownloadScheduled")
    await cs.status(2, "Unavailable")
    await cs.full_stop()
    assert (await csms.session(STATION_201, transaction_id))["status"] == "COMPLETED"
    await progress(cs, 14, "Downloading", "Downloaded", "SignatureVerified", "Installing")
    await reboots_into_new_firmware(csms, cs, 14, "Installed")
