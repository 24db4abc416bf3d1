"""Open charging data for anyone: the query, the filters and the three renderings (OCPI, GeoJSON, CSV).

Pure: query parameters in, an :class:`OpenDataQuery` out (or :class:`OpenDataQueryError` naming
the parameter); a domain Location and a query in, "does it match" out; a page of Locations in,
bytes out. The store does the coarse cut (published, country, operator, ``updated_since``, the
box, the keyset cursor); :func:`matches` does the fine one (exact radius, connector standard,
power, status now, vehicle). Only ``publish: true`` Locations are ever given here, and nothing
here may ever see or render a token, a session or a CDR. This module must never do I/O.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pycountry

from intercarga.domain.location import ConnectorStandard, EVSEStatus, Location
from intercarga.errors import IntercargaError, InvalidInputError, NotFoundError
from intercarga.hardware import check_evse, connector_power_kw
from intercarga.hardware.compatibility import ChargeMethod, resolve_inlets
from intercarga.hardware.vehicles import InletSet
from intercarga.registry.reliability import (
    NEVI_THRESHOLD,
    UK_THRESHOLD,
    Period,
    Ratio,
    intervals,
    nevi_uptime,
    uk_reliability,
)

__all__ = [
    "MAX_LIMIT",
    "MAX_RADIUS_M",
    "BoundingBox",
    "Circle",
    "CountryStatistics",
    "Cursor",
    "Licence",
    "LocationRenderer",
    "OpenDataQuery",
    "OpenDataQueryError",
    "RenderedLocations",
    "csv_bytes",
    "distance_m",
    "etag",
    "geojson_document",
    "history_document",
    "json_bytes",
    "matches",
    "max_power_kw",
    "ocpi_document",
    "ocpi_envelope",
    "ocpi_fragment",
    "parse_period",
    "parse_query",
    "power_class",
    "reliability_document",
    "statistics_document",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_RADIUS_M = 100_000.0  # wider than a metropolitan area: a box or a country answers better
EARTH_RADIUS_M = 6_371_008.8
_USABLE = frozenset({ChargeMethod.DIRECT, ChargeMethod.MODE3_CABLE, ChargeMethod.CERTIFIED_ADAPTER})


LocationRenderer = Callable[[Location], dict[str, Any]]
"""A Location as OCPI 2.2.1 JSON: ``ocpi.mapping.location_to_ocpi`` at version 2.2.1, handed in
by the composition root (the registry sits below ``ocpi/`` and must not import it)."""


class OpenDataQueryError(InvalidInputError):
    """A query parameter the API cannot answer: 400, naming ``parameter``."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message, field=parameter)
        self.parameter = parameter


@dataclass(frozen=True, slots=True)
class Licence:
    """Under which terms the published data may be reused; stated in every answer."""

    name: str = "CC BY 4.0"
    url: str = "https://creativecommons.org/licenses/by/4.0/"
    attribution: str = "Intercarga open charging data, from the charge point operators' own feeds"

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "url": self.url, "attribution": self.attribution}


@dataclass(frozen=True, slots=True)
class BoundingBox:
    south: float
    west: float
    north: float
    east: float

    def contains(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east


@dataclass(frozen=True, slots=True)
class Circle:
    latitude: float
    longitude: float
    radius_m: float

    def contains(self, latitude: float, longitude: float) -> bool:
        return distance_m(self.latitude, self.longitude, latitude, longitude) <= self.radius_m

    def box(self) -> BoundingBox:
        """The box around the circle, for the store's coarse cut (never past the poles)."""
        dlat = math.degrees(self.radius_m / EARTH_RADIUS_M)
        cos = max(math.cos(math.radians(self.latitude)), 1e-6)
        dlon = min(180.0, math.degrees(self.radius_m / (EARTH_RADIUS_M * cos)))
        return BoundingBox(
            max(-90.0, self.latitude - dlat),
            max(-180.0, self.longitude - dlon),
            min(90.0, self.latitude + dlat),
            min(180.0, self.longitude + dlon),
        )


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: the last Location sent, in (last_updated, key) order."""

    last_updated: datetime
    country_code: str
    party_id: str
    id: str

    def encode(self) -> str:
        text = json.dumps(
            [self.last_updated.isoformat(), self.country_code, self.party_id, self.id]
        )
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            padded = text + "=" * (-len(text) % 4)
            stamp, country_code, party_id, id_ = json.loads(base64.urlsafe_b64decode(padded))
            moment = datetime.fromisoformat(stamp)
            if moment.tzinfo is None or not all(
                isinstance(part, str) for part in (country_code, party_id, id_)
            ):
                raise ValueError("not a cursor")
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise OpenDataQueryError(
                "cursor", "not a cursor this API gave out (follow the Link rel=next)"
            ) from None
        return cls(moment.astimezone(UTC), country_code, party_id, id_)

    @classmethod
    def after(cls, location: Location) -> Cursor:
        return cls(location.last_updated, location.country_code, location.party_id, location.id)


@dataclass(frozen=True, slots=True)
class OpenDataQuery:
    """What a client asked for, validated. Empty sets and None mean "no filter"."""

    country: str | None = None  # ISO 3166-1 alpha-3, as OCPI's Location.country
    operator: tuple[str, str] | None = None  # the CPO party (country_code, party_id)
    box: BoundingBox | None = None
    near: Circle | None = None
    standards: frozenset[ConnectorStandard] = frozenset()
    min_power_kw: float | None = None
    statuses: frozenset[EVSEStatus] = frozenset()
    inlets: InletSet | None = None
    updated_since: datetime | None = None
    cursor: Cursor | None = None
    limit: int = DEFAULT_LIMIT
    strict: bool = False
    echo: dict[str, str] = field(default_factory=dict)  # the parameters, for the next link

    def coarse_box(self) -> BoundingBox | None:
        """The one box the store can cut on: the asked box, or the circle's."""
        if self.near is None:
            return self.box
        around = self.near.box()
        if self.box is None:
            return around
        return BoundingBox(
            max(around.south, self.box.south),
            max(around.west, self.box.west),
            min(around.north, self.box.north),
            min(around.east, self.box.east),
        )


QUERY_PARAMETERS = (
    "country",
    "operator",
    "bbox",
    "latitude",
    "longitude",
    "radius",
    "standard",
    "min_power_kw",
    "status",
    "vehicle",
    "market",
    "updated_since",
    "cursor",
    "limit",
    "strict",
)


def _number(parameter: str, text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise OpenDataQueryError(parameter, f"{text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise OpenDataQueryError(parameter, f"must be between {low:g} and {high:g}")
    return value


def _country(text: str) -> str:
    record = pycountry.countries.get(alpha_2=text.upper()) if len(text) == 2 else None
    if record is None and len(text) == 3:
        record = pycountry.countries.get(alpha_3=text.upper())
    if record is None:
        raise OpenDataQueryError("country", f"{text!r} is no ISO 3166-1 country code")
    return str(record.alpha_3)


def _operator(text: str) -> tuple[str, str]:
    country_code, _, party_id = text.upper().partition("-")
    if (
        len(country_code) != 2
        or not country_code.isalpha()
        or not (len(party_id) == 3 and party_id.isalnum())
    ):
        raise OpenDataQueryError("operator", f"{text!r} is not a party like CL-ICG")
    return country_code, party_id


def _box(text: str) -> BoundingBox:
    parts = text.split(",")
    if len(parts) != 4:
        raise OpenDataQueryError("bbox", "give west,south,east,north in degrees")
    west = _number("bbox", parts[0], -180, 180)
    south = _number("bbox", parts[1], -90, 90)
    east = _number("bbox", parts[2], -180, 180)
    north = _number("bbox", parts[3], -90, 90)
    if south > north or west > east:
        raise OpenDataQueryError(
            "bbox", "inverted: give west,south,east,north with west ≤ east and south ≤ north"
        )
    return BoundingBox(south, west, north, east)


def _near(params: Mapping[str, str]) -> Circle | None:
    given = [name for name in ("latitude", "longitude", "radius") if params.get(name)]
    if not given:
        return None
    missing = [name for name in ("latitude", "longitude", "radius") if name not in given]
    if missing:
        raise OpenDataQueryError(missing[0], "latitude, longitude and radius go together")
    radius = _number("radius", params["radius"], 0, math.inf)
    if radius > MAX_RADIUS_M:
        raise OpenDataQueryError(
            "radius", f"at most {MAX_RADIUS_M:g} m; for more, ask by bbox or country"
        )
    return Circle(
        _number("latitude", params["latitude"], -90, 90),
        _number("longitude", params["longitude"], -180, 180),
        radius,
    )


def _choices(parameter: str, text: str, kind: type[Any]) -> frozenset[Any]:
    chosen = set()
    for item in (part.strip() for part in text.split(",")):
        try:
            chosen.add(kind(item.upper() if kind is EVSEStatus else item))
        except ValueError:
            known = ", ".join(member.value for member in kind)
            raise OpenDataQueryError(parameter, f"unknown value {item!r}; one of {known}") from None
    return frozenset(chosen)


def _moment(parameter: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise OpenDataQueryError(parameter, f"{text!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise OpenDataQueryError(parameter, "give a time zone (Z for UTC)")
    return moment.astimezone(UTC)


def _inlets(vehicle: str, market: str | None, country: str | None) -> InletSet:
    if market is None and country is not None:
        record = pycountry.countries.get(alpha_3=country)
        market = None if record is None else str(record.alpha_2)
    try:
        inlets, _ = resolve_inlets(vehicle, market.upper() if market else None)
    except NotFoundError as error:
        raise OpenDataQueryError("vehicle", str(error)) from None
    except IntercargaError as error:
        raise OpenDataQueryError("market", str(error).removeprefix("market: ")) from None
    return inlets


def _flag(parameter: str, text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no", ""):
        return False
    raise OpenDataQueryError(parameter, f"{text!r} is not true or false")


def parse_query(params: Mapping[str, str]) -> OpenDataQuery:
    """The query asked in ``params`` (the URL's), or :class:`OpenDataQueryError` on the first
    parameter it cannot answer."""
    given = {name: params[name] for name in QUERY_PARAMETERS if params.get(name)}
    country = _country(given["country"]) if "country" in given else None
    limit = int(_number("limit", given.get("limit", str(DEFAULT_LIMIT)), 1, MAX_LIMIT))
    return OpenDataQuery(
        country=country,
        operator=_operator(given["operator"]) if "operator" in given else None,
        box=_box(given["bbox"]) if "bbox" in given else None,
        near=_near(given),
        standards=_choices("standard", given["standard"], ConnectorStandard)
        if "standard" in given
        else frozenset(),
        min_power_kw=_number("min_power_kw", given["min_power_kw"], 0, 10_000)
        if "min_power_kw" in given
        else None,
        statuses=_choices("status", given["status"], EVSEStatus)
        if "status" in given
        else frozenset(),
        inlets=_inlets(given["vehicle"], given.get("market"), country)
        if "vehicle" in given
        else None,
        updated_since=_moment("updated_since", given["updated_since"])
        if "updated_since" in given
        else None,
        cursor=Cursor.decode(given["cursor"]) if "cursor" in given else None,
        limit=limit,
        strict=_flag("strict", given.get("strict", "")),
        echo={name: value for name, value in given.items() if name != "cursor"},
    )


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def max_power_kw(location: Location) -> float:
    return max(
        (connector_power_kw(c) for evse in location.evses for c in evse.connectors), default=0.0
    )


def matches(location: Location, query: OpenDataQuery) -> bool:
    """The fine filters; the store already applied country, operator, box and updated_since."""
    latitude = float(location.coordinates.latitude)
    longitude = float(location.coordinates.longitude)
    if query.box is not None and not query.box.contains(latitude, longitude):
        return False
    if query.near is not None and not query.near.contains(latitude, longitude):
        return False
    evses = [e for e in location.evses if not query.statuses or e.status in query.statuses]
    connectors = [
        c
        for evse in evses
        for c in evse.connectors
        if (not query.standards or c.standard in query.standards)
        and (query.min_power_kw is None or connector_power_kw(c) >= query.min_power_kw)
    ]
    if (query.statuses or query.standards or query.min_power_kw is not None) and not connectors:
        return False
    if query.inlets is not None:
        return any(
            verdict.can_charge and verdict.method in _USABLE
            for evse in evses
            for verdict in check_evse(query.inlets, evse)
        )
    return True


# -- renderings ----------------------------------------------------------------------------------
def _meta(licence: Licence, count: int, next_url: str | None) -> dict[str, Any]:
    return {"licence": licence.as_json(), "count": count, "next": next_url}


def _location_json(location: Location, render: LocationRenderer, strict: bool) -> dict[str, Any]:
    data = render(location)
    if not strict:
        data["x_max_power_kw"] = round(max_power_kw(location), 1)
        data["x_evse_count"] = len(location.evses)
    return data


def json_bytes(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode()


class RenderedLocations:
    """Each Location's OCPI JSON, kept while the Location is unchanged (at most ``size``, the
    least recently asked dropped first).

    Rendering a Location as OCPI JSON cost more than reading it from the store (over half of an
    open-data page of 100, profiled over 100,000 Locations); the same Locations are asked again
    and again (a map's area, the newest changes). A copy is reused only for a Location *equal*
    to the one it was rendered from, not one with the same ``last_updated``: a late status
    report changes an EVSE without moving the Location's ``last_updated``.
    """

    def __init__(self, render: LocationRenderer, size: int = 20_000) -> None:
        self._render = render
        self._size = size
        self._kept: OrderedDict[tuple[str, str, str, bool], tuple[Location, bytes]] = OrderedDict()

    def __call__(self, location: Location, strict: bool) -> bytes:
        key = (location.country_code, location.party_id, location.id, strict)
        kept = self._kept.get(key)
        if kept is not None and kept[0] == location:
            self._kept.move_to_end(key)
            return kept[1]
        body = ocpi_fragment(location, self._render, strict)
        self._kept[key] = (location, body)
        self._kept.move_to_end(key)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return body


def ocpi_document(
    locations: Iterable[Location],
    render: LocationRenderer | RenderedLocations,
    licence: Licence,
    *,
    strict: bool,
    next_url: str | None,
) -> bytes:
    """``{"data": [OCPI 2.2.1 Location…], "meta": {licence, count, next}}``; ``strict`` keeps
    every Location exactly OCPI (no ``x_`` extension fields). ``render`` a
    :class:`RenderedLocations` reuses what it rendered before; the bytes are the same."""
    if isinstance(render, RenderedLocations):
        fragments = [render(location, strict) for location in locations]
    else:
        fragments = [ocpi_fragment(location, render, strict) for location in locations]
    head, tail = ocpi_envelope(licence, len(fragments), next_url)
    return head + b",".join(fragments) + tail


def ocpi_fragment(location: Location, render: LocationRenderer, strict: bool) -> bytes:
    """One Location of :func:`ocpi_document`'s ``data``, as JSON bytes."""
    return json_bytes(_location_json(location, render, strict))


def ocpi_envelope(licence: Licence, count: int, next_url: str | None) -> tuple[bytes, bytes]:
    """What :func:`ocpi_document` writes before and after its ``count`` Locations' fragments
    (joined by commas): byte for byte ``json_bytes({"data": [...], "meta": {...}})``, so that a
    large document can be written a part at a time."""
    return b'{"data":[', b'],"meta":' + json_bytes(_meta(licence, count, next_url)) + b"}"


def geojson_document(
    locations: Iterable[Location], licence: Licence, *, next_url: str | None
) -> bytes:
    """A GeoJSON FeatureCollection (RFC 7946: longitude first), one Point per Location."""
    features = [
        {
            "type": "Feature",
            "id": f"{loc.country_code}-{loc.party_id}-{loc.id}",
            "geometry": {
                "type": "Point",
                "coordinates": [
                    float(loc.coordinates.longitude),
                    float(loc.coordinates.latitude),
                ],
            },
            "properties": {
                "country_code": loc.country_code,
                "party_id": loc.party_id,
                "id": loc.id,
                "name": loc.name,
                "address": loc.address,
                "city": loc.city,
                "country": loc.country,
                "evse_count": len(loc.evses),
                "statuses": sorted({evse.status.value for evse in loc.evses}),
                "standards": sorted(
                    {c.standard.value for evse in loc.evses for c in evse.connectors}
                ),
                "max_power_kw": round(max_power_kw(loc), 1),
                "last_updated": loc.last_updated.isoformat(),
            },
        }
        for loc in locations
    ]
    meta = _meta(licence, len(features), next_url)
    # A foreign member (RFC 7946 §6.1): readers that do not know it ignore it.
    return json_bytes({"type": "FeatureCollection", "features": features, "metadata": meta})


CSV_COLUMNS = (
    "country_code",
    "party_id",
    "location_id",
    "name",
    "address",
    "city",
    "country",
    "latitude",
    "longitude",
    "evse_uid",
    "evse_id",
    "status",
    "connector_id",
    "standard",
    "format",
    "power_type",
    "max_power_kw",
    "last_updated",
)


def csv_bytes(locations: Iterable[Location]) -> bytes:
    """One row per connector (a Location without EVSEs gets one row without them)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for loc in locations:
        head = [
            loc.country_code,
            loc.party_id,
            loc.id,
            loc.name or "",
            loc.address,
            loc.city,
            loc.country,
            loc.coordinates.latitude,
            loc.coordinates.longitude,
        ]
        rows = [
            [
                evse.uid,
                evse.evse_id or "",
                evse.status.value,
                c.id,
                c.standard.value,
                c.format.value,
                c.power_type.value,
                f"{connector_power_kw(c):.1f}",
                loc.last_updated.isoformat(),
            ]
            for evse in loc.evses
            for c in evse.connectors
        ] or [["", "", "", "", "", "", "", "", loc.last_updated.isoformat()]]
        for row in rows:
            writer.writerow(head + row)
    return out.getvalue().encode()


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


# -- statistics ----------------------------------------------------------------------------------
FRESH_WITHIN = timedelta(hours=24)  # the static-data ceiling AFIR and QualiCharge use
# AFIR's categories (Regulation (EU) 2023/1804, Annex III), lower bounds inclusive except 22 kW,
# which closes the "7.4 to 22 kW" class. The LAC regulators have none of their own yet.
POWER_CLASSES = (
    ("below_7_4_kw", 0.0),
    ("7_4_to_22_kw", 7.4),
    ("22_to_50_kw", 22.05),
    ("50_to_150_kw", 50.0),
    ("150_to_350_kw", 150.0),
    ("350_kw_and_over", 350.0),
)


def power_class(kw: float) -> str:
    """The AFIR category of a connector's power, at its nominal value: 230 V × 32 A × 3 is
    22.08 kW and sold as 22 kW, 230 V × 32 A is 7.36 kW and sold as 7.4 kW."""
    nominal = round(kw) if kw >= 10 else round(kw, 1)
    name = POWER_CLASSES[0][0]
    for candidate, lower in POWER_CLASSES:
        if nominal >= lower:
            name = candidate
    return name


@dataclass(slots=True)
class CountryStatistics:
    """Counts for one country, added to one Location at a time."""

    country: str
    sites: int = 0
    evses: int = 0
    fresh_evses: int = 0
    connectors_by_standard: dict[str, int] = field(default_factory=dict)
    connectors_by_power_class: dict[str, int] = field(default_factory=dict)

    def add(self, location: Location, now: datetime) -> None:
        self.sites += 1
        for evse in location.evses:
            self.evses += 1
            self.fresh_evses += now - evse.last_updated <= FRESH_WITHIN
            for connector in evse.connectors:
                standard = connector.standard.value
                self.connectors_by_standard[standard] = (
                    self.connectors_by_standard.get(standard, 0) + 1
                )
                kind = power_class(connector_power_kw(connector))
                self.connectors_by_power_class[kind] = (
                    self.connectors_by_power_class.get(kind, 0) + 1
                )

    def as_json(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "sites": self.sites,
            "evses": self.evses,
            "connectors": sum(self.connectors_by_standard.values()),
            "connectors_by_standard": dict(sorted(self.connectors_by_standard.items())),
            "connectors_by_power_class": {
                name: self.connectors_by_power_class.get(name, 0) for name, _ in POWER_CLASSES
            },
            "share_fresh": round(self.fresh_evses / self.evses, 4) if self.evses else None,
        }


def statistics_document(
    counts: Iterable[CountryStatistics], licence: Licence, now: datetime
) -> bytes:
    data = [count.as_json() for count in sorted(counts, key=lambda c: c.country)]
    meta = _meta(licence, len(data), None)
    meta["fresh_within_hours"] = FRESH_WITHIN.total_seconds() / 3600
    meta["computed_at"] = now.isoformat()
    return json_bytes({"data": data, "meta": meta})


# -- status history and reliability per EVSE -----------------------------------------------------
HISTORY_MAX = timedelta(days=31)
RELIABILITY_MAX = timedelta(days=366)


def parse_period(
    params: Mapping[str, str], *, now: datetime, default: timedelta, longest: timedelta
) -> Period:
    """``since`` / ``until`` (ISO 8601 with a zone); by default the ``default`` up to ``now``."""
    until = _moment("until", params["until"]) if params.get("until") else now
    since = _moment("since", params["since"]) if params.get("since") else until - default
    if since >= until:
        raise OpenDataQueryError("since", "must be before until")
    if until - since > longest:
        raise OpenDataQueryError("since", f"at most {longest.days} days before until")
    return Period(since, until)


def history_document(
    evse: str,
    changes: Sequence[tuple[datetime, EVSEStatus]],
    period: Period,
    licence: Licence,
) -> bytes:
    """The EVSE's status changes in ``period``, oldest first (the first may predate it: the
    status the period starts in)."""
    data = [{"at": at.isoformat(), "status": status.value} for at, status in changes]
    meta = _meta(licence, len(data), None)
    meta.update(evse=evse, since=period.start.isoformat(), until=period.end.isoformat())
    return json_bytes({"data": data, "meta": meta})


def _ratio(ratio: Ratio, threshold: float) -> dict[str, Any]:
    return {
        "percent": ratio.percent,
        "counted_seconds": ratio.counted.total_seconds(),
        "total_seconds": ratio.total.total_seconds(),
        "threshold_percent": threshold * 100,
        "below_threshold": ratio.below(threshold),
    }


def reliability_document(
    location: Location,
    evse_uid: str,
    changes: Sequence[tuple[datetime, EVSEStatus]],
    period: Period,
    licence: Licence,
) -> bytes:
    """UK reliability (opening hours only, SI 2023/1168) and NEVI uptime (23 CFR 680.116) of one
    EVSE over ``period``, from its status history."""
    spans = intervals(changes, period)
    uk = uk_reliability(spans, location.opening_times, period, location.time_zone)
    nevi = nevi_uptime(spans, period)
    data = {
        "evse": f"{location.country_code}/{location.party_id}/{location.id}/{evse_uid}",
        "since": period.start.isoformat(),
        "until": period.end.isoformat(),
        "status_changes": len(changes),
        "uk_reliability": _ratio(uk, UK_THRESHOLD),
        "nevi_uptime": _ratio(nevi, NEVI_THRESHOLD),
    }
    return json_bytes({"data": data, "meta": _meta(licence, 1, None)})
