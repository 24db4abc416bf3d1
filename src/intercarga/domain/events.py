"""Domain events: facts other layers react to (OCPI push, dashboard, indicators).

Published on the event bus after the fact is stored, never before. Version-free: nothing here
says which protocol reported the fact. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from intercarga.domain.cdr import Cdr
from intercarga.domain.location import EVSEStatus, Location
from intercarga.domain.session import Session
from intercarga.domain.tariff import Tariff
from intercarga.domain.token import Token

__all__ = [
    "CdrCreated",
    "DomainEvent",
    "EvseStatusChanged",
    "ObjectRemoved",
    "SessionChanged",
    "StationConnectionChanged",
]


@dataclass(frozen=True, slots=True)
class EvseStatusChanged:
    """An EVSE of a Location changed status (already stored)."""

    country_code: str
    party_id: str
    location_id: str
    evse_uid: str
    status: EVSEStatus
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class SessionChanged:
    """A session started, got new meter values, or ended (already stored)."""

    session: Session


@dataclass(frozen=True, slots=True)
class CdrCreated:
    """A priced CDR was made for a finished session (already stored)."""

    cdr: Cdr


@dataclass(frozen=True, slots=True)
class StationConnectionChanged:
    station_id: str
    connected: bool
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class ObjectRemoved:
    """An operator deleted a Location, Tariff or Token (already gone from the store); ``item``
    is what it was, so those who hold a copy can be told."""

    item: Location | Tariff | Token


DomainEvent = (
    EvseStatusChanged | SessionChanged | CdrCreated | StationConnectionChanged | ObjectRemoved
)
