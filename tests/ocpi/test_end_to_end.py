"""Issue 6 end to end: an eMSP's driver charges at a CPO's simulated OCPP station.

The CPO and the eMSP are two deployments in this process (OCPI through the routing transport,
each on its own database); the CPO's CSMS listens on a real socket and the stations are
``intercarga simulate`` processes. Two ways to start: an RFID card the CPO has never seen
(real-time authorization at the eMSP) and an app token through START_SESSION; both end with
the priced CDR stored at the eMSP, and the eMSP sees the session while it charges. The eMSP may
be down when the CDR is made: it gets it, once, when it is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from intercarga import domain
from tests.ocpi.conftest import Deployment, Hosts, Network, connect, party, until
from tests.ocpi.stations import (
    APP,
    CARD,
    CHARGE,
    IDLE,
    Stations,
    charge,
    check_cdr,
    seed_cpo,
    seed_emsp,
    summary,
)

pytestmark = pytest.mark.slow


@pytest.fixture
async def roaming_pair(
    network: tuple[Network, Hosts], request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Deployment, Deployment, Stations]]:
    """A CPO (CL-ICG and CO-ICG) and an eMSP (CO-EMS) registered at OCPI ``request.param``."""
    make, _hosts = network
    version = getattr(request, "param", "2.2.1")
    cpo = await make("cpo", [party("CL", "ICG", "CPO"), party("CO", "ICG", "CPO")])
    emsp = await make("emsp", [party("CO", "EMS", "EMSP", "Movilidad")])
    await seed_cpo(cpo)
    await seed_emsp(emsp, domain.Whitelist.NEVER)
    await connect(cpo, emsp, version)
    stations = Stations(cpo)
    await stations.start()
    try:
        yield cpo, emsp, stations
    finally:
        await cpo.system.csms.stop()


@pytest.mark.parametrize("roaming_pair", ["2.2.1", "2.3.0"], indirect=True)
@pytest.mark.parametrize(
    ("prefix", "ocpp", "currency"), [("CO-ICG-", "1.6", "COP"), ("CL-ICG-", "2.0.1", "CLP")]
)
async def test_an_unknown_rfid_is_authorized_by_the_emsp_and_the_priced_cdr_arrives(
    roaming_pair: tuple[Deployment, Deployment, Stations], prefix: str, ocpp: str, currency: str
) -> None:
    cpo, emsp, stations = roaming_pair
    assert await cpo.system.store.tokens.find_by_uid(CARD) == []  # the CPO never saw the card
    seen, cdr = await charge(emsp, stations, prefix, ocpp)
    assert seen, "the eMSP saw the session while it charged"
    check_cdr(cdr, currency, CARD)
    session = await emsp.system.store.sessions.get(cdr.country_code, cdr.party_id, cdr.session_id)
    assert session.status is domain.SessionStatus.COMPLETED
    # Authorized in real time: the eMSP's authorization_reference comes back in both.
    assert session.auth_method is cdr.auth_method is domain.AuthMethod.AUTH_REQUEST
    assert session.authorization_reference is not None
    assert cdr.authorization_reference == session.authorization_reference
    assert session.kwh == cdr.total_energy.quantize(Decimal("0.001")) or session.kwh > 0
    # The card the eMSP vouched for is cached at the CPO, under the eMSP's party.
    [cached] = await cpo.system.store.tokens.find_by_uid(CARD)
    assert (cached.country_code, cached.party_id) == ("CO", "EMS")


async def _command(emsp: Deployment, **body: Any) -> dict[str, Any]:
    sent = await emsp.admin.post("/api/v1/roaming/commands", json=body)
    assert sent.status_code == 201, sent.text
    record: dict[str, Any] = sent.json()
    assert record["response"]["result"] == "ACCEPTED", record

    async def answered() -> bool:
        shown = (await emsp.admin.get(f"/api/v1/roaming/commands/{record['id']}")).json()
        record.update(shown)
        return shown["result"] is not None

    await until(answered)
    return record


@pytest.mark.parametrize(("prefix", "ocpp"), [("CO-ICG-", "1.6"), ("CL-ICG-", "2.0.1")])
async def test_an_app_token_starts_and_stops_a_session_through_commands(
    roaming_pair: tuple[Deployment, Deployment, Stations], tmp_path: Path, prefix: str, ocpp: str
) -> None:
    cpo, emsp, stations = roaming_pair
    scenario = tmp_path / "idle.yaml"
    scenario.write_text(IDLE)
    process = await stations.run(prefix, ocpp, "--scenario", str(scenario), "--duration", "90")
    station_id = f"{prefix}0001"
    country = prefix[:2]
    location_id, evse_uid = (
        ("BOG-USAQUEN", "BOG-USA-1")
        if country == "CO"
        else (
            "SCL-PROVIDENCIA",
            "SCL-PROV-1",
        )
    )
    try:

        async def booted() -> bool:
            station = await cpo.system.store.stations.get(station_id)
            return cpo.system.csms.link(station_id) is not None and station.vendor == "Intercarga"

        await until(booted, 30)
        started = await _command(
            emsp,
            command="START_SESSION",
            country_code=country,
            party_id="ICG",
            token_uid=APP,
            location_id=location_id,
            evse_uid=evse_uid,
        )
        assert started["result"]["result"] == "ACCEPTED"

        async def charging() -> bool:
            page = await emsp.system.store.sessions.list(filters={"status": "ACTIVE"})
            return page.total == 1

        await until(charging, 30)
        [session] = (await emsp.system.store.sessions.list()).items
        assert session.token_uid == APP and session.auth_method is domain.AuthMethod.COMMAND
        await asyncio.sleep(1)  # a simulated ten minutes of charging
        stopped = await _command(
            emsp,
            command="STOP_SESSION",
            country_code=country,
            party_id="ICG",
            session_id=session.id,
        )
        assert stopped["result"]["result"] == "ACCEPTED"

        async def cdr_arrived() -> bool:
            return await emsp.system.store.cdrs.count() == 1

        await until(cdr_arrived, 30)
        [cdr] = (await emsp.system.store.cdrs.list()).items
        check_cdr(cdr, "COP" if country == "CO" else "CLP", APP)
        unknown = await emsp.admin.post(
            "/api/v1/roaming/commands",
            json={
                "command": "STOP_SESSION",
                "country_code": country,
                "party_id": "ICG",
                "session_id": "NO-SUCH-SESSION",
            },
        )
        assert unknown.json()["response"]["result"] == "UNKNOWN_SESSION"
    finally:
        process.terminate()
        await process.communicate()


async def test_an_emsp_down_when_the_cdr_is_made_gets_it_once_after_its_restart(
    network: tuple[Network, Hosts],
    roaming_pair: tuple[Deployment, Deployment, Stations],
    tmp_path: Path,
) -> None:
    make, _hosts = network
    cpo, emsp, stations = roaming_pair
    scenario = tmp_path / "charge.yaml"
    scenario.write_text(CHARGE)
    process = await stations.run("CO-ICG-", "1.6", "--scenario", str(scenario))

    async def charging() -> bool:
        return (await emsp.system.store.sessions.list(filters={"status": "ACTIVE"})).total == 1

    await until(charging, 30)
    await make.stop(emsp)  # the eMSP goes down while the car charges
    result = await summary(process)
    assert result["sessions"] == {"started": 1, "completed": 1}
    [partner] = (await cpo.roaming.registrar.partners.list()).items

    async def cdr_waiting() -> bool:
        entries, _ = await cpo.roaming.outbox.repository.entries(partner.id, state="PENDING")
        # The session's last PUT (retried at the head of the queue), the CDR behind it, and
        # the EVSE's status after the car left.
        kinds = [e.kind for e in entries]
        return "cdr" in kinds and kinds.index("session") < kinds.index("cdr")

    await until(cdr_waiting, 30)
    assert await cpo.system.store.cdrs.count() == 1
    emsp = await make.restart(emsp)

    async def delivered() -> bool:
        return (await cpo.roaming.outbox.repository.backlog(partner.id)).pending == 0

    await until(delivered, 30)
    await asyncio.sleep(0.5)  # long enough for any second delivery to show
    [cdr] = (await emsp.system.store.cdrs.list()).items
    check_cdr(cdr, "COP", CARD)
    session = await emsp.system.store.sessions.get("CO", "ICG", cdr.session_id or "")
    assert session.status is domain.SessionStatus.COMPLETED
    sent, _ = await cpo.roaming.outbox.repository.entries(partner.id, object_key=None, state="SENT")
    assert [e.kind for e in sent].count("cdr") == 1
