"""Issue 6 with real processes: two ``intercarga serve`` on free ports, a CPO and an eMSP.

They register from zero with the CLI (TOKEN_A only); a simulated OCPP 1.6 station charges at
the CPO with a card only the eMSP knows; the eMSP authorizes it in real time, sees the session
and gets the priced CDR. Everything goes over real HTTP and WebSockets on 127.0.0.1, through the
composition root's wiring of roaming to the CSMS.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.test_commands import _environment, free_port, intercarga

PASSWORD = "serve-station-password-123"
CARD = "04A10000000001"


@dataclass
class Server:
    folder: Path
    http: int
    ocpp: int
    admin: str
    process: subprocess.Popen[str] | None = None

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.http}",
            headers={"Authorization": f"Bearer {self.admin}"},
            timeout=10,
        )


def _configure(folder: Path, parties: list[tuple[str, str, str]], seed: bool) -> Server:
    folder.mkdir()
    server = Server(folder, free_port(), free_port(), f"admin-{folder.name}-0123456789")
    lines = [
        f'database_url = "sqlite+aiosqlite:///{folder}/intercarga.db"',
        f'admin_token = "{server.admin}"',
        f"http_port = {server.http}",
        f"ocpp_port = {server.ocpp}",
        f'public_url = "http://127.0.0.1:{server.http}"',
        f"seed_example_network = {'true' if seed else 'false'}",
    ]
    for country, party_id, role in parties:
        lines += [
            "[[ocpi.parties]]",
            f'country_code = "{country}"',
            f'party_id = "{party_id}"',
            f'role = "{role}"',
            f'name = "{party_id} {role}"',
        ]
    (folder / "intercarga.toml").write_text("\n".join(lines) + "\n")
    return server


def _start(server: Server) -> None:
    server.process = subprocess.Popen(
        [sys.executable, "-m", "intercarga", "serve"],
        cwd=server.folder,
        env=_environment(None),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{server.http}/healthz", timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        assert server.process.poll() is None, (
            server.process.stderr.read() if server.process.stderr else ""
        )
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)


def _stop(server: Server) -> None:
    if server.process is not None and server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=15)


@pytest.fixture
def cpo_and_emsp(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    cpo = _configure(tmp_path / "cpo", [("CO", "ICG", "CPO"), ("CL", "ICG", "CPO")], seed=True)
    emsp = _configure(tmp_path / "emsp", [("CO", "EMS", "EMSP")], seed=False)
    try:
        _start(cpo)
        _start(emsp)
        yield cpo, emsp
    finally:
        _stop(cpo)
        _stop(emsp)


def _until(check: Any, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_two_serve_processes_roam_from_token_a_to_the_priced_cdr(
    cpo_and_emsp: tuple[Server, Server],
) -> None:
    cpo, emsp = cpo_and_emsp
    with cpo.api() as at_cpo, emsp.api() as at_emsp:
        station = at_cpo.get("/api/v1/stations/CO-ICG-0001").json()
        station.pop("connection", None)
        station["password"] = PASSWORD
        assert at_cpo.put("/api/v1/stations/CO-ICG-0001", json=station).status_code == 200
        token = {
            "country_code": "CO",
            "party_id": "EMS",
            "uid": CARD,
            "contract_id": "CO-EMS-C00000009-L",
            "issuer": "Movilidad",
            "whitelist": "NEVER",
        }
        assert at_emsp.put(f"/api/v1/tokens/CO/EMS/{CARD}", json=token).status_code == 201

        invited = intercarga("partners", "invite", "--name", "Movilidad", cwd=cpo.folder)
        assert invited.returncode == 0, invited.stderr
        lines = dict(line.split(":", 1) for line in invited.stdout.strip().splitlines())
        url, token_a = lines["versions URL"].strip(), lines["TOKEN_A"].strip()
        registered = intercarga(
            "partners", "register", "--url", url, "--token", token_a, cwd=emsp.folder
        )
        assert registered.returncode == 0, registered.stderr

        simulated = subprocess.run(
            [
                sys.executable, "-m", "intercarga", "simulate",
                "--url", f"ws://127.0.0.1:{cpo.ocpp}/ocpp", "--stations", "1", "--ocpp", "1.6",
                "--id-prefix", "CO-ICG-", "--password", PASSWORD, "--speed", "600", "--json",
            ],
            env=_environment(None),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )  # fmt: skip
        assert simulated.returncode == 0, simulated.stderr + simulated.stdout

        def cdr() -> dict[str, Any] | None:
            found = at_emsp.get("/api/v1/cdrs").json()
            return found["items"][0] if found["total"] == 1 else None

        arrived = _until(cdr)
        assert arrived["cdr_token"]["uid"] == CARD
        assert (arrived["country_code"], arrived["party_id"]) == ("CO", "ICG")
        assert arrived["currency"] == "COP" and Decimal(arrived["total_cost"]["excl_vat"]) > 0
        sessions = at_emsp.get("/api/v1/sessions").json()
        assert [s["status"] for s in sessions["items"]] == ["COMPLETED"]
        [partner] = at_cpo.get("/api/v1/partners").json()
        assert partner["outbox"]["pending"] == 0 and partner["outbox"]["failed"] == 0
        assert partner["outbox"]["sent"] >= 3  # sessions, the CDR, EVSE statuses
