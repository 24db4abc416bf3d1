"""The vehicle catalogue: EV models sold in LAC with their inlets and power, per market.

A model can ship GB/T in one country and CCS2 in another, so inlets belong to a (model, market)
pair. Unknown stays unknown: a missing fact is absent and ``unknown`` says why. The facts live in
data/vehicles.toml; this module loads, indexes and looks them up, and must never guess a fact.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import Field

from intercarga.domain.location import ConnectorStandard
from intercarga.errors import InvalidInputError, NotFoundError
from intercarga.hardware._data import DataModel, Provenance, load_toml, near_matches, simplify
from intercarga.hardware.connectors import connector_catalogue

__all__ = [
    "InletSet",
    "MarketVariant",
    "Vehicle",
    "VehicleCatalogue",
    "inlet_set",
    "vehicle_catalogue",
]

NoInlet = Literal["NONE"]


class InletSet(DataModel):
    """What the engine needs from a vehicle: its inlets and the power it accepts.

    ``ac_inlet``/``dc_inlet`` None means *no such inlet* unless ``unknown`` has an entry for the
    field, in which case it means *not known*. Power None means not known (no vehicle-side limit
    is applied, and the answer says so).
    """

    ac_inlet: ConnectorStandard | None = None
    dc_inlet: ConnectorStandard | None = None
    ac_kw: float | None = None
    ac_phases: int | None = Field(default=None, ge=1, le=3)
    dc_kw: float | None = None
    unknown: dict[str, str] = Field(default_factory=dict)

    def inlet_unknown(self, field: str) -> str | None:
        return self.unknown.get(field)


class MarketVariant(DataModel):
    """One model as sold in one market (ISO 3166-1 alpha-2), with provenance per fact group."""

    country: str = Field(pattern=r"^[A-Z]{2}$")
    ac_inlet: ConnectorStandard | NoInlet | None = None
    dc_inlet: ConnectorStandard | NoInlet | None = None
    ac_kw: float | None = Field(default=None, gt=0)
    ac_phases: int | None = Field(default=None, ge=1, le=3)
    dc_kw: float | None = Field(default=None, gt=0)
    ac: Provenance | None = None
    dc: Provenance | None = None
    power: Provenance | None = None
    unknown: dict[str, str] = Field(default_factory=dict)
    note: str | None = None

    def inlets(self) -> InletSet:
        return InletSet(
            ac_inlet=None if self.ac_inlet in (None, "NONE") else self.ac_inlet,
            dc_inlet=None if self.dc_inlet in (None, "NONE") else self.dc_inlet,
            ac_kw=self.ac_kw,
            ac_phases=self.ac_phases,
            dc_kw=self.dc_kw,
            unknown=self.unknown,
        )


class Vehicle(DataModel):
    id: str
    make: str
    model: str
    aliases: list[str] = Field(default_factory=list)
    market: list[MarketVariant]

    @property
    def name(self) -> str:
        return f"{self.make} {self.model}"

    @property
    def markets(self) -> list[str]:
        return [variant.country for variant in self.market]

    def variant(self, market: str) -> MarketVariant:
        """This model as sold in ``market``; raise listing the markets we know it in."""
        code = market.strip().upper()
        for variant in self.market:
            if variant.country == code:
                return variant
        raise InvalidInputError(
            f"no record of the {self.name} in market {code!r}; known markets: "
            f"{', '.join(self.markets)} (CN = China-market unit, as grey imports carry)",
            field="market",
        )


class VehicleCatalogue:
    def __init__(self, vehicles: list[Vehicle]) -> None:
        self.vehicles = {vehicle.id: vehicle for vehicle in vehicles}
        self._names: dict[str, str] = {}
        for vehicle in vehicles:
            names = [vehicle.id, vehicle.name, vehicle.model, *vehicle.aliases]
            names += [f"{vehicle.make} {alias}" for alias in vehicle.aliases]
            for name in names:
                self._names.setdefault(simplify(name), vehicle.id)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.vehicles.values())

    def __len__(self) -> int:
        return len(self.vehicles)

    def find(self, name: str) -> Vehicle:
        """The vehicle called ``name`` (id, "Make Model", model, or an alias), case-insensitive."""
        key = self._names.get(simplify(name))
        if key is None:
            display = {k: self.vehicles[v].name for k, v in self._names.items()}
            suggestions = near_matches(name, display)
            hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
            raise NotFoundError(f"unknown vehicle {name!r}{hint} (see `intercarga vehicles list`)")
        return self.vehicles[key]


def inlet_set(standards: list[str]) -> InletSet:
    """An explicit inlet set from connector names ("Type 2", "CCS2", "SAE_J3400", …)."""
    catalogue = connector_catalogue()
    ac: ConnectorStandard | None = None
    dc: ConnectorStandard | None = None
    for name in standards:
        spec = catalogue.find(name)
        if spec.carries_ac:
            ac = spec.standard
        if spec.carries_dc:
            dc = spec.standard
    if ac is None and dc is None:
        raise InvalidInputError("give at least one inlet", field="inlets")
    return InletSet(ac_inlet=ac, dc_inlet=dc)


@cache
def vehicle_catalogue() -> VehicleCatalogue:
    raw = load_toml("vehicles.toml")
    return VehicleCatalogue([Vehicle(**entry) for entry in raw["vehicle"]])
