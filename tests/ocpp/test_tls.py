"""Security profiles 2 and 3 over real TLS on 127.0.0.1, with certificates made in the test."""

from __future__ import annotations

import base64
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from intercarga.config import OcppSettings
from intercarga.domain import Station
from intercarga.errors import ConfigurationError
from intercarga.ocpp.auth import StoreAuthenticator
from intercarga.ocpp.server import CsmsServer
from intercarga.ocpp.tls import server_context
from intercarga.security import hash_password
from intercarga.store import Store
from tests.ocpp_handlers import RecordingHandler
from tests.pki import certificate, new_key, write_pem

PASSWORD = "a-station-password-of-16+"


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca_key = new_key()
    ca = certificate("Intercarga Test CA", ca_key, None, ca=True)
    server_key = new_key()
    server = certificate("localhost", server_key, (ca.subject, ca_key), ca=False)
    station_key = new_key()
    station = certificate("CS-MTLS", station_key, (ca.subject, ca_key), ca=False)
    impostor_key = new_key()
    impostor = certificate("CS-OTHER", impostor_key, (ca.subject, ca_key), ca=False)
    return {
        "ca": write_pem(tmp_path / "ca.pem", ca),
        "server": write_pem(tmp_path / "server.pem", server),
        "server_key": write_pem(tmp_path / "server.key", server_key),
        "station": write_pem(tmp_path / "station.pem", station, station_key),
        "impostor": write_pem(tmp_path / "impostor.pem", impostor, impostor_key),
    }


@pytest.fixture
async def wss(store: Store, pki: dict[str, Path]) -> AsyncIterator[str]:
    await store.stations.put(
        Station(
            id="CS-TLS",
            country_code="CL",
            party_id="ICG",
            security_profile=2,
            password_hash=hash_password(PASSWORD),
        )
    )
    await store.stations.put(
        Station(id="CS-MTLS", country_code="CL", party_id="ICG", security_profile=3)
    )
    settings = OcppSettings(
        tls_certificate=pki["server"], tls_private_key=pki["server_key"], tls_client_ca=pki["ca"]
    )
    server = CsmsServer(settings, StoreAuthenticator(store, settings), RecordingHandler())
    sock = socket.create_server(("127.0.0.1", 0))
    await server.start(sock, server_context(settings))
    try:
        yield f"wss://localhost:{sock.getsockname()[1]}/ocpp/"
    finally:
        await server.stop()


def client_context(pki: dict[str, Path], certificate: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    if certificate is not None:
        context.load_cert_chain(pki[certificate])
    return context


async def test_profile_2_password_over_tls(wss: str, pki: dict[str, Path]) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"CS-TLS:{PASSWORD}".encode()).decode()}
    async with connect(
        wss + "CS-TLS",
        subprotocols=["ocpp2.0.1"],
        additional_headers=auth,
        ssl=client_context(pki),  # type: ignore[list-item]
    ) as ws:
        assert ws.subprotocol == "ocpp2.0.1"


async def test_profile_3_client_certificate_must_name_the_station(
    wss: str, pki: dict[str, Path]
) -> None:
    async with connect(
        wss + "CS-MTLS", subprotocols=["ocpp2.0.1"], ssl=client_context(pki, "station")
    ) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "ocpp2.0.1"
    for context in (client_context(pki, "impostor"), client_context(pki)):
        with pytest.raises(InvalidStatus) as caught:
            async with connect(wss + "CS-MTLS", subprotocols=["ocpp2.0.1"], ssl=context):  # type: ignore[list-item]
                pass
        assert caught.value.response.status_code == 401


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_tls_below_1_2_is_refused(wss: str, pki: dict[str, Path]) -> None:
    context = client_context(pki)
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, OSError)):
        async with connect(wss + "CS-TLS", subprotocols=["ocpp2.0.1"], ssl=context):  # type: ignore[list-item]
            pass


def test_missing_certificate_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"^ocpp.tls_certificate: cannot load"):
        server_context(OcppSettings(tls_certificate=tmp_path / "nope.pem"))
    with pytest.raises(ConfigurationError, match="required when a TLS key"):
        server_context(OcppSettings(tls_private_key=tmp_path / "key.pem"))
