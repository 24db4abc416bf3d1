"""Crash safety: ``intercarga serve`` killed with SIGKILL under load, restarted on the same data.

Simulated stations (OCPP 1.6 and 2.0.1, :class:`~intercarga.sim.station.SimulatedStation`)
charge one transaction after another against a CPO — a real ``intercarga serve`` process with
its own folder, ``intercarga.toml`` and database (SQLite, or a schema of PostgreSQL). At seeded
random points of the run (once a random number of transactions has started; no station starts
another until then, those under way go on) the CPO is killed with SIGKILL and restarted on the
same ports and data. The stations keep their transaction messages queued while it is away and
replay them when they reconnect, as chargers do. The CPO's eMSP is a recording OCPI partner in
this process (registered in the CPO's store beforehand, like :mod:`bench.outbox`'s), to which
the CPO's outbox POSTs every CDR.

At the end, message by message, :func:`check` compares what the stations were told
(every transaction message answered with a CALLRESULT, kept in their journals) with what the
CPO stored and what the eMSP received: every acknowledged start, meter reading and end is
stored; each session's energy equals its register readings and its CDR's; nothing is stored
twice; every ended session has exactly one CDR, and the eMSP received every CDR.

:class:`PrivatePostgres` is a PostgreSQL cluster of our own (initdb in a temporary folder, a
free port, run as the ``postgres`` OS user) for tests that must stop the database itself: the
shared server on 5432 is never touched.

Used by ``tests/bench/test_crash.py`` (the checks) and ``bench/run.py`` (the figures). This
module drives and counts; it must never decide what a good figure is.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import httpx

__all__ = [
    "CrashPlan",
    "CrashResult",
    "CrashRunError",
    "CsmsProcess",
    "EmspRecorder",
    "NatsServer",
    "Outage",
    "PostgresProxy",
    "PrivatePostgres",
    "check",
    "free_port",
    "run_cluster_crash",
    "run_crash",
    "run_crash_all",
    "until",
]

REGISTER = "Energy.Active.Import.Register"
LOCATION_ID = "CRASH-LOC"
ADMIN_TOKEN = "crash-admin-token-0123456789abcdef"
EMSP = ("CO", "EMS")
PARTNER_ID = "crash-emsp"

# Loaded here, not in the forked child: a dlopen between fork and exec can deadlock.
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6")
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    """In a child before exec: SIGKILL when we die, so no server outlives a killed run."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("INTERCARGA_")}


class CrashRunError(Exception):
    """The run itself could not go on (something never happened in time)."""


# --- outages --------------------------------------------------------------------------------


class Outage(Protocol):
    """Something every node needs, cut and restored at will: ``component`` is what a node's
    /healthz names while it is away, ``probe`` an admin API request (method, path) that needs
    it."""

    name: str
    component: str
    probe: tuple[str, str]

    async def cut(self) -> None: ...

    async def restore(self) -> None: ...


class NatsServer:
    """A ``nats-server`` with JetStream of our own on a free loopback port; :meth:`cut` kills
    it (SIGKILL), :meth:`restore` starts it again on the same port and storage."""

    name = "nats"
    component = "cluster"
    # A command to a station no node holds: where it is, the presence bucket in NATS says.
    probe = ("POST", "/api/v1/stations/CRASH-NOWHERE/commands/reset")

    def __init__(self, folder: Path, binary: str = "/usr/sbin/nats-server") -> None:
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 20.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "nats.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: ASYNC220, S603
                [self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd",
                 str(self.folder / "store")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise CrashRunError(f"nats-server did not start on port {self.port}")
            await asyncio.sleep(0.05)

    async def cut(self) -> None:
        self.stop(kill=True)

    async def restore(self) -> None:
        await self.start()

    def stop(self, *, kill: bool = False) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


class PostgresProxy:
    """A TCP proxy on a free loopback port to a PostgreSQL server that is shared (and must not
    be stopped): :meth:`cut` drops every connection through it and refuses new ones, as the
    database's loss looks to the nodes; :meth:`restore` listens again on the same port.
    :meth:`freeze` makes it a database that stops answering (a partition, a hung server):
    connections stay open and new ones are accepted, but nothing passes until :meth:`thaw`."""

    name = "postgres"
    component = "database"
    probe = ("GET", "/api/v1/stations?limit=1")  # the admin API reads the database

    def __init__(self, host: str = "127.0.0.1", port: int = 5432) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._relays: set[asyncio.Task[Any]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.connections = 0

    def url(self, database_url: str) -> str:
        """``database_url`` through this proxy."""
        return database_url.replace(f"{self.target[0]}:{self.target[1]}", f"127.0.0.1:{self.port}")

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        relay = asyncio.current_task()
        if relay is not None:
            self._relays.add(relay)
            relay.add_done_callback(self._relays.discard)
        try:
            await self._flowing.wait()
            upstream_reader, upstream = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._open |= {writer, upstream}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    await self._flowing.wait()
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        try:
            await asyncio.gather(pipe(reader, upstream), pipe(upstream_reader, writer))
        finally:
            self._open -= {writer, upstream}

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()  # a reset, as a lost server's connections end
        self._open.clear()

    async def restore(self) -> None:
        await self.start()

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    async def stop(self) -> None:
        self.thaw()
        await self.cut()
        for relay in list(self._relays):
            relay.cancel()
        await asyncio.gather(*self._relays, return_exceptions=True)


# --- the eMSP -------------------------------------------------------------------------------


_OK = b'{"data":null,"status_code":1000,"status_message":"Success","timestamp":"2025-01-01T00:00:00Z"}'
_UNKNOWN = (
    b'{"status_code":2000,"status_message":"Unknown object","timestamp":"2025-01-01T00:00:00Z"}'
)
_REASONS = {200: "OK", 201: "Created", 404: "Not Found"}


def _answer(status: int, body: bytes, *, location: str = "") -> bytes:
    """An HTTP/1.1 answer with a JSON body (and a ``Location`` header)."""
    head = f"HTTP/1.1 {status} {_REASONS[status]}\r\ncontent-type: application/json\r\n"
    if location:
        head += f"location: {location}\r\n"
    return (head + f"content-length: {len(body)}\r\n\r\n").encode() + body


@dataclass(frozen=True)
class Push:
    """One request the eMSP received: what, where, and the outbox row's X-Correlation-ID (one
    per row: the same id twice is the same push delivered twice)."""

    method: str
    module: str  # cdrs, sessions, locations, …
    target: str
    correlation_id: str
    at: float  # time.monotonic() of its arrival
    cdr_id: str = ""  # a CDR POST's CDR


class EmspRecorder:
    """An OCPI eMSP that accepts everything and keeps every CDR it was sent (HTTP keep-alive),
    and every push (:class:`Push`).

    It answers the GETs of its receiver interfaces as the spec says (the in-doubt check of
    the CPO's outbox asks them, :mod:`intercarga.ocpi.doubt`): the object as last PUT or
    PATCHed at that URL (a Location's EVSEs and Connectors under their own URLs too), a CDR at
    the URL its POST's ``Location`` header gave, HTTP 404 for what it lacks. Each GET is kept
    in ``checks``."""

    def __init__(self, *, answer_delay: float = 0.0) -> None:
        """``answer_delay``: seconds between holding a push and answering it."""
        self.answer_delay = answer_delay
        self.cdrs: list[dict[str, Any]] = []
        self.pushes: list[Push] = []
        self.checks: list[Push] = []
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ocpi/emsp/2.2.1"

    def received(self) -> Counter[str]:
        """How many times each CDR id arrived."""
        return Counter(str(cdr.get("id")) for cdr in self.cdrs)

    def pushes_by_module(self) -> dict[str, int]:
        return dict(Counter(push.module for push in self.pushes))

    def checked_not_resent(self, module: str | None = None) -> int:
        """The pushes (of ``module``, or any) the CPO asked about (a GET carrying the row's
        correlation id) and did not send again afterwards: found here, so not repeated."""
        count = 0
        for check in self.checks:
            if module is not None and check.module != module:
                continue
            if check.correlation_id and not any(
                push.correlation_id == check.correlation_id and push.at >= check.at
                for push in self.pushes
            ):
                count += 1
        return count

    def _keep(self, method: str, target: str, body: bytes) -> None:
        """Keep what a PUT or PATCH leaves at ``target``, as a receiver would."""
        path = target.split("?", 1)[0]
        data = json.loads(body) if body else {}
        if not isinstance(data, dict):
            return
        if method == "PATCH":
            data = {**self.objects.get(path, {}), **data}
        self.objects[path] = data
        for evse in data.get("evses") or []:
            self.objects[f"{path}/{evse.get('uid')}"] = evse
            for connector in evse.get("connectors") or []:
                self.objects[f"{path}/{evse.get('uid')}/{connector.get('id')}"] = connector

    @staticmethod
    def _about_an_object(target: str) -> bool:
        """Whether ``target`` names one object of a receiver interface (module, then more)."""
        _prefix, found, rest = target.split("?", 1)[0].partition("/ocpi/emsp/2.2.1/")
        return bool(found) and "/" in rest.strip("/")

    def _answer(self, method: str, target: str) -> bytes:
        if method != "GET" or not self._about_an_object(target):
            return _answer(200, _OK)
        found = self.objects.get(target.split("?", 1)[0])
        if found is None:
            return _answer(404, _UNKNOWN)
        body = json.dumps(
            {"data": found, "status_code": 1000, "timestamp": "2025-01-01T00:00:00Z"}
        ).encode()
        return _answer(200, body)

    def repeated_pushes(self) -> list[tuple[Push, Push]]:
        """Each delivery of a push (an outbox row, by its correlation id) after its first, with
        its first."""
        first: dict[str, Push] = {}
        repeats = []
        for push in self.pushes:
            if push.correlation_id in first:
                repeats.append((first[push.correlation_id], push))
            elif push.correlation_id:
                first[push.correlation_id] = push
        return repeats

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
                length = 0
                correlation = ""
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                    elif line.lower().startswith(b"x-correlation-id:"):
                        correlation = line.split(b":", 1)[1].strip().decode("latin-1")
                body = await reader.readexactly(length) if length else b""
                self.requests += 1
                method, target = request_line.split(" ")[:2]
                cdr_id = ""
                module = target.split("/ocpi/emsp/2.2.1/", 1)[-1].split("/", 1)[0]
                answer = self._answer(method, target)
                if method == "POST" and "/cdrs" in target and body:
                    self.cdrs.append(json.loads(body))
                    cdr_id = str(self.cdrs[-1].get("id"))
                    # Where the CPO may GET it (the Location header of the POST's answer).
                    where = f"{target.rstrip('/')}/{cdr_id}"
                    self.objects[where] = self.cdrs[-1]
                    answer = _answer(201, _OK, location=self.url.rsplit("/ocpi/", 1)[0] + where)
                if method in ("PUT", "PATCH"):
                    self._keep(method, target, body)
                elif method == "DELETE":
                    self.objects.pop(target.split("?", 1)[0], None)
                if method in ("POST", "PUT", "PATCH", "DELETE"):
                    self.pushes.append(
                        Push(method, module, target, correlation, time.monotonic(), cdr_id)
                    )
                    if self.answer_delay:
                        await asyncio.sleep(self.answer_delay)
                elif method == "GET" and self._about_an_object(target):
                    self.checks.append(Push(method, module, target, correlation, time.monotonic()))
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


# --- the CPO process ------------------------------------------------------------------------


class CsmsProcess:
    """``intercarga serve`` in its own folder on fixed free ports, started again at will."""

    def __init__(
        self,
        folder: Path,
        database_url: str,
        schema: str | None,
        *,
        cluster: list[str] | None = None,
        workers: int = 1,
        ocpi: list[str] | None = None,
    ) -> None:
        """``cluster``: the ``[cluster]`` table's lines (and ``workers`` > 1: ``serve
        --workers``, each worker a cluster node on the same ports); ``ocpi``: more lines of the
        ``[ocpi]`` table."""
        self.folder = folder
        self.workers = workers
        self.database_url = database_url
        self.schema = schema
        self.http_port = free_port()
        self.ocpp_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.stop_s: float | None = None  # how long the last stop took
        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            f'database_url = "{database_url}"',
            f'admin_token = "{ADMIN_TOKEN}"',
            f"http_port = {self.http_port}",
            f"ocpp_port = {self.ocpp_port}",
            f'public_url = "http://127.0.0.1:{self.http_port}"',
            "seed_example_network = false",
            'log_format = "json"',
        ]
        if schema:
            lines.append(f'database_schema = "{schema}"')
        if cluster:
            lines += ["[cluster]", *cluster]
        lines += [
            "[ocpi]",
            # The recording eMSP listens on plain http on loopback.
            "allow_http_partner_urls = true",
            "allow_private_partner_urls = true",
            *(ocpi or []),
            "[[ocpi.parties]]",
            'country_code = "CL"',
            'party_id = "ICG"',
            'role = "CPO"',
            'name = "Crash CPO"',
        ]
        (folder / "intercarga.toml").write_text("\n".join(lines) + "\n")

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log(self) -> Path:
        return self.folder / "serve.log"

    async def start(self, timeout: float = 60.0) -> None:
        """Start the process; return once ``/healthz`` answers ok."""
        with self.log.open("ab") as log:
            # Our own interpreter running intercarga, as a list: no shell. Fork and exec: no wait.
            self.process = subprocess.Popen(  # noqa: ASYNC220, S603
                [
                    sys.executable,
                    "-m",
                    "intercarga",
                    "serve",
                    *(["--workers", str(self.workers)] if self.workers > 1 else []),
                ],
                cwd=self.folder,
                env=_environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.base_url}/healthz")).is_success and (
                        # /healthz answers once worker 0 serves; the parent says when all do.
                        self.workers == 1 or "all workers serve" in self.tail(1_000_000)
                    ):
                        return
                if self.process.poll() is not None:
                    raise RuntimeError(f"intercarga serve ended at start:\n{self.tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"intercarga serve did not start:\n{self.tail()}")
                await asyncio.sleep(0.05)

    def worker_pids(self) -> list[int]:
        """The live worker processes of ``serve --workers`` (from /proc)."""
        if self.process is None:
            return []
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
        return pids

    def workers_started(self) -> int:
        """How many worker starts the parent has logged (restarts included)."""
        try:
            return self.log.read_text(errors="replace").count("worker started")
        except OSError:
            return 0

    def workers_serving(self) -> int:
        """How many worker starts reached serving (each logs "serving" once)."""
        try:
            return self.log.read_text(errors="replace").count('"message": "serving"')
        except OSError:
            return 0

    async def kill_worker(self, rng: random.Random, timeout: float) -> None:
        """SIGKILL one worker of ``serve --workers`` (the node dies; its stations reconnect
        to the others on the same port) and wait until the parent has started it again."""
        # Every worker up *and serving*: one killed before it served stops them all (serve
        # --workers takes that for a worker that cannot start).
        await until(
            lambda: (
                len(self.worker_pids()) == self.workers
                and self.workers_serving() >= self.workers_started()
            ),
            timeout,
            "every worker serving",
        )
        before = self.workers_started()
        os.kill(rng.choice(sorted(self.worker_pids())), signal.SIGKILL)
        await until(lambda: self.workers_started() > before, timeout, "the worker's restart")

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer ends it; waits until it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 20 s; the exit status (:attr:`stop_s`: how long it took).

        It blocks, event loop included: a :class:`PostgresProxy` on the caller's loop relays
        nothing meanwhile, so the node stops with a database that does not answer (a harder
        stop than a healthy one, and one a partition brings about)."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            asked = time.monotonic()
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            self.stop_s = time.monotonic() - asked
        return process.returncode

    def tail(self, size: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""


async def prepare(
    database_url: str,
    schema: str | None,
    station_ids: list[str],
    emsp_url: str,
    *,
    receives: tuple[str, ...] = ("cdrs",),
) -> None:
    """Migrate the CPO's database and store what the run needs: one Location with an EVSE per
    station, its tariff, the stations (security profile 0), each station's RFID card as a token
    of the eMSP, and the eMSP as a registered partner that receives the OCPI modules
    ``receives`` (CDRs; sessions and locations too: every push)."""
    from pydantic import SecretStr

    from intercarga.app import System
    from intercarga.config import Settings
    from intercarga.domain import EVSE, EVSEStatus, Station, StationEvse, Token, Whitelist
    from intercarga.domain.partner import (
        Partner,
        PartnerEndpoint,
        PartnerRole,
        PartnerState,
    )
    from intercarga.security import hash_token
    from intercarga.sim.example import example_network
    from intercarga.store.partners import PartnerRepository

    settings = Settings(database_url=SecretStr(database_url), database_schema=schema)
    system = await System.open(settings)
    try:
        store = system.store
        network = example_network()
        template = next(loc for loc in network.locations if loc.id == "SCL-PROVIDENCIA")
        connector = template.evses[1].connectors[0]  # AC, 22 kW, tariff CL-AC
        for tariff in network.tariffs:
            if tariff.id == connector.tariff_ids[0]:
                await store.tariffs.put(tariff)
        location = template.model_copy(
            update={
                "id": LOCATION_ID,
                "evses": [
                    EVSE(uid=f"E-{sid}", status=EVSEStatus.AVAILABLE, connectors=[connector])
                    for sid in station_ids
                ],
            }
        )
        await store.locations.put(location)
        for sid in station_ids:
            await store.stations.put(
                Station(
                    id=sid,
                    country_code="CL",
                    party_id="ICG",
                    security_profile=0,
                    evses=[
                        StationEvse(ocpp_evse_id=1, location_id=LOCATION_ID, evse_uid=f"E-{sid}")
                    ],
                )
            )
            await store.tokens.put(
                Token(
                    country_code=EMSP[0],
                    party_id=EMSP[1],
                    uid=_card(sid),
                    contract_id=f"CO-EMS-C{sid[-6:]}",
                    issuer="Crash eMSP",
                    whitelist=Whitelist.ALLOWED,
                )
            )
        await PartnerRepository(store.engine).put(
            Partner(
                id=PARTNER_ID,
                name="Crash eMSP",
                state=PartnerState.REGISTERED,
                initiated_by="THEM",
                version="2.2.1",
                versions_url=f"{emsp_url}/versions",
                token_hash=hash_token("crash-emsp-token-0123456789abcdef"),
                outgoing_token="crash-outgoing-token-0123456789",
                roles=[PartnerRole(country_code=EMSP[0], party_id=EMSP[1], role="EMSP", name="E")],
                endpoints=[
                    PartnerEndpoint(identifier=module, role="RECEIVER", url=f"{emsp_url}/{module}")
                    for module in receives
                ],
            )
        )
    finally:
        await system.close()


def _card(station_id: str) -> str:
    return "CC" + station_id.replace("-", "")[-12:]


# --- the run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrashPlan:
    database_url: str
    schema: str | None = None
    stations_16: int = 5
    stations_201: int = 5
    transactions: int = 100
    kills: int = 4
    seed: int = 2026
    speed: float = 60.0  # simulated seconds per real second
    charge_minutes: float = 5.0
    uptime_s: tuple[float, float] = (1.0, 3.0)  # real seconds between a start and the next kill
    downtime_s: tuple[float, float] = (0.2, 1.5)  # real seconds the CPO stays dead
    settle_timeout: float = 180.0
    # Several nodes: ``serve --workers`` with these ``[cluster]`` lines; a kill is one
    # worker's (the parent starts it again), not the whole CPO's.
    cluster: tuple[str, ...] = ()
    workers: int = 1
    # Or ``nodes`` separate ``serve`` processes, each on ports of its own, with these
    # ``[cluster]`` lines: the stations know every node's URL and move to the next after
    # ``failover_after`` failed attempts (a balancer's health check); a kill is one node's,
    # started again once its stations are connected elsewhere.
    nodes: int = 1
    failover_after: int = 1
    reconnect_s: float = 30.0  # simulated seconds between a station's connection attempts
    # The eMSP receives every push (sessions, EVSE statuses), not only CDRs.
    every_push: bool = False
    # Real seconds the eMSP keeps a push (it holds it at once) before it answers: a wider
    # window in which a kill finds rows in flight, in doubt for the node taking over.
    emsp_answer_delay: float = 0.0
    # What each disruption is, in turn: "kill" (a node, SIGKILL), or the name of an
    # :class:`Outage` handed to :func:`run_crash` ("nats", "postgres"): cut for a while under
    # load, every node's /healthz degraded meanwhile, then restored.
    disruptions: tuple[str, ...] = ("kill",)
    outage_s: float = 2.0  # real seconds an outage lasts
    transaction_retry_s: float = 60.0  # simulated seconds, × the attempts so far
    restart_killed: bool = True  # a killed node (of ``nodes``) is started again, meanwhile
    # With ``nodes``: kill only once this many stations are in a transaction at once (at most
    # 10 % fewer, the last ones still starting), each kill after a round of that many.
    kill_when_live: int = 0
    # Disrupt only once the CPO stored an eMSP's answer to a CDR POST (its Location): every CDR
    # in flight at a disruption can then be asked about, so none may arrive twice.
    disrupt_once_cdr_url_known: bool = False
    meter_interval_s: int = 60  # simulated seconds between a transaction's meter values
    call_timeout: float = 15.0  # real seconds a station waits for an answer
    ocpi: tuple[str, ...] = ()  # more ``[ocpi]`` lines of each node


@dataclass
class CrashResult:
    """What a run saw; ``problems`` lists each loss or duplicate found, one line each."""

    database: str
    stations: int = 0
    kills: int = 0
    transactions: int = 0
    messages_checked: int = 0
    lost: int = 0
    duplicated: int = 0
    sessions: int = 0
    cdrs_stored: int = 0
    cdrs_received: int = 0  # distinct CDR ids the eMSP received
    cdrs_redelivered: int = 0  # further deliveries of a CDR the eMSP already had
    redelivered: list[str] = field(default_factory=list)
    energy_mismatches: int = 0
    boot_s: list[float] = field(default_factory=list)  # restart → /healthz ok
    moved: list[int] = field(default_factory=list)  # per worker kill: stations that reconnected
    live: list[int] = field(default_factory=list)  # per kill: stations in a transaction then
    # Per node kill: the longest queue of transaction messages among its 2.0.1 stations while
    # they were away (sent, and acknowledged, by another node).
    queued_201: list[int] = field(default_factory=list)
    offline_201: int = 0  # acknowledged 2.0.1 TransactionEvents sent with offline: true
    pushes: dict[str, int] = field(default_factory=dict)  # requests the eMSP received, by module
    pushes_repeated: int = 0  # deliveries of an outbox row (by correlation id) after its first
    # Of those, the POSTs (CDRs) whose first delivery arrived within a second before a kill (or
    # during an outage of the database) while the CPO knew no CDR URL of the eMSP yet: the row
    # was in flight (the eMSP answered, the node died or lost its database before noting it
    # sent) and the URL to GET the CDR came in the lost answer, so it is sent again; the eMSP
    # keeps one per CDR id. Once an answered CDR POST's Location is stored, a CDR in doubt is
    # asked about at the URL named alike: one sent again then, or a PUT or PATCH delivered
    # twice, is among ``problems``.
    posts_resent_in_doubt: int = 0
    cdr_posts_checked: int = 0  # in-doubt checks of a CDR POST: GETs of its URL at the eMSP
    cdr_posts_checked_not_resent: int = 0  # of those, the CDRs the eMSP held: not sent again
    # Per disruption: whether the CPO's store held an eMSP's CDR Location just before it.
    cdr_urls_known: list[bool] = field(default_factory=list)
    pushes_checked: int = 0  # in-doubt checks: GETs of a pushed object the eMSP answered
    # Of the rows asked about, those the eMSP held, so not sent again (what exactly-once saved).
    pushes_checked_not_resent: int = 0
    # time.monotonic() of each disruption's start and end (a kill's are the same).
    disrupted: list[tuple[float, float]] = field(default_factory=list)
    # Per outage: its name, seconds until every node's /healthz said degraded, seconds an API
    # request took to fail meanwhile (its status), seconds from the restore to every node ok.
    outages: list[dict[str, Any]] = field(default_factory=list)
    reconnect_s: list[float] = field(default_factory=list)  # restart → every station online
    stop_s: list[float] = field(default_factory=list)  # per node at the end: SIGTERM → exit
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "stations": self.stations,
            "kills": self.kills,
            "transactions": self.transactions,
            "messages_checked": self.messages_checked,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "sessions": self.sessions,
            "cdrs_stored": self.cdrs_stored,
            "cdrs_received": self.cdrs_received,
            "cdrs_redelivered": self.cdrs_redelivered,
            "redelivered": self.redelivered,
            "energy_mismatches": self.energy_mismatches,
            "boot_s": [round(value, 2) for value in self.boot_s],
            "stop_s": [round(value, 2) for value in self.stop_s],
            "moved": self.moved,
            "live": self.live,
            "queued_201": self.queued_201,
            "offline_201": self.offline_201,
            "pushes": self.pushes,
            "pushes_repeated": self.pushes_repeated,
            "posts_resent_in_doubt": self.posts_resent_in_doubt,
            "cdr_posts_checked": self.cdr_posts_checked,
            "cdr_posts_checked_not_resent": self.cdr_posts_checked_not_resent,
            "cdr_urls_known": self.cdr_urls_known,
            "pushes_checked": self.pushes_checked,
            "pushes_checked_not_resent": self.pushes_checked_not_resent,
            "outages": self.outages,
            "reconnect_s": [round(value, 2) for value in self.reconnect_s],
            "seconds": round(self.seconds, 1),
            "problems": self.problems[:20],
        }


async def run_crash(
    plan: CrashPlan,
    folder: Path,
    *,
    progress: Callable[[str], None] = lambda _: None,
    outages: dict[str, Outage] | None = None,
) -> CrashResult:
    """Drive, kill (or cut one of ``outages``), restart, settle, then :func:`check`; every
    process is stopped on return."""
    from intercarga.domain.station import OcppVersion
    from intercarga.sim.clock import SimClock
    from intercarga.sim.station import Acknowledged, SimulatedStation, StationConfig

    began = time.monotonic()
    rng = random.Random(plan.seed)
    kind = "postgresql" if plan.database_url.startswith("postgresql") else "sqlite"
    result = CrashResult(kind)
    versions = [OcppVersion.V16] * plan.stations_16 + [OcppVersion.V201] * plan.stations_201
    ids = [
        f"CRASH-{'16' if version is OcppVersion.V16 else '201'}-{number:03d}"
        for number, version in enumerate(versions, 1)
    ]
    emsp = EmspRecorder(answer_delay=plan.emsp_answer_delay)
    await emsp.start()
    nodes = [
        CsmsProcess(
            folder / ("cpo" if plan.nodes == 1 else f"node-{number}"),
            plan.database_url,
            plan.schema,
            cluster=list(plan.cluster),
            workers=plan.workers,
            ocpi=list(plan.ocpi),
        )
        for number in range(plan.nodes)
    ]
    cpo = nodes[0]
    clock = SimClock(plan.speed)
    journal: list[Acknowledged] = []
    urls = [node.ocpp_url for node in nodes]
    stations = [
        SimulatedStation(
            StationConfig(
                station_id=sid,
                # Spread over the nodes; the others, in turn, when the station's node is gone.
                url=urls[number % len(urls)],
                fallback_urls=tuple(urls[number % len(urls) + 1 :] + urls[: number % len(urls)]),
                failover_after=plan.failover_after,
                version=version,
                id_tag=_card(sid),
                meter_interval_s=plan.meter_interval_s,
                heartbeat_s=3600,
                reconnect_s=plan.reconnect_s,
                call_timeout=plan.call_timeout,
                transaction_retry_s=plan.transaction_retry_s,
                register_wh=float(1_000_000 + 7919 * number),
            ),
            clock,
            journal=journal,
        )
        for number, (sid, version) in enumerate(zip(ids, versions, strict=True), 1)
    ]
    result.stations = len(stations)
    started = 0
    # Kill k comes once the stations have started thresholds[k] transactions (seeded random
    # points over the run): no station starts another until it has happened, so every kill
    # falls under load however slowly this machine restarts the CPO; the transactions under
    # way keep charging, offline, meanwhile.
    thresholds = sorted(
        rng.sample(range(plan.transactions // 10, plan.transactions * 9 // 10), plan.kills)
    )
    if plan.kill_when_live:
        # Kill k once (k + 1) × kill_when_live transactions have started: a round of them.
        thresholds = [plan.kill_when_live * (k + 1) for k in range(plan.kills)]
    limit = thresholds[0] if thresholds else plan.transactions
    drivers: list[asyncio.Task[None]] = []
    restarts: list[asyncio.Task[None]] = []

    async def drive(station: SimulatedStation) -> None:
        nonlocal started
        # Each station its own stream: the kill schedule stays the same whatever they do.
        lengths = random.Random(f"{plan.seed}-{station.station_id}")
        await station.power_on(timeout=120)
        while started < plan.transactions:
            if started >= limit:
                await asyncio.sleep(0.05)
                continue
            started += 1
            await station.plug_in()
            with contextlib.suppress(Exception):
                await station.authorize()  # offline or refused: the card is in its cache
            await station.start()
            await station.charge(minutes=plan.charge_minutes * lengths.uniform(0.6, 1.4))
            await station.stop()
            await station.unplug()
            await station.wait(60)

    def kill_point_reached() -> bool:
        return started >= limit

    def waiting() -> str:
        return "; ".join(
            f"{s.station_id}: {'online' if s.online else s.state.value}, {s.queued} queued"
            + (f", last error {s.last_error}" if s.last_error else "")
            for s in stations
            if not s.online or s.queued
        )

    try:
        receives = ("cdrs", "sessions", "locations") if plan.every_push else ("cdrs",)
        await prepare(plan.database_url, plan.schema, ids, emsp.url, receives=receives)
        # The first node alone: it makes the first admin user and dashboard password.
        await cpo.start()
        await asyncio.gather(*(node.start() for node in nodes[1:]))
        progress(
            f"crash ({kind}): {len(stations)} stations, {plan.transactions} transactions"
            + (f", {plan.nodes} nodes" if plan.nodes > 1 else "")
        )
        drivers = [asyncio.create_task(drive(station)) for station in stations]
        for index, threshold in enumerate(thresholds):
            await until(kill_point_reached, plan.settle_timeout, "the next kill point")
            await asyncio.sleep(rng.uniform(*plan.uptime_s))
            if plan.disrupt_once_cdr_url_known:
                await until_async(
                    partial(_cdr_urls_known, plan), plan.settle_timeout, "a CDR answered"
                )
            restarted = time.monotonic()
            result.cdr_urls_known.append(await _cdr_urls_known(plan))
            disruption = plan.disruptions[index % len(plan.disruptions)]
            if disruption != "kill":
                outage = (outages or {})[disruption]
                await _outage(plan, outage, nodes, result)
                await until(
                    lambda: all(s.online for s in stations),
                    plan.settle_timeout,
                    "reconnection",
                    waiting,
                )
                seen = result.outages[-1]
                progress(
                    f"  {disruption} cut after {threshold} transactions: every node degraded "
                    f"after {seen['degraded_s']} s, an API request failed in "
                    f"{seen['request_s']} s (HTTP {seen['request_status']}); restored "
                    f"after {plan.outage_s} s, every node ok {seen['recovered_s']} s later"
                )
            elif plan.nodes > 1:
                await _kill_node(plan, rng, nodes, stations, result, waiting, restarts)
            elif plan.workers > 1:
                lost = sum(station.reconnections for station in stations)
                result.disrupted.append((time.monotonic(), time.monotonic()))
                await cpo.kill_worker(rng, plan.settle_timeout)
                result.kills += 1
                result.boot_s.append(time.monotonic() - restarted)  # kill → started again
                # The dead node's stations notice (their sockets closed with the process)
                # before "every station online" means anything; a node may also hold none.
                with contextlib.suppress(CrashRunError):
                    await until(
                        partial(_lost_more, stations, lost),
                        5,
                        "the dead node's stations",
                    )
                await until(
                    lambda: all(s.online for s in stations),
                    plan.settle_timeout,
                    "reconnection",
                    waiting,
                )
                result.moved.append(sum(s.reconnections for s in stations) - lost)
            else:
                result.disrupted.append((time.monotonic(), time.monotonic()))
                cpo.kill()
                result.kills += 1
                await asyncio.sleep(rng.uniform(*plan.downtime_s))
                restarted = time.monotonic()
                await cpo.start(timeout=plan.settle_timeout)
                result.boot_s.append(time.monotonic() - restarted)
            await until(
                lambda: all(s.online for s in stations),
                plan.settle_timeout,
                "reconnection",
                waiting,
            )
            if disruption != "kill" or plan.nodes > 1:
                if disruption == "kill":
                    progress(
                        f"  kill {result.kills} (a node holding {result.moved[-1]} stations, "
                        f"{result.live[-1]} in a transaction) after {threshold} transactions: "
                        f"every one of them online elsewhere after {result.reconnect_s[-1]:.1f}"
                        f" s, the longest 2.0.1 queue meanwhile {result.queued_201[-1]}"
                    )
                limit = thresholds[index + 1] if index + 1 < len(thresholds) else plan.transactions
                continue
            result.reconnect_s.append(time.monotonic() - restarted)
            if plan.workers > 1:
                progress(
                    f"  kill {result.kills} (a worker) after {threshold} transactions: started "
                    f"again {result.boot_s[-1]:.1f} s after the kill, {result.moved[-1]} stations"
                    f" moved, every station online after {result.reconnect_s[-1]:.1f} s"
                )
            else:
                progress(
                    f"  kill {result.kills} after {threshold} transactions: /healthz ok "
                    f"{result.boot_s[-1]:.1f} s after the restart, every station online after "
                    f"{result.reconnect_s[-1]:.1f} s"
                )
            limit = thresholds[index + 1] if index + 1 < len(thresholds) else plan.transactions
        done, _ = await asyncio.wait(drivers, timeout=plan.settle_timeout)
        for task in done:
            if task.exception() is not None:
                result.problems.append(f"a station's run failed: {task.exception()!r}")
        await until(
            lambda: all(s.online and s.queued == 0 for s in stations),
            plan.settle_timeout,
            "station queues drain",
            waiting,
        )
        ended = len({_transaction_key(entry) for entry in journal if _ends(entry)})
        # Not an error by itself: check() says which CDRs are missing.
        with contextlib.suppress(CrashRunError):
            await until(lambda: len(emsp.received()) >= ended, plan.settle_timeout / 3, "CDRs")
        await asyncio.sleep(0.5)  # a late duplicate delivery would show now
        result.transactions = sum(station.sessions_started for station in stations)
        if restarts:
            await asyncio.wait_for(asyncio.gather(*restarts), plan.settle_timeout)
    finally:
        for task in [*drivers, *restarts]:
            task.cancel()
        await asyncio.gather(*drivers, *restarts, return_exceptions=True)
        await asyncio.gather(*(s.shutdown() for s in stations), return_exceptions=True)
        statuses = [node.stop() for node in nodes]
        result.stop_s = [node.stop_s for node in nodes if node.stop_s is not None]
        await emsp.stop()
    for status in statuses:
        if status not in (0, None):
            result.problems.append(f"intercarga serve exited with {status} on SIGTERM")
    await check(plan, journal, emsp, result)
    result.seconds = time.monotonic() - began
    return result


async def _cdr_urls_known(plan: CrashPlan) -> bool:
    """Whether the CPO's store holds the Location an eMSP gave an answered CDR POST (so a CDR
    in doubt from now on is asked about, not sent again); False when it cannot tell."""
    import sqlalchemy as sa

    from intercarga.store import create_engine
    from intercarga.store.tables import ocpi_cdr_locations

    engine = create_engine(plan.database_url, plan.schema)
    try:
        async with engine.connect() as connection:
            query = sa.select(sa.func.count()).select_from(ocpi_cdr_locations)
            return bool((await connection.execute(query)).scalar_one())
    except Exception:
        return False
    finally:
        await engine.dispose()


async def _kill_node(
    plan: CrashPlan,
    rng: random.Random,
    nodes: list[CsmsProcess],
    stations: list[Any],
    result: CrashResult,
    waiting: Callable[[], str],
    restarts: list[asyncio.Task[None]],
) -> None:
    """SIGKILL the node holding the most 2.0.1 stations in a transaction (then: the most
    stations in one, any stations); wait until each of its stations is connected to another
    node, noting the longest queue a 2.0.1 station kept meanwhile. With ``restart_killed``
    the node is started again in the background (``restarts``)."""

    def load(node: CsmsProcess) -> tuple[int, int, int, float]:
        mine = [s for s in stations if s.url == node.ocpp_url]
        charging = [s for s in mine if s.sessions_started > s.sessions_completed]
        charging_201 = [s for s in charging if s.station_id.startswith("CRASH-201")]
        return len(charging_201), len(charging), len(mine), rng.random()

    if plan.kill_when_live:

        def live() -> bool:
            charging = sum(1 for s in stations if s.sessions_started > s.sessions_completed)
            return charging >= plan.kill_when_live * 0.9

        await until(live, plan.settle_timeout, "the live transactions", waiting)
    victim = max((node for node in nodes if node.process is not None), key=load)
    held = [s for s in stations if s.url == victim.ocpp_url]
    before = {s.station_id: s.reconnections for s in held}
    peak = 0

    def elsewhere() -> bool:
        nonlocal peak
        peak = max([peak, *(s.queued for s in held if s.station_id.startswith("CRASH-201"))])
        return all(
            s.reconnections > before[s.station_id] and s.online and s.url != victim.ocpp_url
            for s in held
        )

    result.live.append(sum(1 for s in stations if s.sessions_started > s.sessions_completed))
    killed = time.monotonic()
    victim.kill()
    result.kills += 1
    result.disrupted.append((killed, killed))
    await until(elsewhere, plan.settle_timeout, "the dead node's stations elsewhere", waiting)
    result.reconnect_s.append(time.monotonic() - killed)
    result.moved.append(len(held))
    result.queued_201.append(peak)
    if plan.restart_killed:
        restarts.append(
            asyncio.create_task(_restart(plan, rng.uniform(*plan.downtime_s), victim, result))
        )


async def _outage(
    plan: CrashPlan, outage: Outage, nodes: list[CsmsProcess], result: CrashResult
) -> None:
    """Cut ``outage`` for ``plan.outage_s`` under load: note how soon each node's /healthz
    says degraded (naming ``outage.component``) and how an API request fails meanwhile, then
    restore it and wait until every node is ok again."""
    seen: dict[str, Any] = {"outage": outage.name}
    async with httpx.AsyncClient(
        timeout=10, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as client:

        async def health(node: CsmsProcess) -> tuple[int, dict[str, Any]]:
            try:
                answer = await client.get(f"{node.base_url}/healthz")
            except httpx.HTTPError as error:
                return 0, {"error": str(error)}
            return answer.status_code, answer.json()

        async def every(ok: bool) -> bool:
            for node in nodes:
                status, body = await health(node)
                if ok != (status == 200) or (not ok and outage.component not in body):
                    return False
            return True

        cut = time.monotonic()
        result.kills += 1
        await outage.cut()
        await until_async(lambda: every(False), 10, f"every node degraded ({outage.name})")
        seen["degraded_s"] = round(time.monotonic() - cut, 2)
        asked = time.monotonic()
        try:
            method, path = outage.probe
            answer = await client.request(
                method, f"{nodes[-1].base_url}{path}", json={} if method == "POST" else None
            )
            seen["request_status"] = answer.status_code
            seen["request_detail"] = answer.json().get("detail")
        except httpx.HTTPError as error:
            seen["request_status"] = 0
            seen["request_detail"] = f"{type(error).__name__}: {error}"
        seen["request_s"] = round(time.monotonic() - asked, 2)
        await asyncio.sleep(max(0.0, plan.outage_s - (time.monotonic() - cut)))
        restored = time.monotonic()
        result.disrupted.append((cut, restored))
        await outage.restore()
        await until_async(lambda: every(True), plan.settle_timeout, "every node ok again")
        seen["recovered_s"] = round(time.monotonic() - restored, 2)
    result.outages.append(seen)


async def until_async(condition: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    """:func:`until` for a condition that must be awaited (polled every 0.1 s)."""
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            raise CrashRunError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _restart(plan: CrashPlan, after: float, node: CsmsProcess, result: CrashResult) -> None:
    await asyncio.sleep(after)
    restarted = time.monotonic()
    await node.start(timeout=plan.settle_timeout)
    result.boot_s.append(time.monotonic() - restarted)


def _lost_more(stations: list[Any], than: int) -> bool:
    return sum(station.reconnections for station in stations) > than


async def until(
    condition: Callable[[], bool],
    seconds: float,
    what: str,
    state: Callable[[], str] = lambda: "",
) -> None:
    """Poll ``condition`` until true; :class:`CrashRunError` after ``seconds`` (with ``state``)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise CrashRunError(f"timed out waiting for {what}: {state()}".rstrip(": "))
        await asyncio.sleep(0.05)


def _transaction_key(entry: Any) -> tuple[str, str]:
    if entry.action == "TransactionEvent":
        return entry.station_id, str(entry.payload["transactionInfo"]["transactionId"])
    return entry.station_id, str(entry.payload.get("transactionId"))


def _ends(entry: Any) -> bool:
    if entry.action == "StopTransaction":
        return True
    return entry.action == "TransactionEvent" and entry.payload.get("eventType") == "Ended"


# --- the checks -----------------------------------------------------------------------------


@dataclass
class _Expected:
    """One transaction as its station's acknowledged messages tell it."""

    station_id: str
    transaction_id: str
    readings: dict[str, Decimal] = field(default_factory=dict)  # timestamp → register Wh
    # Every register reading acknowledged, in the order given: (timestamp, context, Wh). 1.6's
    # meterStart / meterStop come as Transaction.Begin / End readings, meterStop after the
    # transactionData of the same message (billing takes the last end reading given).
    given: list[tuple[str, str | None, Decimal]] = field(default_factory=list)
    ended: bool = False
    messages: int = 0


def _register_readings(meter_values: list[dict[str, Any]]) -> list[tuple[str, str | None, Decimal]]:
    """The whole-register readings of ``meter_values``: (timestamp, context, Wh) as given."""
    found: list[tuple[str, str | None, Decimal]] = []
    for meter_value in meter_values:
        for sampled in meter_value.get("sampledValue", []):
            measurand = sampled.get("measurand", REGISTER)
            if measurand == REGISTER and not sampled.get("phase"):
                value = Decimal(str(sampled["value"]))
                unit = (sampled.get("unitOfMeasure") or {}).get("unit") or sampled.get("unit")
                wh = value * 1000 if unit == "kWh" else value
                found.append((meter_value["timestamp"], sampled.get("context"), wh))
    return found


def _expected_kwh(tx: _Expected) -> Decimal:
    """The energy billing makes of the readings the station had acknowledged, by its documented
    rule (intercarga.billing.readings: one begin, one end, steps back not billed), each reading
    counted once however often it was replayed."""
    from intercarga.billing.readings import register_of
    from intercarga.domain.session import MeterValue

    values: list[MeterValue] = []
    seen: set[tuple[str, str | None, Decimal]] = set()
    for at, context, wh in tx.given:
        if (at, context, wh) in seen:
            continue
        seen.add((at, context, wh))
        values.append(
            MeterValue(
                timestamp=_moment(at), measurand=REGISTER, value=wh, unit="Wh", context=context
            )
        )
    values.sort(key=lambda value: value.timestamp)
    return register_of(values).kwh


def _expected(journal: list[Any]) -> tuple[dict[tuple[str, str], _Expected], int]:
    """Each transaction the stations were told about, and how many messages say so."""
    found: dict[tuple[str, str], _Expected] = {}
    count = 0

    def entry(station_id: str, transaction_id: str) -> _Expected:
        key = (station_id, transaction_id)
        if key not in found:
            found[key] = _Expected(station_id, transaction_id)
        return found[key]

    for ack in journal:
        payload, answer = ack.payload, ack.answer
        if ack.action == "StartTransaction":
            tx = entry(ack.station_id, str(answer["transactionId"]))
            readings = [(payload["timestamp"], "Transaction.Begin", Decimal(payload["meterStart"]))]
        elif ack.action == "MeterValues":
            tx = entry(ack.station_id, str(payload["transactionId"]))
            readings = _register_readings(payload["meterValue"])
        elif ack.action == "StopTransaction":
            tx = entry(ack.station_id, str(payload["transactionId"]))
            readings = _register_readings(payload.get("transactionData", []))
            stop = (payload["timestamp"], "Transaction.End", Decimal(payload["meterStop"]))
            # billing keeps one copy of a meterStop its transactionData already states
            if not any(wh == stop[2] and context == stop[1] for _, context, wh in readings):
                readings.append(stop)
            tx.ended = True
        elif ack.action == "TransactionEvent":
            tx = entry(ack.station_id, payload["transactionInfo"]["transactionId"])
            readings = _register_readings(payload.get("meterValue", []))
            tx.ended = tx.ended or payload["eventType"] == "Ended"
        else:
            continue
        tx.given.extend(readings)
        tx.readings.update((at, wh) for at, _, wh in readings)
        tx.messages += 1
        count += 1
    return found, count


def _moment(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def check(
    plan: CrashPlan, journal: list[Any], emsp: EmspRecorder, result: CrashResult
) -> None:
    """Compare the journal with the CPO's store and the eMSP's CDRs; fill ``result``."""
    from pydantic import SecretStr

    from intercarga.app import System
    from intercarga.config import Settings
    from intercarga.domain import SessionStatus

    expected, result.messages_checked = _expected(journal)
    settings = Settings(database_url=SecretStr(plan.database_url), database_schema=plan.schema)
    system = await System.open(settings, migrate=False)
    try:
        sessions = (await system.store.sessions.list(limit=None)).items
        cdrs = (await system.store.cdrs.list(limit=None)).items
    finally:
        await system.close()
    result.sessions = len(sessions)
    result.cdrs_stored = len(cdrs)

    def problem(text: str, *, lost: int = 0, duplicated: int = 0) -> None:
        result.problems.append(text)
        result.lost += lost
        result.duplicated += duplicated

    by_key: dict[tuple[str, str], list[Any]] = {}
    for session in sessions:
        by_key.setdefault((session.station_id or "", session.transaction_id or ""), []).append(
            session
        )
    for key, found in by_key.items():
        if len(found) > 1:
            problem(f"{key}: {len(found)} sessions for one transaction", duplicated=len(found) - 1)
        if key not in expected:
            problem(f"{key}: a session no station was told of", duplicated=1)
    cdrs_by_session = Counter(cdr.session_id for cdr in cdrs)
    cdr_energy = {cdr.session_id: Decimal(str(cdr.total_energy)) for cdr in cdrs}
    for session_id, count in cdrs_by_session.items():
        if count > 1:
            problem(f"session {session_id}: {count} CDRs", duplicated=count - 1)
    for key, tx in expected.items():
        found = by_key.get(key)
        if not found:
            problem(
                f"{key}: acknowledged ({tx.messages} messages) but not stored", lost=tx.messages
            )
            continue
        session = found[0]
        stored = Counter(
            (value.timestamp, value.value)
            for value in session.meter_values
            if value.measurand == REGISTER and value.phase is None
        )
        for (_moment_, _value), count in stored.items():
            if count > 1:
                problem(
                    f"{key}: meter reading {_moment_} stored {count} times", duplicated=count - 1
                )
        stamps = {moment for moment, _ in stored}
        for at, wh in tx.readings.items():
            if (_moment(at), wh.normalize()) not in {(m, v.normalize()) for m, v in stored}:
                if _moment(at) in stamps:
                    problem(f"{key}: reading at {at} stored with another value", lost=1)
                else:
                    problem(f"{key}: acknowledged reading at {at} ({wh} Wh) not stored", lost=1)
        if tx.given:
            kwh = _expected_kwh(tx)
            if session.kwh is None or Decimal(str(session.kwh)) != kwh:
                result.energy_mismatches += 1
                problem(f"{key}: session energy {session.kwh} kWh, readings say {kwh}")
        if tx.ended:
            if session.status is not SessionStatus.COMPLETED:
                problem(f"{key}: acknowledged end, session {session.status.value}", lost=1)
            if cdrs_by_session.get(session.id, 0) == 0:
                problem(f"{key}: ended, but no CDR", lost=1)
            elif cdr_energy[session.id] != Decimal(str(session.kwh)):
                result.energy_mismatches += 1
                problem(f"{key}: CDR energy {cdr_energy[session.id]}, session {session.kwh}")
    result.offline_201 = sum(
        1 for ack in journal if ack.action == "TransactionEvent" and ack.payload.get("offline")
    )
    result.pushes = emsp.pushes_by_module()
    repeats = emsp.repeated_pushes()
    result.pushes_repeated = len(repeats)
    result.pushes_checked = len(emsp.checks)
    result.pushes_checked_not_resent = emsp.checked_not_resent()
    result.cdr_posts_checked = sum(1 for check in emsp.checks if check.module == "cdrs")
    result.cdr_posts_checked_not_resent = emsp.checked_not_resent("cdrs")
    for first, again in repeats:
        result.redelivered.append(f"{again.method} {again.module}: {again.target}")
        at = [
            index
            for index, (start, end) in enumerate(result.disrupted)
            if start - 1.0 <= first.at <= end
        ]
        in_flight = bool(at)
        known = any(
            result.cdr_urls_known[index] for index in at if index < len(result.cdr_urls_known)
        )
        if again.method == "POST" and in_flight and not known:
            # A CDR whose answer died with its node before the CPO knew how the eMSP names
            # CDR URLs: nothing to ask, so sent again; the eMSP keeps one per id (below).
            result.posts_resent_in_doubt += 1
        elif again.method == "POST" and in_flight:
            problem(
                f"CDR {again.cdr_id} sent again after a kill though the CPO knew the eMSP's "
                "CDR URLs: it was not asked about",
                duplicated=1,
            )
        elif in_flight:
            problem(
                f"{again.method} {again.target} delivered twice: in flight at a kill, yet "
                "sent again instead of asked about",
                duplicated=1,
            )
        else:
            problem(
                f"{again.method} {again.target} delivered twice, no kill in between",
                duplicated=1,
            )
    received = emsp.received()
    result.cdrs_received = len(received)
    result.cdrs_redelivered = sum(count - 1 for count in received.values())
    result.redelivered += sorted(cdr_id for cdr_id, count in received.items() if count > 1)
    rows_of_cdr: dict[str, set[str]] = {}
    for push in emsp.pushes:
        if push.cdr_id:
            rows_of_cdr.setdefault(push.cdr_id, set()).add(push.correlation_id)
    for cdr_id, rows in sorted(rows_of_cdr.items()):
        if len(rows) > 1:
            # Not a redelivery of one push: the CDR was queued twice (two outbox rows).
            problem(f"CDR {cdr_id} queued {len(rows)} times for the eMSP", duplicated=1)
    for cdr in cdrs:
        if cdr.id not in received:
            problem(f"CDR {cdr.id} never reached the eMSP", lost=1)
    stored_ids = {cdr.id for cdr in cdrs}
    for cdr_id in received:
        if cdr_id not in stored_ids:
            problem(f"the eMSP received CDR {cdr_id}, which the CPO does not hold", duplicated=1)
    # A repeated delivery carries the same CDR: the eMSP keeps one per id.
    bodies: dict[str, str] = {}
    for cdr in emsp.cdrs:
        text = json.dumps({k: v for k, v in cdr.items() if k != "last_updated"}, sort_keys=True)
        if bodies.setdefault(str(cdr.get("id")), text) != text:
            problem(f"CDR {cdr.get('id')} delivered twice with different contents", duplicated=1)


# --- for make bench ------------------------------------------------------------------------

POSTGRES_DSN = os.environ.get(
    "INTERCARGA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def run_crash_all(
    transactions: int, kills: int, *, progress: Callable[[str], None] = lambda _: None
) -> tuple[list[CrashResult], dict[str, str]]:
    """The crash run on SQLite, then on a fresh schema of the shared PostgreSQL server."""
    results: list[CrashResult] = []
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="intercarga-crash-") as folder:
        plan = CrashPlan(
            database_url=f"sqlite+aiosqlite:///{folder}/cpo/intercarga.db",
            transactions=transactions,
            kills=kills,
        )
        results.append(asyncio.run(run_crash(plan, Path(folder), progress=progress)))
    try:
        results.append(asyncio.run(_on_postgres(transactions, kills, progress)))
    except _UnreachableError as error:
        skipped["crash on PostgreSQL"] = f"PostgreSQL at {POSTGRES_DSN} does not answer: {error}"
    return results, skipped


class _UnreachableError(Exception):
    pass


@contextlib.asynccontextmanager
async def _fresh_schema() -> AsyncIterator[str]:
    """A new schema of the shared PostgreSQL server, dropped afterwards;
    :class:`_UnreachableError` when the server does not answer."""
    import uuid

    import asyncpg

    schema = f"crash_{uuid.uuid4().hex[:12]}"
    try:
        connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        raise _UnreachableError(str(error)) from None
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await connection.close()
    try:
        yield schema
    finally:
        connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
        try:
            await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await connection.close()


_ASYNC_URL = POSTGRES_DSN.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _on_postgres(
    transactions: int, kills: int, progress: Callable[[str], None]
) -> CrashResult:
    async with _fresh_schema() as schema:
        with tempfile.TemporaryDirectory(prefix="intercarga-crash-") as folder:
            plan = CrashPlan(_ASYNC_URL, schema, transactions=transactions, kills=kills)
            return await run_crash(plan, Path(folder), progress=progress)


NATS_URL = os.environ.get("INTERCARGA_TEST_NATS", "nats://127.0.0.1:4222")


def run_cluster_crash(
    stations: int,
    transactions: int,
    kills: int,
    *,
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[CrashResult | None, dict[str, str]]:
    """Issue 17's kill -9 scenario: three ``serve`` nodes on a fresh schema of the shared
    PostgreSQL and on NATS, ``stations`` (half 1.6, half 2.0.1) spread over them, a node
    holding the most live transactions killed ``kills`` times (started again meanwhile)."""
    try:
        return asyncio.run(_cluster_crash(stations, transactions, kills, progress)), {}
    except _UnreachableError as error:
        return None, {"crash with three nodes": f"PostgreSQL or NATS does not answer: {error}"}


async def _cluster_crash(
    stations: int, transactions: int, kills: int, progress: Callable[[str], None]
) -> CrashResult:
    import uuid

    import nats

    name = f"crash{uuid.uuid4().hex[:10]}"
    try:
        nc = await nats.connect(NATS_URL, connect_timeout=3, allow_reconnect=False)
    except Exception as error:
        raise _UnreachableError(f"NATS at {NATS_URL}: {error}") from None
    try:
        async with _fresh_schema() as schema:
            with tempfile.TemporaryDirectory(prefix="intercarga-crash-") as folder:
                plan = CrashPlan(
                    _ASYNC_URL,
                    schema,
                    stations_16=stations // 2,
                    stations_201=stations - stations // 2,
                    transactions=transactions,
                    kills=kills,
                    # Long enough that every station is in a transaction when a node dies.
                    charge_minutes=40.0,
                    uptime_s=(0.5, 1.0),
                    kill_when_live=stations,
                    # A meter value every 5 simulated minutes and 30 s for an answer: 100
                    # stations on three nodes sharing two busy CPUs with other work.
                    meter_interval_s=300,
                    call_timeout=30.0,
                    cluster=(f'nats_url = "{NATS_URL}"', f'name = "{name}"', "lease = 5"),
                    nodes=3,
                    failover_after=3,
                    reconnect_s=60.0,
                    every_push=True,
                    # An eMSP across a network answers in about a fifth of a second: a node
                    # killed finds pushes in flight, in doubt for the node taking over.
                    emsp_answer_delay=0.2,
                    ocpi=("request_timeout = 5",),
                    settle_timeout=300.0,
                )
                return await run_crash(plan, Path(folder), progress=progress)
    finally:
        with contextlib.suppress(Exception):
            js = nc.jetstream()
            for stream in await js.streams_info():
                if name in stream.config.name:
                    await js.delete_stream(stream.config.name)
        await nc.close()


# --- a PostgreSQL cluster of our own ----------------------------------------------------------


class PrivatePostgres:
    """A throw-away PostgreSQL cluster: ``with PrivatePostgres() as pg: pg.url``.

    initdb in a temporary folder and ``postgres`` on a free loopback port, as the ``postgres``
    OS user (PostgreSQL refuses to run as root), trust authentication. :meth:`crash` stops it
    as a crash would (SIGQUIT: immediate shutdown, recovery at the next start); :meth:`start`
    brings it back on the same port and data. The server is our child and dies with us.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._bin = self.binaries()

    @staticmethod
    def binaries() -> Path | None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
        return found[-1].parent if found else None

    @classmethod
    def missing(cls) -> str | None:
        """Why a private cluster cannot run here, or None."""
        if cls.binaries() is None:
            return "no PostgreSQL server binaries under /usr/lib/postgresql"
        if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
            return "a private PostgreSQL cluster needs root (to run it as postgres) or postgres"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "no postgres OS user"
        return None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        assert self._folder is not None
        return Path(self._folder.name) / "data"

    def _as_postgres(self) -> Callable[[], None]:
        user = pwd.getpwnam("postgres")

        def become() -> None:
            if os.geteuid() == 0:
                os.setgid(user.pw_gid)
                os.setuid(user.pw_uid)
            _die_with_parent()  # after setuid: changing credentials clears it

        return become

    def __enter__(self) -> PrivatePostgres:
        assert self._bin is not None
        self._folder = tempfile.TemporaryDirectory(prefix="intercarga-pg-")
        user = pwd.getpwnam("postgres")
        os.chown(self._folder.name, user.pw_uid, user.pw_gid)
        try:
            subprocess.run(  # noqa: S603
                [str(self._bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                 "--auth=trust", "--no-sync", "-E", "UTF8"],
                check=True, capture_output=True, preexec_fn=self._as_postgres(), timeout=120,
            )  # fmt: skip
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def start(self, timeout: float = 30.0) -> None:
        assert self._bin is not None and self._folder is not None
        log = (Path(self._folder.name) / "postgres.log").open("ab")
        with log:
            self.process = subprocess.Popen(  # noqa: S603
                [str(self._bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self._folder.name}",
                 "-c", "fsync=off", "-c", "max_connections=50"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=self._as_postgres(),
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            probe = subprocess.run(  # noqa: S603
                [str(self._bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True, check=False,
            )  # fmt: skip
            if probe.returncode == 0:
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"private PostgreSQL did not start:\n{self.log()}")
            time.sleep(0.1)

    def crash(self) -> None:
        """Immediate shutdown (SIGQUIT): connections are cut, nothing is checkpointed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def log(self) -> str:
        if self._folder is None:
            return ""
        path = Path(self._folder.name) / "postgres.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        if self._folder is not None:
            shutil.rmtree(self._folder.name, ignore_errors=True)
            self._folder.cleanup()
            self._folder = None
