"""A simulated charging station that speaks OCPP 1.6, 2.0.1 or 2.1 to a CSMS.

What it does, like a real charger:

* **Connection.** A supervisor task connects (HTTP Basic with the station id when a password is
  given), boots, and reconnects after a lost connection. A station boots once per power-on (and
  after a reset), not per connection, as OCPP intends. Given ``fallback_urls`` (the other nodes
  of a cluster), it moves to the next URL after ``failover_after`` failed attempts in a row at
  one, as a load balancer's health check moves a station off a dead node.
* **Boot.** BootNotification; on Pending or Rejected it tries again after the interval the CSMS
  gave (or ``boot_retry_s``), answering the CSMS's calls meanwhile. Then a StatusNotification per
  EVSE and a Heartbeat every HeartbeatInterval (the CSMS's interval, or whatever it sets later).
* **Outbox.** Everything the station reports on its own goes through one ordered outbox, one
  message at a time. Transaction messages (Start/StopTransaction and MeterValues of a
  transaction in 1.6, TransactionEvent in 2.x) stay in it while the station is offline and are
  sent in order after reconnecting; 2.x events that happened offline carry ``offline: true``, and
  1.6 messages get the transactionId the CSMS assigned when their StartTransaction (itself
  perhaps queued) is answered. Status notifications are not kept: after a reconnection the
  station reports every EVSE's status afresh. A transaction message the CSMS failed to process
  (a CALLERROR, or no answer) is sent again after ``transaction_retry_s`` × the attempts so far,
  up to three attempts in all (1.6 TransactionMessageAttempts / RetryInterval, 2.0.1
  MessageAttemptsTransactionEvent / MessageAttemptIntervalTransactionEvent); then it is dropped.
  Every transaction message the CSMS acknowledged is appended, as sent, to the ``journal``
  when one is given: what a test checks the CSMS stored.
* **Sessions.** plug in → authorize (RFID) → start → meter values every MeterValueSampleInterval
  with the power curve of :mod:`intercarga.sim.power` → stop → unplug; the connector follows the
  table of :mod:`intercarga.sim.connector`.
* **Calls from the CSMS** are answered through :mod:`intercarga.sim.dialects`; this class is the
  :class:`~intercarga.sim.dialects.StationControl` they act on: a decision now, the work (start,
  stop, reboot, triggered messages) in a tracked task right after. Asked for a certificate
  (1.6 ExtendedTriggerMessage), it makes a new key and sends its CSR; the certificate the CSMS
  signs for that key becomes :attr:`SimulatedStation.certificate`. A signed firmware update
  (1.6 SignedUpdateFirmware) walks its steps in simulated time.

Time is the :class:`~intercarga.sim.clock.SimClock`'s; every task this class starts is tracked
and cancelled by :meth:`SimulatedStation.shutdown`. It must never block the event loop nor
write anywhere but the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import uuid
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from enum import StrEnum
from http import HTTPStatus
from typing import Any, Final

from websockets.exceptions import InvalidHandshake, InvalidStatus

from intercarga.domain.station import OcppVersion
from intercarga.errors import IntercargaError
from intercarga.sim.certificates import (
    KeyRequest,
    StationCertificate,
    is_certificate,
    new_request,
)
from intercarga.sim.clock import SimClock
from intercarga.sim.connector import ConnectorEvent, ConnectorStatus, status_201, transition
from intercarga.sim.dialects import (
    MeterSample,
    SessionFacts,
    StationInfo,
    TriggerOutcome,
    UnlockOutcome,
    dialect_for,
)
from intercarga.sim.link import (
    CallRejectedError,
    CallTimeoutError,
    CsmsLink,
    SimulationError,
    StationOfflineError,
    open_link,
)
from intercarga.sim.power import (
    ChargePoint,
    ChargingState,
    Current,
    Vehicle,
    advance,
    power_limit_w,
)
from intercarga.sim.stats import MessageStats
from intercarga.sim.variables import Settings, default_settings

__all__ = [
    "Acknowledged",
    "ConnectionState",
    "SimulatedStation",
    "StationConfig",
    "StationRefusedError",
    "cancel_and_wait",
]

_log = logging.getLogger(__name__)

_REFUSALS: Final = frozenset(
    {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND, HTTPStatus.BAD_REQUEST}
)
_TRANSACTION_ATTEMPTS: Final = 3  # like 1.6 TransactionMessageAttempts
# A signed firmware update's steps (1.6 Security Whitepaper L01) and the simulated seconds each
# takes before the next one.
_FIRMWARE_STEPS: Final = (
    ("Downloading", 30.0),
    ("Downloaded", 1.0),
    ("SignatureVerified", 1.0),
    ("Installing", 10.0),
    ("Installed", 0.0),
)


class StationRefusedError(SimulationError):
    """The CSMS refused the handshake for good (unknown station, wrong password)."""


class ConnectionState(StrEnum):
    OFF = "off"
    CONNECTING = "connecting"
    BOOTING = "booting"
    PENDING = "pending"
    REJECTED = "rejected"
    ACCEPTED = "accepted"
    OFFLINE = "offline"
    REFUSED = "refused"


@dataclass(frozen=True)
class StationConfig:
    """One simulated station. ``url`` is the CSMS's OCPP base (the station id is appended)."""

    station_id: str
    url: str
    version: OcppVersion = OcppVersion.V201
    password: str | None = None
    tls: ssl.SSLContext | None = None
    """For a wss:// ``url``: trusts the CSMS's CA and, at security profile 3, holds the
    station's own certificate."""
    evses: int = 1
    charge_point: ChargePoint = field(default_factory=ChargePoint)
    vehicle: Vehicle = field(default_factory=Vehicle)
    id_tag: str = "04A1B2C3D4E5F6"
    info: StationInfo = field(default_factory=StationInfo)
    heartbeat_s: int = 300
    meter_interval_s: int = 60
    boot_retry_s: int = 30
    reconnect_s: float = 10.0  # simulated seconds between connection attempts
    # Other CSMS nodes to try, in turn, after ``failover_after`` failed attempts at one.
    fallback_urls: tuple[str, ...] = ()
    failover_after: int = 1
    call_timeout: float = 30.0  # real seconds
    transaction_retry_s: float = 60.0  # simulated seconds, × the attempts so far
    register_wh: float = 0.0  # each EVSE's meter register at power-on
    validate: bool = True

    def __post_init__(self) -> None:
        if not self.station_id or self.evses < 1:
            raise SimulationError("a station needs an id and at least one EVSE")


@dataclass(frozen=True)
class Acknowledged:
    """A transaction message the CSMS answered with a CALLRESULT: as sent, and the answer."""

    station_id: str
    action: str
    payload: dict[str, Any]
    answer: dict[str, Any]


@dataclass(eq=False)
class _Session:
    evse_id: int
    id_tag: str
    transaction_id: str | int | None
    state: ChargingState
    started_s: float  # clock.elapsed() at start
    remote_start_id: int | None = None
    seq_no: int = 0
    updated_s: float = 0.0
    ended: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    meter_task: asyncio.Task[None] | None = None


@dataclass(eq=False)
class _Evse:
    id: int
    register_wh: float
    status: ConnectorStatus = ConnectorStatus.AVAILABLE
    plugged: bool = False
    authorized_tag: str | None = None
    session: _Session | None = None
    reported: str | None = None  # the status last sent on the wire
    inoperative_when_idle: bool = False


@dataclass(eq=False)
class _Outgoing:
    action: str
    payload: dict[str, Any]
    session: _Session | None = None
    transactional: bool = False
    attempts: int = 0


class SimulatedStation:
    """See the module docstring; scenario steps are its public coroutines."""

    def __init__(
        self,
        config: StationConfig,
        clock: SimClock,
        *,
        stats: MessageStats | None = None,
        journal: list[Acknowledged] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.stats = stats if stats is not None else MessageStats()
        self.journal = journal
        self.dialect = dialect_for(config.version)
        self.settings = Settings(
            default_settings(
                connectors=config.evses,
                heartbeat_s=config.heartbeat_s,
                meter_interval_s=config.meter_interval_s,
            )
        )
        self.state = ConnectionState.OFF
        self.boot_status: str | None = None
        self.last_error: str | None = None
        self.sessions_started = 0
        self.sessions_completed = 0
        self.reconnections = 0
        self._urls = (config.url, *config.fallback_urls)
        self._url_index = 0
        self._failed_here = 0  # failed connection attempts in a row at the current URL
        self._evses = {
            number: _Evse(number, config.register_wh) for number in range(1, config.evses + 1)
        }
        self._outbox: deque[_Outgoing] = deque()
        self._outbox_wake = asyncio.Event()
        self._outbox_empty = asyncio.Event()
        self._outbox_empty.set()
        self._ready = asyncio.Event()  # connected and accepted
        self._accepted = asyncio.Event()  # booted at least once since power-on
        self._refused = asyncio.Event()
        self._link: CsmsLink | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._auth_cache: dict[str, str] = {}
        self._need_boot = True
        self._boot_reason = "PowerUp"
        self._offline_until: float | None = None
        self._reset_when_idle = False
        self._shutting_down = False
        self.certificate: StationCertificate | None = None
        """The certificate the CSMS last signed for the station (for security profile 3)."""
        self._key_request: KeyRequest | None = None

    # -- what observers read -------------------------------------------------------------------

    @property
    def station_id(self) -> str:
        return self.config.station_id

    @property
    def online(self) -> bool:
        return self._ready.is_set()

    @property
    def queued(self) -> int:
        return sum(1 for item in self._outbox if item.transactional)

    @property
    def url(self) -> str:
        """The CSMS URL the station connects to now (one of ``url`` and ``fallback_urls``)."""
        return self._urls[self._url_index]

    def connector_statuses(self) -> dict[int, ConnectorStatus]:
        return {number: evse.status for number, evse in self._evses.items()}

    def energy_wh(self) -> float:
        """Energy of the sessions since power-on (the registers' advance)."""
        return sum(evse.register_wh - self.config.register_wh for evse in self._evses.values())

    def power_w(self) -> float:
        return sum(
            evse.session.state.power_w for evse in self._evses.values() if evse.session is not None
        )

    def soc(self, evse_id: int = 1) -> float | None:
        session = self._evse(evse_id).session
        return None if session is None else session.state.soc

    def transaction_id(self, evse_id: int = 1) -> str | int | None:
        session = self._evse(evse_id).session
        return None if session is None else session.transaction_id

    # -- power -----------------------------------------------------------------------------------

    async def power_on(self, *, timeout: float | None = None) -> str:
        """Connect and boot; returns when the CSMS accepted the station.

        Raises :class:`StationRefusedError` when the handshake is refused for good and
        :class:`SimulationError` when not accepted within ``timeout`` real seconds.
        """
        if self._supervisor is None:
            self._shutting_down = False
            self._supervisor = asyncio.create_task(self._supervise(), name=f"sim-{self.station_id}")
        accepted = asyncio.ensure_future(self._accepted.wait())
        refused = asyncio.ensure_future(self._refused.wait())
        try:
            await asyncio.wait(
                {accepted, refused}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            accepted.cancel()
            refused.cancel()
        if self._accepted.is_set():
            return "Accepted"
        if self._refused.is_set():
            raise StationRefusedError(f"{self.station_id}: {self.last_error}")
        raise SimulationError(
            f"{self.station_id} was not accepted in time (boot status {self.boot_status}, "
            f"{self.last_error or 'no error'})"
        )

    async def shutdown(self) -> None:
        """Stop everything: tasks, the connection. Sessions are left as they are."""
        self._shutting_down = True
        tasks = [*self._tasks]
        if self._supervisor is not None:
            tasks.append(self._supervisor)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._supervisor = None
        if self._link is not None:
            await self._link.close()
            self._link = None
        self._ready.clear()
        self.state = ConnectionState.OFF

    async def wait_online(self) -> None:
        await self._ready.wait()

    async def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` real seconds for the outbox to empty; True when it did."""
        if self._outbox_empty.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox_empty.wait(), timeout)
        return self._outbox_empty.is_set()

    async def disconnect(self, seconds: float, *, wait: bool = True) -> None:
        """Lose the connection for ``seconds`` (simulated), then reconnect.

        With ``wait`` the step returns once the station is back online; without, at once.
        """
        self._offline_until = self.clock.elapsed() + seconds
        if self._link is not None:
            self._link.abort()
        if wait:
            await self.clock.sleep(seconds)
            await self._ready.wait()

    # -- scenario steps ------------------------------------------------------------------------

    async def plug_in(self, evse_id: int = 1) -> None:
        evse = self._evse(evse_id)
        evse.status = transition(evse.status, ConnectorEvent.PLUG_IN)
        evse.plugged = True
        self._report_status(evse)

    async def authorize(self, id_tag: str | None = None, evse_id: int = 1) -> str:
        """Present an RFID card; returns the CSMS's (or, offline, the local) verdict."""
        evse = self._evse(evse_id)
        tag = id_tag or self.config.id_tag
        link = self._link
        if self.online and link is not None:
            try:
                answer = await link.call("Authorize", self.dialect.authorize(tag))
                status = self.dialect.authorize_answer(answer)
            except StationOfflineError:
                status = self._authorize_offline(tag)
        else:
            status = self._authorize_offline(tag)
        self._auth_cache[tag] = status
        if status == "Accepted":
            evse.authorized_tag = tag
            if evse.status is ConnectorStatus.AVAILABLE:
                evse.status = transition(evse.status, ConnectorEvent.AUTHORIZE)
                self._report_status(evse)
        return status

    async def start(
        self,
        evse_id: int = 1,
        id_tag: str | None = None,
        *,
        remote_start_id: int | None = None,
    ) -> None:
        """Start a transaction; plugs the cable in first if it is not."""
        evse = self._evse(evse_id)
        if evse.session is not None:
            raise SimulationError(f"EVSE {evse_id} of {self.station_id} already has a transaction")
        if (
            evse.status in (ConnectorStatus.AVAILABLE, ConnectorStatus.PREPARING)
            and not evse.plugged
        ):
            await self.plug_in(evse_id)
        status = transition(evse.status, ConnectorEvent.START)
        tag = id_tag or evse.authorized_tag or self.config.id_tag
        is_16 = self.config.version is OcppVersion.V16
        now = self.clock.elapsed()
        session = _Session(
            evse_id=evse_id,
            id_tag=tag,
            transaction_id=None if is_16 else str(uuid.uuid4()),
            state=ChargingState(self.config.vehicle),
            started_s=now,
            updated_s=now,
            remote_start_id=remote_start_id,
        )
        evse.session, evse.status = session, status
        trigger = "RemoteStart" if remote_start_id is not None else "Authorized"
        action, payload = self.dialect.transaction_started(
            self._facts(session), self._sample(evse), trigger, offline=not self.online
        )
        self._post(_Outgoing(action, payload, session, transactional=True))
        self._report_status(evse)
        self.sessions_started += 1
        session.meter_task = self._spawn(self._meter(evse, session))

    async def charge(
        self, evse_id: int = 1, *, minutes: float | None = None, target_soc: float | None = None
    ) -> None:
        """Let the session charge for ``minutes`` or until ``target_soc`` (the car stops there)."""
        evse = self._evse(evse_id)
        session = evse.session
        if session is None:
            raise SimulationError(f"no transaction on EVSE {evse_id} of {self.station_id}")
        if target_soc is not None:
            vehicle = replace(session.state.vehicle, target_soc=target_soc)
            session.state = replace(session.state, vehicle=vehicle)
            if evse.status is ConnectorStatus.SUSPENDED_EV and session.state.soc < target_soc:
                self._charging_state(evse, session, ConnectorEvent.EV_RESUME)
        goal = session.state.vehicle.target_soc
        deadline = None if minutes is None else self.clock.elapsed() + minutes * 60.0
        while not session.ended and session.state.soc < goal:
            left = None if deadline is None else deadline - self.clock.elapsed()
            if left is not None and left <= 0:
                break
            session.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    session.changed.wait(),
                    None if left is None else self.clock.real_seconds(left),
                )

    async def stop(self, evse_id: int = 1, reason: str = "Local") -> None:
        """End the transaction (``reason`` as 2.0.1's ReasonEnumType); no-op when there is none."""
        evse = self._evse(evse_id)
        session = evse.session
        if session is None:
            return
        if session.meter_task is not None and session.meter_task is not asyncio.current_task():
            await cancel_and_wait(session.meter_task)
        self._advance(evse, session)
        session.ended = True
        evse.session = None
        evse.authorized_tag = None
        evse.status = transition(evse.status, ConnectorEvent.STOP)
        facts = replace(self._facts(session), charging_state="EVConnected")
        action, payload = self.dialect.transaction_ended(
            facts, self._sample(evse, session), reason, offline=not self.online
        )
        self._post(_Outgoing(action, payload, session, transactional=True))
        self._report_status(evse)
        self.sessions_completed += 1
        session.changed.set()
        if evse.inoperative_when_idle:
            evse.inoperative_when_idle = False
            evse.status = transition(evse.status, ConnectorEvent.DISABLE)
            self._report_status(evse)
        if self._reset_when_idle and not any(e.session for e in self._evses.values()):
            self._reset_when_idle = False
            self._spawn(self._reboot())

    async def unplug(self, evse_id: int = 1) -> None:
        evse = self._evse(evse_id)
        if evse.session is not None:
            await self.stop(evse_id, "EVDisconnected")
        evse.status = transition(evse.status, ConnectorEvent.UNPLUG)
        evse.plugged = False
        evse.authorized_tag = None
        self._report_status(evse)

    async def wait(self, seconds: float) -> None:
        await self.clock.sleep(seconds)

    # -- StationControl: what the CSMS asks (answered at once, done right after) ---------------

    def answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.dialect.answer(action, payload, self)

    def request_start(self, evse_id: int | None, id_tag: str, remote_start_id: int | None) -> bool:
        candidates = [self._evses[evse_id]] if evse_id in self._evses else []
        if evse_id is None:
            candidates = list(self._evses.values())
        evse = next(
            (
                e
                for e in candidates
                if e.session is None
                and e.status in (ConnectorStatus.AVAILABLE, ConnectorStatus.PREPARING)
            ),
            None,
        )
        if evse is None:
            return False
        self._spawn(self._remote_start(evse.id, id_tag, remote_start_id))
        return True

    def request_stop(self, transaction_id: str) -> bool:
        for evse in self._evses.values():
            if evse.session is not None and str(evse.session.transaction_id) == transaction_id:
                self._spawn(self.stop(evse.id, "Remote"))
                return True
        return False

    def reset(self, *, immediate: bool) -> str:
        busy = any(evse.session is not None for evse in self._evses.values())
        if busy and not immediate:
            self._reset_when_idle = True
            return "Scheduled"
        self._spawn(self._reboot())
        return "Accepted"

    def unlock(self, evse_id: int, *, end_transaction: bool) -> UnlockOutcome:
        evse = self._evses.get(evse_id)
        if evse is None:
            return UnlockOutcome.UNKNOWN_CONNECTOR
        if evse.session is not None:
            if not end_transaction:
                return UnlockOutcome.ONGOING_TRANSACTION
            self._spawn(self.stop(evse_id, "UnlockCommand"))
        return UnlockOutcome.UNLOCKED

    def change_availability(self, evse_id: int | None, operative: bool) -> str:
        if evse_id is not None and evse_id not in self._evses:
            return "Rejected"
        targets = [self._evses[evse_id]] if evse_id is not None else list(self._evses.values())
        outcome = "Accepted"
        for evse in targets:
            if operative:
                evse.inoperative_when_idle = False
                if evse.status is ConnectorStatus.UNAVAILABLE:
                    evse.status = transition(evse.status, ConnectorEvent.ENABLE)
                    self._report_status(evse)
            elif evse.session is not None:
                evse.inoperative_when_idle = True
                outcome = "Scheduled"
            elif evse.status is not ConnectorStatus.UNAVAILABLE:
                try:
                    evse.status = transition(evse.status, ConnectorEvent.DISABLE)
                except IntercargaError:
                    return "Rejected"
                self._report_status(evse)
        return outcome

    def trigger(self, action: str, evse_id: int | None) -> TriggerOutcome:
        if action not in self.dialect.triggerable:
            return TriggerOutcome.NOT_IMPLEMENTED
        if evse_id is not None and evse_id not in self._evses:
            return TriggerOutcome.REJECTED
        self._spawn(self._triggered(action, evse_id))
        return TriggerOutcome.ACCEPTED

    def clear_cache(self) -> bool:
        self._auth_cache.clear()
        return True

    def update_firmware(self, request_id: int, signing_certificate: str) -> str:
        if not is_certificate(signing_certificate):
            # L01.FR.02, L01.FR.24: refused before anything is downloaded, and reported.
            self._post_security_event("InvalidFirmwareSigningCertificate")
            return "InvalidCertificate"
        self._spawn(self._signed_update(request_id))
        return "Accepted"

    def certificate_signed(self, chain: str) -> bool:
        request = self._key_request
        certificate = request.certificate(chain) if request is not None else None
        if certificate is None:
            return False
        self.certificate, self._key_request = certificate, None
        return True

    def transaction_on(self, evse_id: int | None) -> str | None:
        evse = self._evses.get(evse_id) if evse_id is not None else None
        if evse is None or evse.session is None or evse.session.transaction_id is None:
            return None
        return str(evse.session.transaction_id)

    def transaction_status(self, transaction_id: str) -> tuple[bool, bool]:
        ongoing = any(
            e.session is not None and str(e.session.transaction_id) == transaction_id
            for e in self._evses.values()
        )
        queued = any(
            item.transactional
            and (
                not transaction_id
                or (item.session is not None and str(item.session.transaction_id) == transaction_id)
            )
            for item in self._outbox
        )
        return ongoing, queued

    # -- the connection ------------------------------------------------------------------------

    async def _supervise(self) -> None:
        while not self._shutting_down:
            self.state = ConnectionState.CONNECTING
            try:
                link = await open_link(
                    self.url,
                    self.station_id,
                    self.config.version,
                    password=self.config.password,
                    answer=self.answer,
                    stats=self.stats,
                    validate=self.config.validate,
                    call_timeout=self.config.call_timeout,
                    open_timeout=self.config.call_timeout,
                    tls=self.config.tls,
                )
            except InvalidStatus as error:
                self.last_error = f"handshake refused with HTTP {error.response.status_code}"
                if error.response.status_code in _REFUSALS:
                    self.state = ConnectionState.REFUSED
                    self._refused.set()
                    return
            except (OSError, TimeoutError, InvalidHandshake, SimulationError) as error:
                self.last_error = f"cannot connect: {error}"
                self._failed_here += 1
                if self._failed_here >= self.config.failover_after:
                    self._url_index = (self._url_index + 1) % len(self._urls)
                    self._failed_here = 0
            else:
                self._failed_here = 0
                await self._connected(link)
                if self._shutting_down:
                    return
                self.reconnections += 1
            self.state = ConnectionState.OFFLINE
            await self._stay_offline()

    async def _stay_offline(self) -> None:
        if self._offline_until is not None:
            left = self._offline_until - self.clock.elapsed()
            self._offline_until = None
            if left > 0:
                await self.clock.sleep(left)
                return
        await self.clock.sleep(self.config.reconnect_s)

    async def _connected(self, link: CsmsLink) -> None:
        self._link = link
        reader = asyncio.create_task(link.read(), name=f"sim-read-{self.station_id}")
        workers: list[asyncio.Task[None]] = []
        try:
            if self._need_boot:
                await self._boot(link)
            self.state = ConnectionState.ACCEPTED
            self._ready.set()
            self._accepted.set()
            for evse in self._evses.values():
                evse.reported = None
                self._report_status(evse)
            workers = [
                asyncio.create_task(self._heartbeat(link)),
                asyncio.create_task(self._drain(link)),
            ]
            await reader
        except IntercargaError as error:
            self.last_error = str(error)
        finally:
            self._ready.clear()
            self._link = None
            for task in [reader, *workers]:
                task.cancel()
            await asyncio.gather(reader, *workers, return_exceptions=True)
            await link.close()
            # Reports that only describe the present are not worth replaying.
            self._outbox = deque(item for item in self._outbox if item.transactional)
            if not self._outbox:
                self._outbox_empty.set()

    async def _boot(self, link: CsmsLink) -> None:
        self.state = ConnectionState.BOOTING
        while True:
            answer = await link.call(
                "BootNotification",
                self.dialect.boot_notification(self.config.info, self._boot_reason),
            )
            status, interval = self.dialect.boot_answer(answer)
            self.boot_status = status
            if status == "Accepted":
                if interval > 0:
                    self.settings.put("HeartbeatInterval", str(interval))
                self._need_boot = False
                return
            self.state = (
                ConnectionState.PENDING if status == "Pending" else ConnectionState.REJECTED
            )
            await self.clock.sleep(interval if interval > 0 else self.config.boot_retry_s)

    async def _heartbeat(self, link: CsmsLink) -> None:
        while link.open:
            await self.clock.sleep(max(1, self.settings.integer("HeartbeatInterval")))
            with contextlib.suppress(SimulationError):
                await link.call("Heartbeat", {})

    async def _drain(self, link: CsmsLink) -> None:
        """Send the outbox in order, one message at a time, while the link lives."""
        while link.open:
            if not self._outbox:
                self._outbox_empty.set()
                self._outbox_wake.clear()
                await self._outbox_wake.wait()
                continue
            item = self._outbox[0]
            payload = self._complete(item)
            if payload is None:
                self._outbox.popleft()
                continue
            try:
                answer = await link.call(item.action, payload)
            except StationOfflineError:
                return  # the item stays first in line for the next connection
            except (CallTimeoutError, CallRejectedError) as error:
                # A failure to process the message: try again a few times, waiting longer
                # each time (OCPP 1.6 §3.7.1), before giving up on it.
                item.attempts += 1
                if item.attempts < _TRANSACTION_ATTEMPTS and item.transactional:
                    await self.clock.sleep(self.config.transaction_retry_s * item.attempts)
                    continue
                self._discard(item, str(error))
                continue
            except IntercargaError as error:
                self._discard(item, str(error))
                continue
            if self._outbox and self._outbox[0] is item:
                self._outbox.popleft()
            if self.journal is not None and item.transactional:
                self.journal.append(Acknowledged(self.station_id, item.action, payload, answer))
            self._on_answer(item, answer)

    def _discard(self, item: _Outgoing, reason: str) -> None:
        self.last_error = f"{item.action}: {reason}"
        _log.warning(
            "simulated station dropped %s: %s",
            item.action,
            reason,
            extra={"station_id": self.station_id},
        )
        if self._outbox and self._outbox[0] is item:
            self._outbox.popleft()

    def _complete(self, item: _Outgoing) -> dict[str, Any] | None:
        """The payload as sent now: 1.6 messages learn the transactionId the CSMS gave."""
        if self.config.version is not OcppVersion.V16 or item.session is None:
            return item.payload
        if item.action in ("MeterValues", "StopTransaction"):
            transaction_id = item.session.transaction_id
            if isinstance(transaction_id, int):
                return {**item.payload, "transactionId": transaction_id}
            if item.action == "StopTransaction":
                self.last_error = "StopTransaction dropped: its StartTransaction was never answered"
                return None
        return item.payload

    def _on_answer(self, item: _Outgoing, answer: dict[str, Any]) -> None:
        if item.session is None or not item.transactional:
            return
        transaction_id, token_status = self.dialect.transaction_answer(answer)
        session = item.session
        if transaction_id is not None and item.action == "StartTransaction":
            session.transaction_id = transaction_id
        if token_status is not None and token_status != "Accepted" and not session.ended:
            # The CSMS refused the token after the fact: end the transaction (1.6
            # StopTransactionOnInvalidId, 2.0.1 E05).
            self._spawn(self.stop(session.evse_id, "DeAuthorized"))

    def _post(self, item: _Outgoing) -> None:
        if not item.transactional and not self.online:
            return  # a report of the present; it is sent afresh after reconnecting
        self._outbox.append(item)
        self._outbox_empty.clear()
        self._outbox_wake.set()

    def _report_status(self, evse: _Evse) -> None:
        wire = (
            evse.status.value if self.config.version is OcppVersion.V16 else status_201(evse.status)
        )
        if wire == evse.reported or not self.online:
            return
        evse.reported = wire
        payload = self.dialect.status_notification(evse.id, evse.status, self.clock.now())
        self._post(_Outgoing("StatusNotification", payload))

    # -- sessions ------------------------------------------------------------------------------

    def _evse(self, evse_id: int) -> _Evse:
        try:
            return self._evses[evse_id]
        except KeyError:
            raise SimulationError(f"{self.station_id} has no EVSE {evse_id}") from None

    def _facts(self, session: _Session) -> SessionFacts:
        """The session as its next transaction message tells it (and count that message)."""
        state = session.state
        facts = SessionFacts(
            evse_id=session.evse_id,
            id_tag=session.id_tag,
            transaction_id=session.transaction_id,
            seq_no=session.seq_no,
            remote_start_id=session.remote_start_id,
            charging_state="Charging" if state.power_w > 0 or state.seconds == 0 else "SuspendedEV",
            seconds_charging=round(state.seconds),
        )
        session.seq_no += 1
        return facts

    def _sample(self, evse: _Evse, session: _Session | None = None) -> MeterSample:
        point = self.config.charge_point
        session = session if session is not None else evse.session
        power = session.state.power_w if session is not None else 0.0
        vehicle = session.state.vehicle if session is not None else self.config.vehicle
        if point.current is Current.DC:
            volts, phases, amps = point.dc_volts, 0, power / point.dc_volts
        else:
            phases = min(point.phases, vehicle.ac_phases)
            volts, amps = point.volts, power / (phases * point.volts)
        return MeterSample(
            at=self.clock.now(),
            energy_wh=evse.register_wh,
            power_w=power,
            offered_w=power_limit_w(point, vehicle) if session is not None else 0.0,
            current_a=amps,
            volts=volts,
            phases=phases,
            soc=session.state.soc if session is not None else None,
        )

    def _advance(self, evse: _Evse, session: _Session) -> None:
        now = self.clock.elapsed()
        before = session.state.energy_wh
        session.state = advance(self.config.charge_point, session.state, now - session.updated_s)
        session.updated_s = now
        evse.register_wh += session.state.energy_wh - before

    async def _meter(self, evse: _Evse, session: _Session) -> None:
        while not session.ended:
            await self.clock.sleep(max(1, self.settings.integer("MeterValueSampleInterval")))
            if session.ended:
                return
            self._advance(evse, session)
            if session.state.power_w <= 0 and evse.status is ConnectorStatus.CHARGING:
                self._charging_state(evse, session, ConnectorEvent.EV_FULL)
            else:
                update = self.dialect.transaction_updated(
                    self._facts(session),
                    self._sample(evse, session),
                    "MeterValuePeriodic",
                    offline=not self.online,
                )
                if update is not None:
                    self._post(_Outgoing(*update, session, transactional=True))
            session.changed.set()

    def _charging_state(self, evse: _Evse, session: _Session, event: ConnectorEvent) -> None:
        evse.status = transition(evse.status, event)
        update = self.dialect.transaction_updated(
            self._facts(session),
            self._sample(evse, session),
            "ChargingStateChanged",
            offline=not self.online,
        )
        if update is not None and self.config.version is not OcppVersion.V16:
            self._post(_Outgoing(*update, session, transactional=True))
        self._report_status(evse)

    def _authorize_offline(self, tag: str) -> str:
        cached = self._auth_cache.get(tag)
        if cached is not None:
            return cached
        if self.settings.flag("LocalAuthorizeOffline"):
            return "Accepted"
        raise StationOfflineError(f"{self.station_id} is offline and does not know {tag}")

    # -- work the CSMS asked for ---------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except IntercargaError as error:
            self.last_error = str(error)
            self.stats.on_error()
        except Exception:
            # A simulator bug must not take the fleet down, nor vanish unseen.
            _log.exception("simulated station task failed", extra={"station_id": self.station_id})
            self.stats.on_error()

    async def _remote_start(self, evse_id: int, id_tag: str, remote_start_id: int | None) -> None:
        if self.settings.flag("AuthorizeRemoteTxRequests"):
            status = await self.authorize(id_tag, evse_id)
            if status != "Accepted":
                return
        await self.start(evse_id, id_tag, remote_start_id=remote_start_id)

    async def _reboot(self) -> None:
        for evse in self._evses.values():
            await self.stop(evse.id, "ImmediateReset")
        # Give the outbox a moment to deliver the stops before the connection goes.
        for _ in range(50):
            if not self._outbox or not self.online:
                break
            await asyncio.sleep(0.02)
        self._need_boot = True
        self._boot_reason = "RemoteReset"
        self._accepted.clear()
        self._offline_until = self.clock.elapsed() + 1.0
        if self._link is not None:
            await self._link.close()

    async def _signed_update(self, request_id: int) -> None:
        """L01 as the station lives it: each step is notified, the download and installation
        take simulated time, and FirmwareUpdated goes to the security log at the end. There is
        no file to fetch, so the signature always verifies, and no reboot follows."""
        await asyncio.sleep(0)  # let the answer to SignedUpdateFirmware go out first
        for status, seconds in _FIRMWARE_STEPS:
            self._post(_Outgoing(*self.dialect.firmware_status(status, request_id)))
            await self.clock.sleep(seconds)
        self._post_security_event("FirmwareUpdated", self.config.info.firmware_version)

    def _post_security_event(self, kind: str, tech_info: str | None = None) -> None:
        payload = self.dialect.security_event(kind, self.clock.now(), tech_info)
        self._post(_Outgoing("SecurityEventNotification", payload))

    async def _triggered(self, action: str, evse_id: int | None) -> None:
        await asyncio.sleep(0)  # let the answer to TriggerMessage go out first
        link = self._link
        if link is None:
            return
        evses = [self._evses[evse_id]] if evse_id is not None else list(self._evses.values())
        if action == "BootNotification":
            answer = await link.call(
                "BootNotification",
                self.dialect.boot_notification(self.config.info, "Triggered"),
            )
            status, interval = self.dialect.boot_answer(answer)
            self.boot_status = status
            if status == "Accepted" and interval > 0:
                self.settings.put("HeartbeatInterval", str(interval))
        elif action == "Heartbeat":
            await link.call("Heartbeat", {})
        elif action == "SignCertificate":
            operator = self.settings.get("CpoName")
            request = new_request(
                self.station_id, operator.value if operator else self.config.info.vendor
            )
            self._key_request = request
            await link.call("SignCertificate", self.dialect.sign_certificate(request.csr))
        elif action == "StatusNotification":
            for evse in evses:
                payload = self.dialect.status_notification(evse.id, evse.status, self.clock.now())
                self._post(_Outgoing("StatusNotification", payload))
        elif action == "MeterValues":
            for evse in evses:
                if evse.session is not None:
                    self._advance(evse, evse.session)
                payload = self.dialect.meter_values(evse.id, self._sample(evse))
                self._post(_Outgoing("MeterValues", payload))
        elif action == "TransactionEvent":
            for evse in evses:
                if evse.session is not None:
                    self._advance(evse, evse.session)
                    update = self.dialect.transaction_updated(
                        self._facts(evse.session), self._sample(evse), "Trigger"
                    )
                    if update is not None:
                        self._post(_Outgoing(*update, evse.session, transactional=True))
        else:
            self._post(_Outgoing(action, self.dialect.idle_notification(action)))


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it has ended.

    Only the task's own cancellation is swallowed: if the caller is cancelled while it waits
    (a fleet ending its run mid-stop), that cancellation goes on, or a scenario that repeats for
    ever would carry on after its fleet gave up on it.
    """
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
