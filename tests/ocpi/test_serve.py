"""Issue 6's "done when", with real processes: ``intercarga serve`` deployments on free ports.

A CPO (CO-ICG and CL-ICG, the example network), an eMSP (CO-EMS) and, for the hub flows, a
third deployment acting as HUB. They register from zero with the CLI (TOKEN_A only). Simulated
OCPP stations (``intercarga simulate``) charge at the CPO: an RFID card only the eMSP knows
(real-time authorization, whitelist NEVER) and an app token through START_SESSION. Both end
with the priced CDR at the eMSP, which sees each session while it charges. An eMSP stopped
during a charge and started again gets the CDR exactly once. OCPI 2.2.1 and 2.3.0 between the
parties; a 2.1.1 partner (the test itself, as a legacy platform) pulls locations and pushes a
token. Everything goes over real HTTP and WebSockets on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from tests.ocpi.processes import (
    APP,
    CARD,
    PASSWORD,
    Server,
    Watcher,
    configure,
    register,
    simulate,
    until,
)
from tests.ocpi.stations import CHARGE, IDLE

pytestmark = pytest.mark.slow

CPO_PARTIES = [("CO", "ICG", "CPO"), ("CL", "ICG", "CPO")]
EMSP_PARTIES = [("CO", "EMS", "EMSP")]


def _prepare(cpo: Server, emsp: Server) -> None:
    """Station passwords at the CPO; the driver's card and app token at the eMSP."""
    with cpo.api() as at_cpo, emsp.api() as at_emsp:
        for station_id in ("CO-ICG-0001", "CL-ICG-0001"):
            station = at_cpo.get(f"/api/v1/stations/{station_id}").json()
            station.pop("connection", None)
            station["password"] = PASSWORD
            assert at_cpo.put(f"/api/v1/stations/{station_id}", json=station).status_code == 200
        for uid, kind, contract in (
            (CARD, "RFID", "CO-EMS-C00000009-L"),
            (APP, "APP_USER", "CO-EMS-C00000010-2"),
        ):
            token = {
                "country_code": "CO",
                "party_id": "EMS",
                "uid": uid,
                "type": kind,
                "contract_id": contract,
                "issuer": "Movilidad",
                "whitelist": "NEVER",  # the CPO must ask the eMSP every time
            }
            assert at_emsp.put(f"/api/v1/tokens/CO/EMS/{uid}", json=token).status_code == 201


def _partner(server: Server) -> dict[str, Any]:
    with server.api() as api:
        [partner] = api.get("/api/v1/partners").json()
    assert isinstance(partner, dict)
    return partner


def _cdrs_for(emsp: Server, uid: str) -> list[dict[str, Any]]:
    with emsp.api() as api:
        items = api.get("/api/v1/cdrs", params={"limit": 200}).json()["items"]
    return [cdr for cdr in items if cdr["cdr_token"]["uid"] == uid]


def _check_cdr(cdr: dict[str, Any], country: str, currency: str, uid: str) -> None:
    assert (cdr["country_code"], cdr["party_id"]) == (country, "ICG")
    assert (cdr["cdr_token"]["country_code"], cdr["cdr_token"]["party_id"]) == ("CO", "EMS")
    assert cdr["cdr_token"]["uid"] == uid
    assert cdr["currency"] == currency
    assert Decimal(cdr["total_energy"]) > 0
    assert Decimal(cdr["total_cost"]["excl_vat"]) > 0 and cdr["tariffs"], "priced with a tariff"


def rfid_charge(cpo: Server, emsp: Server) -> None:
    """A card of the eMSP's (whitelist NEVER) starts a charge at a 1.6 station of the CPO, which
    asks the eMSP in real time."""
    asked = _authorizations(emsp)
    with Watcher(emsp) as watcher:
        station = simulate(cpo, "CO-ICG-", "1.6")
        out, err = station.communicate(timeout=180)
    assert station.returncode == 0, err + out
    assert json.loads(out)["sessions"] == {"started": 1, "completed": 1}
    assert any(s["token_uid"] == CARD for s in watcher.active), "eMSP saw it while charging"
    [cdr] = until(lambda: _cdrs_for(emsp, CARD))
    _check_cdr(cdr, "CO", "COP", CARD)
    with emsp.api() as at_emsp:
        session = at_emsp.get(f"/api/v1/sessions/CO/ICG/{cdr['session_id']}").json()
    assert session["status"] == "COMPLETED"
    assert session["auth_method"] == cdr["auth_method"] == "AUTH_REQUEST"
    assert session["authorization_reference"] == cdr["authorization_reference"] is not None
    assert _authorizations(emsp) > asked, "the CPO asked the eMSP (real-time authorization)"
    with cpo.api() as at_cpo:  # the card the eMSP vouched for, cached at the CPO
        assert at_cpo.get(f"/api/v1/tokens/CO/EMS/{CARD}").status_code == 200


def _authorizations(emsp: Server) -> float:
    """Real-time authorization requests the eMSP answered, as its /metrics counts them."""
    metrics = httpx.get(f"{emsp.base_url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("intercarga_http_requests_total{")
        and 'method="POST"' in line
        and "/authorize" in line
        and 'status="200"' in line
    )


def _command(emsp: Server, **body: Any) -> dict[str, Any]:
    """An OCPI command the eMSP sends; returns it once the CPO's asynchronous result is in."""
    with emsp.api() as at_emsp:
        sent = at_emsp.post("/api/v1/roaming/commands", json=body)
        assert sent.status_code == 201, sent.text
        assert sent.json()["response"]["result"] == "ACCEPTED", sent.text

        def answered() -> dict[str, Any] | None:
            shown: dict[str, Any] = at_emsp.get(
                f"/api/v1/roaming/commands/{sent.json()['id']}"
            ).json()
            return shown if shown["result"] is not None else None

        return until(answered)


def app_charge(cpo: Server, emsp: Server, folder: Path) -> None:
    """An app token starts and stops a charge at a 2.0.1 station through OCPI commands."""
    scenario = folder / "idle.yaml"
    scenario.write_text(IDLE)
    station = simulate(cpo, "CL-ICG-", "2.0.1", "--scenario", str(scenario), "--duration", "150")
    try:
        with cpo.api() as at_cpo:

            def booted() -> bool:
                found = at_cpo.get("/api/v1/stations/CL-ICG-0001").json()
                connected = at_cpo.get("/api/v1/stations/CL-ICG-0001/connection").json()
                return bool(connected["connected"] and found["vendor"] == "Intercarga")

            until(booted)
        started = _command(
            emsp,
            command="START_SESSION",
            country_code="CL",
            party_id="ICG",
            token_uid=APP,
            location_id="SCL-PROVIDENCIA",
            evse_uid="SCL-PROV-1",
        )
        assert started["result"]["result"] == "ACCEPTED", started
        with emsp.api() as at_emsp:

            def charging() -> list[dict[str, Any]]:
                found = at_emsp.get("/api/v1/sessions", params={"status": "ACTIVE", "token": APP})
                items: list[dict[str, Any]] = found.json()["items"]
                return items

            [session] = until(charging)
        assert session["auth_method"] == "COMMAND"
        time.sleep(1)  # ten simulated minutes of charging
        stopped = _command(
            emsp, command="STOP_SESSION", country_code="CL", party_id="ICG",
            session_id=session["id"],
        )  # fmt: skip
        assert stopped["result"]["result"] == "ACCEPTED", stopped
        [cdr] = until(lambda: _cdrs_for(emsp, APP))
        _check_cdr(cdr, "CL", "CLP", APP)
    finally:
        station.terminate()
        station.communicate(timeout=30)


def _nothing_left(server: Server) -> None:
    """Every push delivered: nothing pending or failed for any partner."""
    with server.api() as api:

        def delivered() -> bool:
            partners = api.get("/api/v1/partners").json()
            return all(p["outbox"]["pending"] == 0 for p in partners)

        until(delivered)
        for partner in api.get("/api/v1/partners").json():
            assert partner["outbox"]["failed"] == 0, partner


class Deploy(Protocol):
    def __call__(
        self,
        name: str,
        parties: list[tuple[str, str, str]],
        *,
        seed: bool = False,
        versions: list[str] | None = None,
    ) -> Server: ...


@pytest.fixture
def deploy(tmp_path: Path) -> Iterator[Deploy]:
    """Configures deployments in the test's folder; stops every one of them at the end."""
    made: list[Server] = []

    def make(
        name: str,
        parties: list[tuple[str, str, str]],
        *,
        seed: bool = False,
        versions: list[str] | None = None,
    ) -> Server:
        server = configure(tmp_path / name, parties, seed=seed, versions=versions)
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            server.stop()


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_a_cpo_and_an_emsp_register_from_zero_and_both_flows_end_in_priced_cdrs(
    deploy: Deploy, tmp_path: Path, version: str
) -> None:
    cpo = deploy("cpo", CPO_PARTIES, seed=True)
    # The eMSP speaks only ``version``: the highest version both have is the one they use.
    emsp = deploy("emsp", EMSP_PARTIES, versions=[version])
    cpo.start()
    emsp.start()
    _prepare(cpo, emsp)
    register(cpo, emsp)
    assert _partner(cpo)["version"] == _partner(emsp)["version"] == version
    rfid_charge(cpo, emsp)
    app_charge(cpo, emsp, tmp_path)
    _nothing_left(cpo)
    _nothing_left(emsp)


def test_both_flows_through_a_third_instance_acting_as_hub(deploy: Deploy, tmp_path: Path) -> None:
    hub = deploy("hub", [("CO", "HUB", "HUB")])
    cpo = deploy("cpo", CPO_PARTIES, seed=True)
    # The CPO reaches the hub at 2.3.0, the eMSP at 2.2.1: the hub translates between them.
    emsp = deploy("emsp", EMSP_PARTIES, versions=["2.2.1"])
    for server in (hub, cpo, emsp):
        server.start()
    _prepare(cpo, emsp)
    register(hub, cpo)
    register(hub, emsp)
    assert _partner(cpo)["version"] == "2.3.0" and _partner(emsp)["version"] == "2.2.1"
    rfid_charge(cpo, emsp)
    app_charge(cpo, emsp, tmp_path)
    with emsp.api() as at_emsp:  # it joined the hub after the CPO, and has its Locations
        shown = {loc["id"] for loc in at_emsp.get("/api/v1/locations").json()["items"]}
        assert {"BOG-USAQUEN", "SCL-PROVIDENCIA"} <= shown
    with hub.api() as at_hub:  # the hub routes sessions and CDRs, it keeps none
        assert at_hub.get("/api/v1/cdrs").json()["total"] == 0
        assert at_hub.get("/api/v1/sessions").json()["total"] == 0
    for server in (cpo, hub, emsp):
        _nothing_left(server)


def test_an_emsp_stopped_during_the_charge_gets_the_cdr_exactly_once_after_its_restart(
    deploy: Deploy, tmp_path: Path
) -> None:
    cpo = deploy("cpo", CPO_PARTIES, seed=True)
    emsp = deploy("emsp", EMSP_PARTIES)
    cpo.start()
    emsp.start()
    _prepare(cpo, emsp)
    register(cpo, emsp)
    scenario = tmp_path / "charge.yaml"
    scenario.write_text(CHARGE)
    station = simulate(cpo, "CO-ICG-", "1.6", "--scenario", str(scenario))
    with emsp.api() as at_emsp:
        until(lambda: at_emsp.get("/api/v1/sessions", params={"status": "ACTIVE"}).json()[
            "total"])  # fmt: skip
    emsp.stop()  # the eMSP goes down while the car charges
    out, err = station.communicate(timeout=180)
    assert station.returncode == 0, err + out
    partner_id = _partner(cpo)["id"]
    with cpo.api() as at_cpo:

        def cdr_waiting() -> bool:
            pending = at_cpo.get(
                f"/api/v1/partners/{partner_id}/outbox", params={"state": "PENDING"}
            ).json()
            return "cdr" in [entry["kind"] for entry in pending]

        until(cdr_waiting)
        assert at_cpo.get("/api/v1/cdrs").json()["total"] == 1
    emsp.start()
    _nothing_left(cpo)
    time.sleep(1)  # long enough for a second delivery to show
    [cdr] = _cdrs_for(emsp, CARD)
    _check_cdr(cdr, "CO", "COP", CARD)
    with emsp.api() as at_emsp:
        assert at_emsp.get("/api/v1/cdrs").json()["total"] == 1
        session = at_emsp.get(f"/api/v1/sessions/CO/ICG/{cdr['session_id']}").json()
        assert session["status"] == "COMPLETED"
    with cpo.api() as at_cpo:
        sent = at_cpo.get(
            f"/api/v1/partners/{partner_id}/outbox", params={"state": "SENT", "limit": 500}
        ).json()
    assert [entry["kind"] for entry in sent].count("cdr") == 1


class _Legacy211(BaseHTTPRequestHandler):
    """A legacy eMSP platform that speaks only OCPI 2.1.1: its versions and credentials."""

    base = ""
    token_b = "legacy-token-b-0123456789"
    seen_tokens: list[str] = []

    def do_GET(self) -> None:
        self.seen_tokens.append(self.headers.get("Authorization", ""))
        if self.path == "/ocpi/versions":
            data: Any = [{"version": "2.1.1", "url": f"{self.base}/ocpi/2.1.1"}]
        elif self.path == "/ocpi/2.1.1":
            data = {
                "version": "2.1.1",
                "endpoints": [
                    {"identifier": "credentials", "url": f"{self.base}/ocpi/2.1.1/credentials"},
                    {"identifier": "tokens", "url": f"{self.base}/ocpi/2.1.1/tokens"},
                ],
            }
        else:
            self.send_response(404)
            self.end_headers()
            return
        body = {
            "data": data,
            "status_code": 1000,
            "timestamp": "2026-11-24T12:00:00Z",
        }
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_a_2_1_1_partner_pulls_locations_and_pushes_tokens(deploy: Deploy) -> None:
    cpo = deploy("cpo", CPO_PARTIES, seed=True)
    legacy = ThreadingHTTPServer(("127.0.0.1", 0), _Legacy211)
    _Legacy211.base = f"http://127.0.0.1:{legacy.server_address[1]}"
    thread = threading.Thread(target=legacy.serve_forever, daemon=True)
    thread.start()
    try:
        cpo.start()
        with cpo.api() as at_cpo:
            invitation = at_cpo.post("/api/v1/partners/invitations", json={}).json()
        # 2.1.1 sends tokens as they are, without base64.
        headers = {"Authorization": f"Token {invitation['token']}"}
        with httpx.Client(timeout=10) as http:
            versions = http.get(invitation["versions_url"], headers=headers).json()["data"]
            [v211] = [v for v in versions if v["version"] == "2.1.1"]
            details = http.get(v211["url"], headers=headers).json()["data"]
            urls = {e["identifier"]: e["url"] for e in details["endpoints"]}
            credentials = {
                "url": f"{_Legacy211.base}/ocpi/versions",
                "token": _Legacy211.token_b,
                "party_id": "LEG",
                "country_code": "CO",
                "business_details": {"name": "Legacy eMSP"},
            }
            answer = http.post(urls["credentials"], json=credentials, headers=headers)
            assert answer.json()["status_code"] == 1000, answer.text
            token_c = answer.json()["data"]["token"]
            assert any(_Legacy211.token_b in seen for seen in _Legacy211.seen_tokens)
            headers = {"Authorization": f"Token {token_c}"}
            pulled = http.get(urls["locations"], headers=headers)
            assert pulled.json()["status_code"] == 1000, pulled.text
            # 2.1.1 has no OCPI-to headers to pick one of our parties: a 2.1.1 partner sees
            # our first CPO party's Locations (CO-ICG), in the 2.1.1 shape.
            [location] = pulled.json()["data"]
            assert location["id"] == "BOG-USAQUEN" and pulled.headers["X-Total-Count"] == "1"
            assert "country_code" not in location and location["evses"][0]["connectors"]
            one = http.get(f"{urls['locations']}/BOG-USAQUEN", headers=headers).json()
            assert one["data"]["id"] == "BOG-USAQUEN", one
            token = {
                "uid": "LEGACY-1",
                "type": "RFID",
                "auth_id": "CO-LEG-C00000009-4",
                "issuer": "Legacy eMSP",
                "valid": True,
                "whitelist": "ALLOWED",
                "last_updated": "2026-11-24T12:00:00Z",
            }
            pushed = http.put(f"{urls['tokens']}/CO/LEG/LEGACY-1", json=token, headers=headers)
            assert pushed.json()["status_code"] == 1000, pushed.text
        with cpo.api() as at_cpo:
            stored = at_cpo.get("/api/v1/tokens/CO/LEG/LEGACY-1").json()
            assert stored["contract_id"] == "CO-LEG-C00000009-4"
            assert _partner(cpo)["version"] == "2.1.1"
    finally:
        legacy.shutdown()
        legacy.server_close()
