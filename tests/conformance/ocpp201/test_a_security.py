"""OCPP 2.0.1 CSMS conformance, block A: security (Basic authentication, TLS, passwords,
certificates, security profiles)."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from tests.conformance.harness import PASSWORD, STATION_201, Csms


async def test_TC_A_01_CSMS(csms: Csms) -> None:
    """Basic Authentication - Valid username/password combination."""
    station = csms.station201()
    await station.connect()
    await station.booted()


async def refused(csms: Csms, *, user: str, password: str) -> int:
    station = csms.station201()
    with pytest.raises(InvalidStatus) as caught:
        await station.connect(user=user, password=password)
    return caught.value.response.status_code


async def test_TC_A_02_CSMS(csms: Csms) -> None:
    """Basic Authentication - Username does not equal ChargingStationId."""
    assert await refused(csms, user=STATION_201 + "Invalid", password=PASSWORD) == 401


async def test_TC_A_03_CSMS(csms: Csms) -> None:
    """Basic Authentication - Invalid password."""
    assert await refused(csms, user=STATION_201, password="Zq8VnR2kLw5TbX9cYh3M") == 401
