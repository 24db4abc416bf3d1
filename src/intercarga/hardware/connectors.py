"""The connector catalogue: every OCPI ConnectorType with AC/DC, phases, indicative ratings,
Open Charge Map and OCPP mappings, names in en/es/pt, and the known ways to connect one
standard to another (cables and adapters).

The facts live in data/connectors.toml with a source per fact group; this module only loads and
indexes them. It must never restate a fact in code nor do I/O beyond reading its data file.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache

from pydantic import Field

from intercarga.domain.location import ConnectorFormat, ConnectorStandard
from intercarga.errors import NotFoundError
from intercarga.hardware._data import Confidence, DataModel, load_toml, near_matches, simplify

__all__ = [
    "ConnectionPath",
    "ConnectorCatalogue",
    "ConnectorSpec",
    "CurrentKind",
    "PathKind",
    "connector_catalogue",
]


class CurrentKind(StrEnum):
    AC = "AC"
    DC = "DC"
    AC_DC = "AC_DC"


class ConnectorSpec(DataModel):
    """One connector standard as the catalogue knows it."""

    standard: ConnectorStandard
    name: dict[str, str]
    current: CurrentKind
    phases: int | None = None
    typical_kw: float | None = None
    max_kw: float | None = None
    pilot: str | None = None
    dc_protocol: str | None = None
    ocm_ids: list[int] = Field(default_factory=list)
    ocpp201: list[str] = Field(default_factory=list)
    ocpp21: list[str] = Field(default_factory=list)
    unknown: dict[str, str] = Field(default_factory=dict)
    note: str | None = None
    sources: dict[str, str]

    @property
    def carries_ac(self) -> bool:
        return self.current in (CurrentKind.AC, CurrentKind.AC_DC)

    @property
    def carries_dc(self) -> bool:
        return self.current in (CurrentKind.DC, CurrentKind.AC_DC)

    def display(self, language: str = "en") -> str:
        return self.name.get(language, self.name["en"])


class PathKind(StrEnum):
    DIRECT = "direct"
    MODE3_CABLE = "mode3_cable"
    CERTIFIED_ADAPTER = "certified_adapter"
    NONCOMPLIANT_ADAPTER = "noncompliant_adapter"


class ConnectionPath(DataModel):
    """A known way from a station connector of one standard to a vehicle inlet of another."""

    station: ConnectorStandard
    vehicle: ConnectorStandard
    kind: PathKind
    via: str
    format: ConnectorFormat | None = None
    phases: int | None = None
    confidence: Confidence
    note: str | None = None
    source: str


class ConnectorCatalogue:
    """Look-ups over the catalogue: by OCPI standard, by any name, by OCM or OCPP id."""

    def __init__(self, specs: list[ConnectorSpec], paths: list[ConnectionPath]) -> None:
        self.specs = {spec.standard: spec for spec in specs}
        self.paths = {(path.station, path.vehicle): path for path in paths}
        owners: dict[str, set[str]] = {}
        for spec in specs:
            for alias in _aliases(spec):
                owners.setdefault(simplify(alias), set()).add(spec.standard.value)
        # An alias two standards share ("red" for the IEC 60309 plugs) names neither.
        self._names = {key: next(iter(o)) for key, o in owners.items() if len(o) == 1}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.specs.values())

    def __len__(self) -> int:
        return len(self.specs)

    def get(self, standard: ConnectorStandard) -> ConnectorSpec:
        return self.specs[standard]

    def find(self, name: str) -> ConnectorSpec:
        """The connector called ``name`` (OCPI value, display name in any language, or alias)."""
        key = self._names.get(simplify(name))
        if key is None:
            display = {
                key: f"{self.specs[ConnectorStandard(value)].display()} [{value}]"
                for key, value in self._names.items()
            }
            suggestions = near_matches(name, display)
            hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
            raise NotFoundError(f"unknown connector {name!r}{hint}")
        return self.specs[ConnectorStandard(key)]

    def by_ocm_id(self, connection_type_id: int) -> list[ConnectorSpec]:
        return [spec for spec in self.specs.values() if connection_type_id in spec.ocm_ids]

    def by_ocpp201(self, connector_type: str) -> list[ConnectorSpec]:
        return [spec for spec in self.specs.values() if connector_type in spec.ocpp201]


def _aliases(spec: ConnectorSpec) -> list[str]:
    """The OCPI value, every display name, and the pieces of a name ("CCS2 (Combo 2)" → "CCS2",
    "Combo 2"; "NACS / SAE J3400" → "NACS", "SAE J3400", "J3400")."""
    names = [spec.standard.value]
    for display in spec.name.values():
        names.append(display)
        head, _, rest = display.partition(" (")
        for part in (head, rest.rstrip(")")):
            for piece in part.split(" / "):
                names += [piece, piece.removeprefix("SAE ")]
    return [n for n in names if n]


@cache
def connector_catalogue() -> ConnectorCatalogue:
    raw = load_toml("connectors.toml")
    specs = [ConnectorSpec(**entry) for entry in raw["connector"]]
    paths = [ConnectionPath(**entry) for entry in raw.get("path", [])]
    return ConnectorCatalogue(specs, paths)
