"""Intercarga deployments as ``intercarga serve`` processes on this machine, each in its own folder.

The demo (``intercarga demo``), the crash benchmark and the end-to-end tests all start real
deployments the way an operator does: a folder with an ``intercarga.toml`` and a SQLite database,
``intercarga serve`` in it on free ports, the CLI for what an operator types, the admin API for
what an operator reads. This module is that harness, once.

It must never reach into a running process: what it knows about a deployment it reads from the
deployment's own surfaces (HTTP, the CLI's output). Every process it starts dies with the process
that started it (``PR_SET_PDEATHSIG`` on Linux), so a killed demo or test leaves nothing running.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import httpx

from intercarga.errors import IntercargaError

__all__ = [
    "Deployment",
    "DeploymentError",
    "OcpiParty",
    "environment",
    "free_port",
    "intercarga_command",
    "run_cli",
    "start_child",
    "write_config",
]


class DeploymentError(IntercargaError):
    """A deployment did not start, stop or answer as it should (the message says which)."""


@dataclass(frozen=True)
class OcpiParty:
    """One OCPI party a deployment plays: country code, party id and role."""

    country_code: str
    party_id: str
    role: str
    name: str = ""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free at this moment on ``host`` (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``INTERCARGA_*`` setting, so a child deployment
    reads only its own folder's ``intercarga.toml``; plain output for parsing."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTERCARGA_")}
    env.update({"NO_COLOR": "1", "COLUMNS": "200"})
    env.update(extra or {})
    return env


def intercarga_command(*args: str) -> list[str]:
    """The command line that runs this installation's ``intercarga`` with ``args``."""
    return [sys.executable, "-m", "intercarga", *args]


def run_cli(
    *args: str, cwd: Path, timeout: float = 60, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one CLI command in a deployment's folder and wait for it (at most ``timeout`` s)."""
    # The command is this interpreter running intercarga with the caller's own arguments.
    return subprocess.run(  # noqa: S603
        intercarga_command(*args),
        cwd=cwd,
        env=environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_config(
    folder: Path,
    *,
    http_port: int,
    ocpp_port: int,
    admin_token: str,
    parties: Sequence[OcpiParty],
    seed: bool = False,
    versions: Sequence[str] | None = None,
    extra: Sequence[str] = (),
    ocpi_extra: Sequence[str] = (),
    database_url: str | None = None,
) -> None:
    """Write ``folder/intercarga.toml`` for a deployment on 127.0.0.1 whose partners are too.

    An empty ``admin_token`` lets the deployment make its own at first start. ``extra`` are more
    top-level TOML lines (they come before the ``[ocpi]`` table; they may open tables of their
    own), ``ocpi_extra`` more lines of the ``[ocpi]`` table. ``database_url`` replaces the
    folder's own SQLite database (the nodes of a cluster, or the parties of a demo, share one
    PostgreSQL).
    """
    base_url = f"http://127.0.0.1:{http_port}"
    database_url = database_url or f"sqlite+aiosqlite:///{folder}/intercarga.db"
    lines = [
        f'database_url = "{database_url}"',
        *([f'admin_token = "{admin_token}"'] if admin_token else []),
        f"http_port = {http_port}",
        f"ocpp_port = {ocpp_port}",
        f'public_url = "{base_url}"',
        f"seed_example_network = {'true' if seed else 'false'}",
        *extra,
        "[ocpi]",
        # Every partner of a deployment on this machine is at http://127.0.0.1.
        "allow_http_partner_urls = true",
        "allow_private_partner_urls = true",
        *ocpi_extra,
    ]
    if versions is not None:
        lines.append("versions = [" + ", ".join(f'"{v}"' for v in versions) + "]")
    for party in parties:
        lines += [
            "[[ocpi.parties]]",
            f'country_code = "{party.country_code}"',
            f'party_id = "{party.party_id}"',
            f'role = "{party.role}"',
            f'name = "{party.name or f"{party.party_id} {party.role}"}"',
        ]
    (folder / "intercarga.toml").write_text("\n".join(lines) + "\n")


# Loaded here, not in the forked child: a dlopen between fork and exec can deadlock.
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6")
except OSError:
    _LIBC = None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies, even killed outright.

    The kernel sends it when the *thread* that forked the child ends: start children from a
    thread that outlives them (the main thread), never from a short-lived worker thread.
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_child(
    command: Sequence[str], *, cwd: Path, log: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start a child process that dies with this one, its output appended to ``log``.

    The output goes to a file: a pipe nobody reads would block the child once it filled.
    """
    with log.open("a") as stream:
        return subprocess.Popen(  # noqa: S603 (our own commands, as a list: no shell)
            list(command),
            cwd=cwd,
            env=environment(env),
            stdout=stream,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            preexec_fn=_die_with_parent,
        )


@dataclass
class Deployment:
    """One ``intercarga serve`` deployment: its folder, ports and admin token."""

    folder: Path
    http_port: int
    ocpp_port: int
    admin_token: str
    process: subprocess.Popen[str] | None = field(default=None, repr=False)

    @classmethod
    def create(
        cls,
        folder: Path,
        parties: Sequence[OcpiParty],
        *,
        seed: bool = False,
        versions: Sequence[str] | None = None,
        admin_token: bool = True,
        extra: Sequence[str] = (),
        ocpi_extra: Sequence[str] = (),
        database_url: str | None = None,
    ) -> Self:
        """A new folder with its ``intercarga.toml`` on free ports (the folder must not exist).

        Without ``admin_token`` the deployment makes its own at first start and
        :attr:`admin_token` stays empty until the caller reads it from the console.
        """
        folder.mkdir(parents=True)
        token = f"admin-{folder.name}-{os.urandom(8).hex()}" if admin_token else ""
        deployment = cls(folder, free_port(), free_port(), token)
        write_config(
            folder,
            http_port=deployment.http_port,
            ocpp_port=deployment.ocpp_port,
            admin_token=token,
            parties=parties,
            seed=seed,
            versions=versions,
            extra=extra,
            ocpi_extra=ocpi_extra,
            database_url=database_url,
        )
        return deployment

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    @property
    def log(self) -> Path:
        return self.folder / "serve.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def api(self, timeout: float = 10) -> httpx.Client:
        """An admin API client with this deployment's token."""
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=timeout,
        )

    def start(self, timeout: float = 60) -> None:
        """Start ``intercarga serve`` and wait until it answers ``/healthz``."""
        self.launch()
        self.wait_until_up(timeout)

    def launch(self) -> None:
        """Start ``intercarga serve`` without waiting for it.

        Call it from the thread that lives as long as the process should: the kernel's
        parent-death signal follows the thread that started a child, not its process.
        """
        self.process = start_child(intercarga_command("serve"), cwd=self.folder, log=self.log)

    def wait_until_up(self, timeout: float = 60) -> None:
        """Wait until the launched process answers ``/healthz``; :class:`DeploymentError` if it
        exits or does not answer within ``timeout`` seconds (it is then killed)."""
        if self.process is None:
            raise DeploymentError(f"{self.name} was not launched")
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise DeploymentError(
                    f"{self.name} exited with code {self.process.returncode} at start; "
                    f"see {self.log}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise DeploymentError(f"{self.name} did not answer /healthz in {timeout:g} s")
            time.sleep(0.2)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, as a service manager stops it; killed if it does not end in ``timeout`` s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
            raise DeploymentError(f"{self.name} did not stop on SIGTERM in {timeout:g} s") from None

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing runs after it."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=5)

    def dashboard_password(self) -> str | None:
        """The dashboard's admin password the deployment printed at its first start (in its log:
        the demo's own operator reads it there), or None when it printed none."""
        marker = "(shown once): "
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("dashboard: sign in") and marker in line:
                return line.split(marker, 1)[1].strip()
        return None

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a CLI command in this deployment's folder (it reads its ``intercarga.toml``)."""
        return run_cli(*args, cwd=self.folder, timeout=timeout)

    def invite(self, name: str) -> tuple[str, str]:
        """``intercarga partners invite``: the versions URL and TOKEN_A a partner registers with."""
        invited = self.cli("partners", "invite", "--name", name)
        if invited.returncode != 0:
            raise DeploymentError(f"{self.name}: partners invite failed: {invited.stderr.strip()}")
        lines = dict(
            line.split(":", 1) for line in invited.stdout.strip().splitlines() if ":" in line
        )
        return lines["versions URL"].strip(), lines["TOKEN_A"].strip()

    def register_with(self, inviter: Deployment) -> None:
        """From zero, as two operators do: ``inviter`` makes a TOKEN_A, this one registers."""
        url, token_a = inviter.invite(self.name)
        registered = self.cli("partners", "register", "--url", url, "--token", token_a)
        if registered.returncode != 0:
            raise DeploymentError(
                f"{self.name}: registering with {inviter.name} failed: {registered.stderr.strip()}"
            )

    def register_over_api(self, inviter: Deployment) -> None:
        """As :meth:`register_with`, through both deployments' admin APIs instead of the CLI
        (the same credentials handshake, without starting two processes per link)."""
        with inviter.api(timeout=60) as api:
            invited = api.post("/api/v1/partners/invitations", json={"name": self.name})
        if invited.status_code != 201:
            raise DeploymentError(f"{inviter.name}: invitation refused: {invited.text[:200]}")
        invitation = invited.json()
        body = {
            "url": invitation["versions_url"],
            "token": invitation["token"],
            "name": inviter.name,
        }
        with self.api(timeout=60) as api:
            registered = api.post("/api/v1/partners", json=body)
        if registered.status_code != 201:
            raise DeploymentError(
                f"{self.name}: registering with {inviter.name} failed: {registered.text[:200]}"
            )
