"""intercarga.geo: which LAC country a point lies in, from the Natural Earth outlines."""

from __future__ import annotations

import json

import pytest

from intercarga import geo
from intercarga.errors import InvalidInputError


def test_the_outlines_file_holds_the_33_countries_once_each() -> None:
    document = json.loads(geo.outlines_path().read_bytes())
    codes = [feature["properties"]["iso_a2"] for feature in document["features"]]
    assert sorted(codes) == sorted(geo.LAC_COUNTRIES)
    assert len(set(codes)) == 33


@pytest.mark.parametrize(
    ("place", "latitude", "longitude", "country"),
    [
        ("Santiago, Plaza de Armas", -33.4378, -70.6504, "CL"),
        ("Bogotá, Plaza de Bolívar", 4.5981, -74.0761, "CO"),
        ("São Paulo, Praça da Sé", -23.5503, -46.6339, "BR"),
        ("San José, Costa Rica", 9.9281, -84.0907, "CR"),
        ("Montevideo", -34.9058, -56.1913, "UY"),
        ("Ciudad de México, Zócalo", 19.4326, -99.1332, "MX"),
        ("Kingston, Jamaica", 18.0179, -76.8099, "JM"),
        ("Medellín", 6.2442, -75.5812, "CO"),
        ("Manaus", -3.1190, -60.0217, "BR"),
        ("Asunción", -25.2637, -57.5759, "PY"),
        ("Barbados, inland (St. Thomas)", 13.1900, -59.5800, "BB"),
    ],
)
def test_a_known_place_lies_in_its_country(
    place: str, latitude: float, longitude: float, country: str
) -> None:
    assert geo.country_at(latitude, longitude) == country, place
    assert geo.is_in_country(country, latitude, longitude)


def test_the_open_sea_and_places_outside_the_region_are_in_no_country() -> None:
    assert geo.country_at(0.0, -30.0) is None  # mid-Atlantic
    assert geo.country_at(40.4168, -3.7038) is None  # Madrid


def test_a_point_in_another_country_is_far_from_the_stated_one() -> None:
    # Buenos Aires stated as Chile: about 1,100 km east of the Chilean border.
    distance = geo.distance_to_country_km("CL", -34.6037, -58.3816)
    assert 900 < distance < 1300
    assert not geo.is_in_country("CL", -34.6037, -58.3816)


def test_a_coastal_site_just_off_the_simplified_coast_is_inside_with_the_tolerance() -> None:
    # Valparaíso's waterfront; at 1:50 million the coast may be a little inland or out to sea.
    latitude, longitude = -33.0369, -71.6270
    assert geo.distance_to_country_km("CL", latitude, longitude) < 5
    assert geo.is_in_country("CL", latitude, longitude)


def test_a_waterfront_off_the_outline_belongs_to_its_country_only_with_a_tolerance() -> None:
    # Punta Arenas' waterfront falls in the Strait of Magellan at this scale.
    latitude, longitude = -53.1638, -70.9171
    assert geo.country_at(latitude, longitude) is None
    assert geo.country_at(latitude, longitude, tolerance_km=5) == "CL"
    assert geo.country_at(0.0, -30.0, tolerance_km=5) is None


def test_the_distance_inside_is_zero() -> None:
    assert geo.distance_to_country_km("BR", -15.7939, -47.8828) == 0.0  # Brasília


def test_haversine_matches_a_known_distance() -> None:
    # Santiago ↔ Buenos Aires, about 1,140 km great-circle.
    assert geo.haversine_km(-33.4489, -70.6693, -34.6037, -58.3816) == pytest.approx(1137, abs=15)


@pytest.mark.parametrize(("latitude", "longitude"), [(91, 0), (0, 181), (float("nan"), 0)])
def test_impossible_coordinates_are_invalid_input(latitude: float, longitude: float) -> None:
    with pytest.raises(InvalidInputError):
        geo.country_at(latitude, longitude)


def test_an_unknown_country_names_the_valid_codes() -> None:
    with pytest.raises(InvalidInputError, match=r"unknown country 'ES'.*AR"):
        geo.outline("ES")


def test_every_country_has_populated_places_inside_its_outline() -> None:
    for country in geo.LAC_COUNTRIES:
        places = geo.populated_places(country)
        assert places, country
        assert [p.population for p in places] == sorted(
            (p.population for p in places), reverse=True
        )
        # GeoNames' extract holds every capital, whatever its size (Basseterre: 12,920).
        assert all(p.population >= 15_000 for p in places[1:]) or country in ("BZ", "GD", "KN")
        inside = [p for p in places if geo.is_in_country(country, p.latitude, p.longitude)]
        assert len(inside) >= 0.95 * len(places), country
    assert geo.populated_places("co")[0].name == "Bogotá"
    with pytest.raises(InvalidInputError, match="unknown country 'ES'"):
        geo.populated_places("ES")


def test_within_km_measures_on_the_sphere() -> None:
    bogota = (4.5981, -74.0761)
    medellin = (6.2442, -75.5812)  # about 245 km away
    soacha = (4.5794, -74.2168)  # about 16 km away
    assert geo.within_km([bogota, medellin, soacha], [bogota], 30) == [True, False, True]
    assert geo.within_km([soacha], [bogota], 10) == [False]
    assert geo.within_km([medellin], [bogota], 250) == [True]
    assert geo.within_km([bogota], [], 30) == [False]
    # Near the south of the continent a degree of longitude is short (about 67 km): Punta Arenas
    # to Río Gallegos is about 207 km, though 1.7 degrees of longitude and 1.5 of latitude apart.
    punta_arenas, rio_gallegos = (-53.1638, -70.9171), (-51.6226, -69.2181)
    assert geo.within_km([punta_arenas], [rio_gallegos], 210) == [True]
    assert geo.within_km([punta_arenas], [rio_gallegos], 200) == [False]
    with pytest.raises(InvalidInputError, match="distance"):
        geo.within_km([bogota], [bogota], -1)
