"""The CSMS's handler table behind the typed station seam: every version-free event type has its
handler, an event type it lacks is refused with the right CALLERROR, and a station's CALL goes
through the seam (payload → event → decision → payload) with its answer and refusals unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import cast, get_args

import pytest

from intercarga.app import System
from intercarga.domain import RegistrationStatus, Station
from intercarga.domain.station import OcppVersion
from intercarga.ocpp.dispatch import StationDispatcher
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.events import StationEvent
from intercarga.ocpp.server import StationLink


def _link(station_id: str) -> StationLink:
    # The handler reads only who is speaking and in which version.
    return cast(StationLink, SimpleNamespace(station_id=station_id, version=OcppVersion.V201))


@dataclass(frozen=True)
class TariffChangeRequested:
    """An event type no adapter produces yet and no handler is filed under."""

    tariff_id: str


async def test_every_station_event_type_has_its_handler(system: System) -> None:
    assert system.csms_service.event_types == frozenset(get_args(StationEvent))


async def test_an_event_type_without_a_handler_is_refused_not_implemented(system: System) -> None:
    event = cast(StationEvent, TariffChangeRequested("T-1"))
    with pytest.raises(CallError) as refused:
        await system.csms_service.handle(_link("CS-1"), event)
    assert refused.value.code is ErrorCode.NOT_IMPLEMENTED
    assert "TariffChangeRequested" in refused.value.description


async def _station(system: System, status: RegistrationStatus) -> str:
    station = Station(
        id=f"CS-{status.value}",
        country_code="CL",
        party_id="ICG",
        security_profile=0,
        registration_status=status,
    )
    await system.store.stations.put(station)
    return station.id


async def test_a_call_goes_through_the_seam_and_back_in_its_version(system: System) -> None:
    dispatcher = StationDispatcher(system.csms_service)
    station_id = await _station(system, RegistrationStatus.ACCEPTED)
    answer = await dispatcher.handle_call(_link(station_id), "Heartbeat", {})
    assert set(answer) == {"currentTime"}
    assert answer["currentTime"].endswith("Z")
    stored = await system.store.stations.get(station_id)
    assert stored.last_seen is not None


async def test_a_station_not_accepted_is_refused_through_the_seam(system: System) -> None:
    dispatcher = StationDispatcher(system.csms_service)
    station_id = await _station(system, RegistrationStatus.PENDING)
    status = {
        "timestamp": "2025-03-04T12:00:00Z",
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    }
    with pytest.raises(CallError) as refused:
        await dispatcher.handle_call(_link(station_id), "StatusNotification", status)
    assert refused.value.code is ErrorCode.SECURITY_ERROR
    # The report a GetBaseReport asked for is let through before acceptance.
    report = {"requestId": 1, "generatedAt": "2025-03-04T12:00:00Z", "seqNo": 0, "tbc": False}
    assert await dispatcher.handle_call(_link(station_id), "NotifyReport", report) == {}
