"""Intercarga deployments as real ``intercarga serve`` processes on free ports, for issue 6's
end-to-end tests: each has its own folder, ``intercarga.toml`` and SQLite database, speaks OCPI
over real HTTP and OCPP over real WebSockets on 127.0.0.1, and is driven only the ways an
operator drives it (the CLI, the admin API, ``intercarga simulate``).

Nothing here reaches into a process: what a test asserts is what an operator or a partner sees.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.cli.test_commands import _environment, free_port, intercarga

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


@dataclass
class Server:
    """One ``intercarga serve`` process: its folder, ports and admin token."""

    folder: Path
    http: int
    ocpp: int
    admin: str
    process: subprocess.Popen[str] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http}"

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp}/ocpp"

    @property
    def log(self) -> Path:
        return self.folder / "serve.log"

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.admin}"}, timeout=10
        )

    def start(self) -> None:
        """Start the process and wait until it answers /healthz."""
        # The log goes to a file: a pipe nobody reads would block the server once it filled.
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "intercarga", "serve"],
                cwd=self.folder,
                env=_environment(None),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise AssertionError(self.log.read_text())
            assert time.monotonic() < deadline, f"{self.folder.name} did not start"
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM, as an operator's service manager stops it; the process ends cleanly."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
                raise AssertionError(f"{self.folder.name} did not stop on SIGTERM") from None
        self.process = None


# Loaded here, not in the forked child: a dlopen between fork and exec can deadlock.
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6")
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies, even killed outright,
    so a hung or killed run never leaves servers behind."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


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
    folder.mkdir()
    admin = f"admin-{folder.name}-0123456789" if admin_token else ""
    server = Server(folder, free_port(), free_port(), admin)
    lines = [
        f'database_url = "sqlite+aiosqlite:///{folder}/intercarga.db"',
        *([f'admin_token = "{server.admin}"'] if admin_token else []),
        f"http_port = {server.http}",
        f"ocpp_port = {server.ocpp}",
        f'public_url = "{server.base_url}"',
        f"seed_example_network = {'true' if seed else 'false'}",
        *extra,
        "[ocpi]",
        # Every deployment of these tests is a partner at http://127.0.0.1.
        "allow_http_partner_urls = true",
        "allow_private_partner_urls = true",
    ]
    if versions is not None:
        lines.append("versions = [" + ", ".join(f'"{v}"' for v in versions) + "]")
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


def register(inviter: Server, registrant: Server) -> None:
    """From zero, with the CLI: ``inviter`` makes a TOKEN_A, ``registrant`` registers with it."""
    invited = intercarga("partners", "invite", "--name", registrant.folder.name, cwd=inviter.folder)
    assert invited.returncode == 0, invited.stderr
    lines = dict(line.split(":", 1) for line in invited.stdout.strip().splitlines())
    url, token_a = lines["versions URL"].strip(), lines["TOKEN_A"].strip()
    registered = intercarga("partners", "register", "--url", url, "--token", token_a,
                            cwd=registrant.folder)  # fmt: skip
    assert registered.returncode == 0, registered.stderr


def simulate(cpo: Server, prefix: str, ocpp: str, *extra: str) -> subprocess.Popen[str]:
    """``intercarga simulate``: one station ``{prefix}0001`` against the CPO's OCPP port."""
    return subprocess.Popen(
        [
            sys.executable, "-m", "intercarga", "simulate",
            "--url", cpo.ocpp_url, "--stations", "1", "--ocpp", ocpp, "--id-prefix", prefix,
            "--password", PASSWORD, "--speed", "600", "--json", *extra,
        ],
        env=_environment(None),
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
