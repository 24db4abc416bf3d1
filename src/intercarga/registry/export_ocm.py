"""Locations as Open Charge Map POIs: the shape map apps that read OCM already understand.

Pure: a domain Location in, a POI dict out, in OCM's compact form (reference values as ids:
ConnectionTypeID, CurrentTypeID, StatusTypeID, LevelID, AddressInfo.CountryID). The POI has no
OCM ``ID`` (it is not OCM's); ``DataProvidersReference`` carries the Location's stable id
``<country_code>*<party_id>*<id>`` and ``OperatorsReference`` its CPO party. Connectors alike in
every field are one Connection with a ``Quantity``. This module must never do I/O.
"""

from __future__ import annotations

from typing import Any

import pycountry

from intercarga.domain.location import EVSEStatus, Location, PowerType
from intercarga.hardware import connector_catalogue, connector_power_kw
from intercarga.registry.ocm import OcmReference

__all__ = ["location_to_poi", "ocm_status"]

_CURRENT_ID = {
    PowerType.AC_1_PHASE: 10,
    PowerType.AC_2_PHASE: 10,
    PowerType.AC_2_PHASE_SPLIT: 10,
    PowerType.AC_3_PHASE: 20,
    PowerType.DC: 30,
}
_STATUS_ID = {
    EVSEStatus.AVAILABLE: 10,
    EVSEStatus.CHARGING: 20,
    EVSEStatus.BLOCKED: 50,
    EVSEStatus.RESERVED: 50,
    EVSEStatus.INOPERATIVE: 30,
    EVSEStatus.OUTOFORDER: 100,
    EVSEStatus.PLANNED: 150,
    EVSEStatus.REMOVED: 200,
    EVSEStatus.UNKNOWN: 0,
}


def ocm_status(statuses: list[EVSEStatus]) -> int:
    """OCM's StatusTypeID for a POI whose EVSEs have ``statuses``: operational when one is in
    service, else what they all share, else Unknown."""
    ids = {_STATUS_ID[status] for status in statuses}
    if ids & {10, 20, 50}:
        return 50
    return ids.pop() if len(ids) == 1 else 0


def _level(kw: float) -> int:
    # OCM's ChargerTypes: 1 under 2 kW, 2 over 2 kW, 3 at 40 kW and over.
    return 1 if kw < 2 else 3 if kw >= 40 else 2


def location_to_poi(location: Location, reference: OcmReference) -> dict[str, Any]:
    catalogue = connector_catalogue()
    country_ids = {iso: id_ for id_, iso in reference.countries.items()}
    grouped: dict[tuple[Any, ...], int] = {}
    for evse in location.evses:
        for connector in evse.connectors:
            ocm_ids = catalogue.get(connector.standard).ocm_ids
            kw = round(connector_power_kw(connector), 2)
            key = (
                ocm_ids[0] if ocm_ids else 0,
                _STATUS_ID[evse.status],
                _level(kw),
                kw,
                _CURRENT_ID[connector.power_type],
                connector.max_amperage,
                connector.max_voltage,
            )
            grouped[key] = grouped.get(key, 0) + 1
    connections = [
        {
            "ConnectionTypeID": type_id,
            "StatusTypeID": status_id,
            "LevelID": level,
            "PowerKW": kw,
            "CurrentTypeID": current_id,
            "Amps": amps,
            "Voltage": volts,
            "Quantity": quantity,
        }
        for (type_id, status_id, level, kw, current_id, amps, volts), quantity in grouped.items()
    ]
    site_country = pycountry.countries.get(alpha_3=location.country)
    stamp = location.last_updated.isoformat().replace("+00:00", "Z")
    return {
        "DataProvidersReference": f"{location.country_code}*{location.party_id}*{location.id}",
        "OperatorsReference": f"{location.country_code}-{location.party_id}",
        "AddressInfo": {
            "Title": location.name or location.address,
            "AddressLine1": location.address,
            "Town": location.city,
            "StateOrProvince": location.state,
            "Postcode": location.postal_code,
            "CountryID": country_ids.get(site_country.alpha_2 if site_country else ""),
            "Latitude": float(location.coordinates.latitude),
            "Longitude": float(location.coordinates.longitude),
        },
        "Connections": connections,
        "NumberOfPoints": len(location.evses),
        "StatusTypeID": ocm_status([evse.status for evse in location.evses]),
        "DateLastStatusUpdate": stamp,
    }
