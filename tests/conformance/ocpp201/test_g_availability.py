"""OCPP 2.0.1 CSMS conformance, block G: availability (EVSE, station, connector; lock failure).

The EVSE statuses the station reports are checked where an operator sees them: the Location's
EVSEs in the admin API (Unavailable shows as INOPERATIVE, Available as AVAILABLE).
"""

from __future__ import annotations

from typing import Any

from tests.conformance.harness import STATION_201, Csms, Station201, now

LOCATION = "SCL-PROVIDENCIA"
EVSE_UIDS = {1: "SCL-PROV-1", 2: "SCL-PROV-2"}


async def change_availability(
    csms: Csms,
    cs: Station201,
    *,
    operative: bool,
    evse: int | None = None,
    connector: int | None = None,
    answer: str = "Accepted",
) -> None:
    """The operator asks; the request names exactly the component asked for."""
    cs.reply("ChangeAvailability", {"status": answer})
    body: dict[str, Any] = {"operative": operative, "evse": evse, "connector": connector}
    result = await csms.command(STATION_201, "change_availability", body)
    assert result["status"] == answer
    expected: dict[str, Any] = {"operationalStatus": "Operative" if operative else "Inoperative"}
    if evse is not None:
        expected["evse"] = {"id": evse} | ({"connectorId": connector} if connector else {})
    assert cs.last("ChangeAvailability") == expected


async def shown(csms: Csms, *evses: int) -> list[str]:
    return [await csms.evse_status(LOCATION, EVSE_UIDS[evse]) for evse in evses]


async def test_TC_G_03_CSMS(csms: Csms, cs: Station201) -> None:
    """Change Availability EVSE - Operative to inoperative."""
    await change_availability(csms, cs, operative=False, evse=1)
    await cs.status(1, "Unavailable")
    assert await shown(csms, 1, 2) == ["INOPERATIVE", "AVAILABLE"]


async def test_TC_G_04_CSMS(csms: Csms, cs: Station201) -> None:
    """Change Availability EVSE - Inoperative to operative."""
    await change_availability(csms, cs, operative=False, evse=1)
    await cs.status(1, "Unavailable")
    await change_availability(csms, cs, operative=True, evse=1)
    await cs.status(1, "Available")
    assert await shown(csms, 1) == ["AVAILABLE"]


async def test_TC_G_05_CSMS(csms: Csms, cs: Station201) -> None:
    """Change Availability Charging Station - Operative to inoperative."""
    await change_availability(csms, cs, operative=False)
    for evse in cs.evses:
        await cs.status(evse, "Unavailable")
    assert await shown(csms, 1, 2) == ["INOPERATIVE", "INOPERATIVE"]


async def test_TC_G_06_CSMS(csms: Csms, cs: Station201) -> None:
    """Change Availability Charging Station - Inoperative to operative."""
    await change_availability(csms, cs, operative=False)
    for evse in cs.evses:
        await cs.status(evse, "Unavailable")
    await change_availability(csms, cs, operative=True)
    for evse in cs.evses:
        await cs.status(evse, "Available")
    assert await shown(csms, 1, 2) == ["AVAILABLE", "AVAILABLE"]


async def test_TC_G_07_CSMS(csms: Csms, cs: Station201) -> None:
    """Change Availability Connector - Operative to inoperative."""
    await change_availability(csms, cs, operative=False, evse=1, connector=1)
    await cs.status(1, "Unavailable", connector=1)
    assert await shown(csms, 1) == ["INOPERATIVE"]


async def test_TC_G_08_CSMS(csms: Csms, cs: Station201) -> None:
    """Change Availability Connector - Inoperative to operative."""
    await change_availability(csms, cs, operative=False, evse=1, connector=1)
    await cs.status(1, "Unavailable", connector=1)
    await change_availability(csms, cs, operative=True, evse=1, connector=1)
    await cs.status(1, "Available", connector=1)
    assert await shown(csms, 1) == ["AVAILABLE"]


async def test_TC_G_11_CSMS(csms: Csms, cs: Station201) -> None:
    """Change Availability EVSE - With ongoing transaction: Scheduled until it ends."""
    await cs.energy_transfer_started()
    await change_availability(csms, cs, operative=False, evse=1, answer="Scheduled")
    await cs.full_stop()
    await cs.status(1, "Unavailable")
    assert await shown(csms, 1) == ["INOPERATIVE"]


async def test_TC_G_14_CSMS(csms: Csms, cs: Station201) -> None:
    """Change Availability Charging Station - With ongoing transaction."""
    await cs.energy_transfer_started()
    await change_availability(csms, cs, operative=False, answer="Scheduled")
    await cs.status(2, "Unavailable")
    assert await shown(csms, 1, 2) == ["CHARGING", "INOPERATIVE"]
    await cs.full_stop()
    await cs.status(1, "Unavailable")
    assert await shown(csms, 1, 2) == ["INOPERATIVE", "INOPERATIVE"]


async def test_TC_G_17_CSMS(csms: Csms, cs: Station201) -> None:
    """Change Availability Connector - With ongoing transaction."""
    await cs.energy_transfer_started()
    await change_availability(csms, cs, operative=False, evse=1, connector=1, answer="Scheduled")
    await cs.full_stop()
    await cs.status(1, "Unavailable", connector=1)
    assert await shown(csms, 1) == ["INOPERATIVE"]


async def test_TC_G_20_CSMS(csms: Csms, cs: Station201) -> None:
    """Connector status Notification - Lock Failure."""
    answer = await cs.call(
        "NotifyEvent",
        {
            "generatedAt": now(),
            "seqNo": 0,
            "eventData": [
                {
                    "eventId": 9001,
                    "timestamp": now(),
                    "trigger": "Delta",
                    "actualValue": "true",
                    "eventNotificationType": "HardWiredNotification",
                    "component": {"name": "ConnectorPlugRetentionLock", "evse": {"id": 1}},
                    "variable": {"name": "Problem"},
                }
            ],
        },
    )
    assert answer == {}
