"""OCPP 2.0.1 CSMS conformance, block N: logs and customer information."""

from __future__ import annotations

from typing import Any

from tests.conformance.harness import STATION_201, VALID, Csms, Station201, now

UPLOAD = "https://logs.example.com/upload"


async def get_log(csms: Csms, cs: Station201, kind: str, request_id: int, answer: str) -> None:
    cs.reply("GetLog", {"status": answer, "filename": f"{kind}-{request_id}.log"})
    result = await csms.command(
        STATION_201, "get_log", {"location": UPLOAD, "request_id": request_id, "kind": kind}
    )
    assert result["status"] == answer
    sent = cs.last("GetLog")
    assert (sent["logType"], sent["requestId"], sent["log"]["remoteLocation"]) == (
        kind,
        request_id,
        UPLOAD,
    )


async def log_status(cs: Station201, request_id: int, *statuses: str) -> None:
    for status in statuses:
        answer = await cs.call("LogStatusNotification", {"status": status, "requestId": request_id})
        assert answer == {}


async def test_TC_N_25_CSMS(csms: Csms, cs: Station201) -> None:
    """Retrieve Log Information - Diagnostics Log - Success."""
    await get_log(csms, cs, "DiagnosticsLog", 21, "Accepted")
    await log_status(cs, 21, "Uploading", "Uploaded")


async def test_TC_N_34_CSMS(csms: Csms, cs: Station201) -> None:
    """Retrieve Log Information - Rejected."""
    await get_log(csms, cs, "DiagnosticsLog", 22, "Rejected")


async def test_TC_N_35_CSMS(csms: Csms, cs: Station201) -> None:
    """Retrieve Log Information - Security Log - Success."""
    await get_log(csms, cs, "SecurityLog", 23, "Accepted")
    await log_status(cs, 23, "Uploading", "Uploaded")


async def test_TC_N_36_CSMS(csms: Csms, cs: Station201) -> None:
    """Retrieve Log Information - Second Request: the first upload is canceled."""
    await get_log(csms, cs, "DiagnosticsLog", 24, "Accepted")
    await log_status(cs, 24, "Uploading")
    await get_log(csms, cs, "DiagnosticsLog", 25, "AcceptedCanceled")
    await log_status(cs, 24, "AcceptedCanceled")
    await log_status(cs, 25, "Uploading", "Uploaded")


async def customer_information(
    csms: Csms, cs: Station201, body: dict[str, Any], answer: str = "Accepted"
) -> dict[str, Any]:
    cs.reply("CustomerInformation", {"status": answer})
    result = await csms.command(STATION_201, "customer_information", body)
    assert result["status"] == answer
    return cs.last("CustomerInformation")


async def notify(cs: Station201, request_id: int, data: str) -> None:
    answer = await cs.call(
        "NotifyCustomerInformation",
        {"data": data, "seqNo": 0, "generatedAt": now(), "requestId": request_id},
    )
    assert answer == {}


BY_TOKEN = {"id_token": {"value": VALID, "type": "ISO14443"}}
TOKEN_SENT = {"idToken": VALID, "type": "ISO14443"}


async def test_TC_N_27_CSMS(csms: Csms, cs: Station201) -> None:
    """Get Customer Information - Accepted + data."""
    sent = await customer_information(
        csms, cs, {"request_id": 31, "report": True, "clear": False} | BY_TOKEN
    )
    assert sent == {"requestId": 31, "report": True, "clear": False, "idToken": TOKEN_SENT}
    await notify(cs, 31, "2 sessions, last on EVSE 1")


async def test_TC_N_28_CSMS(csms: Csms, cs: Station201) -> None:
    """Get Customer Information - Accepted + no data."""
    await customer_information(
        csms, cs, {"request_id": 32, "report": True, "clear": False} | BY_TOKEN
    )
    await notify(cs, 32, "")


async def test_TC_N_29_CSMS(csms: Csms, cs: Station201) -> None:
    """Get Customer Information - Not Accepted."""
    await customer_information(
        csms, cs, {"request_id": 33, "report": True, "clear": False} | BY_TOKEN, "Rejected"
    )


async def test_TC_N_30_CSMS(csms: Csms, cs: Station201) -> None:
    """Clear Customer Information - Clear and report + data."""
    sent = await customer_information(
        csms, cs, {"request_id": 34, "report": True, "clear": True} | BY_TOKEN
    )
    assert (sent["report"], sent["clear"], sent["idToken"]) == (True, True, TOKEN_SENT)
    await notify(cs, 34, "cleared: 2 sessions")


async def test_TC_N_31_CSMS(csms: Csms, cs: Station201) -> None:
    """Clear Customer Information - Clear and report + no data."""
    await customer_information(
        csms, cs, {"request_id": 35, "report": True, "clear": True} | BY_TOKEN
    )
    await notify(cs, 35, "")


async def test_TC_N_32_CSMS(csms: Csms, cs: Station201) -> None:
    """Clear Customer Information - Clear and no report."""
    sent = await customer_information(
        csms, cs, {"request_id": 36, "report": False, "clear": True} | BY_TOKEN
    )
    assert (sent["report"], sent["clear"]) == (False, True)


async def test_TC_N_62_CSMS(csms: Csms, cs: Station201) -> None:
    """Clear Customer Information - Clear and report - customerIdentifier."""
    sent = await customer_information(
        csms,
        cs,
        {
            "request_id": 37,
            "report": True,
            "clear": True,
            "customer_identifier": "OpenChargeAlliance",
        },
    )
    assert sent["customerIdentifier"] == "OpenChargeAlliance"
    await notify(cs, 37, "cleared")
