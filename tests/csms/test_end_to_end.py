"""Simulated 1.6 and 2.0.1 stations charge against the CSMS; the admin API shows the sessions.

The stations are `intercarga simulate` processes (real WebSockets on 127.0.0.1); the CSMS runs
in the test with the example network, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from intercarga.app import System
from intercarga.domain import Token, TokenType
from intercarga.security import hash_password
from intercarga.sim.example import seed_example_network

PASSWORD = "sim-station-password-1234"


@pytest.fixture
async def csms(system: System) -> AsyncIterator[str]:
    await seed_example_network(system.store)
    for station_id in ("CL-ICG-0001", "CO-ICG-0001"):
        station = await system.store.stations.get(station_id)
        await system.store.stations.put(
            station.model_copy(update={"password_hash": hash_password(PASSWORD)})
        )
    # The simulator's default card for station number 1.
    await system.store.tokens.put(
        Token(
            country_code="CL",
            party_id="ICG",
            uid="04A10000000001",
            type=TokenType.RFID,
            contract_id="CL-ICG-C00000001-Q",
            issuer="Intercarga Chile",
        )
    )
    sock = socket.create_server(("127.0.0.1", 0))
    await system.csms.start(sock)
    try:
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}/ocpp"
    finally:
        await system.csms.stop()


async def simulate(url: str, prefix: str, version: str) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intercarga", "simulate",
        "--url", url, "--stations", "1", "--ocpp", version, "--id-prefix", prefix,
        "--password", PASSWORD, "--speed", "600", "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode() + stdout.decode()
    summary: dict[str, object] = json.loads(stdout)
    return summary


@pytest.mark.parametrize(
    ("prefix", "version", "currency"), [("CL-ICG-", "2.0.1", "CLP"), ("CO-ICG-", "1.6", "COP")]
)
async def test_station_charges_and_the_session_is_visible(
    csms: str, client: httpx.AsyncClient, prefix: str, version: str, currency: str
) -> None:
    summary = await simulate(csms, prefix, version)
    assert summary["sessions"] == {"started": 1, "completed": 1}
    station_id = f"{prefix}0001"
    sessions = (await client.get("/api/v1/sessions", params={"station": station_id})).json()
    assert sessions["total"] == 1
    session = sessions["items"][0]
    assert session["status"] == "COMPLETED"
    assert session["token_uid"] == "04A10000000001"
    assert Decimal(session["kwh"]) > 0
    assert abs(Decimal(session["kwh"]) - Decimal(str(summary["energy_kwh"]))) < Decimal("0.01")
    assert session["currency"] == currency
    assert session["evse_uid"] in {"SCL-PROV-1", "BOG-USA-1"}
    cdr = (
        await client.get(
            f"/api/v1/cdrs/{session['country_code']}/{session['party_id']}/{session['id']}"
        )
    ).json()
    assert cdr["session_id"] == session["id"]
    assert Decimal(cdr["total_energy"]) == Decimal(session["kwh"]).quantize(
        Decimal(cdr["total_energy"])
    )
    assert Decimal(cdr["total_cost"]["excl_vat"]) > 0
    station = (await client.get(f"/api/v1/stations/{station_id}")).json()
    assert station["ocpp_version"] == f"ocpp{version}"
    assert station["last_seen"] is not None


async def _until(check: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize(("prefix", "version"), [("CL-ICG-", "2.0.1"), ("CO-ICG-", "1.6")])
async def test_remote_start_and_stop_through_the_admin_api(
    csms: str, client: httpx.AsyncClient, tmp_path: Path, prefix: str, version: str
) -> None:
    scenario = tmp_path / "idle.yaml"
    scenario.write_text("name: idle\nsteps:\n  - boot\n  - wait: {seconds: 100000}\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intercarga", "simulate",
        "--url", csms, "--stations", "1", "--ocpp", version, "--id-prefix", prefix,
        "--password", PASSWORD, "--scenario", str(scenario), "--duration", "60", "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    station_id = f"{prefix}0001"
    try:

        async def booted() -> bool:
            shown = (await client.get(f"/api/v1/stations/{station_id}")).json()
            return (
                bool(shown["connection"]["connected"]) and shown["ocpp_version"] == f"ocpp{version}"
            )

        await _until(booted)
        started = await client.post(
            f"/api/v1/stations/{station_id}/commands/remote_start",
            json={"id_token": {"value": "04A10000000001", "type": "ISO14443"}, "evse": 1},
        )
        assert started.status_code == 200, started.text
        assert started.json()["result"]["status"] == "Accepted"

        async def active() -> bool:
            found = (
                await client.get(
                    "/api/v1/sessions", params={"station": station_id, "status": "ACTIVE"}
                )
            ).json()
            return bool(found["total"])

        await _until(active)
        session = (await client.get("/api/v1/sessions", params={"station": station_id})).json()[
            "items"
        ][0]
        assert session["auth_method"] == "COMMAND"
        stopped = await client.post(
            f"/api/v1/stations/{station_id}/commands/remote_stop",
            json={"transaction_id": session["transaction_id"]},
        )
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["result"]["status"] == "Accepted"

        async def completed() -> bool:
            found = (
                await client.get(
                    "/api/v1/sessions", params={"station": station_id, "status": "COMPLETED"}
                )
            ).json()
            return bool(found["total"])

        await _until(completed)
    finally:
        process.terminate()
        await process.communicate()


async def test_command_errors(csms: str, client: httpx.AsyncClient) -> None:
    unknown = await client.post("/api/v1/stations/CL-ICG-0001/commands/teleport", json={})
    assert unknown.status_code == 404
    invalid = await client.post(
        "/api/v1/stations/CL-ICG-0001/commands/remote_start", json={"evse": "x"}
    )
    assert invalid.status_code == 422
    assert {error["field"] for error in invalid.json()["errors"]} >= {"id_token", "evse"}
    offline = await client.post("/api/v1/stations/CL-ICG-0001/commands/reset", json={})
    assert offline.status_code == 409
