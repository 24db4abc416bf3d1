""" "Can this car charge here, how fast, and with what cable?" — the compatibility engine.

Pure: a vehicle's inlets (from the catalogue for one market, or given explicitly) and a domain
Location, EVSE or Connector in; a verdict per connector out. For each connector it decides how
the vehicle connects and what limits the power:

- ``direct``: same standard; a socket needs the driver's own Mode 3 cable of that standard;
- ``mode3_cable``: a cable assembly from a socket of another standard (Type 2 plug ↔ Type 1
  connector), which IEC 61851-1 allows; a plain household or industrial socket needs the car's
  portable Mode 2 cable (``mode2_cable``);
- ``certified_adapter``: a vehicle-side adapter supplied by the carmaker or UL 2252-certified;
- ``noncompliant_adapter``: any other vehicle-side adapter; IEC 61851-1 says adaptors shall not
  connect a vehicle connector to a vehicle inlet, so this never counts as "can charge";
- ``none``: no way.

Power is limited by both sides: the connector's rating (its max_electric_power, or volts ×
amps × the phases both sides and the cable share; OCPI gives line-to-neutral volts for
AC_3_PHASE) and the vehicle's on-board charger (AC) or DC limit. Facts about which standard
connects to which live in data/connectors.toml; this module must never do I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, Field

from intercarga.domain.location import (
    EVSE,
    Connector,
    ConnectorFormat,
    ConnectorStandard,
    EVSEStatus,
    Location,
    PowerType,
)
from intercarga.errors import InvalidInputError
from intercarga.hardware.connectors import ConnectorSpec, PathKind, connector_catalogue
from intercarga.hardware.vehicles import InletSet, Vehicle, vehicle_catalogue

__all__ = [
    "ChargeMethod",
    "CompatibilityResult",
    "ConnectorVerdict",
    "check_connector",
    "check_evse",
    "compatibility",
    "connector_power_kw",
    "resolve_inlets",
    "usable_locations",
]

IEC_61851_REASON = (
    "IEC 61851-1: adaptors shall not be used to connect a vehicle connector to a vehicle inlet"
)
_SHARED_PROTOCOL_NOTE = "same DC protocol, different pins: a passive adapter"
_ACTIVE_CONVERSION_NOTE = (
    "different DC protocols: an adapter would need active protocol conversion "
    "[unverified for products on sale]"
)
_PHASES = {
    PowerType.AC_1_PHASE: 1,
    PowerType.AC_2_PHASE: 2,
    PowerType.AC_2_PHASE_SPLIT: 1,  # one 240 V circuit; max_voltage is line to line there
    PowerType.AC_3_PHASE: 3,
    PowerType.DC: 1,
}
_NOT_IN_SERVICE = {EVSEStatus.INOPERATIVE, EVSEStatus.OUTOFORDER, EVSEStatus.PLANNED}


class ChargeMethod(StrEnum):
    DIRECT = "direct"
    MODE3_CABLE = "mode3_cable"
    MODE2_CABLE = "mode2_cable"
    CERTIFIED_ADAPTER = "certified_adapter"
    NONCOMPLIANT_ADAPTER = "noncompliant_adapter"
    NONE = "none"


# Best first: the order in which ways to charge are offered to a driver.
_RANK = {
    ChargeMethod.DIRECT: 0,
    ChargeMethod.MODE3_CABLE: 1,
    ChargeMethod.CERTIFIED_ADAPTER: 2,
    ChargeMethod.MODE2_CABLE: 3,
    ChargeMethod.NONCOMPLIANT_ADAPTER: 4,
    ChargeMethod.NONE: 5,
}


class ConnectorVerdict(BaseModel):
    """The answer for one connector. ``can_charge`` None means: not known (an inlet is unknown)."""

    evse_uid: str | None = None
    connector_id: str | None = None
    standard: ConnectorStandard
    power_type: PowerType
    format: ConnectorFormat
    can_charge: bool | None
    method: ChargeMethod | None
    inlet: ConnectorStandard | None = None
    max_power_kw: float | None = None
    via: str | None = None
    reason: str
    warnings: list[str] = Field(default_factory=list)
    source: str | None = None


class CompatibilityResult(BaseModel):
    """The answer for one vehicle at one location; ``best`` is the way a driver should use."""

    vehicle: str | None
    vehicle_id: str | None
    market: str | None
    location_id: str | None
    inlets: InletSet
    can_charge: bool | None
    max_power_kw: float | None
    best: ConnectorVerdict | None
    connectors: list[ConnectorVerdict]


def connector_power_kw(connector: Connector, phases: int | None = None) -> float:
    """What the connector can deliver, in kW, using ``phases`` of its phases (all by default)."""
    station_phases = _PHASES[connector.power_type]
    used = station_phases if phases is None else min(phases, station_phases)
    if connector.max_electric_power is not None:
        return connector.max_electric_power / 1000 * used / station_phases
    return connector.max_voltage * connector.max_amperage * used / 1000


def check_connector(
    inlets: InletSet, connector: Connector, evse_uid: str | None = None
) -> ConnectorVerdict:
    """How (and how fast) a vehicle with ``inlets`` can charge at ``connector``."""
    spec = connector_catalogue().get(connector.standard)
    is_dc = connector.power_type is PowerType.DC
    field = "dc_inlet" if is_dc else "ac_inlet"
    inlet = inlets.dc_inlet if is_dc else inlets.ac_inlet
    base = {
        "evse_uid": evse_uid,
        "connector_id": connector.id,
        "standard": connector.standard,
        "power_type": connector.power_type,
        "format": connector.format,
    }
    current = "DC" if is_dc else "AC"
    if inlet is None:
        unknown = inlets.inlet_unknown(field)
        if unknown is not None:
            return ConnectorVerdict(
                **base,
                can_charge=None,
                method=None,
                reason=f"the vehicle's {current} inlet is not known: {unknown}",
            )
        return ConnectorVerdict(
            **base,
            can_charge=False,
            method=ChargeMethod.NONE,
            reason=f"the vehicle has no {current} inlet",
        )
    method, via, reason, source, cable_phases, warnings = _connection(spec, inlet, connector)
    verdict = ConnectorVerdict(
        **base,
        can_charge=method not in (ChargeMethod.NONE, ChargeMethod.NONCOMPLIANT_ADAPTER),
        method=method,
        inlet=inlet,
        via=via,
        reason=reason,
        source=source,
        warnings=warnings,
    )
    if verdict.can_charge:
        power, power_warnings = _power(inlets, connector, inlet, cable_phases)
        verdict.max_power_kw = power
        verdict.warnings.extend(power_warnings)
    return verdict


def check_evse(inlets: InletSet, evse: EVSE) -> list[ConnectorVerdict]:
    """One verdict per connector of ``evse``, with a warning when it is not in service."""
    verdicts = [check_connector(inlets, connector, evse.uid) for connector in evse.connectors]
    if evse.status in _NOT_IN_SERVICE:
        for verdict in verdicts:
            verdict.warnings.append(f"EVSE status is {evse.status.value}")
    return verdicts


def resolve_inlets(
    vehicle: str | Vehicle | InletSet, market: str | None
) -> tuple[InletSet, Vehicle | None]:
    """The inlet set for a vehicle name or record in ``market``, or an explicit set unchanged."""
    if isinstance(vehicle, InletSet):
        return vehicle, None
    record = vehicle_catalogue().find(vehicle) if isinstance(vehicle, str) else vehicle
    if market is None:
        raise InvalidInputError(
            f"say which market: known for the {record.name}: {', '.join(record.markets)}",
            field="market",
        )
    return record.variant(market).inlets(), record


def compatibility(
    vehicle: str | Vehicle | InletSet, market: str | None, location: Location
) -> CompatibilityResult:
    """Can ``vehicle`` (as sold in ``market``) charge at ``location``, how fast, and how?"""
    inlets, record = resolve_inlets(vehicle, market)
    verdicts = [verdict for evse in location.evses for verdict in check_evse(inlets, evse)]
    return _summarize(inlets, record, market, location.id, verdicts)


def usable_locations(
    vehicle: str | Vehicle | InletSet,
    market: str | None,
    locations: Iterable[Location],
    methods: frozenset[ChargeMethod] = frozenset(
        {ChargeMethod.DIRECT, ChargeMethod.MODE3_CABLE, ChargeMethod.CERTIFIED_ADAPTER}
    ),
) -> list[Location]:
    """The locations where the vehicle can charge by one of ``methods`` ("locations this car
    can use"); the filter behind the location list."""
    inlets, _ = resolve_inlets(vehicle, market)
    return [
        location
        for location in locations
        if any(
            verdict.can_charge and verdict.method in methods
            for evse in location.evses
            for verdict in check_evse(inlets, evse)
        )
    ]


def _summarize(
    inlets: InletSet,
    record: Vehicle | None,
    market: str | None,
    location_id: str | None,
    verdicts: list[ConnectorVerdict],
) -> CompatibilityResult:
    ranked = sorted(verdicts, key=_rank)
    usable = [verdict for verdict in ranked if verdict.can_charge]
    if usable:
        can_charge: bool | None = True
    elif any(verdict.can_charge is None for verdict in verdicts):
        can_charge = None
    else:
        can_charge = False
    powers = [v.max_power_kw for v in usable if v.max_power_kw is not None]
    return CompatibilityResult(
        vehicle=record.name if record else None,
        vehicle_id=record.id if record else None,
        market=market.upper() if market else None,
        location_id=location_id,
        inlets=inlets,
        can_charge=can_charge,
        max_power_kw=max(powers) if powers else None,
        best=ranked[0] if ranked else None,
        connectors=verdicts,
    )


def _rank(verdict: ConnectorVerdict) -> tuple[int, int, float]:
    known = {True: 0, None: 1, False: 2}[verdict.can_charge]
    method = _RANK[verdict.method] if verdict.method else len(_RANK)
    return (known, method, -(verdict.max_power_kw or 0.0))


_Connection = tuple[ChargeMethod, str | None, str, str | None, int | None, list[str]]


def _connection(spec: ConnectorSpec, inlet: ConnectorStandard, connector: Connector) -> _Connection:
    """The way from ``connector`` to ``inlet``: method, via, reason, source, phase cap, warnings."""
    catalogue = connector_catalogue()
    inlet_spec = catalogue.get(inlet)
    station_name, inlet_name = spec.display(), inlet_spec.display()
    socket = connector.format is ConnectorFormat.SOCKET
    if inlet == connector.standard:
        if socket and spec.pilot == "iec61851":
            return (
                ChargeMethod.DIRECT,
                f"the driver's own Mode 3 cable {station_name} ↔ {inlet_name}",
                f"same standard ({station_name}); the station has a socket, bring a cable",
                "ocpi-2-2-1",
                None,
                ["needs the driver's own Mode 3 cable"],
            )
        return ChargeMethod.DIRECT, None, f"same standard ({station_name})", "ocpi-2-2-1", None, []
    path = catalogue.paths.get((connector.standard, inlet))
    if path is not None and (path.format is None or path.format is connector.format):
        warnings = [path.note] if path.note else []
        method = ChargeMethod(path.kind.value)
        reason = {
            PathKind.DIRECT: f"{station_name} fits a {inlet_name} inlet",
            PathKind.MODE3_CABLE: "a Mode 3 cable assembly from the socket (IEC 61851-1 case B)",
            PathKind.CERTIFIED_ADAPTER: "a vehicle-side adapter the carmaker supplies or approves",
            PathKind.NONCOMPLIANT_ADAPTER: IEC_61851_REASON,
        }[path.kind]
        return method, path.via, reason, path.source, path.phases, warnings
    if not spec.carries_dc and spec.pilot == "none" and socket:
        return (
            ChargeMethod.MODE2_CABLE,
            f"the vehicle's portable Mode 2 cable with a {station_name} plug",
            "a plain socket: only with a Mode 2 cable (in-cable control box), if the driver "
            "carries one for this plug",
            "iec-61851-1",
            None,
            ["slow; only with a Mode 2 cable for this socket"],
        )
    return _fallback(spec, inlet_spec, connector)


def _fallback(spec: ConnectorSpec, inlet_spec: ConnectorSpec, connector: Connector) -> _Connection:
    """No listed path: an adapter (never compliant) when the signalling matches, else nothing."""
    via = f"vehicle-side adapter {spec.display()} → {inlet_spec.display()}"
    if connector.power_type is PowerType.DC:
        station_protocol, vehicle_protocol = spec.dc_protocol, inlet_spec.dc_protocol
        if station_protocol is None or vehicle_protocol is None or _is_fixed(spec, inlet_spec):
            return (
                ChargeMethod.NONE,
                None,
                f"{spec.display()} cannot reach a {inlet_spec.display()} inlet",
                None,
                None,
                [],
            )
        note = (
            _SHARED_PROTOCOL_NOTE
            if station_protocol == vehicle_protocol
            else _ACTIVE_CONVERSION_NOTE
        )
        source = "iec-61851-1" if station_protocol == vehicle_protocol else "dc-protocols"
        return (
            ChargeMethod.NONCOMPLIANT_ADAPTER,
            via,
            f"{IEC_61851_REASON}; {note}",
            source,
            None,
            [],
        )
    if spec.pilot == "iec61851" and inlet_spec.pilot == "iec61851":
        return ChargeMethod.NONCOMPLIANT_ADAPTER, via, IEC_61851_REASON, "iec-61851-1", None, []
    return (
        ChargeMethod.NONE,
        None,
        f"{spec.display()} does not fit a {inlet_spec.display()} inlet",
        None,
        None,
        [],
    )


def _is_fixed(spec: ConnectorSpec, inlet_spec: ConnectorSpec) -> bool:
    """Pantographs and MCS are not plugs a car's adapter could reach."""
    fixed = {
        ConnectorStandard.PANTOGRAPH_BOTTOM_UP,
        ConnectorStandard.PANTOGRAPH_TOP_DOWN,
        ConnectorStandard.MCS,
    }
    return spec.standard in fixed or inlet_spec.standard in fixed


def _power(
    inlets: InletSet, connector: Connector, inlet: ConnectorStandard, cable_phases: int | None
) -> tuple[float, list[str]]:
    warnings: list[str] = []
    if connector.power_type is PowerType.DC:
        power = connector_power_kw(connector)
        if inlets.dc_kw is None:
            warnings.append("the vehicle's DC limit is not known: the station's rating is shown")
        else:
            power = min(power, inlets.dc_kw)
        return round(power, 1), warnings
    limits = [_PHASES[connector.power_type]]
    if cable_phases is not None:
        limits.append(cable_phases)
    inlet_phases = connector_catalogue().get(inlet).phases
    if inlet_phases is not None:
        limits.append(inlet_phases)
    if inlets.ac_phases is not None:
        limits.append(inlets.ac_phases)
    power = connector_power_kw(connector, min(limits))
    if inlets.ac_kw is None:
        warnings.append("the vehicle's AC limit is not known: the station's rating is shown")
    else:
        power = min(power, inlets.ac_kw)
    return round(power, 1), warnings
