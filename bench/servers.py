"""The servers under test, each started in its own process, and the handle the benchmarks hold.

``python -m bench.servers MODE [options]`` binds 127.0.0.1 on a free port, prints one line
``READY <ocpp port> <http port or 0>`` and serves until SIGTERM (or until its standard input
closes, so a benchmark that dies never leaves a server behind). Modes:

* ``echo`` — a raw ``websockets`` server that sends every text frame back: the ceiling;
* ``baseline`` — the usual CSMS on the ``ocpp`` library (:mod:`bench.baseline_csms`);
* ``intercarga`` — :class:`intercarga.app.System` opened from settings exactly as
  ``intercarga serve`` opens it (migrations, store, event bus, CSMS service, authenticator,
  full validation), on SQLite or PostgreSQL; with ``--http`` also the HTTP app with the OCPI
  routers. ``--stations N`` registers ``LOAD-0001`` … first (security profile 0), so the
  connections are those of known stations.

:class:`ServerProcess` starts one, pinned to a CPU when asked, and stops it. This module
starts and stops servers; it must never measure or decide what a good figure is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import functools
import json
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

__all__ = ["ROOT", "ServerProcess", "free_cpus", "main", "pin"]

ROOT = Path(__file__).resolve().parent.parent
# Every simulated station connects from 127.0.0.1, up to `connect_concurrency` (500) handshakes
# at a time: above the default cap of pending handshakes per address (256), which is there for
# real networks, not for one load generator.
BENCH_PENDING_HANDSHAKES = 4096
SUBPROTOCOLS = [Subprotocol("ocpp2.1"), Subprotocol("ocpp2.0.1"), Subprotocol("ocpp1.6")]

log = logging.getLogger(__name__)


def free_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def pin(cpu: int | None) -> None:
    """Keep this process (and the threads it starts later) on one CPU."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})


def _child(cpu: int | None) -> None:
    """In a server child before exec: its CPU, enough file descriptors, and death with us."""
    pin(cpu)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1 << 20 if hard == resource.RLIM_INFINITY else hard
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _listen() -> socket.socket:
    sock = socket.create_server(("127.0.0.1", 0), backlog=4096)
    # As `intercarga serve` binds (intercarga.app.bind), for every server alike.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    return sock


async def _until_stopped() -> None:
    """Wait for SIGTERM / SIGINT, or for the parent to close our standard input."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def watch_stdin() -> None:
        with contextlib.suppress(Exception):
            sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    await stop.wait()


def _ready(ocpp_port: int, http_port: int = 0) -> None:
    print(f"READY {ocpp_port} {http_port}", flush=True)


# --- echo and baseline ------------------------------------------------------------------------


async def _echo() -> None:
    async def echo(websocket: ServerConnection) -> None:
        async for message in websocket:
            await websocket.send(message)

    sock = _listen()
    async with serve(echo, sock=sock, subprotocols=SUBPROTOCOLS):
        _ready(sock.getsockname()[1])
        await _until_stopped()


async def _baseline() -> None:
    from bench.baseline_csms import MemoryStore, handle_connection

    store = MemoryStore()

    async def on_connect(websocket: ServerConnection) -> None:
        await handle_connection(websocket, store)

    sock = _listen()
    async with serve(on_connect, sock=sock, subprotocols=SUBPROTOCOLS):
        _ready(sock.getsockname()[1])
        await _until_stopped()


_OCPI_OK = (
    b'{"data":null,"status_code":1000,"status_message":"Success",'
    b'"timestamp":"2025-01-01T00:00:00Z"}'
)


async def _partner() -> None:
    """An OCPI partner that accepts everything at once: HTTP/1.1 keep-alive, status 1000."""
    answer = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(_OCPI_OK)}\r\n\r\n".encode()
        + _OCPI_OK
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, sock=_listen())
    async with server:
        _ready(server.sockets[0].getsockname()[1])
        await _until_stopped()


# --- Intercarga -------------------------------------------------------------------------------


async def register_stations(store: Any, count: int, prefix: str = "LOAD-") -> None:
    """Register ``{prefix}0001`` … as known stations (security profile 0, no password).

    Set-up, not measured: the rows are those :class:`StationRepository` writes, inserted in
    one statement per thousand instead of one transaction each.
    """
    from sqlalchemy import insert

    from intercarga.domain import Station
    from intercarga.store.batch import Write

    existing = await store.stations.count()
    rows = [
        store.stations._to_row(
            Station(id=f"{prefix}{n:04d}", country_code="CL", party_id="ICG", security_profile=0)
        )
        for n in range(existing + 1, count + 1)
    ]
    statement = insert(store.stations.table)
    for start in range(0, len(rows), 1000):
        await store.write(Write(statement, rows[start : start + 1000]))


def _settings(args: argparse.Namespace) -> Any:
    from pydantic import SecretStr

    from intercarga.config import OcppSettings, Settings, UnknownStationPolicy

    return Settings(
        database_url=SecretStr(args.database),
        database_schema=args.schema,
        ocpp=OcppSettings(
            unknown_stations=UnknownStationPolicy(args.unknown_stations),
            pending_handshakes=BENCH_PENDING_HANDSHAKES,
            pending_handshakes_per_address=BENCH_PENDING_HANDSHAKES,
        ),
        log_level=args.log_level,
    )


async def _prepare(system: Any, args: argparse.Namespace) -> None:
    if args.stations:
        await register_stations(system.store, args.stations)
    for extra in args.seed or ():
        module, _, function = extra.partition(":")
        seeder = getattr(__import__(module, fromlist=[function]), function)
        await seeder(system.store)


async def _prepare_only(args: argparse.Namespace, *, quiet: bool = False) -> None:
    """Migrate the database, register the stations, run the seeders; then exit."""
    from intercarga.app import System

    system = await System.open(_settings(args))
    try:
        await _prepare(system, args)
    finally:
        await system.close()
    if not quiet:
        print("PREPARED", flush=True)


async def _intercarga(args: argparse.Namespace) -> None:
    from intercarga.app import System
    from intercarga.logs import configure_logging

    settings = _settings(args)
    configure_logging(settings.log_format, settings.log_level)
    system = await System.open(settings)
    try:
        await _prepare(system, args)
        sock = _listen()
        await system.csms.start(sock)
        http_port = 0
        http_task: asyncio.Task[None] | None = None
        server = None
        if args.http:
            server, http_sock = _http(system, settings)
            http_port = http_sock.getsockname()[1]
            http_task = asyncio.create_task(server.serve(sockets=[http_sock]))
            while not server.started:  # noqa: ASYNC110 (uvicorn offers only a flag)
                await asyncio.sleep(0.01)
        _ready(sock.getsockname()[1], http_port)
        await _until_stopped()
        if server is not None and http_task is not None:
            server.should_exit = True
            await http_task
        await system.csms.stop()
    finally:
        await system.close()


def _http(system: Any, settings: Any) -> tuple[Any, socket.socket]:
    import uvicorn

    from intercarga.app import http_app
    from intercarga.ocpi.api import routers as ocpi_routers
    from intercarga.ocpi.roaming import Roaming
    from intercarga.web.listener import http_admission, uvicorn_config

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Any:
            yield

    app = http_app(system, routers=ocpi_routers(Roaming.build(settings, system.store)))
    # The listener `intercarga serve` has, with its deadlines and limits.
    config = uvicorn_config(app, settings.http, http_admission(settings.http))
    return Server(config), _listen()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("mode", choices=["echo", "baseline", "partner", "intercarga", "prepare"])
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    parser.add_argument("--database", default="sqlite+aiosqlite:///bench.db")
    parser.add_argument("--schema", default=None)
    parser.add_argument("--stations", type=int, default=0, help="register this many first")
    parser.add_argument("--unknown-stations", default="reject")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--http", action="store_true", help="also serve HTTP (OCPI)")
    parser.add_argument("--seed", action="append", help="module:coroutine(store) to run first")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    pin(args.cpu)
    from intercarga.sim.load import raise_open_files_limit

    raise_open_files_limit(65536)
    if args.mode == "prepare":
        asyncio.run(_prepare_only(args))
    elif args.mode == "echo":
        asyncio.run(_echo())
    elif args.mode == "baseline":
        asyncio.run(_baseline())
    elif args.mode == "partner":
        asyncio.run(_partner())
    else:
        asyncio.run(_intercarga(args))


class ServerProcess:
    """A server of :func:`main` in a child process: ``with ServerProcess("echo") as server:``."""

    def __init__(
        self,
        mode: str,
        *options: str,
        cpu: int | None = None,
        startup_timeout: float = 120.0,
        log_dir: Path | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.mode = mode
        self.settings = dict(settings or {})  # more INTERCARGA_* variables for "serve"
        self.options = list(options)
        self.cpu = cpu
        self.startup_timeout = startup_timeout
        self.log_dir = log_dir
        self.port = 0
        self.http_port = 0
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    @property
    def log_path(self) -> Path | None:
        return None if self._log is None else Path(self._log.name)

    def __enter__(self) -> ServerProcess:
        self._workdir = tempfile.TemporaryDirectory(prefix="intercarga-bench-")
        log_dir = self.log_dir or Path(self._workdir.name)
        self._log = (log_dir / f"server-{self.mode}-{os.getpid()}.log").open("w")
        env = {k: v for k, v in os.environ.items() if not k.startswith("INTERCARGA_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        try:
            if self.mode == "serve":
                self._serve(env)
            else:
                command = [sys.executable, "-m", "bench.servers", self.mode, *self.options]
                if self.cpu is not None:
                    command += ["--cpu", str(self.cpu)]
                self._process = subprocess.Popen(  # noqa: S603 (our own argument list)
                    command,
                    cwd=self._workdir.name,  # no intercarga.toml of the repo; SQLite lands here
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=self._log,
                    text=True,
                )
                self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _serve(self, env: dict[str, str]) -> None:
        """``intercarga serve`` itself, after a ``prepare`` step on the same database."""
        assert self._workdir is not None and self._log is not None
        args = _parser().parse_args(["prepare", *self.options])
        # Prepared here, in this process (no second interpreter to start): migrations, the
        # stations, the seeders. A relative SQLite path is made absolute in the work folder.
        if args.database.startswith("sqlite") and ":///" in args.database:
            scheme, _, path = args.database.partition(":///")
            if not path.startswith("/"):
                args.database = f"{scheme}:///{Path(self._workdir.name) / path}"
        try:
            asyncio.run(_prepare_only(args, quiet=True))
        except Exception as error:
            raise RuntimeError(f"preparing the database failed: {error}") from error
        env = {
            **env,
            "INTERCARGA_DATABASE_URL": args.database,
            "INTERCARGA_ADMIN_TOKEN": "bench-admin-token-0123456789abcdef",
            # INFO at least: the "serving" line names the ports the kernel chose.
            "INTERCARGA_LOG_LEVEL": "INFO" if args.log_level != "DEBUG" else "DEBUG",
            "INTERCARGA_OCPP__PENDING_HANDSHAKES": str(BENCH_PENDING_HANDSHAKES),
            "INTERCARGA_OCPP__PENDING_HANDSHAKES_PER_ADDRESS": str(BENCH_PENDING_HANDSHAKES),
        }
        if args.schema:
            env["INTERCARGA_DATABASE_SCHEMA"] = args.schema
        env.update(self.settings)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "intercarga", "serve", "--ocpp-port", "0", "--http-port", "0",
             "--log-format", "json"],
            cwd=self._workdir.name,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=functools.partial(_child, self.cpu),
        )  # fmt: skip
        ready = threading.Event()
        log = self._log
        stderr = self._process.stderr
        assert stderr is not None

        def read() -> None:
            # Drain the server's log for its whole life (a full pipe would block it).
            for line in stderr:
                log.write(line)
                if not ready.is_set() and '"message": "serving"' in line:
                    entry = json.loads(line)
                    self.port = int(entry["ocpp"].rsplit(":", 1)[1].split("/", 1)[0])
                    self.http_port = int(entry["http"].rsplit(":", 1)[1])
                    ready.set()
            ready.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        if not ready.wait(self.startup_timeout) or not self.port:
            raise RuntimeError(f"intercarga serve did not start:\n{self._tail()}")

    def _tail(self) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        return Path(self._log.name).read_text()[-3000:]

    def _wait_ready(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        result: list[str] = []

        def read() -> None:
            assert self._process is not None and self._process.stdout is not None
            result.append(self._process.stdout.readline())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        line = result[0] if result else ""
        if not line.startswith("READY "):
            raise RuntimeError(f"{self.mode} server did not start: {line!r}\n{self._tail()}")
        _, ocpp_port, http_port = line.split()
        self.port, self.http_port = int(ocpp_port), int(http_port)

    def workdir(self) -> Path:
        assert self._workdir is not None
        return Path(self._workdir.name)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if self._reader is not None:
            self._reader.join(10)
        if process is not None:
            for stream in (process.stdin, process.stdout, process.stderr):
                with contextlib.suppress(Exception):
                    if stream is not None:
                        stream.close()
        if self._log is not None:
            self._log.close()
        if self._workdir is not None:
            self._workdir.cleanup()


if __name__ == "__main__":
    main()
