"""Intercarga deployments as real ``intercarga serve`` processes on free ports, for issue 6's
end-to-end tests: each has its own folder, ``intercarga.toml`` and SQLite database, speaks OCPI
over real HTTP and OCPP over real WebSockets on 127.0.0.1, and is driven only the ways an
operator drives it (the CLI, the admin API, ``intercarga simulate``).

Nothing here reaches into a process: what a test asserts is what an operator or a partner sees.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx

from intercarga.sim.processes import Deployment, DeploymentError, OcpiParty, environment

__all__ = [
    "APP",
    "CARD",
    "PASSWORD",
    "Server",
    "Watcher",
    "configure",
    "register",
    "simulate",
    "until",
]

PASSWORD = "serve-station-password-123"
CARD = "04A10000000001"  # the simulator's RFID card for station number 1
APP = "APP-0001"  # an eMSP's app token, for START_SESSION

T = TypeVar("T")


class Server(Deployment):
    """One ``intercarga serve`` process (intercarga.sim.processes), named as these tests use it;
    a failed start fails the test with the deployment's log."""

    @property
    def http(self) -> int:
        return self.http_port

    @property
    def ocpp(self) -> int:
        return self.ocpp_port

    @property
    def admin(self) -> str:
        return self.admin_token

    @admin.setter
    def admin(self, token: str) -> None:
        self.admin_token = token

    def start(self, timeout: float = 60) -> None:
        try:
            super().start(timeout)
        except DeploymentError as error:
            raise AssertionError(f"{error}\n{self.log.read_text()}") from None

    def stop(self, timeout: float = 20) -> None:
        try:
            super().stop(timeout)
        except DeploymentError as error:
            raise AssertionError(str(error)) from None


def configure(
    folder: Path,
    parties: list[tuple[str, str, str]],
    *,
    seed: bool = False,
    versions: list[str] | None = None,
    admin_token: bool = True,
    extra: Sequence[str] = (),
) -> Server:
    """A deployment's folder with its ``intercarga.toml``: OCPI parties, free ports.

    Without ``admin_token`` the deployment makes its own at first start (``Server.admin`` is
    empty until the test reads it); ``extra`` are more top-level TOML lines.
    """
    return Server.create(
        folder,
        [OcpiParty(country, party_id, role) for country, party_id, role in parties],
        seed=seed,
        versions=versions,
        admin_token=admin_token,
        extra=extra,
    )


def register(inviter: Server, registrant: Server) -> None:
    """From zero, with the CLI: ``inviter`` makes a TOKEN_A, ``registrant`` registers with it."""
    registrant.register_with(inviter)


def simulate(cpo: Server, prefix: str, ocpp: str, *extra: str) -> subprocess.Popen[str]:
    """``intercarga simulate``: one station ``{prefix}0001`` against the CPO's OCPP port."""
    return subprocess.Popen(
        [
            sys.executable, "-m", "intercarga", "simulate",
            "--url", cpo.ocpp_url, "--stations", "1", "--ocpp", ocpp, "--id-prefix", prefix,
            "--password", PASSWORD, "--speed", "600", "--json", *extra,
        ],
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def until(check: Callable[[], T | None], seconds: float = 60) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


class Watcher:
    """Polls a deployment's admin API in a thread, keeping every ACTIVE session it saw."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self._stop = threading.Event()
        self.active: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with self._server.api() as api:
            while not self._stop.is_set():
                try:
                    found = api.get("/api/v1/sessions", params={"status": "ACTIVE"})
                    if found.is_success:
                        self.active.extend(found.json()["items"])
                except httpx.HTTPError:
                    pass  # the server may be stopped on purpose during a test
                self._stop.wait(0.05)
