"""The CSMS service: the station handler behind the OCPP endpoint, and CSMS-initiated commands.

For each station CALL: the version adapter gives a version-free event; the boot policy, the
authorizer, the session service or the status rules decide; the outcome is stored and published;
then the adapter builds the answer. Stations we have no record of (allowed in by the
``unknown_stations`` policy) get Pending or are registered at boot, and any other message from
them before that is refused with SecurityError, as OCPP 2.0.1 B02 allows.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from intercarga.bus import EventBus
from intercarga.config import Settings, UnknownStationPolicy
from intercarga.csms.authorization import Authorizer
from intercarga.csms.sessions import SessionService
from intercarga.domain import Station
from intercarga.domain._types import utc_now
from intercarga.domain.events import EvseStatusChanged, StationConnectionChanged
from intercarga.ocpp.adapter import adapter_for
from intercarga.ocpp.commands import Command, RemoteStart, Result
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.events import (
    Acknowledgement,
    AuthorizationRequested,
    BootDecision,
    BootStatus,
    CertificateSigningRequested,
    ConnectorStatus,
    DataTransferDecision,
    DataTransferReceived,
    DataTransferStatus,
    Decision,
    Heartbeat,
    HeartbeatDecision,
    SigningDecision,
    StationBooted,
    StationEvent,
    StatusChanged,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
    evse_status,
)
from intercarga.ocpp.server import CsmsServer, StationLink, StationOfflineError
from intercarga.store import Store

__all__ = ["PENDING_RETRY_SECONDS", "CsmsService"]

log = logging.getLogger(__name__)

PENDING_RETRY_SECONDS = 60
_ALWAYS_ALLOWED = (StationBooted, Heartbeat)


class CsmsService:
    """Implements :class:`~intercarga.ocpp.server.StationHandler`; one per process."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        bus: EventBus,
        authorizer: Authorizer,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._store = store
        self._bus = bus
        self.authorizer = authorizer
        self.sessions = SessionService(store, bus, authorizer, clock=clock)
        self._clock = clock
        self.server: CsmsServer | None = None

    # -- StationHandler ------------------------------------------------------------------------

    async def connected(self, link: StationLink) -> None:
        now = self._clock()
        await self._store.stations.touch(link.station_id, now, ocpp_version=link.version)
        await self._bus.publish(StationConnectionChanged(link.station_id, True, now))

    async def disconnected(self, link: StationLink) -> None:
        if self.server is not None and self.server.link(link.station_id) is not None:
            return  # replaced by a newer connection: the station is still online
        now = self._clock()
        await self._store.stations.touch(link.station_id, now)
        await self._bus.publish(StationConnectionChanged(link.station_id, False, now))

    async def handle_call(
        self, link: StationLink, action: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        adapter = adapter_for(link.version)
        event = adapter.event(action, payload)
        decision = await self._decide(link, event)
        return adapter.response(event, decision)

    async def handle_send(self, link: StationLink, action: str, payload: dict[str, Any]) -> None:
        event = adapter_for(link.version).event(action, payload)
        await self._decide(link, event)

    # -- deciding ------------------------------------------------------------------------------

    async def _decide(self, link: StationLink, event: StationEvent) -> Decision | None:
        station = await self._store.stations.find(link.station_id)
        if isinstance(event, StationBooted):
            return await self._boot(link, station, event)
        if isinstance(event, Heartbeat):
            await self._store.stations.touch(link.station_id, self._clock())
            return HeartbeatDecision(self._clock())
        if station is None:
            raise CallError(
                ErrorCode.SECURITY_ERROR,
                "the station is not registered: send BootNotification and wait",
            )
        if isinstance(event, AuthorizationRequested):
            return await self.authorizer.authorize(event.id_token, station)
        if isinstance(event, TransactionStarted | TransactionUpdated | TransactionEnded):
            return await self.sessions.handle(station, event)
        if isinstance(event, StatusChanged):
            await self._status(station, event)
            return None
        if isinstance(event, DataTransferReceived):
            return DataTransferDecision(DataTransferStatus.UNKNOWN_VENDOR_ID)
        if isinstance(event, CertificateSigningRequested):
            # No certificate authority is configured to sign station certificates.
            return SigningDecision(accepted=False)
        log.info(
            "station reported %s",
            type(event).__name__,
            extra={"station_id": link.station_id, "event": str(dataclasses.asdict(event))[:500]},
        )
        return Acknowledgement()

    async def _boot(
        self, link: StationLink, station: Station | None, event: StationBooted
    ) -> BootDecision:
        now = self._clock()
        interval = self._settings.ocpp.heartbeat_interval
        if station is None:
            policy = self._settings.ocpp.unknown_stations
            if policy is not UnknownStationPolicy.ACCEPT:
                status = (
                    BootStatus.PENDING
                    if policy is UnknownStationPolicy.PENDING
                    else BootStatus.REJECTED
                )
                log.warning(
                    "boot of an unregistered station: %s",
                    status.value,
                    extra={"station_id": link.station_id},
                )
                return BootDecision(status, PENDING_RETRY_SECONDS, now)
            party = self._settings.ocpi.parties[0] if self._settings.ocpi.parties else None
            station = Station(
                id=link.station_id,
                country_code=party.country_code if party else "ZZ",
                party_id=party.party_id if party else "ZZZ",
                security_profile=0,
            )
            log.warning(
                "station registered at boot (unknown_stations = accept)",
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
        await self._store.stations.put(updated)
        return BootDecision(BootStatus.ACCEPTED, interval, now)

    async def _status(self, station: Station, event: StatusChanged) -> None:
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
            if await self._store.locations.set_evse_status(key, target.evse_uid, status, at):
                await self._bus.publish(EvseStatusChanged(*key, target.evse_uid, status, at))

    # -- CSMS-initiated ------------------------------------------------------------------------

    async def run_command(self, station_id: str, command: Command) -> Result:
        """Carry out a version-free command on a connected station and read its result."""
        if self.server is None:
            raise StationOfflineError("the OCPP endpoint is not running")
        link = self.server.require_link(station_id)
        adapter = adapter_for(link.version)
        calls = adapter.command(command)
        if isinstance(command, RemoteStart):
            self.sessions.expect_remote_start(station_id, command.id_token.value)
        answers = [await link.call(call.action, call.payload) for call in calls]
        return adapter.result(command, answers)

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
