"""Simulated OCPP stations for the roaming tests: a CPO's CSMS on a free port, its example
sites, and an eMSP's drivers (an RFID card the simulator uses, an app token)."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from typing import Any

from intercarga import domain
from intercarga.background import pause, stop_tasks
from intercarga.ocpp.commands import Command, CommandResult, Result
from intercarga.security import hash_password
from intercarga.sim.example import example_network
from tests.ocpi.conftest import Deployment, until

__all__ = [
    "APP",
    "CARD",
    "CHARGE",
    "IDLE",
    "PASSWORD",
    "FakeStations",
    "Stations",
    "charge",
    "check_cdr",
    "seed_cpo",
    "seed_emsp",
    "summary",
]

PASSWORD = "sim-station-password-1234"
CARD = "04A10000000001"  # the simulator's card for station number 1
APP = "APP-0001"

# Scenarios for `intercarga simulate --scenario`: a station that waits for commands, and one
# whole charge with the card.
IDLE = "name: idle\nsteps:\n  - boot\n  - wait: {seconds: 100000}\n"
CHARGE = """name: charge
steps:
  - boot
  - plug_in
  - authorize
  - start
  - charge: {minutes: 60}
  - stop: {reason: Local}
  - unplug
"""


async def seed_cpo(cpo: Deployment) -> None:
    """The example network's Chilean and Colombian sites, stations and tariffs (no tokens)."""
    network = example_network()
    store = cpo.system.store
    for location in network.locations:
        if location.country_code in ("CL", "CO"):
            await store.locations.put(location)
    for tariff in network.tariffs:
        if tariff.country_code in ("CL", "CO"):
            await store.tariffs.put(tariff)
    for station in network.stations:
        if station.country_code in ("CL", "CO"):
            await store.stations.put(
                station.model_copy(update={"password_hash": hash_password(PASSWORD)})
            )


async def seed_emsp(emsp: Deployment, whitelist: domain.Whitelist) -> None:
    for uid, kind in ((CARD, domain.TokenType.RFID), (APP, domain.TokenType.APP_USER)):
        await emsp.system.store.tokens.put(
            domain.Token(
                country_code="CO",
                party_id="EMS",
                uid=uid,
                type=kind,
                contract_id=f"CO-EMS-{uid}",
                issuer="Movilidad",
                whitelist=whitelist,
            )
        )


class Stations:
    """The CPO's OCPP endpoint on a free port, and simulated stations run against it."""

    def __init__(self, cpo: Deployment) -> None:
        self.cpo = cpo
        self.url = ""

    async def start(self) -> None:
        sock = socket.create_server(("127.0.0.1", 0))
        await self.cpo.system.csms.start(sock)
        self.url = f"ws://127.0.0.1:{sock.getsockname()[1]}/ocpp"

    async def run(
        self, prefix: str, version: str, *extra: str, speed: int = 600
    ) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "intercarga", "simulate",
            "--url", self.url, "--stations", "1", "--ocpp", version, "--id-prefix", prefix,
            "--password", PASSWORD, "--speed", str(speed), "--json", *extra,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip


async def summary(process: asyncio.subprocess.Process) -> dict[str, Any]:
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode() + stdout.decode()
    found: dict[str, Any] = json.loads(stdout)
    return found


async def charge(
    emsp: Deployment, stations: Stations, prefix: str, ocpp: str
) -> tuple[list[domain.Session], domain.Cdr]:
    """One default-scenario charge at the CPO's station: the sessions the eMSP saw ACTIVE
    meanwhile, and the one CDR the eMSP got."""
    seen: list[domain.Session] = []
    charged = asyncio.Event()

    async def watch() -> None:
        # Stopped between two reads, never cancelled inside one (see intercarga.background).
        while not charged.is_set():
            seen.extend((await emsp.system.store.sessions.list(filters={"status": "ACTIVE"})).items)
            await pause(charged, 0.02)

    watcher = asyncio.create_task(watch())
    try:
        result = await summary(await stations.run(prefix, ocpp))
    finally:
        charged.set()
        await stop_tasks([watcher], grace=10)
    assert result["sessions"] == {"started": 1, "completed": 1}

    async def cdr_arrived() -> bool:
        return await emsp.system.store.cdrs.count() == 1

    await until(cdr_arrived)
    [cdr] = (await emsp.system.store.cdrs.list()).items
    return seen, cdr


def check_cdr(cdr: domain.Cdr, currency: str, token_uid: str) -> None:
    """The CDR of the eMSP's driver, priced in the CPO's tariff currency."""
    assert (cdr.cdr_token.country_code, cdr.cdr_token.party_id) == ("CO", "EMS")
    assert cdr.cdr_token.uid == token_uid
    assert cdr.currency == currency
    assert cdr.total_energy > 0
    assert cdr.total_cost.excl_vat > 0 and cdr.tariffs, "the CDR is priced with the CPO's tariff"


class FakeStations:
    """Answers every command with ``answers[type]`` (a result, or an error to raise)."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, Command]] = []
        self.answers: dict[type, Result | Exception] = {}

    async def run_command(self, station_id: str, command: Command) -> Result:
        self.ran.append((station_id, command))
        answer = self.answers.get(type(command), CommandResult("Accepted"))
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def station_for_evse(
        self, country_code: str, party_id: str, location_id: str, evse_uid: str
    ) -> tuple[str, int] | None:
        if (location_id, evse_uid) == ("BOG-USAQUEN", "BOG-USA-1"):
            return "CO-ICG-0001", 1
        return None
