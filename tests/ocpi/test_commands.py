"""OCPI Commands between an eMSP and a CPO whose stations are a fake CSMS: every command's
OCPP form, its CommandResponse, and the CommandResult from the station's real answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from intercarga import domain
from intercarga.app import http_app
from intercarga.ocpi.api import routers
from intercarga.ocpi.commands import command_result, reservation_number
from intercarga.ocpi.roaming import Roaming
from intercarga.ocpi.transport import authorization_header
from intercarga.ocpp.commands import (
    CancelReservation,
    CommandResult,
    RemoteStart,
    RemoteStartResult,
    ReserveNow,
    UnlockConnector,
)
from intercarga.ocpp.errors import CallTimeoutError, StationOfflineError
from intercarga.sim.example import example_network
from tests.ocpi.conftest import Deployment, Hosts, Network, connect, party, until
from tests.ocpi.stations import FakeStations


@pytest.fixture
async def pair(network: tuple[Network, Hosts]) -> tuple[Deployment, Deployment, FakeStations]:
    make, _hosts = network
    fake = FakeStations()  # the CPO's stations, which its OCPI commands run on
    cpo = await make("cpo", [party("CO", "ICG", "CPO")], stations=fake)
    emsp = await make("emsp", [party("CO", "EMS", "EMSP")])
    await connect(cpo, emsp, "2.2.1")
    await cpo.system.store.locations.put(example_network().locations[1])
    await emsp.system.store.tokens.put(
        domain.Token(
            country_code="CO",
            party_id="EMS",
            uid="APP-1",
            type=domain.TokenType.APP_USER,
            contract_id="CO-EMS-APP-1",
            issuer="Movilidad",
        )
    )
    return cpo, emsp, fake


async def _send(emsp: Deployment, wait: bool = True, **body: Any) -> dict[str, Any]:
    answer = await emsp.admin.post(
        "/api/v1/roaming/commands", json={"country_code": "CO", "party_id": "ICG", **body}
    )
    assert answer.status_code == 201, answer.text
    record: dict[str, Any] = answer.json()
    if wait and record["response"]["result"] == "ACCEPTED":

        async def answered() -> bool:
            record.update((await emsp.admin.get(f"/api/v1/roaming/commands/{record['id']}")).json())
            return record["result"] is not None

        await until(answered)
    return record


START = {"command": "START_SESSION", "token_uid": "APP-1", "location_id": "BOG-USAQUEN"}


async def test_start_session_runs_a_remote_start_and_the_result_is_the_stations(
    pair: tuple[Deployment, Deployment, FakeStations],
) -> None:
    cpo, emsp, fake = pair
    fake.answers[RemoteStart] = RemoteStartResult("Accepted")
    started = await _send(emsp, **START, evse_uid="BOG-USA-1")
    assert started["response"]["result"] == "ACCEPTED" and started["response"]["timeout"] > 0
    assert started["result"] == {"result": "ACCEPTED"}
    [(station, command)] = fake.ran
    assert station == "CO-ICG-0001"
    assert isinstance(command, RemoteStart)
    assert (command.id_token.value, command.id_token.type, command.evse) == ("APP-1", "Central", 1)
    # The token came with the command: the CPO knows whose driver it is.
    assert (
        await cpo.system.store.tokens.get("CO", "EMS", "APP-1")
    ).type is domain.TokenType.APP_USER
    # Without an EVSE named, an available one served by a station is chosen.
    fake.answers[RemoteStart] = RemoteStartResult("Rejected")
    refused = await _send(emsp, **START)
    assert refused["result"] == {"result": "REJECTED"}


async def test_failures_of_the_station_become_failed_or_timeout(
    pair: tuple[Deployment, Deployment, FakeStations],
) -> None:
    _cpo, emsp, fake = pair
    fake.answers[RemoteStart] = StationOfflineError("offline")
    offline = await _send(emsp, **START, evse_uid="BOG-USA-1")
    assert offline["result"]["result"] == "FAILED"
    assert offline["result"]["message"][0]["text"] == "the station is offline"
    fake.answers[RemoteStart] = CallTimeoutError("silent")
    silent = await _send(emsp, **START, evse_uid="BOG-USA-1")
    assert silent["result"]["result"] == "TIMEOUT"


async def test_commands_the_cpo_cannot_place_are_refused_at_once(
    pair: tuple[Deployment, Deployment, FakeStations],
) -> None:
    _cpo, emsp, fake = pair
    unknown = await _send(emsp, wait=False, **{**START, "location_id": "NOWHERE"})
    assert unknown["response"]["result"] == "REJECTED"
    assert "unknown location" in unknown["response"]["message"][0]["text"]
    stop = await _send(emsp, wait=False, command="STOP_SESSION", session_id="NO-SUCH")
    assert stop["response"]["result"] == "UNKNOWN_SESSION"
    cancel = await _send(emsp, wait=False, command="CANCEL_RESERVATION", reservation_id="R9")
    assert cancel["response"]["result"] == "REJECTED"
    assert fake.ran == []


async def test_a_cpo_whose_roaming_runs_without_stations_answers_not_supported(
    pair: tuple[Deployment, Deployment, FakeStations], network: tuple[Network, Hosts]
) -> None:
    """The CPO's OCPI served by roaming alone (no CSMS beside it, as `intercarga partners`
    builds it): a command is NOT_SUPPORTED at once."""
    cpo, emsp, fake = pair
    hosts = network[1]
    alone = Roaming.build(cpo.settings, cpo.system.store, hosts)
    try:
        app = http_app(cpo.system, routers=routers(alone))
        hosts.apps["cpo.test"] = httpx.ASGITransport(app=app)
        unsupported = await _send(emsp, wait=False, **START)
        assert unsupported["response"]["result"] == "NOT_SUPPORTED"
        assert fake.ran == []
    finally:
        await alone.stop()


async def test_reserve_cancel_and_unlock(
    pair: tuple[Deployment, Deployment, FakeStations],
) -> None:
    _cpo, emsp, fake = pair
    reserved = await _send(
        emsp,
        command="RESERVE_NOW",
        token_uid="APP-1",
        location_id="BOG-USAQUEN",
        evse_uid="BOG-USA-1",
        reservation_id="RES-7",
        expiry_date="2026-11-24T13:00:00Z",
    )
    assert reserved["result"] == {"result": "ACCEPTED"}
    _station, reserve = fake.ran[-1]
    assert isinstance(reserve, ReserveNow)
    assert reserve.reservation_id == reservation_number("RES-7")
    assert reserve.expiry == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    fake.answers[CancelReservation] = CommandResult("Rejected")
    cancelled = await _send(emsp, command="CANCEL_RESERVATION", reservation_id="RES-7")
    assert cancelled["result"] == {"result": "UNKNOWN_RESERVATION"}
    station, cancel = fake.ran[-1]
    assert station == "CO-ICG-0001"
    assert cancel == CancelReservation(reservation_number("RES-7"))
    fake.answers[UnlockConnector] = CommandResult("Unlocked")
    unlocked = await _send(
        emsp,
        command="UNLOCK_CONNECTOR",
        location_id="BOG-USAQUEN",
        evse_uid="BOG-USA-1",
        connector_id="2",
    )
    assert unlocked["result"] == {"result": "ACCEPTED"}
    assert fake.ran[-1] == ("CO-ICG-0001", UnlockConnector(1, 2))


async def test_a_command_result_is_taken_only_from_the_cpo_it_was_sent_to(
    network: tuple[Network, Hosts], pair: tuple[Deployment, Deployment, FakeStations]
) -> None:
    make, _hosts = network
    _cpo, emsp, _fake = pair
    stranger = await make("stranger", [party("CO", "STR", "CPO")])
    await connect(stranger, emsp, "2.2.1")
    sent = await _send(emsp, **START, evse_uid="BOG-USA-1")
    partners = (await emsp.roaming.registrar.partners.list()).items
    [theirs] = [p for p in (await stranger.roaming.registrar.partners.list()).items]
    assert len(partners) == 2 and theirs.outgoing_token is not None
    forged = await stranger.ocpi.post(
        sent["request"]["response_url"],
        json={"result": "REJECTED"},
        headers={"Authorization": authorization_header(theirs.outgoing_token)},
    )
    assert forged.status_code == 404
    shown = (await emsp.admin.get(f"/api/v1/roaming/commands/{sent['id']}")).json()
    assert shown["result"] == {"result": "ACCEPTED"}


def test_ocpp_answers_become_command_results() -> None:
    assert command_result("START_SESSION", "Accepted") == "ACCEPTED"
    assert command_result("UNLOCK_CONNECTOR", "Unlocked") == "ACCEPTED"
    assert command_result("UNLOCK_CONNECTOR", "UnlockFailed") == "FAILED"
    assert command_result("RESERVE_NOW", "Occupied") == "EVSE_OCCUPIED"
    assert command_result("RESERVE_NOW", "Faulted") == "EVSE_INOPERATIVE"
    assert command_result("CANCEL_RESERVATION", "Rejected") == "UNKNOWN_RESERVATION"
    assert command_result("START_SESSION", "Something") == "FAILED"
    assert reservation_number("42") == 42
    assert reservation_number("RES-7") == reservation_number("RES-7") < 2**31
