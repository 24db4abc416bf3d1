"""Domain objects for tests, valid by default, changed by keyword."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from intercarga.domain import Location
from intercarga.domain.partner import Partner, PartnerEndpoint, PartnerRole, PartnerState
from intercarga.security import hash_token
from intercarga.store.authorizations import AuthorizationOutcome, AuthorizationRecord


def location_json(**changes: Any) -> dict[str, Any]:
    """A Santiago location with two EVSEs and three connectors, as the admin API takes it."""
    body: dict[str, Any] = {
        "country_code": "CL",
        "party_id": "ICG",
        "id": "LOC-1",
        "publish": True,
        "name": "Mall Plaza Egaña",
        "address": "Av. Larraín 5862",
        "city": "Santiago",
        "postal_code": "7850000",
        "state": None,
        "country": "CHL",
        "coordinates": {"latitude": "-33.4535100", "longitude": "-70.5705600"},
        "parking_type": "PARKING_GARAGE",
        "time_zone": "America/Santiago",
        "opening_times": {
            "twentyfourseven": False,
            "regular_hours": [
                {"weekday": 1, "period_begin": "08:00", "period_end": "22:00"},
                {"weekday": 7, "period_begin": "10:00", "period_end": "20:00"},
            ],
            "exceptional_openings": [],
            "exceptional_closings": [],
        },
        "charging_when_closed": False,
        "evses": [
            {
                "uid": "EVSE-1",
                "evse_id": "CL*ICG*E1*1",
                "status": "AVAILABLE",
                "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
                "connectors": [
                    {
                        "id": "1",
                        "standard": "IEC_62196_T2_COMBO",
                        "format": "CABLE",
                        "power_type": "DC",
                        "max_voltage": 920,
                        "max_amperage": 200,
                        "max_electric_power": 150000,
                        "tariff_ids": ["DC-1"],
                        "terms_and_conditions": None,
                        "last_updated": "2026-11-01T12:00:00Z",
                    },
                    {
                        "id": "2",
                        "standard": "CHADEMO",
                        "format": "CABLE",
                        "power_type": "DC",
                        "max_voltage": 500,
                        "max_amperage": 125,
                        "max_electric_power": 50000,
                        "tariff_ids": [],
                        "terms_and_conditions": None,
                        "last_updated": "2026-11-01T12:00:00Z",
                    },
                ],
                "floor_level": "-1",
                "coordinates": {"latitude": "-33.4535200", "longitude": "-70.5705700"},
                "physical_reference": "A1",
                "parking_restrictions": [],
                "last_updated": "2026-11-01T12:00:00Z",
            },
            {
                "uid": "EVSE-2",
                "evse_id": None,
                "status": "CHARGING",
                "capabilities": [],
                "connectors": [
                    {
                        "id": "1",
                        "standard": "IEC_62196_T2",
                        "format": "SOCKET",
                        "power_type": "AC_3_PHASE",
                        "max_voltage": 230,
                        "max_amperage": 32,
                        "max_electric_power": None,
                        "tariff_ids": ["AC-1", "AC-2"],
                        "terms_and_conditions": "https://example.org/terms",
                        "last_updated": "2026-11-01T12:00:00Z",
                    }
                ],
                "floor_level": None,
                "coordinates": None,
                "physical_reference": None,
                "parking_restrictions": [],
                "last_updated": "2026-11-01T12:00:00Z",
            },
        ],
        "last_updated": "2026-11-01T12:00:00Z",
    }
    body.update(changes)
    return body


def location(**changes: Any) -> Location:
    return Location.model_validate(location_json(**changes))


def partner(**changes: object) -> Partner:
    """A registered eMSP (and CPO) partner, id ``p1``."""
    values: dict[str, object] = {
        "id": "p1",
        "name": "Example eMSP",
        "state": PartnerState.REGISTERED,
        "initiated_by": "THEM",
        "version": "2.2.1",
        "versions_url": "https://emsp.example/ocpi/versions",
        "token_hash": hash_token("token-c"),
        "outgoing_token": "token-b",
        "roles": [
            PartnerRole(country_code="CO", party_id="EMS", role="EMSP", name="Example eMSP"),
            PartnerRole(country_code="CO", party_id="CPX", role="CPO", name="Example CPO"),
        ],
        "endpoints": [
            PartnerEndpoint(identifier="credentials", role="SENDER", url="https://e/c"),
            PartnerEndpoint(identifier="tokens", role="SENDER", url="https://e/t"),
            PartnerEndpoint(identifier="locations", role="RECEIVER", url="https://e/l"),
        ],
    }
    values.update(changes)
    return Partner.model_validate(values)


def authorization_record(asked_at: datetime, outcome: str, **changes: Any) -> AuthorizationRecord:
    """A real-time authorization a Colombian CPO asked of CO-EMS directly, as the store keeps it."""
    values: dict[str, Any] = {
        "asked_at": asked_at,
        "country_code": "CO",
        "cpo_party_id": "ICG",
        "token_party": "CO-EMS",
        "emsp": "CO-EMS",
        "partner_id": "p1",
        "location_id": "BOG-1",
        "evse_uid": None,
        "outcome": AuthorizationOutcome(outcome),
        "via_hub": False,
        "latency_ms": 120,
    }
    values.update(changes)
    return AuthorizationRecord(**values)
