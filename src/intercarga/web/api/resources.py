"""The admin API's resources: parties, locations (with EVSEs and connectors), stations, tokens,
tariffs, sessions and CDRs, each declared once and served by :mod:`._resource`.

Station passwords are write-only: the API takes ``password`` and stores only its scrypt hash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from intercarga.domain import Cdr, Location, Party, Session, Station, Tariff, Token
from intercarga.errors import InvalidInputError
from intercarga.ids import normalize_contract_id, normalize_evse_id
from intercarga.security import hash_password
from intercarga.web.api._resource import Resource, resource_router
from intercarga.web.api.assessment import assessment_router
from intercarga.web.api.hardware import filter_usable_locations, hardware_router
from intercarga.web.api.stations import (
    ConnectionView,
    connection_view,
    held_connection_view,
    station_router,
)

__all__ = ["RESOURCES", "StationPublic", "StationWrite", "admin_router"]


class StationPublic(Station):
    """A station as the API shows it: without its password hash, with its live connection."""

    password_hash: None = Field(default=None, exclude=True)
    connection: ConnectionView


class StationWrite(Station):
    """A station as the API takes it: ``password`` (write-only) instead of a hash."""

    password_hash: None = Field(default=None, exclude=True)
    password: str | None = Field(
        default=None,
        min_length=16,
        max_length=40,
        description="HTTP Basic password of security profiles 1 and 2 (OCPP: 16–40 characters);"
        " omitted on replace keeps the current one",
    )


async def _station_to_domain(body: Any, existing: Station | None) -> Station:
    assert isinstance(body, StationWrite)
    values = body.model_dump(exclude={"password", "password_hash"})
    if body.password is not None:
        # scrypt costs tens of milliseconds: keep it off the event loop.
        values["password_hash"] = await asyncio.to_thread(hash_password, body.password)
    elif existing is not None:
        values["password_hash"] = existing.password_hash
    return Station.model_validate(values)


def _station_public(request: Request, station: Station) -> dict[str, Any]:
    """A station in a list: its connection as this node sees it (a page does not ask the
    cluster about each station)."""
    shown = station.model_dump(mode="json", exclude={"password_hash"})
    shown["connection"] = connection_view(request, station.id, frames=False)
    return shown


async def _station_read(request: Request, station: Station) -> dict[str, Any]:
    """A station read alone: its connection as the node holding it sees it."""
    shown = station.model_dump(mode="json", exclude={"password_hash"})
    shown["connection"] = await held_connection_view(request, station.id, frames=False)
    return shown


async def _location_to_domain(body: Any, existing: Location | None) -> Location:
    """Locations from operators must carry valid EVSE ids (ISO 15118 / eMI3 or DIN)."""
    location = Location.model_validate(body.model_dump())
    for index, evse in enumerate(location.evses):
        if evse.evse_id is not None:
            evse.evse_id = _checked(normalize_evse_id, evse.evse_id, f"evses.{index}.evse_id")
    return location


async def _token_to_domain(body: Any, existing: Token | None) -> Token:
    """Tokens must carry a valid contract id (EMAID with its check character)."""
    token = Token.model_validate(body.model_dump())
    token.contract_id = _checked(normalize_contract_id, token.contract_id, "contract_id")
    return token


def _checked(normalize: Callable[[str], str], value: str, field: str) -> str:
    try:
        return normalize(value)
    except InvalidInputError as error:
        raise InvalidInputError(str(error), field) from None


_PARTY_KEY = ("country_code", "party_id")

RESOURCES: tuple[Resource[Any], ...] = (
    Resource(
        name="parties",
        singular="party",
        model=Party,
        key=_PARTY_KEY,
        repository=lambda store: store.parties,
    ),
    Resource(
        name="locations",
        singular="location",
        model=Location,
        key=(*_PARTY_KEY, "id"),
        repository=lambda store: store.locations,
        filters={
            "country_code": "country_code",
            "party_id": "party_id",
            "country": "country",
            "city": "city",
        },
        item_filter_params=("vehicle", "market"),
        item_filter=filter_usable_locations,
        to_domain=_location_to_domain,
    ),
    Resource(
        name="stations",
        singular="station",
        model=Station,
        key=("id",),
        repository=lambda store: store.stations,
        filters={"country_code": "country_code", "party_id": "party_id", "vendor": "vendor"},
        write_model=StationWrite,
        to_domain=_station_to_domain,
        to_public=_station_public,
        read_public=_station_read,
        public_model=StationPublic,
        tracks_updates=False,
    ),
    Resource(
        name="tokens",
        singular="token",
        model=Token,
        key=(*_PARTY_KEY, "uid"),
        repository=lambda store: store.tokens,
        filters={
            "country_code": "country_code",
            "party_id": "party_id",
            "contract_id": "contract_id",
            "group_id": "group_id",
        },
        to_domain=_token_to_domain,
    ),
    Resource(
        name="tariffs",
        singular="tariff",
        model=Tariff,
        key=(*_PARTY_KEY, "id"),
        repository=lambda store: store.tariffs,
        filters={"country_code": "country_code", "party_id": "party_id", "currency": "currency"},
    ),
    Resource(
        name="sessions",
        singular="session",
        model=Session,
        key=(*_PARTY_KEY, "id"),
        repository=lambda store: store.sessions,
        filters={
            "station": "station_id",
            "status": "status",
            "token": "token_uid",
            "location_id": "location_id",
        },
    ),
    Resource(
        name="cdrs",
        singular="CDR",
        model=Cdr,
        key=(*_PARTY_KEY, "id"),
        repository=lambda store: store.cdrs,
        filters={
            "country_code": "country_code",
            "party_id": "party_id",
            "session_id": "session_id",
        },
    ),
)


def admin_router() -> APIRouter:
    router = APIRouter()
    router.include_router(station_router())
    router.include_router(hardware_router())
    router.include_router(assessment_router())
    for resource in RESOURCES:
        router.include_router(resource_router(resource))
    return router
