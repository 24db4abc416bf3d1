"""Open Charge Map POIs into domain Locations: mapping, rejections with reasons, duplicate scores.

Pure: an OCM POI (the JSON of the API or of the ``ocm-export`` files, compact or verbose) and
the OCM reference data in; a :class:`Location` or a :class:`Rejection` naming why out. Connection
types go through the hardware catalogue (its ``ocm_ids``). A record is rejected when it has no
usable connection, when its coordinates are outside the country it names (the caller passes
that test in), or when a connection's power contradicts its connector (a DC-only connector on AC
current, more power than the connector can carry). :func:`match_score` scores a POI against a
stored Location the way OCPDB's matcher does (distance × address × operator × EVSE count).

Imported Locations belong to the party ``<country>-OCM`` and keep OCM's id (``OCM-<ID>``), so a
second import of the same file changes nothing. This module must never do I/O beyond reading
its own reference data file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import pycountry

from intercarga.domain.location import (
    EVSE,
    Connector,
    ConnectorFormat,
    EVSEStatus,
    GeoLocation,
    Location,
    PowerType,
)
from intercarga.hardware import ConnectorSpec, connector_catalogue
from intercarga.hardware.connectors import CurrentKind
from intercarga.registry.open_data import distance_m

__all__ = [
    "OCM_LICENCE",
    "OCM_PARTY",
    "DuplicateMatch",
    "Mapped",
    "OcmReference",
    "RejectReason",
    "Rejection",
    "location_from_poi",
    "match_score",
    "ocm_reference",
    "text_similarity",
    "time_zone_at",
]

OCM_PARTY = "OCM"
OCM_LICENCE = (
    "Open Charge Map data, © Open Charge Map contributors (openchargemap.org), "
    "CC BY-SA 4.0 unless the POI's data provider says otherwise"
)
DUPLICATE_RADIUS_M = 250.0  # OCPDB's candidate radius
DUPLICATE_THRESHOLD = 0.25  # OCPDB's default score threshold

_CURRENT = {10: PowerType.AC_1_PHASE, 20: PowerType.AC_3_PHASE, 30: PowerType.DC}
_STATUS = {
    0: EVSEStatus.UNKNOWN,
    10: EVSEStatus.AVAILABLE,
    20: EVSEStatus.CHARGING,
    30: EVSEStatus.INOPERATIVE,
    50: EVSEStatus.UNKNOWN,  # "Operational": in service, but no live status behind it
    75: EVSEStatus.UNKNOWN,
    100: EVSEStatus.INOPERATIVE,
    150: EVSEStatus.PLANNED,
    200: EVSEStatus.REMOVED,
    210: EVSEStatus.REMOVED,
}
_TETHERED = {1036, 1039}  # OCM types that are a cable, not a socket
_AC_VOLTS = 230
_DC_VOLTS = 500


class RejectReason(StrEnum):
    NOT_A_POI = "not_a_poi"
    NO_CONNECTIONS = "no_connections"
    UNKNOWN_COUNTRY = "unknown_country"
    NO_COORDINATES = "no_coordinates"
    OUTSIDE_COUNTRY = "coordinates_outside_country"
    CONTRADICTORY_POWER = "contradictory_power"


@dataclass(frozen=True, slots=True)
class Rejection:
    ocm_id: str
    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class OcmReference:
    """What the compact export names only by id: countries, operators, providers."""

    countries: Mapping[int, str]  # CountryID → ISO 3166-1 alpha-2
    operators: Mapping[int, str]  # OperatorID → title
    providers: Mapping[int, tuple[str, str | None]]  # DataProviderID → (title, licence)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OcmReference:
        return cls(
            countries={int(c["ID"]): str(c["ISOCode"]) for c in data.get("Countries", [])},
            operators={int(o["ID"]): str(o["Title"]) for o in data.get("Operators", [])},
            providers={
                int(p["ID"]): (str(p["Title"]), p.get("License"))
                for p in data.get("DataProviders", [])
            },
        )


@cache
def ocm_reference() -> OcmReference:
    """The reference data shipped with Intercarga (OCM's 2021 snapshot, trimmed)."""
    text = (resources.files("intercarga.registry") / "data" / "ocm-reference-2021.json").read_text(
        encoding="utf-8"
    )
    return OcmReference.from_json(json.loads(text))


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    key: tuple[str, str, str]
    score: float
    distance_m: float


@dataclass(frozen=True, slots=True)
class Mapped:
    """A POI as a Location, with what the import could not carry over."""

    location: Location
    operator: str | None
    warnings: list[str] = field(default_factory=list)


def _clip(text: Any, size: int) -> str | None:
    if text is None:
        return None
    cleaned = " ".join(str(text).split())
    return cleaned[:size] or None


def _moment(poi: Mapping[str, Any]) -> datetime:
    for name in ("DateLastStatusUpdate", "DateLastVerified", "DateCreated"):
        value = poi.get(name)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime(1970, 1, 1, tzinfo=UTC)


def _degrees(value: float) -> str:
    # OCPI: latitude/longitude as text with 5 to 7 decimals.
    return f"{value:.7f}"


@cache
def _zones() -> dict[str, list[tuple[float, float, str]]]:
    """tzdata's zone1970.tab: for each country, its zones with their principal city's place."""
    text = (resources.files("tzdata") / "zoneinfo" / "zone1970.tab").read_text(encoding="utf-8")
    zones: dict[str, list[tuple[float, float, str]]] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        codes, place, name = line.split("\t")[:3]
        latitude, longitude = _iso6709(place)
        for code in codes.split(","):
            zones.setdefault(code, []).append((latitude, longitude, name))
    return zones


def _iso6709(place: str) -> tuple[float, float]:
    split = max(place.rfind("+"), place.rfind("-"))
    return _dms(place[:split], 2), _dms(place[split:], 3)


def _dms(text: str, degree_digits: int) -> float:
    sign = -1.0 if text[0] == "-" else 1.0
    digits = text[1:]
    degrees = float(digits[:degree_digits])
    minutes = float(digits[degree_digits : degree_digits + 2])
    seconds = float(digits[degree_digits + 2 :] or 0)
    return sign * (degrees + minutes / 60 + seconds / 3600)


def time_zone_at(country: str, latitude: float, longitude: float) -> str | None:
    """The zone of ``country`` whose principal city is nearest (good enough for LAC sites)."""
    candidates = _zones().get(country, [])
    if not candidates:
        return None
    return min(candidates, key=lambda z: distance_m(latitude, longitude, z[0], z[1]))[2]


def _spec(type_id: int) -> ConnectorSpec | None:
    specs = connector_catalogue().by_ocm_id(type_id)
    return specs[0] if specs else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value > 0 and math.isfinite(value) else None


def _contradiction(spec: ConnectorSpec, current: PowerType | None, kw: float | None) -> str | None:
    """Why this connection cannot be as OCM says, or None.

    A connector that carries both AC and DC (NACS) has its AC figure as ``max_kw``, so its power
    is checked only on a connection that says AC. Ratings get 5 % of slack: 44 kW on a 43 kW
    Type 2 is rounding, 93 kW is not."""
    standard = spec.standard.value
    if current is PowerType.DC and spec.current is CurrentKind.AC:
        return f"{standard} carries AC only, but the connection says DC"
    if current not in (None, PowerType.DC) and spec.current is CurrentKind.DC:
        return f"{standard} carries DC only, but the connection says AC"
    checked = spec.current is not CurrentKind.AC_DC or current not in (None, PowerType.DC)
    if checked and kw is not None and spec.max_kw is not None and kw > spec.max_kw * 1.05:
        return f"{standard} carries at most {spec.max_kw:g} kW, but the connection says {kw:g} kW"
    return None


def _power_type(spec: ConnectorSpec, current: PowerType | None, kw: float | None) -> PowerType:
    if current is not None:
        return current
    over_ac = kw is not None and spec.max_kw is not None and kw > spec.max_kw
    if spec.current is CurrentKind.DC or (spec.current is CurrentKind.AC_DC and over_ac):
        return PowerType.DC
    return PowerType.AC_3_PHASE if (spec.phases or 1) >= 3 else PowerType.AC_1_PHASE


def _connector(
    spec: ConnectorSpec, type_id: int, connection: Mapping[str, Any], moment: datetime
) -> Connector:
    current = _CURRENT.get(connection.get("CurrentTypeID") or -1)
    given_kw = _number(connection.get("PowerKW"))
    power_type = _power_type(spec, current, given_kw)
    # No power given: the connector's typical rating, else a household socket's 3.7 kW.
    kw = given_kw or spec.typical_kw or spec.max_kw or 3.7
    volts = _number(connection.get("Voltage"))
    if volts is None or volts < 100:  # "Voltage 4" and the like: not a voltage
        volts = _DC_VOLTS if power_type is PowerType.DC else _AC_VOLTS
    phases = 3 if power_type is PowerType.AC_3_PHASE else 1
    amps = _number(connection.get("Amps")) or kw * 1000 / (volts * phases)
    tethered = type_id in _TETHERED or power_type is PowerType.DC
    return Connector(
        id="1",
        standard=spec.standard,
        format=ConnectorFormat.CABLE if tethered else ConnectorFormat.SOCKET,
        power_type=power_type,
        max_voltage=max(1, min(2000, round(volts))),
        max_amperage=max(1, min(3000, math.ceil(amps))),
        max_electric_power=round(kw * 1000),
        last_updated=moment,
    )


def location_from_poi(
    poi: Any,
    reference: OcmReference,
    in_country: Callable[[str, float, float], bool],
) -> Mapped | Rejection:
    """One POI as a Location of party ``<ISO2>-OCM``, or why it cannot be one.

    ``in_country(iso2, latitude, longitude)`` says whether a point lies in that country.
    """
    if not isinstance(poi, Mapping) or not isinstance(poi.get("ID"), int):
        return Rejection("?", RejectReason.NOT_A_POI, "no numeric ID: not an OCM POI")
    ocm_id = f"OCM-{poi['ID']}"
    info = poi.get("AddressInfo")
    address: Mapping[str, Any] = info if isinstance(info, Mapping) else {}
    country = _country_of(address, reference)
    if country is None:
        return Rejection(ocm_id, RejectReason.UNKNOWN_COUNTRY, "no country OCM knows")
    latitude, longitude = (
        _coordinate(address, "Latitude"),
        _coordinate(address, "Longitude"),
    )
    if latitude is None or longitude is None:
        return Rejection(ocm_id, RejectReason.NO_COORDINATES, "no latitude and longitude")
    if not in_country(country, latitude, longitude):
        return Rejection(
            ocm_id,
            RejectReason.OUTSIDE_COUNTRY,
            f"{latitude:.5f}, {longitude:.5f} is outside {country}",
        )
    moment = _moment(poi)
    poi_status = _STATUS.get(poi.get("StatusTypeID") or 0, EVSEStatus.UNKNOWN)
    warnings: list[str] = []
    evses: list[EVSE] = []
    for connection in poi.get("Connections") or []:
        if not isinstance(connection, Mapping):
            continue
        type_id = int(connection.get("ConnectionTypeID") or 0)
        spec = _spec(type_id)
        if spec is None:
            warnings.append(
                f"connection {connection.get('ID')}: type {type_id} left out "
                "(no connector of the catalogue)"
            )
            continue
        current = _CURRENT.get(connection.get("CurrentTypeID") or -1)
        kw = _number(connection.get("PowerKW"))
        contradiction = _contradiction(spec, current, kw)
        if contradiction is not None:
            return Rejection(
                ocm_id,
                RejectReason.CONTRADICTORY_POWER,
                f"connection {connection.get('ID')}: {contradiction}",
            )
        status = _STATUS.get(connection.get("StatusTypeID") or -1, poi_status)
        connector = _connector(spec, type_id, connection, moment)
        for unit in range(max(1, int(connection.get("Quantity") or 1))):
            evses.append(
                EVSE(
                    uid=f"{connection.get('ID', type_id)}-{unit + 1}",
                    status=status,
                    connectors=[connector],
                    last_updated=moment,
                )
            )
    if not evses:
        return Rejection(
            ocm_id,
            RejectReason.NO_CONNECTIONS,
            "no connection of a known connector type" if warnings else "no connections",
        )
    zone = time_zone_at(country, latitude, longitude)
    if zone is None:
        return Rejection(ocm_id, RejectReason.UNKNOWN_COUNTRY, f"no time zone for {country}")
    title = _clip(address.get("Title"), 255)
    town = _clip(address.get("Town"), 45) or _clip(address.get("StateOrProvince"), 45)
    location = Location(
        country_code=country,
        party_id=OCM_PARTY,
        id=ocm_id,
        publish=True,
        name=title,
        address=_clip(address.get("AddressLine1"), 45) or (title and title[:45]) or "unknown",
        city=town or "unknown",
        postal_code=_clip(address.get("Postcode"), 10),
        state=_clip(address.get("StateOrProvince"), 20),
        country=_alpha_3(country),
        coordinates=GeoLocation(latitude=_degrees(latitude), longitude=_degrees(longitude)),
        evses=evses,
        time_zone=zone,
        last_updated=moment,
    )
    return Mapped(location, _operator_of(poi, reference), warnings)


def _operator_of(poi: Mapping[str, Any], reference: OcmReference) -> str | None:
    info = poi.get("OperatorInfo")
    if isinstance(info, Mapping) and isinstance(info.get("Title"), str):
        return str(info["Title"])
    operator_id = poi.get("OperatorID")
    return reference.operators.get(operator_id) if isinstance(operator_id, int) else None


def _country_of(address: Mapping[str, Any], reference: OcmReference) -> str | None:
    nested = address.get("Country")
    if isinstance(nested, Mapping) and isinstance(nested.get("ISOCode"), str):
        code = nested["ISOCode"]
    else:
        code = reference.countries.get(address.get("CountryID") or -1)
    if code is None or pycountry.countries.get(alpha_2=code) is None:
        return None
    return str(code)


def _alpha_3(alpha_2: str) -> str:
    record = pycountry.countries.get(alpha_2=alpha_2)
    return "" if record is None else str(record.alpha_3)  # _country_of checked it exists


def _coordinate(address: Mapping[str, Any], name: str) -> float | None:
    value = address.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


# -- duplicates ----------------------------------------------------------------------------------
def _grams(text: str) -> set[str]:
    cleaned = f"  {' '.join(text.lower().split())} "
    return {cleaned[i : i + 3] for i in range(len(cleaned) - 2)}


def text_similarity(first: str | None, second: str | None) -> float | None:
    """Trigram Jaccard similarity in [0, 1]; None when either side is unknown."""
    if not first or not second:
        return None
    a, b = _grams(first), _grams(second)
    return len(a & b) / len(a | b)


def match_score(
    candidate: Location,
    candidate_operator: str | None,
    stored: Location,
    stored_operator: str | None,
) -> DuplicateMatch:
    """OCPDB's score f_distance × f_address × f_operator × f_evse_count, each in [0, 1].

    f_distance = exp(−d²/10000) with d in metres (0.37 at 100 m); an unknown address or
    operator neither helps nor hurts (1), a different one weighs down to 0.3; EVSE counts
    that differ weigh by their ratio, halved at most.
    """
    d = distance_m(
        float(candidate.coordinates.latitude),
        float(candidate.coordinates.longitude),
        float(stored.coordinates.latitude),
        float(stored.coordinates.longitude),
    )
    f_distance = math.exp(-(d**2) / 10_000)
    address = text_similarity(
        f"{candidate.address} {candidate.city}", f"{stored.address} {stored.city}"
    )
    f_address = 1.0 if address is None else 0.3 + 0.7 * address
    operator = text_similarity(candidate_operator, stored_operator)
    f_operator = 1.0 if operator is None else 0.3 + 0.7 * operator
    a, b = len(candidate.evses), len(stored.evses)
    f_evses = 1.0 if max(a, b) == 0 else 0.5 + 0.5 * min(a, b) / max(a, b)
    score = f_distance * f_address * f_operator * f_evses
    return DuplicateMatch(
        (stored.country_code, stored.party_id, stored.id), round(score, 4), round(d, 1)
    )
