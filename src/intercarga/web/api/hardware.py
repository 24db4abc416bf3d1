"""Hardware answers over the admin API: compatibility, country compliance, inlet coverage.

The work is done by the pure functions of :mod:`intercarga.hardware`; this module only finds the
locations in the store and translates. ``location`` is a full key ``CC/PARTY/ID`` or a bare id
when only one location has it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from intercarga.domain import Location
from intercarga.errors import InvalidInputError, NotFoundError
from intercarga.hardware import (
    CompatibilityResult,
    ComplianceReport,
    CoverageIndicator,
    Vehicle,
    compatibility,
    comply,
    coverage,
    usable_locations,
    vehicle_catalogue,
)
from intercarga.store import Store

__all__ = ["filter_usable_locations", "find_location", "hardware_router"]


async def find_location(store: Store, reference: str) -> Location:
    """The location named by ``CC/PARTY/ID`` (or ``CC*PARTY*ID``), or by a bare id if unique."""
    parts = reference.replace("*", "/").split("/")
    if len(parts) == 3:
        return await store.locations.get(*parts)
    matches = (await store.locations.list(limit=None, filters={"id": reference})).items
    if not matches:
        raise NotFoundError(f"location {reference} not found")
    if len(matches) > 1:
        keys = ", ".join(f"{m.country_code}/{m.party_id}/{m.id}" for m in matches)
        raise InvalidInputError(f"{reference} is ambiguous: say which of {keys}", "location")
    return matches[0]


def _vehicle(name: str) -> Vehicle:
    """The catalogue's vehicle; an unknown name is the client's input error, with near matches."""
    try:
        return vehicle_catalogue().find(name)
    except NotFoundError as error:
        raise InvalidInputError(str(error), "vehicle") from None


def filter_usable_locations(params: dict[str, str], locations: list[Location]) -> list[Location]:
    vehicle = params.get("vehicle")
    if vehicle is None:
        # A market only says which version of a car is meant: alone it filters nothing.
        raise InvalidInputError("is only used with vehicle", "market")
    return usable_locations(_vehicle(vehicle), params.get("market"), locations)


def hardware_router() -> APIRouter:
    router = APIRouter(tags=["hardware"])

    @router.get(
        "/compatibility", response_model=CompatibilityResult, summary="Can this car charge here?"
    )
    async def compatibility_endpoint(
        request: Request,
        vehicle: Annotated[str, Query(description='A vehicle name, e.g. "BYD Dolphin"')],
        location: Annotated[str, Query(description="CC/PARTY/ID, or a unique location id")],
        market: Annotated[str | None, Query(description="ISO 3166 alpha-2 market, e.g. CL")] = None,
    ) -> Any:
        """Whether the vehicle, as sold in ``market``, can charge at the location, how fast and how."""
        record = _vehicle(vehicle)
        found = await find_location(request.app.state.store, location)
        return compatibility(record, market, found).model_dump(mode="json")

    @router.get("/compliance", response_model=ComplianceReport, summary="Country connector rules")
    async def compliance_endpoint(
        request: Request,
        country: Annotated[str, Query(description="ISO 3166 alpha-2, e.g. CO")],
    ) -> Any:
        """Each non-compliant location/EVSE of the country with the rule, its source and the fix."""
        store: Store = request.app.state.store
        locations = (
            await store.locations.list(limit=None, filters={"country_code": country.upper()})
        ).items
        return comply(country, locations).model_dump(mode="json")

    @router.get("/coverage", response_model=CoverageIndicator, summary="Inlet coverage indicator")
    async def coverage_endpoint(
        request: Request,
        country: Annotated[
            str | None, Query(description="ISO 3166 alpha-2; all when omitted")
        ] = None,
    ) -> Any:
        """Shares of public EVSEs and of charging power each vehicle inlet type can use."""
        store: Store = request.app.state.store
        filters = {} if country is None else {"country_code": country.upper()}
        locations = (await store.locations.list(limit=None, filters=filters)).items
        return coverage(locations).model_dump(mode="json")

    return router
