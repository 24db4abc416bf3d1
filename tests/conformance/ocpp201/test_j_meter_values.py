"""OCPP 2.0.1 CSMS conformance, block J: clock-aligned and sampled meter values, signed or not.

Beyond answering, the CSMS must keep what a transaction's meter values say: the readings land in
the session (with their context), its energy follows the register, signed data stays verbatim.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conformance.harness import STATION_201, Csms, Station201, meter_value, now

SIGNED = {
    "signedMeterData": "T0NNRnx7IkZWIjoiMS4wIiwiR0kiOiJJbnRlcmNhcmdhIn0=",
    "signingMethod": "ECDSA-secp256r1-SHA256",
    "encodingMethod": "OCMF",
    "publicKey": "",  # required, may be empty (the key was sent before)
}


async def fiscal_metering(cs: Station201, evse: int, wh: int) -> None:
    """Clock-aligned: MeterValues (Sample.Clock) and its NotifyEvent FiscalMetering Periodic."""
    answer = await cs.call(
        "MeterValues", {"evseId": evse, "meterValue": [meter_value(wh, "Sample.Clock")]}
    )
    assert answer == {}
    answer = await cs.call(
        "NotifyEvent",
        {
            "generatedAt": now(),
            "seqNo": 0,
            "eventData": [
                {
                    "eventId": 7000 + evse,
                    "timestamp": now(),
                    "trigger": "Periodic",
                    "actualValue": str(wh),
                    "eventNotificationType": "HardWiredMonitor",
                    "component": {"name": "FiscalMetering"}
                    | ({"evse": {"id": evse}} if evse else {}),
                    "variable": {"name": "EnergyImport"},
                }
            ],
        },
    )
    assert answer == {}


def contexts(session: dict[str, Any]) -> list[str | None]:
    return [value["context"] for value in session["meter_values"]]


async def kept(csms: Csms, **query: str) -> dict[str, Any]:
    """What the admin API shows of the station's meter values outside transactions."""
    response = await csms.client.get(f"/api/v1/stations/{STATION_201}/meter-values", params=query)
    assert response.status_code == 200, response.text
    shown: dict[str, Any] = response.json()
    return shown


async def test_TC_J_01_CSMS(csms: Csms, cs: Station201) -> None:
    """Clock-aligned Meter Values - No transaction ongoing."""
    for interval in range(3):
        for evse in (0, 1, 2):
            await fiscal_metering(cs, evse, 20_000 + interval * 10)
    # No session holds them: the CSMS keeps them per EVSE (0: the station's main meter).
    assert (await kept(csms))["total"] == 9
    evse_1 = await kept(csms, evse="1")
    assert evse_1["total"] == 3
    assert [
        (item["evse"], [(v["value"], v["context"]) for v in item["meter_values"]])
        for item in evse_1["items"]
    ] == [(1, [(f"{20_000 + n * 10}", "Sample.Clock")]) for n in (2, 1, 0)]
    page = await csms.client.get(
        f"/api/v1/stations/{STATION_201}/meter-values", params={"evse": "0", "limit": "2"}
    )
    assert [item["evse"] for item in page.json()["items"]] == [0, 0]
    assert page.headers["X-Total-Count"] == "3"
    assert "offset=2" in page.headers["Link"]


async def test_signed_values_outside_a_transaction_are_kept_verbatim(
    csms: Csms, cs: Station201
) -> None:
    answer = await cs.call(
        "MeterValues",
        {"evseId": 2, "meterValue": [meter_value(31_000, "Sample.Clock", signed=SIGNED)]},
    )
    assert answer == {}
    [item] = (await kept(csms, evse="2"))["items"]
    assert item["meter_values"][0]["value"] == "31000"
    assert item["signed_meter_values"][0]["signed_data"] == SIGNED["signedMeterData"]
    assert item["signed_meter_values"][0]["encoding_method"] == "OCMF"
    unknown = await csms.client.get("/api/v1/stations/NOBODY/meter-values")
    assert unknown.status_code == 404


async def test_TC_J_02_CSMS(csms: Csms, cs: Station201) -> None:
    """Clock-aligned Meter Values - Transaction ongoing."""
    await cs.energy_transfer_started(1)
    for wh in (12_000, 13_000):
        for evse in (0, 2):
            await fiscal_metering(cs, evse, wh)
        answer = await cs.transaction_event(
            "Updated", "MeterValueClock", meter_values=[meter_value(wh, "Sample.Clock")]
        )
        assert answer == {}
    session = await csms.session(STATION_201, cs.transaction(1).id)
    assert contexts(session)[-2:] == ["Sample.Clock", "Sample.Clock"]
    assert Decimal(str(session["kwh"])) == Decimal("3")


async def ended_with(cs: Station201, csms: Csms, context: str, signed: bool) -> dict[str, Any]:
    """EVDisconnected whose Ended event carries sampled values and, last, Transaction.End."""
    await cs.energy_transfer_started(1)
    tx = cs.transaction(1)
    proofs = [SIGNED | {"signedMeterData": f"{SIGNED['signedMeterData']}{n}"} for n in (1, 2)]
    values = [
        meter_value(12_000, context, signed=proofs[0] if signed else None),
        meter_value(12_400, "Transaction.End", signed=proofs[1] if signed else None),
    ]
    await cs.ev_disconnected(meter_values=values)
    session = await csms.session(STATION_201, tx.id)
    assert session["status"] == "COMPLETED"
    assert contexts(session)[-2:] == [context, "Transaction.End"]
    assert Decimal(str(session["kwh"])) == Decimal("2.4")
    if signed:
        assert [s["signed_data"] for s in session["signed_meter_values"]] == [
            proof["signedMeterData"] for proof in proofs
        ]
    return session


async def test_TC_J_03_CSMS(csms: Csms, cs: Station201) -> None:
    """Clock-aligned Meter Values - EventType Ended."""
    await ended_with(cs, csms, "Sample.Clock", signed=False)


async def test_TC_J_04_CSMS(csms: Csms, cs: Station201) -> None:
    """Clock-aligned Meter Values - Signed."""
    await ended_with(cs, csms, "Sample.Clock", signed=True)


async def test_TC_J_07_CSMS(csms: Csms, cs: Station201) -> None:
    """Sampled Meter Values - EventType Started - EVSE known."""
    await cs.ev_connected_pre_session()
    session = await csms.session(STATION_201, cs.transaction(1).id)
    assert contexts(session) == ["Transaction.Begin"]
    assert session["evse_uid"] == "SCL-PROV-1"


async def test_TC_J_08_CSMS(csms: Csms, cs: Station201) -> None:
    """Sampled Meter Values - Context Transaction.Begin - EVSE not known (at the start)."""
    assert (await cs.authorize())["status"] == "Accepted"
    answer = await cs.transaction_event(
        "Started", "Authorized", token="CONF-VALID-1", with_evse=False
    )
    assert answer["idTokenInfo"]["status"] == "Accepted"
    tx = cs.transaction(1)
    tx.authorized = True
    await cs.status(1, "Occupied")
    await cs.transaction_event(
        "Updated",
        "CablePluggedIn",
        charging_state="EVConnected",
        meter_values=[meter_value(tx.register_wh, "Transaction.Begin")],
    )
    tx.ev_connected = True
    await cs.energy_transfer_started()
    session = await csms.session(STATION_201, tx.id)
    assert contexts(session)[0] == "Transaction.Begin"
    assert Decimal(str(session["kwh"])) == Decimal("1.5")


async def test_TC_J_09_CSMS(csms: Csms, cs: Station201) -> None:
    """Sampled Meter Values - EventType Updated."""
    await cs.energy_transfer_started()
    for wh in (12_000, 12_500, 13_000):
        answer = await cs.transaction_event(
            "Updated", "MeterValuePeriodic", meter_values=[meter_value(wh)]
        )
        assert answer == {}
    session = await csms.session(STATION_201, cs.transaction(1).id)
    assert contexts(session)[-3:] == ["Sample.Periodic"] * 3
    assert Decimal(str(session["kwh"])) == Decimal("3")


async def test_TC_J_10_CSMS(csms: Csms, cs: Station201) -> None:
    """Sampled Meter Values - EventType Ended."""
    await ended_with(cs, csms, "Sample.Periodic", signed=False)


async def test_TC_J_11_CSMS(csms: Csms, cs: Station201) -> None:
    """Sampled Meter Values - Signed."""
    await ended_with(cs, csms, "Sample.Periodic", signed=True)
