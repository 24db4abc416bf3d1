"""Builders for test charging networks: connectors, EVSEs and locations in a few lines."""

from __future__ import annotations

from intercarga.domain.location import (
    EVSE,
    Connector,
    ConnectorFormat,
    ConnectorStandard,
    EVSEStatus,
    GeoLocation,
    Location,
    PowerType,
)

_COUNTRIES = {
    "CL": ("CHL", "America/Santiago", "-33.4500000", "-70.6600000"),
    "CO": ("COL", "America/Bogota", "4.7100000", "-74.0700000"),
    "PE": ("PER", "America/Lima", "-12.0500000", "-77.0400000"),
    "CR": ("CRI", "America/Costa_Rica", "9.9300000", "-84.0800000"),
    "UY": ("URY", "America/Montevideo", "-34.9000000", "-56.1600000"),
    "MX": ("MEX", "America/Mexico_City", "19.4300000", "-99.1300000"),
    "BR": ("BRA", "America/Sao_Paulo", "-23.5500000", "-46.6300000"),
}


def plug(
    standard: str,
    power_type: str = "AC_3_PHASE",
    format: str = "CABLE",
    volts: int = 230,
    amps: int = 32,
    kw: float | None = None,
    id: str = "1",
) -> Connector:
    return Connector(
        id=id,
        standard=ConnectorStandard(standard),
        format=ConnectorFormat(format),
        power_type=PowerType(power_type),
        max_voltage=volts,
        max_amperage=amps,
        max_electric_power=None if kw is None else int(kw * 1000),
    )


def dc(standard: str, kw: float, id: str = "1") -> Connector:
    return plug(standard, "DC", "CABLE", volts=920, amps=max(1, int(kw * 1000 / 400)), kw=kw, id=id)


def evse(uid: str, *connectors: Connector, status: str = "AVAILABLE") -> EVSE:
    numbered = [c.model_copy(update={"id": str(i + 1)}) for i, c in enumerate(connectors)]
    return EVSE(uid=uid, status=EVSEStatus(status), connectors=numbered)


def site(
    id: str,
    country: str,
    *evses: EVSE,
    publish: bool = True,
    latitude: str | None = None,
    longitude: str | None = None,
) -> Location:
    alpha3, zone, lat, lon = _COUNTRIES[country]
    return Location(
        country_code=country,
        party_id="ICG",
        id=id,
        publish=publish,
        address="Av. Principal 100",
        city="Capital",
        country=alpha3,
        coordinates=GeoLocation(latitude=latitude or lat, longitude=longitude or lon),
        time_zone=zone,
        evses=list(evses),
    )
