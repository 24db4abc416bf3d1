"""The CSMS service: what decides on stations' events behind the OCPP endpoint, and CSMS-initiated
commands.

For each station CALL the OCPP side (:class:`~intercarga.ocpp.dispatch.StationDispatcher`) gives
:meth:`CsmsService.handle` a version-free event; the handler filed under the event's type in one
table (the boot policy, the authorizer, the session service, the status rules, …) decides,
stores the outcome and publishes it, and returns a typed decision, which the OCPP side turns into
the version's answer. This module never sees a payload of a station's message nor builds one.
An event type the table lacks is refused with CALLERROR NotImplemented.

Boot follows the station's registration status: Accepted, Pending or Rejected. A station we
have no record of (let in by the ``unknown_stations`` policy) is registered at its first boot,
Pending or Accepted as the policy says. Until a station is accepted it may send only
BootNotification, the NotifyReport a GetBaseReport asked for, and what a TriggerMessage asked
for; anything else is refused with SecurityError (OCPP 2.0.1 B02.FR.09, B03.FR.07). Meanwhile
the CSMS may read and set its configuration; :meth:`CsmsService.set_registration` accepts it
and asks it to boot again at once.

Meter values outside any transaction (clock-aligned, triggered) are kept per EVSE, the newest
messages of each (:mod:`intercarga.store.station_meter_values`).

Commands keep the CSMS's picture of the station true: an accepted new BasicAuthPassword
(1.6 AuthorizationKey) becomes the one the endpoint checks, and the version of the local
authorization list the station holds is stored (from SendLocalList and GetLocalListVersion).
A security profile the station accepted to move up to (2.0.1 SetNetworkProfile, 1.6
ChangeConfiguration SecurityProfile) becomes its profile once it connects with it, and lower
ones are refused from then on. Security events stations report are stored for operators.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from cryptography.x509 import CertificateSigningRequest

from intercarga.bus import EventBus
from intercarga.config import Settings, UnknownStationPolicy
from intercarga.csms.authorization import Authorizer
from intercarga.csms.certificates import CertificateAuthority
from intercarga.csms.sessions import SessionService
from intercarga.domain import RegistrationStatus, Station
from intercarga.domain._types import utc_now
from intercarga.domain.events import EvseStatusChanged, StationConnectionChanged
from intercarga.errors import InvalidInputError
from intercarga.ocpp.adapter import adapter_for
from intercarga.ocpp.commands import (
    CertificateSigned,
    Command,
    CommandResult,
    DeviceVariable,
    GetBaseReport,
    GetLocalListVersion,
    LocalListVersionResult,
    RemoteStart,
    Result,
    SendLocalList,
    SetNetworkProfile,
    SetVariables,
    TriggeredMessage,
    TriggerMessage,
    VariableResult,
    VariablesResult,
)
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.events import (
    Acknowledgement,
    AuthorizationRequested,
    AuthorizationResult,
    BootDecision,
    BootStatus,
    CertificateSigningRequested,
    ConnectorStatus,
    DataTransferDecision,
    DataTransferReceived,
    DataTransferStatus,
    Decision,
    DiagnosticsStatusChanged,
    FirmwareStatusChanged,
    Heartbeat,
    HeartbeatDecision,
    MeterValuesReported,
    ReportedVariable,
    ReportReceived,
    ReservationStatusChanged,
    SecurityEventReported,
    SigningDecision,
    StationBooted,
    StationEvent,
    StationMessage,
    StatusChanged,
    TransactionDecision,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
    evse_status,
)
from intercarga.ocpp.server import StationLink, StationLinks
from intercarga.security import hash_password
from intercarga.store import Store, database_unavailable
from intercarga.store.database import describe_database_error
from intercarga.store.security_events import SecurityEvent
from intercarga.store.station_meter_values import StationMeterValues

__all__ = ["PENDING_RETRY_SECONDS", "CsmsService", "RemoteStations"]

log = logging.getLogger(__name__)

PENDING_RETRY_SECONDS = 60

# What a station sends, as the acceptance rules tell messages apart: its event's type, or the
# action of a message with no version-free model yet (StationMessage).
_Kind = type | str

# What a station not yet accepted may send besides BootNotification: the report a GetBaseReport
# (or GetReport) asked for. Messages asked for by TriggerMessage are added per station.
_BEFORE_ACCEPTANCE: Final[frozenset[_Kind]] = frozenset({StationBooted, ReportReceived})

# The events a TriggerMessage makes the station send, in any version. Meter values come inside
# a transaction (1.6 MeterValues with a transactionId) or outside it.
_TRIGGERED_EVENTS: Final[Mapping[TriggeredMessage, frozenset[_Kind]]] = {
    TriggeredMessage.BOOT_NOTIFICATION: frozenset({StationBooted}),
    TriggeredMessage.HEARTBEAT: frozenset({Heartbeat}),
    TriggeredMessage.STATUS_NOTIFICATION: frozenset({StatusChanged}),
    TriggeredMessage.METER_VALUES: frozenset({MeterValuesReported, TransactionUpdated}),
    TriggeredMessage.FIRMWARE_STATUS: frozenset({FirmwareStatusChanged}),
    TriggeredMessage.LOG_STATUS: frozenset({DiagnosticsStatusChanged}),
    TriggeredMessage.SIGN_STATION_CERTIFICATE: frozenset({CertificateSigningRequested}),
    TriggeredMessage.SIGN_V2G_CERTIFICATE: frozenset({CertificateSigningRequested}),
    TriggeredMessage.TRANSACTION_EVENT: frozenset(
        {TransactionStarted, TransactionUpdated, TransactionEnded}
    ),
    TriggeredMessage.PUBLISH_FIRMWARE_STATUS: frozenset({"PublishFirmwareStatusNotification"}),
}


def _kind(event: StationEvent) -> _Kind:
    return event.action if isinstance(event, StationMessage) else type(event)


# A handler of the table: the station's link and an event of the type it is filed under.
_Handler = Callable[[StationLink, Any], Awaitable[Decision | None]]

# The station's HTTP Basic password: 2.0.1 SecurityCtrlr.BasicAuthPassword, 1.6 AuthorizationKey.
_PASSWORD: Final = DeviceVariable("SecurityCtrlr", "BasicAuthPassword")
_PASSWORD_16: Final = DeviceVariable(None, "AuthorizationKey")
# The profile a 1.6 station is asked to move up to (ChangeConfiguration SecurityProfile, 1.6
# Security Whitepaper A05); 2.0.1 moves up with SetNetworkProfile instead.
_SECURITY_PROFILE: Final = frozenset(
    {DeviceVariable("SecurityCtrlr", "SecurityProfile"), DeviceVariable(None, "SecurityProfile")}
)
_SET: Final = frozenset({"Accepted", "RebootRequired"})


def _configured(outcome: VariableResult) -> dict[str, Any]:
    """A configuration key a station read out (1.6 GetConfiguration) as a reported variable: a key
    with a 2.0.1 twin under the twin's name, any other under its own with no component."""
    variable = outcome.variable
    mutability = None
    if outcome.readonly is not None:
        mutability = "ReadOnly" if outcome.readonly else "ReadWrite"
    shown = _reported(
        ReportedVariable(
            variable.component or "",
            variable.variable,
            (("Actual", outcome.value),),
            mutability=mutability,
        )
    )
    shown["component"] = variable.component
    return shown


def _all_of(connectors: tuple[int, ...], results: list[Result]) -> Result:
    """One result for a command asked of each connector: Accepted when every connector
    accepted, else the first other answer, naming its connector."""
    for connector, result in zip(connectors, results, strict=True):
        status = getattr(result, "status", None)
        if status != "Accepted":
            reason = getattr(result, "reason", None)
            detail = f"connector {connector}" + (f": {reason}" if reason else "")
            return CommandResult(str(status), detail)
    return CommandResult("Accepted")


def _reported(variable: ReportedVariable) -> dict[str, Any]:
    """One reported variable as the operator reads it: ``value`` is its Actual value."""
    attributes = dict(variable.values)
    return {
        "component": variable.component,
        "variable": variable.variable,
        "value": attributes.get("Actual"),
        "attributes": attributes,
        "component_instance": variable.component_instance,
        "variable_instance": variable.variable_instance,
        "evse": variable.evse,
        "connector": variable.connector,
        "mutability": variable.mutability,
        "data_type": variable.data_type,
        "unit": variable.unit,
    }


class RemoteStations(Protocol):
    """The stations other nodes of a cluster hold (``intercarga.cluster``'s command router):
    carries out a command (or a raw OCPP call) on a station this node has no link to, or raises
    :class:`StationOfflineError` when no node holds it; reads its connection view."""

    async def run_command(self, station_id: str, command: Command) -> Result: ...

    async def call(
        self, station_id: str, action: str, payload: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def connection(self, station_id: str, *, frames: bool) -> dict[str, Any] | None: ...


class CsmsService:
    """Implements :class:`~intercarga.ocpp.dispatch.StationEventHandler`; one per process.

    ``remote`` reaches the stations held by other nodes of a cluster; without it (a single
    node) a station without a link here is offline.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        bus: EventBus,
        authorizer: Authorizer,
        links: StationLinks,
        *,
        remote: RemoteStations | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._remote = remote
        self._store = store
        self._bus = bus
        self.authorizer = authorizer
        self.sessions = SessionService(store, bus, authorizer, clock=clock)
        self._clock = clock
        # The live links the OCPP endpoint keeps (shared with it by the composition root).
        self._links = links
        # Actions each station not yet accepted was asked for by TriggerMessage; a boot clears
        # them. In memory: a CSMS restart only makes a pending station boot again.
        self._triggered: dict[str, set[_Kind]] = {}
        # Security profiles stations accepted a network profile for (SetNetworkProfile), until
        # they connect with it. In memory: after a restart the station keeps its old profile
        # (and may still connect with the higher one).
        self._profile_upgrades: dict[str, int] = {}
        self.certificate_authority = CertificateAuthority.load(settings.ocpp)
        # What decides each event: one handler per version-free event type.
        self._handlers: Mapping[type, _Handler] = {
            StationBooted: self._boot,
            Heartbeat: self._heartbeat,
            AuthorizationRequested: self._authorize,
            TransactionStarted: self._transaction,
            TransactionUpdated: self._transaction,
            TransactionEnded: self._transaction,
            StatusChanged: self._status_changed,
            DataTransferReceived: self._data_transfer,
            CertificateSigningRequested: self._signing_requested,
            MeterValuesReported: self._meter_values_reported,
            FirmwareStatusChanged: self._firmware_status,
            SecurityEventReported: self._security_event,
            ReportReceived: self._report,
            DiagnosticsStatusChanged: self._noted,
            ReservationStatusChanged: self._noted,
            StationMessage: self._noted,
        }

    # -- StationEventHandler ------------------------------------------------------------------------

    async def connected(self, link: StationLink) -> None:
        self.sessions.park(link.station_id)  # it may have spoken to another node meanwhile
        now = self._clock()
        if link.generation and not await self._store.connections.claim(
            link.station_id, link.generation, self._settings.cluster.node_id, now
        ):
            # A newer connection of the station is recorded already (another node took it
            # over while this one was being set up): this one changes nothing.
            log.info("a superseded connection", extra={"station_id": link.station_id})
            return
        await self._store.write(
            self._store.stations.touching(link.station_id, now, ocpp_version=link.version)
        )
        await self._bus.publish(StationConnectionChanged(link.station_id, True, now))
        await self._upgrade_security_profile(link)

    async def disconnected(self, link: StationLink) -> None:
        if self._links.link(link.station_id) is not None:
            return  # replaced by a newer connection: the station is still online
        self.sessions.park(link.station_id)
        now = self._clock()
        await self._store.stations.touch(link.station_id, now)
        await self._bus.publish(StationConnectionChanged(link.station_id, False, now))

    @property
    def event_types(self) -> frozenset[type]:
        """The event types the handler table decides on."""
        return frozenset(self._handlers)

    async def handle(self, link: StationLink, event: StationEvent) -> Decision | None:
        """Decide on a station's event with the handler its type has in the table; an event
        type the table lacks is refused (CALLERROR NotImplemented)."""
        handler = self._handlers.get(type(event))
        if handler is None:
            raise CallError(
                ErrorCode.NOT_IMPLEMENTED, f"the CSMS does not handle {type(event).__name__}"
            )
        try:
            return await handler(link, event)
        except Exception as error:
            if not database_unavailable(error):
                raise
            # Nothing was acknowledged: the station keeps the message and sends it again.
            log.error(
                "%s not processed: %s",
                type(event).__name__,
                describe_database_error(error),
                extra={"station_id": link.station_id},
            )
            raise CallError(
                ErrorCode.INTERNAL_ERROR, "the CSMS's database is unavailable; try again later"
            ) from None

    # -- deciding ------------------------------------------------------------------------------

    async def _admitted(self, link: StationLink, event: StationEvent) -> Station | None:
        """The station, if it may send ``event``: one not yet accepted may send only what it
        was asked for (SecurityError otherwise). A copy read under 30 s ago will do."""
        station = await self._store.stations.find_recent(link.station_id)
        accepted = station is not None and (
            station.registration_status is RegistrationStatus.ACCEPTED
        )
        if not accepted and _kind(event) not in (
            _BEFORE_ACCEPTANCE | self._triggered.get(link.station_id, set())
        ):
            raise CallError(
                ErrorCode.SECURITY_ERROR,
                "the station is not accepted: send BootNotification and wait",
            )
        return station

    async def _registered(self, link: StationLink, event: StationEvent) -> Station:
        """Like :meth:`_admitted`, and the station must be known (SecurityError otherwise)."""
        station = await self._admitted(link, event)
        if station is None:
            raise CallError(ErrorCode.SECURITY_ERROR, "the station is not registered")
        return station

    async def _heartbeat(self, link: StationLink, event: Heartbeat) -> HeartbeatDecision:
        await self._admitted(link, event)
        now = self._clock()
        await self._store.write(self._store.stations.touching(link.station_id, now))
        return HeartbeatDecision(now)

    async def _authorize(
        self, link: StationLink, event: AuthorizationRequested
    ) -> AuthorizationResult:
        station = await self._registered(link, event)
        return await self.authorizer.authorize(event.id_token, station)

    async def _transaction(
        self, link: StationLink, event: TransactionStarted | TransactionUpdated | TransactionEnded
    ) -> TransactionDecision:
        station = await self._registered(link, event)
        return await self.sessions.handle(station, event)

    async def _status_changed(self, link: StationLink, event: StatusChanged) -> None:
        await self._status(await self._registered(link, event), event, link.generation)

    async def _data_transfer(
        self, link: StationLink, event: DataTransferReceived
    ) -> DataTransferDecision:
        await self._registered(link, event)
        return DataTransferDecision(DataTransferStatus.UNKNOWN_VENDOR_ID)

    async def _signing_requested(
        self, link: StationLink, event: CertificateSigningRequested
    ) -> SigningDecision:
        return self._signing(link, await self._registered(link, event), event)

    async def _meter_values_reported(
        self, link: StationLink, event: MeterValuesReported
    ) -> Acknowledgement:
        await self._meter_values(await self._registered(link, event), event)
        return Acknowledgement()

    async def _firmware_status(
        self, link: StationLink, event: FirmwareStatusChanged
    ) -> Acknowledgement:
        station = await self._registered(link, event)
        # State of the station, so fenced like its EVSEs' statuses (a security event is a fact
        # the station logged, kept whichever connection reports it).
        if not await self._store.stations.change(
            station.id, generation=link.generation, firmware_status=event.status[:32]
        ):
            log.info(
                "firmware status from a superseded connection: not stored",
                extra={"station_id": station.id},
            )
        return Acknowledgement()

    async def _security_event(
        self, link: StationLink, event: SecurityEventReported
    ) -> Acknowledgement:
        station = await self._registered(link, event)
        await self._store.security_events.add(
            SecurityEvent(
                station.id,
                event.type[:50],
                event.timestamp,
                event.tech_info[:255] if event.tech_info else None,
                self._clock(),
            )
        )
        log.info("security event %s", event.type[:50], extra={"station_id": station.id})
        return Acknowledgement()

    async def _report(self, link: StationLink, event: ReportReceived) -> Acknowledgement:
        station = await self._registered(link, event)
        await self._store.reports.add_part(
            station.id,
            event.request_id,
            event.generated_at,
            event.seq_no,
            [_reported(variable) for variable in event.variables],
            more_to_follow=event.more_to_follow,
        )
        return Acknowledgement()

    async def _noted(
        self,
        link: StationLink,
        event: DiagnosticsStatusChanged | ReservationStatusChanged | StationMessage,
    ) -> Acknowledgement:
        """What nothing decides on yet: logged and acknowledged."""
        await self._registered(link, event)
        log.info(
            "station reported %s",
            type(event).__name__,
            extra={"station_id": link.station_id, "event": str(dataclasses.asdict(event))[:500]},
        )
        return Acknowledgement()

    async def _meter_values(self, station: Station, event: MeterValuesReported) -> None:
        """Keep meter values outside any transaction with their EVSE (no session holds them)."""
        if not event.meter_values and not event.signed_meter_values:
            return
        readings = StationMeterValues(
            station_id=station.id,
            evse=event.evse,
            connector=event.connector,
            received_at=self._clock(),
            meter_values=event.meter_values,
            signed_meter_values=event.signed_meter_values,
        )
        await self._store.write(*self._store.station_meter_values.adding(readings))

    async def _boot(self, link: StationLink, event: StationBooted) -> BootDecision:
        if link.generation and not await self._store.connections.current(
            link.station_id, link.generation
        ):
            # A boot rewrites the station: never from a connection that was replaced.
            raise CallError(ErrorCode.GENERIC_ERROR, "this connection was replaced by a newer one")
        # A boot rewrites the station: read it afresh, not the recent copy.
        station = await self._store.stations.find(link.station_id)
        now = self._clock()
        self._triggered.pop(link.station_id, None)
        if station is None:
            policy = self._settings.ocpp.unknown_stations
            if policy is UnknownStationPolicy.REJECT:
                log.warning(
                    "boot of an unregistered station", extra={"station_id": link.station_id}
                )
                return BootDecision(BootStatus.REJECTED, PENDING_RETRY_SECONDS, now)
            party = self._settings.ocpi.parties[0] if self._settings.ocpi.parties else None
            station = Station(
                id=link.station_id,
                country_code=party.country_code if party else "ZZ",
                party_id=party.party_id if party else "ZZZ",
                security_profile=0,
                registration_status=RegistrationStatus.ACCEPTED
                if policy is UnknownStationPolicy.ACCEPT
                else RegistrationStatus.PENDING,
            )
            log.warning(
                "station registered at boot: %s (unknown_stations = %s)",
                station.registration_status.value,
                policy.value,
                extra={"station_id": station.id},
            )
        updated = station.model_copy(
            update={
                "vendor": event.vendor[:50],
                "model": event.model[:50],
                "serial_number": (event.serial_number or station.serial_number or None),
                "firmware_version": (event.firmware_version or station.firmware_version),
                "ocpp_version": link.version,
                "last_seen": now,
            }
        )
        if updated.serial_number is not None:
            updated = updated.model_copy(update={"serial_number": updated.serial_number[:25]})
        await self._store.write(*self._store.stations.putting(updated))
        self._store.stations.stored(updated)
        status = BootStatus(updated.registration_status.value)
        if status is BootStatus.ACCEPTED:
            return BootDecision(status, self._settings.ocpp.heartbeat_interval, now)
        log.info("boot answered %s", status.value, extra={"station_id": updated.id})
        return BootDecision(status, PENDING_RETRY_SECONDS, now)

    async def _status(self, station: Station, event: StatusChanged, generation: int = 0) -> None:
        """Store the EVSEs' new status, unless a connection of the station newer than
        ``generation`` is recorded (a late message from an old socket: fenced in the write)."""
        status = evse_status(event.status)
        at = event.timestamp or self._clock()
        if event.evse == 0:
            # The station as a whole (1.6 connectorId 0): only outages apply to every EVSE.
            if event.status not in (ConnectorStatus.UNAVAILABLE, ConnectorStatus.FAULTED):
                return
            targets = station.evses
        else:
            targets = [e for e in station.evses if e.ocpp_evse_id == event.evse]
        if not targets:
            log.warning(
                "status of an unmapped EVSE", extra={"station_id": station.id, "evse": event.evse}
            )
        for target in targets:
            key = (station.country_code, station.party_id, target.location_id)
            if await self._store.locations.set_evse_status(
                key, target.evse_uid, status, at, fence=(station.id, generation)
            ):
                await self._bus.publish(EvseStatusChanged(*key, target.evse_uid, status, at))

    # -- CSMS-initiated ------------------------------------------------------------------------

    async def run_command(self, station_id: str, command: Command) -> Result:
        """Carry out a version-free command on a connected station and read its result: on its
        link here, or through the node of the cluster that holds it."""
        if self._remote is not None and not self._held(station_id):
            return await self._remote.run_command(station_id, command)
        return await self.run_local_command(station_id, command)

    def _held(self, station_id: str) -> bool:
        link = self._links.link(station_id)
        return link is not None and link.open

    async def call(self, station_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send ``action`` with ``payload`` as the station's version defines it (a raw OCPP
        call) and return its answer: on its link here, or through the node that holds it."""
        if self._remote is not None and not self._held(station_id):
            return await self._remote.call(station_id, action, payload)
        return await self.local_call(station_id, action, payload)

    async def local_call(
        self, station_id: str, action: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """:meth:`call` on this node's own link only (what other nodes ask this one)."""
        return await self._links.require_link(station_id).call(action, payload)

    async def connection(self, station_id: str, *, frames: bool) -> dict[str, Any]:
        """The station's connection as operators see it (``{"connected": False}`` when no node
        holds it): this node's link, or the view of the node that holds it."""
        view = self.local_connection(station_id, frames)
        if view is None and self._remote is not None:
            view = await self._remote.connection(station_id, frames=frames)
        return view or {"connected": False}

    def local_connection(self, station_id: str, frames: bool) -> dict[str, Any] | None:
        """:meth:`connection` of this node's own link only; None when it has none."""
        link = self._links.link(station_id)
        return link.describe(frames=frames) if link is not None and link.open else None

    async def run_local_command(self, station_id: str, command: Command) -> Result:
        """:meth:`run_command` on this node's own link only (what other nodes ask this one)."""
        link = self._links.require_link(station_id)
        adapter = adapter_for(link.version)
        if isinstance(command, SendLocalList) and command.version is None:
            command = dataclasses.replace(command, version=await self._next_list_version(link))
        if (
            isinstance(command, TriggerMessage)
            and command.message is TriggeredMessage.STATUS_NOTIFICATION
            and command.evse
            and command.connector is None
            and adapter.numbers_connectors
        ):
            # A status is asked for per connector (2.0.1 F06.FR.13): an EVSE's status is its
            # connectors' statuses, so each connector the CSMS knows of is asked in turn.
            connectors = await self._connectors(station_id, command.evse)
            results = [
                await self._carry_out(link, dataclasses.replace(command, connector=connector))
                for connector in connectors
            ]
            return _all_of(connectors, results)
        return await self._carry_out(link, command)

    async def _carry_out(self, link: StationLink, command: Command) -> Result:
        station_id = link.station_id
        adapter = adapter_for(link.version)
        calls = adapter.command(command)
        if isinstance(command, RemoteStart):
            self.sessions.expect_remote_start(station_id, command.id_token.value)
        if isinstance(command, TriggerMessage):
            await self._allow_triggered(station_id, command.message)
        answers = [await link.call(call.action, call.payload) for call in calls]
        result = adapter.result(command, answers)
        await self._remember(station_id, command, result)
        return result

    async def _expect_profile(self, station_id: str, target: int) -> None:
        """The station accepted to move up to ``target``: it keeps that profile once it
        connects with it (:meth:`_upgrade_security_profile`); never lower."""
        station = await self._store.stations.find(station_id)
        if station is not None and target > station.security_profile:
            self._profile_upgrades[station_id] = target

    async def _connectors(self, station_id: str, evse: int) -> tuple[int, ...]:
        """The OCPP numbers of an EVSE's connectors: 1 to the number of connectors of the
        Location EVSE it serves (2.0.1 part 1 numbers them from 1 without gaps), or just 1
        (which every EVSE has) when the CSMS knows no such EVSE."""
        station = await self._store.stations.get(station_id)
        mapping = next((m for m in station.evses if m.ocpp_evse_id == evse), None)
        location = (
            await self._store.locations.find(
                station.country_code, station.party_id, mapping.location_id
            )
            if mapping is not None
            else None
        )
        served = location.evse(mapping.evse_uid) if location and mapping else None
        count = len(served.connectors) if served is not None else 0
        return tuple(range(1, max(count, 1) + 1))

    async def _next_list_version(self, link: StationLink) -> int:
        """One above the local list version the station holds (asked when not known)."""
        station = await self._store.stations.get(link.station_id)
        held = station.local_list_version
        if held is None:
            asked = await self.run_command(link.station_id, GetLocalListVersion())
            assert isinstance(asked, LocalListVersionResult)
            held = asked.version
        return max(held, 0) + 1

    async def _allow_triggered(self, station_id: str, message: TriggeredMessage) -> None:
        """Let a station not yet accepted send what it is asked for (before it is asked: it
        may send it before its answer to the trigger is read)."""
        station = await self._store.stations.find(station_id)
        if station is None or station.registration_status is not RegistrationStatus.ACCEPTED:
            self._triggered.setdefault(station_id, set()).update(_TRIGGERED_EVENTS[message])

    async def _remember(self, station_id: str, command: Command, result: Result) -> None:
        """Keep what an answered command changed on the station."""
        status = getattr(result, "status", None)
        if isinstance(command, SetNetworkProfile) and status == "Accepted":
            await self._expect_profile(station_id, command.profile.security_profile)
        elif isinstance(command, SendLocalList) and status == "Accepted":
            await self._store.stations.change(station_id, local_list_version=command.version)
        elif isinstance(command, GetLocalListVersion) and isinstance(
            result, LocalListVersionResult
        ):
            await self._store.stations.change(station_id, local_list_version=result.version)
        elif isinstance(command, GetBaseReport) and isinstance(result, VariablesResult):
            # A 1.6 station answers at once with its configuration keys: its whole report.
            await self._store.reports.add_part(
                station_id,
                command.request_id,
                self._clock(),
                0,
                [
                    _configured(outcome)
                    for outcome in result.results
                    if outcome.status == "Accepted"
                ],
                more_to_follow=False,
            )
        elif isinstance(command, SetVariables) and isinstance(result, VariablesResult):
            values = dict(command.values)
            for outcome in result.results:
                if outcome.variable in _SECURITY_PROFILE and outcome.status in _SET:
                    target = values.get(outcome.variable, "").strip()
                    if target.isdigit():
                        await self._expect_profile(station_id, int(target))
                if outcome.variable in (_PASSWORD, _PASSWORD_16) and outcome.status in _SET:
                    # The station now authenticates with the new password (OCPP 2.0.1 A01.FR.03);
                    # scrypt is slow: keep it off the event loop.
                    digest = await asyncio.to_thread(hash_password, values[outcome.variable])
                    await self._store.stations.change(station_id, password_hash=digest)
                    log.info("station password changed", extra={"station_id": station_id})

    def _signing(
        self, link: StationLink, station: Station, event: CertificateSigningRequested
    ) -> SigningDecision:
        """Accept a CSR this CSMS can sign; the signed chain follows once the answer is sent."""
        authority = self.certificate_authority
        if authority is None:
            log.warning("CSR refused: no station CA configured", extra={"station_id": station.id})
            return SigningDecision(accepted=False)
        if event.certificate_type not in (None, "ChargingStationCertificate"):
            # ISO 15118 certificates come from the V2G PKI, not from this CSMS.
            return SigningDecision(accepted=False)
        try:
            csr = authority.check(event.csr, station.id)
        except InvalidInputError as error:
            log.warning("CSR refused: %s", error.reason, extra={"station_id": station.id})
            return SigningDecision(accepted=False)
        link.spawn(self._send_signed(station.id, authority, csr, event.certificate_type))
        return SigningDecision(accepted=True)

    async def _send_signed(
        self,
        station_id: str,
        authority: CertificateAuthority,
        csr: CertificateSigningRequest,
        certificate_type: str | None,
    ) -> None:
        chain = await asyncio.to_thread(authority.sign, csr, self._clock())
        result = await self.run_command(station_id, CertificateSigned(chain, certificate_type))
        if getattr(result, "status", None) != "Accepted":
            log.warning(
                "the station refused the certificate signed for it",
                extra={"station_id": station_id, "status": getattr(result, "status", None)},
            )

    async def _upgrade_security_profile(self, link: StationLink) -> None:
        """A station that accepted a higher security profile and now connects with it keeps it:
        lower profiles are refused from then on (OCPP 2.0.1 A05)."""
        target = self._profile_upgrades.get(link.station_id)
        if target is None or not link.tls:
            return
        if target >= 3 and link.client_certificate_cn != link.station_id:
            return
        del self._profile_upgrades[link.station_id]
        await self._store.stations.change(link.station_id, security_profile=target)
        log.warning("security profile raised to %d", target, extra={"station_id": link.station_id})

    async def set_registration(self, station_id: str, status: RegistrationStatus) -> Result | None:
        """Accept (or hold back, or reject) a station; an accepted one that is connected but
        was not accepted is asked to boot again at once (TriggerMessage BootNotification).

        Returns the station's answer to that trigger, or None when none was sent.
        """
        station = await self._store.stations.get(station_id)
        await self._store.stations.change(station_id, registration_status=status)
        connected = self._links.link(station_id) is not None
        if (
            status is not RegistrationStatus.ACCEPTED
            or station.registration_status is RegistrationStatus.ACCEPTED
            or not connected
        ):
            return None
        return await self.run_command(
            station_id, TriggerMessage(TriggeredMessage.BOOT_NOTIFICATION)
        )

    async def station_for_evse(
        self, country_code: str, party_id: str, location_id: str, evse_uid: str
    ) -> tuple[str, int] | None:
        """The station (and its OCPP EVSE number) that serves a Location EVSE, if any."""
        stations = await self._store.stations.list(
            limit=None, filters={"country_code": country_code}
        )
        for station in stations.items:
            if station.party_id != party_id:
                continue
            for mapping in station.evses:
                if mapping.location_id == location_id and mapping.evse_uid == evse_uid:
                    return station.id, mapping.ocpp_evse_id
        return None

    async def expire_silent_transactions(self, silence: timedelta) -> int:
        return await self.sessions.expire_silent(silence)
