"""Where a point lies: the countries of Latin America and the Caribbean as outlines.

The registry's quality rules (are a location's coordinates inside the country it states?), the
Open Charge Map import and the dashboard's offline basemap all ask the same questions of the same
Natural Earth outlines (package data, public domain; see ``data/README.md``). This package
answers them and never does I/O beyond reading its own data file once.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from intercarga.errors import InvalidInputError

__all__ = [
    "LAC_COUNTRIES",
    "CountryOutline",
    "country_at",
    "distance_to_country_km",
    "haversine_km",
    "is_in_country",
    "outline",
    "outlines_path",
]

#: The 33 countries of Latin America and the Caribbean (the CELAC members), ISO 3166-1 alpha-2.
LAC_COUNTRIES: tuple[str, ...] = (
    "AG", "AR", "BB", "BO", "BR", "BS", "BZ", "CL", "CO", "CR", "CU", "DM", "DO", "EC", "GD",
    "GT", "GY", "HN", "HT", "JM", "KN", "LC", "MX", "NI", "PA", "PE", "PY", "SR", "SV", "TT",
    "UY", "VC", "VE",
)  # fmt: skip

_EARTH_RADIUS_KM = 6371.0088
_FILE = "lac-countries-50m.geojson"


@dataclass(frozen=True)
class CountryOutline:
    """One country's outline: its code, Natural Earth's English name and the shape."""

    country: str
    name: str
    geometry: BaseGeometry


def outlines_path() -> Path:
    """The GeoJSON file of the 33 outlines (for serving as a static basemap)."""
    return Path(str(resources.files(__package__) / "data" / _FILE))


@cache
def _outlines() -> dict[str, CountryOutline]:
    document: dict[str, Any] = json.loads(outlines_path().read_bytes())
    found: dict[str, CountryOutline] = {}
    for feature in document["features"]:
        properties = feature["properties"]
        geometry = shape(feature["geometry"])
        shapely.prepare(geometry)
        found[properties["iso_a2"]] = CountryOutline(
            properties["iso_a2"], properties["name"], geometry
        )
    return found


def outline(country: str) -> CountryOutline:
    """The outline of a LAC country; :class:`InvalidInputError` naming the valid codes otherwise."""
    try:
        return _outlines()[country.upper()]
    except KeyError:
        raise InvalidInputError(
            f"unknown country {country!r}: expected one of {', '.join(LAC_COUNTRIES)}"
        ) from None


def _check(latitude: float, longitude: float) -> None:
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise InvalidInputError("coordinates must be finite numbers")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInputError(
            f"coordinates out of range: latitude {latitude}, longitude {longitude}"
        )


def country_at(latitude: float, longitude: float, *, tolerance_km: float = 0.0) -> str | None:
    """The LAC country whose outline contains the point, or None (sea, or outside the region).

    With a tolerance, a point outside every outline (a pier, a coast the 1:50 million outline
    simplified) belongs to the nearest country within that many kilometres.
    """
    _check(latitude, longitude)
    point = Point(longitude, latitude)
    for candidate in _outlines().values():
        if candidate.geometry.contains(point):
            return candidate.country
    if tolerance_km <= 0:
        return None
    distances = [
        (distance_to_country_km(candidate.country, latitude, longitude), candidate.country)
        for candidate in _outlines().values()
    ]
    distance, country = min(distances)
    return country if distance <= tolerance_km else None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_to_country_km(country: str, latitude: float, longitude: float) -> float:
    """How far the point lies outside the country's outline (0 inside), in kilometres."""
    _check(latitude, longitude)
    geometry = outline(country).geometry
    point = Point(longitude, latitude)
    if geometry.contains(point):
        return 0.0
    # The nearest point is found in degrees (good enough to pick the right coast); the distance
    # to it is measured on the sphere.
    nearest = nearest_points(geometry, point)[0]
    return haversine_km(latitude, longitude, nearest.y, nearest.x)


def is_in_country(
    country: str, latitude: float, longitude: float, *, tolerance_km: float = 5.0
) -> bool:
    """Whether the point lies in the country, or within ``tolerance_km`` of its outline.

    The tolerance absorbs the 1:50 million outline's simplified coasts and borders.
    """
    return distance_to_country_km(country, latitude, longitude) <= tolerance_km
