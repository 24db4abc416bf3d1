"""Where a point lies: the countries of Latin America and the Caribbean as outlines.

The registry's quality rules (are a location's coordinates inside the country it states?), the
Open Charge Map import and the dashboard's offline basemap all ask the same questions of the same
Natural Earth outlines (package data, public domain; see ``data/README.md``). The assessment's
coverage indicator asks which of a country's populated places (GeoNames, CC BY 4.0) lie within
N km of a set of points. This package answers them and never does I/O beyond reading its own
data files once.

Shapely (and NumPy under it) is imported at the first question, not with the package: every
``intercarga serve`` imports this package (the registry's quality rules) and most never ask.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intercarga.errors import InvalidInputError

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

__all__ = [
    "LAC_COUNTRIES",
    "CountryOutline",
    "Place",
    "country_at",
    "distance_to_country_km",
    "haversine_km",
    "is_in_country",
    "outline",
    "outlines_path",
    "populated_places",
    "within_km",
]

#: The 33 countries of Latin America and the Caribbean (the CELAC members), ISO 3166-1 alpha-2.
LAC_COUNTRIES: tuple[str, ...] = (
    "AG", "AR", "BB", "BO", "BR", "BS", "BZ", "CL", "CO", "CR", "CU", "DM", "DO", "EC", "GD",
    "GT", "GY", "HN", "HT", "JM", "KN", "LC", "MX", "NI", "PA", "PE", "PY", "SR", "SV", "TT",
    "UY", "VC", "VE",
)  # fmt: skip

_EARTH_RADIUS_KM = 6371.0088
_FILE = "lac-countries-50m.geojson"
_PLACES_FILE = "lac-places-15000.csv"
_KM_PER_DEGREE_LATITUDE = 110.57  # the shortest degree of latitude (at the equator)


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
    import shapely
    from shapely.geometry import shape

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
    from shapely.geometry import Point

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
    from shapely.geometry import Point
    from shapely.ops import nearest_points

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


@dataclass(frozen=True)
class Place:
    """A populated place of at least 15,000 inhabitants, or a capital (GeoNames ``cities15000``)."""

    country: str
    geonameid: int
    name: str
    latitude: float
    longitude: float
    population: int


@cache
def _places() -> dict[str, tuple[Place, ...]]:
    text = (resources.files(__package__) / "data" / _PLACES_FILE).read_text(encoding="utf-8")
    found: dict[str, list[Place]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        place = Place(
            country=row["country"],
            geonameid=int(row["geonameid"]),
            name=row["name"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            population=int(row["population"]),
        )
        found.setdefault(place.country, []).append(place)
    return {country: tuple(places) for country, places in found.items()}


def populated_places(country: str) -> tuple[Place, ...]:
    """The country's places of at least 15,000 inhabitants and its capital, largest first; :class:`InvalidInputError` naming the valid codes for another code."""
    code = outline(country).country
    return _places().get(code, ())


def within_km(
    origins: Sequence[tuple[float, float]], targets: Sequence[tuple[float, float]], km: float
) -> list[bool]:
    """For each ``(latitude, longitude)`` origin, whether a target lies within ``km`` on the
    sphere. Candidates come from an R-tree box query in degrees, wide enough for the latitude;
    the great-circle distance decides."""
    if km < 0 or not math.isfinite(km):
        raise InvalidInputError(f"distance must be a finite number of kilometres >= 0, not {km}")
    if not origins or not targets:
        return [False] * len(origins)
    import shapely
    from shapely.geometry import Point

    tree = shapely.STRtree([Point(lon, lat) for lat, lon in targets])
    boxes = []
    for lat, lon in origins:
        dlat = km / _KM_PER_DEGREE_LATITUDE
        # A degree of longitude shrinks with latitude; the box's edge farthest from the equator
        # is the narrowest, so it sets the width.
        widest = min(abs(lat) + dlat, 89.0)
        dlon = min(dlat / math.cos(math.radians(widest)), 180.0)
        boxes.append(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))
    origin_index, target_index = tree.query(boxes)
    found = [False] * len(origins)
    for i, j in zip(origin_index.tolist(), target_index.tolist(), strict=True):
        if found[i]:
            continue
        (lat1, lon1), (lat2, lon2) = origins[i], targets[j]
        found[i] = haversine_km(lat1, lon1, lat2, lon2) <= km
    return found
