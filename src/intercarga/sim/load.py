"""The load generator: N stations, each sending its next message as soon as the last is answered.

Used by the benchmarks (``bench/``) and by ``intercarga simulate --load``. Every station
connects (at most ``connect_concurrency`` handshakes at a time), boots, prepares its
transaction when the message kind needs one, and waits for the others; then all send their
share of ``messages`` back to back, and the round trip of each is measured. The result holds
messages per second over that window and the latency percentiles.

Message kinds (:class:`LoadKind`):

* ``heartbeat`` — Heartbeat (default OCPP 2.0.1);
* ``meter-values`` — MeterValues with 10 sampled values in one meter value (default OCPP 1.6,
  after a StartTransaction whose transactionId they carry);
* ``transaction-event`` — TransactionEvent Updated with 10 sampled values and increasing seqNo
  (OCPP 2.0.1 or 2.1, after an Started event).

A station may keep a bad clock (``clock_wrap``: its timestamps start again every so many
messages) or a poor network (``reconnect_every``: it drops its connection every so many
messages, connects again without booting, and replays what it queued, marked offline).

Each kind's payloads are built with the simulator's dialects and checked once against the OCA
schemas before the run; during the run frames come from a pre-serialized template with the
message id, timestamp and seqNo filled in, so the client spends its time waiting, not encoding.
Any frame that comes back with the message id counts as the answer: a CALLRESULT, a CALLERROR
(counted as an error) or, from a raw echo server (the benchmarks' ceiling), the CALL itself.

This module measures; it must never print nor decide what a good figure is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import re
import resource
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.schemas import Validator
from intercarga.sim.clock import format_timestamp
from intercarga.sim.dialects import MeterSample, SessionFacts, StationInfo, dialect_for
from intercarga.sim.link import SimulationError, basic_authorization
from intercarga.sim.stats import percentile

__all__ = [
    "QUEUED",
    "LoadConfig",
    "LoadKind",
    "LoadResult",
    "raise_open_files_limit",
    "run_load",
    "run_load_in_processes",
]

_ID: Final = "@@message-id@@"
_TS: Final = "2000-01-01T00:00:00.000Z"
_SEQ: Final = '"seqNo":-1'
_TAG: Final = "04A1B2C3D4E5F6"
QUEUED: Final = 10  # messages a reconnecting station queued while away (LoadConfig.reconnect_every)
_HEAD: Final = re.compile(r'\[\s*([2-6])\s*,\s*"([^"\\]*)"')


class LoadKind(StrEnum):
    HEARTBEAT = "heartbeat"
    METER_VALUES = "meter-values"
    TRANSACTION_EVENT = "transaction-event"

    def default_version(self) -> OcppVersion:
        return OcppVersion.V16 if self is LoadKind.METER_VALUES else OcppVersion.V201


@dataclass(frozen=True)
class LoadConfig:
    """One load run. ``messages`` is the total over all stations (spread evenly)."""

    url: str
    kind: LoadKind = LoadKind.HEARTBEAT
    stations: int = 10
    messages: int = 10_000
    version: OcppVersion | None = None
    password: str | None = None
    id_prefix: str = "LOAD-"
    first_station: int = 1  # numbering offset, for runs split over several processes
    boot: bool = True
    connect_concurrency: int = 200
    timeout: float = 30.0
    # A station with a bad clock: its timestamps start again every ``clock_wrap`` messages (0:
    # they keep rising). ``charging``: the energy register counts up message by message (else
    # every message states the same reading).
    clock_wrap: int = 0
    charging: bool = False
    # A station whose connection drops: every ``reconnect_every`` messages it closes its
    # connection and opens another (no boot: it did not restart), then sends first the messages
    # it queued while away, the next ``QUEUED`` marked offline (0: it stays connected).
    reconnect_every: int = 0

    def __post_init__(self) -> None:
        if (
            self.stations < 1
            or self.messages < 0
            or self.connect_concurrency < 1
            or self.clock_wrap < 0
            or self.reconnect_every < 0
        ):
            raise SimulationError(
                "stations and connect_concurrency ≥ 1, messages, clock_wrap, reconnect_every ≥ 0"
            )
        if self.kind is LoadKind.TRANSACTION_EVENT and self.ocpp is OcppVersion.V16:
            raise SimulationError("transaction-event load needs OCPP 2.0.1 or 2.1")

    @property
    def ocpp(self) -> OcppVersion:
        return self.version if self.version is not None else self.kind.default_version()


@dataclass
class LoadResult:
    kind: LoadKind
    version: OcppVersion
    stations: int
    connected: int = 0
    booted: int = 0
    answered: int = 0
    errors: int = 0
    failures: list[str] = field(default_factory=list)
    ready_s: float = 0.0  # from start until every station was connected, booted and prepared
    elapsed_s: float = 0.0  # the measured window
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Answered messages per second over the measured window."""
        return self.answered / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def latency_ms(self, fraction: float) -> float | None:
        value = percentile(sorted(self.latencies), fraction)
        return None if value is None else value * 1000.0

    @classmethod
    def merge(cls, results: Iterable[LoadResult]) -> LoadResult:
        """Results of runs made at the same time (several processes): one combined result."""
        parts = list(results)
        if not parts:
            raise ValueError("nothing to merge")
        total = cls(parts[0].kind, parts[0].version, 0)
        for part in parts:
            total.stations += part.stations
            total.connected += part.connected
            total.booted += part.booted
            total.answered += part.answered
            total.errors += part.errors
            total.failures.extend(part.failures)
            total.latencies.extend(part.latencies)
            total.ready_s = max(total.ready_s, part.ready_s)
            total.elapsed_s = max(total.elapsed_s, part.elapsed_s)
        return total

    def to_dict(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000.0, 3)

        return {
            "load": self.kind.value,
            "ocpp": self.version.value.removeprefix("ocpp"),
            "stations": self.stations,
            "connected": self.connected,
            "booted": self.booted,
            "messages": {"answered": self.answered, "errors": self.errors},
            "ready_s": round(self.ready_s, 3),
            "elapsed_s": round(self.elapsed_s, 3),
            "messages_per_s": round(self.rate, 1),
            "latency_ms": {
                "p50": ms(percentile(ordered, 0.5)),
                "p99": ms(percentile(ordered, 0.99)),
                "max": ms(ordered[-1] if ordered else None),
            },
            "failures": self.failures[:20],
        }


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's open-files soft limit towards ``wanted``; returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return soft


# --- payloads ---------------------------------------------------------------------------------


_ENERGY: Final = 123456.7
_ENERGY_TEXT: Final = f'"value":{_ENERGY}'


def _sample(at: datetime) -> MeterSample:
    # A three-phase 11 kW AC charge at 42 %: ten values per meter value with the full set.
    return MeterSample(
        at=at,
        energy_wh=_ENERGY,
        power_w=10990.0,
        offered_w=11040.0,
        current_a=15.9,
        volts=230.4,
        phases=3,
        soc=42.0,
    )


def _facts(transaction_id: str | int | None, seq_no: int) -> SessionFacts:
    return SessionFacts(evse_id=1, id_tag=_TAG, transaction_id=transaction_id, seq_no=seq_no)


def _frame(action: str, payload: dict[str, Any], unique_id: str) -> str:
    return json.dumps([2, unique_id, action, payload], separators=(",", ":"))


class _Messages:
    """The frames one station sends: set-up calls and the template of the measured message."""

    def __init__(self, kind: LoadKind, version: OcppVersion) -> None:
        self.kind = kind
        self.version = version
        self.dialect = dialect_for(version)
        self.epoch = datetime.now(UTC).replace(microsecond=0)

    def boot(self) -> tuple[str, dict[str, Any]]:
        return "BootNotification", self.dialect.boot_notification(StationInfo(), "PowerUp")

    def setup(self, transaction_id: str) -> tuple[str, dict[str, Any]] | None:
        """The call that opens the transaction the measured messages belong to, if any."""
        if self.kind is LoadKind.HEARTBEAT:
            return None
        if self.kind is LoadKind.METER_VALUES and self.version is not OcppVersion.V16:
            return None
        return self.dialect.transaction_started(
            _facts(transaction_id, 0), _sample(self.epoch), "Authorized"
        )

    def measured(
        self, transaction_id: str | int | None, seq_no: int = -1, *, offline: bool = False
    ) -> tuple[str, dict[str, Any]]:
        if self.kind is LoadKind.HEARTBEAT:
            return "Heartbeat", {}
        sample = _sample(datetime.fromisoformat(_TS))
        if self.kind is LoadKind.METER_VALUES and self.version is not OcppVersion.V16:
            return "MeterValues", self.dialect.meter_values(1, sample, full=True)
        update = self.dialect.transaction_updated(
            _facts(transaction_id, seq_no), sample, "MeterValuePeriodic", full=True, offline=offline
        )
        assert update is not None
        return update

    def template(self, transaction_id: str | int | None, *, offline: bool = False) -> str:
        action, payload = self.measured(transaction_id, offline=offline)
        return _frame(action, payload, _ID)

    def check(self) -> None:
        """Validate one of each message against the OCA schemas: a load run sends valid OCPP."""
        validator = Validator(self.version)
        calls = [self.boot(), self.measured(1 if self.version is OcppVersion.V16 else "t", 1)]
        setup = self.setup("t")
        if setup is not None:
            calls.append(setup)
        for action, payload in calls:
            validator.request(action, json.loads(json.dumps(payload)), strict=True)


# --- the run ----------------------------------------------------------------------------------


@dataclass
class _Shared:
    config: LoadConfig
    messages: _Messages
    result: LoadResult
    semaphore: asyncio.Semaphore
    ready: asyncio.Event
    go: asyncio.Event
    waiting: int


class _SetupError(Exception):
    pass


def _head(reply: str | bytes) -> tuple[int, str]:
    """(message type, message id) of a reply, read from its first characters when possible."""
    text = reply.decode() if isinstance(reply, bytes) else reply
    match = _HEAD.match(text)
    if match is not None:
        return int(match.group(1)), match.group(2)
    message = json.loads(text)  # ids with escapes, odd spacing: the slow way
    if isinstance(message, list) and len(message) > 1 and isinstance(message[0], int):
        return message[0], str(message[1])
    return 0, ""


async def _exchange(ws: ClientConnection, frame: str, unique_id: str, timeout: float) -> int:
    """Send ``frame`` and wait for the frame that answers it; returns that frame's type."""
    await ws.send(frame)
    async with asyncio.timeout(timeout):
        while True:
            kind, answered = _head(await ws.recv())
            if answered == unique_id:
                return kind
            # Anything else (a call from the CSMS) is not what we wait for; the load client
            # does not answer calls.


async def _call(ws: ClientConnection, frame: str, unique_id: str, timeout: float) -> list[Any]:
    """Send a set-up call and return the whole answer."""
    await ws.send(frame)
    async with asyncio.timeout(timeout):
        while True:
            reply = json.loads(await ws.recv())
            if isinstance(reply, list) and len(reply) > 2 and reply[1] == unique_id:
                return reply


async def _prepare(ws: ClientConnection, shared: _Shared, number: int) -> str | int | None:
    messages, timeout = shared.messages, shared.config.timeout
    if shared.config.boot:
        action, payload = messages.boot()
        reply = await _call(
            ws, _frame(action, payload, f"{number}-boot"), f"{number}-boot", timeout
        )
        if reply[0] == 4:
            raise _SetupError(f"BootNotification answered with {reply[2]}")
        if reply[0] == 3 and reply[2].get("status") not in ("Accepted", None):
            raise _SetupError(f"BootNotification answered {reply[2].get('status')}")
        shared.result.booted += 1
    transaction_id: str | int | None = f"{shared.config.id_prefix}{number}-tx"
    setup = messages.setup(str(transaction_id))
    if setup is not None:
        action, payload = setup
        reply = await _call(
            ws, _frame(action, payload, f"{number}-start"), f"{number}-start", timeout
        )
        if reply[0] == 4:
            raise _SetupError(f"{action} answered with {reply[2]}")
        if messages.version is OcppVersion.V16:
            answered = reply[2].get("transactionId") if reply[0] == 3 else None
            transaction_id = answered if isinstance(answered, int) else None
    return transaction_id


async def _connect(shared: _Shared, number: int) -> ClientConnection:
    config = shared.config
    station_id = f"{config.id_prefix}{number:04d}"
    headers = {}
    if config.password is not None:
        headers["Authorization"] = basic_authorization(station_id, config.password)
    async with shared.semaphore:
        return await connect(
            f"{config.url.rstrip('/')}/{station_id}",
            subprotocols=[Subprotocol(shared.messages.version.value)],
            additional_headers=headers,
            open_timeout=config.timeout,
            compression=None,
            proxy=None,
            ping_interval=None,
            max_size=1 << 20,
        )


async def _station(shared: _Shared, number: int, count: int) -> None:
    config, result = shared.config, shared.result
    station_id = f"{config.id_prefix}{number:04d}"
    ws: ClientConnection | None = None
    transaction_id: str | int | None = None
    try:
        ws = await _connect(shared, number)
        result.connected += 1
        transaction_id = await _prepare(ws, shared, number)
    except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed, _SetupError) as error:
        result.failures.append(f"{station_id}: {str(error) or type(error).__name__}")
        count = 0
    finally:
        shared.waiting -= 1
        if shared.waiting == 0:
            shared.ready.set()
    await shared.go.wait()
    if ws is None:
        return
    link = [ws]  # the station's connection, replaced when it reconnects
    try:
        if count:
            await _send(link, shared, number, count, transaction_id)
    finally:
        with contextlib.suppress(Exception):
            await link[0].close()


async def _send(
    link: list[ClientConnection],
    shared: _Shared,
    number: int,
    count: int,
    transaction_id: str | int | None,
) -> None:
    result, timeout = shared.result, shared.config.timeout
    template = shared.messages.template(transaction_id)
    queued = shared.messages.template(transaction_id, offline=True)
    epoch = shared.messages.epoch
    latencies = result.latencies
    clock = time.perf_counter
    wrap, charging = shared.config.clock_wrap, shared.config.charging
    every = shared.config.reconnect_every
    if charging and _ENERGY_TEXT not in template:
        raise SimulationError("this message kind states no energy register to count up")
    try:
        for index in range(1, count + 1):
            if every and index > 1 and (index - 1) % every == 0:
                await link[0].close()
                link[0] = await _connect(shared, number)
            replaying = every and (index - 1) % every < QUEUED and index > every
            unique_id = f"{number}-{index}"
            seconds = (index - 1) % wrap + 1 if wrap else index
            frame = (
                (queued if replaying else template)
                .replace(_ID, unique_id, 1)
                .replace(_TS, format_timestamp(epoch + timedelta(seconds=seconds)))
                .replace(_SEQ, f'"seqNo":{index}', 1)
            )
            if charging:  # 3 Wh a message, a tenth of what the sample's 11 kW would give
                frame = frame.replace(_ENERGY_TEXT, f'"value":{_ENERGY + 3 * index:.1f}', 1)
            started = clock()
            kind = await _exchange(link[0], frame, unique_id, timeout)
            latencies.append(clock() - started)
            result.answered += 1
            if kind == 4:
                result.errors += 1
    except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as error:
        result.failures.append(
            f"{shared.config.id_prefix}{number:04d}: {str(error) or type(error).__name__}"
        )


async def run_load(config: LoadConfig) -> LoadResult:
    """Run one load test; see the module docstring."""
    version = config.ocpp
    messages = _Messages(config.kind, version)
    messages.check()
    raise_open_files_limit(config.stations + 256)
    result = LoadResult(config.kind, version, config.stations)
    shared = _Shared(
        config,
        messages,
        result,
        asyncio.Semaphore(config.connect_concurrency),
        asyncio.Event(),
        asyncio.Event(),
        config.stations,
    )
    share, extra = divmod(config.messages, config.stations)
    started = time.perf_counter()
    tasks = [
        asyncio.create_task(
            _station(shared, config.first_station + index, share + (1 if index < extra else 0))
        )
        for index in range(config.stations)
    ]
    try:
        await shared.ready.wait()
        result.ready_s = time.perf_counter() - started
        window = time.perf_counter()
        shared.go.set()
        await asyncio.gather(*tasks)
        result.elapsed_s = time.perf_counter() - window
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return result


def _run_in_worker(config: LoadConfig) -> LoadResult:
    return asyncio.run(run_load(config))


def run_load_in_processes(config: LoadConfig, processes: int) -> LoadResult:
    """Split the stations (and messages) over ``processes`` worker processes and merge.

    For loads one Python process cannot drive, such as ten thousand connections. Each worker
    measures its own window, so the merged rate is the total over the longest window: slightly
    conservative. Blocks until every worker is done; call it outside an event loop.
    """
    if processes <= 1:
        return asyncio.run(run_load(config))
    processes = min(processes, config.stations)
    stations, extra_stations = divmod(config.stations, processes)
    messages, extra_messages = divmod(config.messages, processes)
    parts = []
    first = config.first_station
    for index in range(processes):
        count = stations + (1 if index < extra_stations else 0)
        parts.append(
            replace(
                config,
                stations=count,
                messages=messages + (1 if index < extra_messages else 0),
                first_station=first,
            )
        )
        first += count
    context = multiprocessing.get_context("spawn")  # no event loop or sockets inherited
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        return LoadResult.merge(pool.map(_run_in_worker, parts))
