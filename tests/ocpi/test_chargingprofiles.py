"""ChargingProfiles: an eMSP sets, reads and clears the profile of its driver's session at a CPO
whose stations are a fake CSMS, directly and through a hub."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from intercarga import domain
from intercarga.ocpi.profiles import profile_number
from intercarga.ocpp.commands import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedulePeriod,
    ClearChargingProfile,
    CompositeSchedule,
    CompositeScheduleResult,
    GetCompositeSchedule,
    SetChargingProfile,
)
from intercarga.sim.example import example_network
from tests.ocpi.conftest import Deployment, Hosts, Network, connect, party, until
from tests.ocpi.stations import FakeStations

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SESSION = "S-42"


@pytest.fixture(params=["direct", "hub"])
async def roaming(
    network: tuple[Network, Hosts], request: pytest.FixtureRequest
) -> tuple[Deployment, Deployment, FakeStations]:
    make, _hosts = network
    fake = FakeStations()  # the CPO's stations, which its OCPI commands run on
    cpo = await make("cpo", [party("CO", "ICG", "CPO")], stations=fake)
    emsp = await make("emsp", [party("CO", "EMS", "EMSP")])
    if request.param == "hub":
        hub = await make("hub", [party("CO", "HUB", "HUB")])
        await connect(hub, cpo, "2.2.1")
        await connect(hub, emsp, "2.3.0")
    else:
        await connect(cpo, emsp, "2.2.1")
    await cpo.system.store.locations.put(example_network().locations[1])
    await cpo.system.store.tokens.put(
        domain.Token(
            country_code="CO",
            party_id="EMS",
            uid="APP-1",
            type=domain.TokenType.APP_USER,
            contract_id="CO-EMS-APP-1",
            issuer="Movilidad",
        )
    )
    await cpo.system.store.sessions.put(
        domain.Session(
            country_code="CO",
            party_id="ICG",
            id=SESSION,
            start_date_time=AT,
            token_uid="APP-1",
            location_id="BOG-USAQUEN",
            evse_uid="BOG-USA-1",
            connector_id="1",
            station_id="CO-ICG-0001",
            transaction_id="T-1",
            currency="COP",
            status=domain.SessionStatus.ACTIVE,
        )
    )
    return cpo, emsp, fake


async def _ask(emsp: Deployment, **body: Any) -> dict[str, Any]:
    sent = await emsp.admin.post(
        "/api/v1/roaming/commands/charging-profiles",
        json={"country_code": "CO", "party_id": "ICG", "session_id": SESSION, **body},
    )
    assert sent.status_code == 201, sent.text
    record: dict[str, Any] = sent.json()
    if record["response"]["result"] == "ACCEPTED":

        async def answered() -> bool:
            record.update((await emsp.admin.get(f"/api/v1/roaming/commands/{record['id']}")).json())
            return record["result"] is not None

        await until(answered)
    return record


async def test_set_read_and_clear_a_sessions_profile(
    roaming: tuple[Deployment, Deployment, FakeStations],
) -> None:
    _cpo, emsp, fake = roaming
    profile = {
        "charging_rate_unit": "W",
        "charging_profile_period": [
            {"start_period": 0, "limit": 11000},
            {"start_period": 1800, "limit": 7400},
        ],
    }
    set_ = await _ask(emsp, action="SET_PROFILE", charging_profile=profile)
    assert set_["response"]["result"] == "ACCEPTED" and set_["result"] == {"result": "ACCEPTED"}
    station, command = fake.ran[-1]
    assert station == "CO-ICG-0001" and isinstance(command, SetChargingProfile)
    assert command.evse == 1
    installed = command.profile
    assert installed.id == profile_number(SESSION)
    assert installed.purpose is ChargingProfilePurpose.TX
    assert installed.kind is ChargingProfileKind.RELATIVE
    assert installed.transaction_id == "T-1"
    assert installed.schedules[0].unit is ChargingRateUnit.WATT
    assert [(p.start, p.limit) for p in installed.schedules[0].periods] == [
        (0, Decimal(11000)),
        (1800, Decimal(7400)),
    ]

    fake.answers[GetCompositeSchedule] = CompositeScheduleResult(
        "Accepted",
        schedule=CompositeSchedule(
            evse=1,
            start=AT,
            duration=900,
            unit=ChargingRateUnit.WATT,
            periods=(ChargingSchedulePeriod(0, Decimal(7400)),),
        ),
    )
    read = await _ask(emsp, action="GET_PROFILE", duration=900)
    assert fake.ran[-1][1] == GetCompositeSchedule(1, 900)
    assert read["result"]["result"] == "ACCEPTED"
    active = read["result"]["profile"]
    assert active["start_date_time"] == "2026-11-24T12:00:00Z"
    assert active["charging_profile"]["charging_profile_period"] == [
        {"start_period": 0, "limit": 7400}
    ]

    cleared = await _ask(emsp, action="CLEAR_PROFILE")
    assert cleared["result"] == {"result": "ACCEPTED"}
    assert fake.ran[-1][1] == ClearChargingProfile(profile_id=profile_number(SESSION))


async def test_a_session_that_is_not_running_or_not_the_emsps_is_unknown(
    roaming: tuple[Deployment, Deployment, FakeStations],
) -> None:
    cpo, emsp, fake = roaming
    other = await cpo.system.store.sessions.get("CO", "ICG", SESSION)
    await cpo.system.store.sessions.put(
        other.model_copy(update={"status": domain.SessionStatus.COMPLETED})
    )
    done = await _ask(emsp, action="CLEAR_PROFILE")
    assert done["response"]["result"] == "UNKNOWN_SESSION"
    missing = await emsp.admin.post(
        "/api/v1/roaming/commands/charging-profiles",
        json={
            "country_code": "CO",
            "party_id": "ICG",
            "session_id": "NOPE",
            "action": "GET_PROFILE",
            "duration": 60,
        },
    )
    assert missing.json()["response"]["result"] == "UNKNOWN_SESSION"
    assert fake.ran == []
