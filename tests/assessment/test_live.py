"""The store-side reader: what a deployment holds about a country becomes a plain snapshot."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from intercarga.assessment.live import read_snapshot
from intercarga.domain import Session, Station, Token
from intercarga.domain.session import SessionStatus
from intercarga.domain.station import OcppVersion
from intercarga.store import Store
from tests.assessment.conftest import NOW, co_location


def _session(session_id: str, token_uid: str) -> Session:
    return Session(
        country_code="CO",
        party_id="ICG",
        id=session_id,
        start_date_time=NOW - timedelta(hours=1),
        kwh=Decimal("10"),
        token_uid=token_uid,
        location_id="BOG-1",
        evse_uid="EVSE-1",
        connector_id="1",
        currency="COP",
        status=SessionStatus.COMPLETED,
    )


async def test_a_snapshot_holds_the_country_s_stations_sessions_and_token_issuers(
    store: Store,
) -> None:
    await store.locations.put(co_location("BOG-1", timedelta(seconds=30)))
    await store.stations.put(
        Station(
            id="CO-1",
            country_code="CO",
            party_id="ICG",
            ocpp_version=OcppVersion.V201,
            security_profile=2,
        )
    )
    await store.stations.put(Station(id="CL-1", country_code="CL", party_id="ICG"))
    for issuer, uid in (("EMP", "AAA1"), ("ICG", "BBB2")):
        await store.tokens.put(
            Token(
                country_code="CO",
                party_id=issuer,
                uid=uid,
                contract_id=f"CO-{issuer}-C12345678-X",
                issuer=issuer,
            )
        )
    await store.sessions.put(_session("S-1", "AAA1"))
    await store.sessions.put(_session("S-2", "BBB2"))
    await store.sessions.put(_session("S-3", "UNKNOWN"))

    snapshot = await read_snapshot(store, "CO", NOW)

    assert [location.id for location in snapshot.locations] == ["BOG-1"]
    assert [(s.id, s.ocpp_version, s.security_profile) for s in snapshot.stations] == [
        ("CO-1", "ocpp2.0.1", 2)
    ]
    assert sorted((s.token_issuer or "") for s in snapshot.sessions) == ["", "CO-EMP", "CO-ICG"]
    assert snapshot.emsp_partners == 0
