"""Real-time authorization round trip, CPO → hub → eMSP, as a charging station sees it.

Three ``intercarga serve`` processes on free ports (SQLite each): a hub, a CPO with the example
network and an eMSP. The CPO and the eMSP register with the hub through its admin API (TOKEN_A,
full credentials handshakes over loopback, not measured). The eMSP holds an RFID card with
whitelist NEVER, so the CPO must ask it every time. One OCPP 1.6 station of the CPO sends
``Authorize`` for that card again and again, each when the last was answered: the CPO's CSMS
asks the hub (``POST tokens/{uid}/authorize`` with OCPI-to headers), the hub asks the eMSP, and
the answer comes back the same way. The baseline, in the same run and the same connection: the
same ``Authorize`` for a card the CPO decides alone (a token of its own, whitelist ALLOWED).

This module starts processes and measures; it never decides what a good figure is.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.common import Spread, spread
from bench.servers import ROOT

__all__ = ["HubAuthResult", "run_hub_auth"]

PASSWORD = "bench-station-password-123"
ROAMING_CARD = "04A10000000042"  # the eMSP's, whitelist NEVER
LOCAL_CARD = "04A1B2C3D4"  # the example network's own Chilean card, whitelist ALLOWED
STATION = "CO-ICG-0001"


@dataclass(frozen=True)
class HubAuthResult:
    authorizations: int
    hub_p50_ms: Spread | None
    hub_p99_ms: Spread | None
    local_p50_ms: Spread | None
    local_p99_ms: Spread | None
    refused: int  # answers other than Accepted (each one a failed round trip)

    @property
    def ratio(self) -> float | None:
        """How many times longer the roaming round trip takes than a local decision (p50)."""
        if self.hub_p50_ms is None or self.local_p50_ms is None or not self.local_p50_ms.median:
            return None
        return self.hub_p50_ms.median / self.local_p50_ms.median


class _Serve:
    """One ``intercarga serve`` in its own folder, its log in a file."""

    def __init__(self, folder: Path, name: str, parties: list[tuple[str, str, str]]) -> None:
        self.folder = folder / name
        self.folder.mkdir()
        self.http, self.ocpp = _free_port(), _free_port()
        self.admin = f"bench-admin-{name}-0123456789"
        lines = [
            f'database_url = "sqlite+aiosqlite:///{self.folder}/intercarga.db"',
            f'admin_token = "{self.admin}"',
            f"http_port = {self.http}",
            f"ocpp_port = {self.ocpp}",
            f'public_url = "http://127.0.0.1:{self.http}"',
            f"seed_example_network = {'true' if name == 'cpo' else 'false'}",
            'log_level = "WARNING"',
            # Every process here calls the others from 127.0.0.1: the per-address rate limit
            # (100 a second by default) would refuse the round trips once they take under
            # 10 ms, and this bench measures the round trip, not the limit.
            "[http]",
            "rate_limit = 0",
            "[ocpi]",  # the partners of this bench are at http://127.0.0.1
            "allow_http_partner_urls = true",
            "allow_private_partner_urls = true",
        ]
        for country, party_id, role in parties:
            lines += [
                "[[ocpi.parties]]",
                f'country_code = "{country}"',
                f'party_id = "{party_id}"',
                f'role = "{role}"',
                f'name = "{party_id} {role}"',
            ]
        (self.folder / "intercarga.toml").write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http}"

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {self.admin}"}, timeout=30
        )

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INTERCARGA_")}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
        with (self.folder / "serve.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "intercarga", "serve"],
                cwd=self.folder,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                log_text = (self.folder / "serve.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"intercarga serve ({self.folder.name}) did not start: {log_text}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# Loaded here, not in the forked child: a dlopen between fork and exec can deadlock.
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6")
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _register(hub: _Serve, party: _Serve) -> None:
    with hub.api() as at_hub, party.api() as at_party:
        invitation = at_hub.post("/api/v1/partners/invitations", json={}).json()
        body = {"url": invitation["versions_url"], "token": invitation["token"]}
        registered = at_party.post("/api/v1/partners", json=body)
        if registered.status_code != 201:
            raise RuntimeError(f"registration with the hub failed: {registered.text}")


def _prepare(cpo: _Serve, emsp: _Serve) -> None:
    with cpo.api() as at_cpo, emsp.api() as at_emsp:
        station = at_cpo.get(f"/api/v1/stations/{STATION}").json()
        station.pop("connection", None)
        station["password"] = PASSWORD
        at_cpo.put(f"/api/v1/stations/{STATION}", json=station).raise_for_status()
        token = {
            "country_code": "CO",
            "party_id": "EMS",
            "uid": ROAMING_CARD,
            "type": "RFID",
            "contract_id": "CO-EMS-C00000009-L",
            "issuer": "Bench eMSP",
            "whitelist": "NEVER",
        }
        at_emsp.put(f"/api/v1/tokens/CO/EMS/{ROAMING_CARD}", json=token).raise_for_status()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _authorize_many(url: str, card: str, count: int) -> tuple[list[float], int]:
    """``count`` Authorize requests in a row on one 1.6 connection: (latencies in ms, refused)."""
    from intercarga.domain.station import OcppVersion
    from intercarga.sim.link import open_link
    from intercarga.sim.stats import MessageStats

    def answer(_action: str, _payload: dict[str, Any]) -> dict[str, Any]:
        return {}

    link = await open_link(
        url, STATION, OcppVersion.V16, password=PASSWORD, answer=answer, stats=MessageStats()
    )
    reader = asyncio.create_task(link.read())
    try:
        boot = {"chargePointVendor": "Intercarga", "chargePointModel": "Bench"}
        await link.call("BootNotification", boot)
        latencies: list[float] = []
        refused = 0
        for _ in range(count):
            began = time.perf_counter()
            got = await link.call("Authorize", {"idTag": card})
            latencies.append((time.perf_counter() - began) * 1000)
            refused += got.get("idTagInfo", {}).get("status") != "Accepted"
        return latencies, refused
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await link.close()


def run_hub_auth(count: int = 300, runs: int = 3) -> HubAuthResult:
    """Start the three deployments, measure ``runs`` rounds of ``count`` authorizations each."""
    with tempfile.TemporaryDirectory(prefix="intercarga-hub-auth-") as folder:
        hub = _Serve(Path(folder), "hub", [("CO", "HUB", "HUB")])
        cpo = _Serve(Path(folder), "cpo", [("CO", "ICG", "CPO"), ("CL", "ICG", "CPO")])
        emsp = _Serve(Path(folder), "emsp", [("CO", "EMS", "EMSP")])
        try:
            for server in (hub, cpo, emsp):
                server.start()
            _prepare(cpo, emsp)
            _register(hub, cpo)
            _register(hub, emsp)
            url = f"ws://127.0.0.1:{cpo.ocpp}/ocpp"
            # One round each first, not counted: connections to the hub and caches warm up.
            asyncio.run(_authorize_many(url, ROAMING_CARD, min(count, 10)))
            hub_p50, hub_p99, local_p50, local_p99 = [], [], [], []
            refused = 0
            for _ in range(runs):
                local, local_refused = asyncio.run(_authorize_many(url, LOCAL_CARD, count))
                roaming, roaming_refused = asyncio.run(_authorize_many(url, ROAMING_CARD, count))
                refused += local_refused + roaming_refused
                local_p50.append(_percentile(local, 0.5))
                local_p99.append(_percentile(local, 0.99))
                hub_p50.append(_percentile(roaming, 0.5))
                hub_p99.append(_percentile(roaming, 0.99))
            return HubAuthResult(
                authorizations=count * runs,
                hub_p50_ms=spread(hub_p50),
                hub_p99_ms=spread(hub_p99),
                local_p50_ms=spread(local_p50),
                local_p99_ms=spread(local_p99),
                refused=refused,
            )
        finally:
            for server in (emsp, cpo, hub):
                server.stop()
