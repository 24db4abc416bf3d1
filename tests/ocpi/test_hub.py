"""A third deployment as HUB between the CPO and the eMSP: the two flows of issue 6 through it,
broadcast push, open routing, hub client info, and the hub's errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from intercarga import domain
from intercarga.domain.events import EvseStatusChanged
from intercarga.ocpi.transport import authorization_header
from tests.ocpi.conftest import Deployment, Hosts, Network, connect, party, until
from tests.ocpi.stations import (
    APP,
    CARD,
    Stations,
    charge,
    check_cdr,
    seed_cpo,
    seed_emsp,
)

pytestmark = pytest.mark.slow


@pytest.fixture
async def through_hub(
    network: tuple[Network, Hosts], request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Deployment, Deployment, Deployment, Stations]]:
    """CPO and eMSP, each registered only with the hub, at the versions ``request.param``."""
    make, _hosts = network
    cpo_version, emsp_version = getattr(request, "param", ("2.2.1", "2.2.1"))
    hub = await make("hub", [party("CO", "HUB", "HUB", "Hub Andino")])
    cpo = await make("cpo", [party("CL", "ICG", "CPO"), party("CO", "ICG", "CPO")])
    emsp = await make("emsp", [party("CO", "EMS", "EMSP", "Movilidad")])
    await seed_cpo(cpo)
    await seed_emsp(emsp, domain.Whitelist.NEVER)
    await connect(hub, cpo, cpo_version)
    await connect(hub, emsp, emsp_version)
    stations = Stations(cpo)
    await stations.start()
    try:
        yield hub, cpo, emsp, stations
    finally:
        await cpo.system.csms.stop()


async def _hub_partner(deployment: Deployment) -> str:
    [partner] = (await deployment.roaming.registrar.partners.list()).items
    return partner.id


async def _told_of_the_cpo(emsp: Deployment) -> bool:
    """Whether the hub told the eMSP that both CPO parties are connected."""
    infos = await emsp.roaming.client_info.all()
    return {(i.country_code, i.party_id, i.role, i.status) for i in infos} >= {
        ("CO", "ICG", "CPO", "CONNECTED"),
        ("CL", "ICG", "CPO", "CONNECTED"),
    }


@pytest.mark.parametrize(
    "through_hub", [("2.2.1", "2.2.1"), ("2.3.0", "2.3.0"), ("2.2.1", "2.3.0")], indirect=True
)
async def test_rfid_through_the_hub_authorized_by_open_routing_and_the_cdr_routed_to_the_emsp(
    through_hub: tuple[Deployment, Deployment, Deployment, Stations],
) -> None:
    hub, cpo, emsp, stations = through_hub
    seen, cdr = await charge(emsp, stations, "CO-ICG-", "1.6")
    assert seen, "the eMSP saw the session while it charged"
    check_cdr(cdr, "COP", CARD)
    # The CPO kept each ask: through the hub, answered by the eMSP the hub found.
    asked = await cpo.system.store.authorizations.of_country("CO")
    assert asked
    assert {(a.outcome.value, a.via_hub, a.emsp) for a in asked} == {("accepted", True, "CO-EMS")}
    # The hub stores no one's sessions or CDRs: it routes them.
    assert await hub.system.store.cdrs.count() == 0
    assert await hub.system.store.sessions.count() == 0


async def test_an_app_token_starts_a_session_through_the_hub(
    through_hub: tuple[Deployment, Deployment, Deployment, Stations], tmp_path: Path
) -> None:
    hub, cpo, emsp, stations = through_hub
    scenario = tmp_path / "idle.yaml"
    scenario.write_text("name: idle\nsteps:\n  - boot\n  - wait: {seconds: 100000}\n")
    process = await stations.run("CO-ICG-", "1.6", "--scenario", str(scenario), "--duration", "90")
    try:

        async def booted() -> bool:
            station = await cpo.system.store.stations.get("CO-ICG-0001")
            return (
                cpo.system.csms.link("CO-ICG-0001") is not None and station.vendor == "Intercarga"
            )

        await until(booted, 30)
        body = {
            "command": "START_SESSION",
            "country_code": "CO",
            "party_id": "ICG",
            "token_uid": APP,
            "location_id": "BOG-USAQUEN",
            "evse_uid": "BOG-USA-1",
        }
        sent = (await emsp.admin.post("/api/v1/roaming/commands", json=body)).json()
        assert sent["response"]["result"] == "ACCEPTED", sent
        assert sent["request"]["response_url"].startswith("http://emsp.test/")

        async def result() -> bool:
            shown = (await emsp.admin.get(f"/api/v1/roaming/commands/{sent['id']}")).json()
            return shown["result"] is not None and shown["result"]["result"] == "ACCEPTED"

        await until(result, 30)
        # The CPO answered at the hub's URL, which the hub kept for the eMSP's.
        [routed] = (await hub.admin.get("/api/v1/roaming/commands")).json()
        assert routed["direction"] == "ROUTED"
        assert routed["response_url"] == sent["request"]["response_url"]

        async def charging() -> bool:
            return (await emsp.system.store.sessions.list(filters={"status": "ACTIVE"})).total == 1

        await until(charging, 30)
        [session] = (await emsp.system.store.sessions.list()).items
        stop = {"command": "STOP_SESSION", "country_code": "CO", "party_id": "ICG"}
        stopped = await emsp.admin.post(
            "/api/v1/roaming/commands", json={**stop, "session_id": session.id}
        )
        assert stopped.json()["response"]["result"] == "ACCEPTED"

        async def cdr_arrived() -> bool:
            return await emsp.system.store.cdrs.count() == 1

        await until(cdr_arrived, 30)
    finally:
        process.terminate()
        await process.communicate()


async def test_locations_are_broadcast_and_client_info_tells_who_is_connected(
    through_hub: tuple[Deployment, Deployment, Deployment, Stations],
) -> None:
    hub, cpo, emsp, _stations = through_hub
    # The hub told each platform about the other's parties.
    await until(lambda: _told_of_the_cpo(emsp))

    async def cpo_told() -> bool:
        # The hub's lane to the CPO is not the one to the eMSP: either may be first.
        return {(i.party_id, i.role) for i in await cpo.roaming.client_info.all()} == {
            ("EMS", "EMSP")
        }

    await until(cpo_told)
    # A full push from the CPO goes to the hub once, and the hub broadcasts it.
    queued = await cpo.admin.post(f"/api/v1/partners/{await _hub_partner(cpo)}/sync")
    assert queued.json()["queued"] == 5  # two Locations, three Tariffs

    async def received() -> bool:
        return (
            await emsp.system.store.locations.count(),
            await emsp.system.store.tariffs.count(),
        ) == (2, 3)

    await until(received)
    assert await hub.system.store.locations.count() == 0
    # An EVSE status is a PATCH broadcast the same way.
    key = ("CO", "ICG", "BOG-USAQUEN")
    at = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    await cpo.system.store.locations.set_evse_status(
        key, "BOG-USA-1", domain.EVSEStatus.BLOCKED, at
    )
    await cpo.system.bus.publish(
        EvseStatusChanged(*key, "BOG-USA-1", domain.EVSEStatus.BLOCKED, at)
    )

    async def blocked() -> bool:
        location = await emsp.system.store.locations.get(*key)
        return location.evse("BOG-USA-1").status is domain.EVSEStatus.BLOCKED  # type: ignore[union-attr]

    await until(blocked)
    # The hub serves its client list too.
    [partner] = (await emsp.roaming.registrar.partners.list()).items
    assert partner.outgoing_token is not None
    listed = await emsp.ocpi.get(
        "http://hub.test/ocpi/hub/2.2.1/sender/hubclientinfo",
        headers={"Authorization": authorization_header(partner.outgoing_token)},
    )
    parties = {(i["country_code"], i["party_id"], i["status"]) for i in listed.json()["data"]}
    assert ("CO", "ICG", "CONNECTED") in parties and ("CO", "EMS", "CONNECTED") in parties


async def test_what_the_hub_told_stays_when_the_emsp_updates_its_credentials(
    through_hub: tuple[Deployment, Deployment, Deployment, Stations],
) -> None:
    hub, _cpo, emsp, _stations = through_hub
    await until(lambda: _told_of_the_cpo(emsp))
    # The hub sends nothing meanwhile: what the eMSP holds is what it kept, not a new copy.
    await hub.roaming.outbox.stop()
    updated = await emsp.admin.put(f"/api/v1/partners/{await _hub_partner(emsp)}/credentials")
    assert updated.status_code == 200, updated.text
    assert await _told_of_the_cpo(emsp)


async def test_the_hub_answers_4001_for_an_unknown_party_and_4003_for_an_unreachable_one(
    network: tuple[Network, Hosts],
    through_hub: tuple[Deployment, Deployment, Deployment, Stations],
) -> None:
    _make, hosts = network
    _hub, cpo, _emsp, _stations = through_hub
    [to_hub] = (await cpo.roaming.registrar.partners.list()).items
    assert to_hub.outgoing_token is not None
    headers: dict[str, Any] = {
        "Authorization": authorization_header(to_hub.outgoing_token),
        "OCPI-from-country-code": "CO",
        "OCPI-from-party-id": "ICG",
        "OCPI-to-country-code": "PE",
        "OCPI-to-party-id": "XYZ",
    }
    url = "http://hub.test/ocpi/hub/2.2.1/receiver/tokens/CO/EMS/X"
    unknown = await cpo.ocpi.get(url, headers=headers)
    assert unknown.json()["status_code"] == 4001
    hosts.down.add("emsp.test")
    down = await cpo.ocpi.get(
        url, headers={**headers, "OCPI-to-country-code": "CO", "OCPI-to-party-id": "EMS"}
    )
    # tokens RECEIVER is a CPO interface: the eMSP does not offer it, so nobody hosts that.
    assert down.json()["status_code"] == 4001
    session_url = "http://hub.test/ocpi/hub/2.2.1/receiver/sessions/CO/ICG/S1"
    down = await cpo.ocpi.get(
        session_url, headers={**headers, "OCPI-to-country-code": "CO", "OCPI-to-party-id": "EMS"}
    )
    assert down.json()["status_code"] == 4003
    spoofed = await cpo.ocpi.get(
        session_url,
        headers={**headers, "OCPI-from-party-id": "EMS", "OCPI-from-country-code": "CO"},
    )
    assert spoofed.json()["status_code"] == 2001
