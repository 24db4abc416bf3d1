"""OCPP 2.0.1 CSMS conformance, block A: security (Basic authentication, TLS, passwords,
certificates, security profiles)."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from websockets.exceptions import InvalidHandshake, InvalidStatus

from intercarga.config import OcppSettings
from intercarga.csms.certificates import CertificateAuthority
from intercarga.ocpp.tls import server_context
from tests.conformance.harness import PASSWORD, STATION_201, Csms, Station201, now
from tests.pki import PrivateKey, new_key, write_pem


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


# --- TLS: security profiles 2 and 3 --------------------------------------------------------


def station_tls(pki: dict[str, Path], certificate: str | None = None) -> ssl.SSLContext:
    """The station's TLS context: trusts the test CA; ``certificate`` names a PEM of ``pki``
    (or a file) with the station's certificate and key."""
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    if certificate is not None:
        context.load_cert_chain(pki.get(certificate, Path(certificate)))
    return context


async def with_profile(csms: Csms, profile: int) -> None:
    station = await csms.system.store.stations.get(STATION_201)
    await csms.system.store.stations.put(station.model_copy(update={"security_profile": profile}))


async def handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> str:
    """A TLS handshake between the two contexts over a local socket; the cipher agreed."""
    agreed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    listener = await asyncio.start_server(accept, "127.0.0.1", 0, ssl=server)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        _, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client, server_hostname="localhost"
        )
        cipher = writer.get_extra_info("cipher")
        agreed.set_result(cipher[0])
        writer.close()
    return await agreed


async def test_TC_A_04_CSMS(csms_tls: Csms, pki: dict[str, Path]) -> None:
    """TLS - server-side certificate - Valid certificate (profile 2), with OCPP's cipher suites."""
    await with_profile(csms_tls, 2)
    station = csms_tls.station201(tls=station_tls(pki))
    await station.connect()
    await station.booted()
    for key, suites in (
        ("server", ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384")),
        ("server_rsa", ("AES128-GCM-SHA256", "AES256-GCM-SHA384")),
    ):
        server = server_context(
            OcppSettings(tls_certificate=pki[key], tls_private_key=pki[f"{key}_key"])
        )
        assert server is not None
        for suite in suites:
            client = station_tls(pki)
            client.maximum_version = ssl.TLSVersion.TLSv1_2
            client.set_ciphers(suite)
            assert await handshake(server, client) == suite


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_TC_A_06_CSMS(csms_tls: Csms, pki: dict[str, Path]) -> None:
    """TLS - server-side certificate - TLS version too low."""
    await with_profile(csms_tls, 2)
    old = station_tls(pki)
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, OSError)):
        await csms_tls.station201(tls=old).connect()
    station = csms_tls.station201(tls=station_tls(pki))
    await station.connect()
    await station.booted()


async def test_TC_A_07_CSMS(csms_tls: Csms, pki: dict[str, Path]) -> None:
    """TLS - Client-side certificate - valid certificate (profile 3)."""
    await with_profile(csms_tls, 3)
    station = csms_tls.station201(tls=station_tls(pki, "station"), password=None)
    await station.connect()
    await station.booted()


async def test_TC_A_08_CSMS(csms_tls: Csms, pki: dict[str, Path]) -> None:
    """TLS - Client-side certificate - Invalid certificate: unknown CA, expired, another
    station's; then the valid one."""
    await with_profile(csms_tls, 3)
    for bad in ("unknown_ca", "expired", "other_station"):
        station = csms_tls.station201(tls=station_tls(pki, bad), password=None)
        # A bad certificate ends the TLS handshake (seen by the client as an error, or as the
        # connection closing before any HTTP answer); one naming another station gets a 401.
        with pytest.raises((ssl.SSLError, OSError, InvalidHandshake)) as caught:
            await station.connect()
        if isinstance(caught.value, InvalidStatus):
            assert caught.value.response.status_code == 401
    station = csms_tls.station201(tls=station_tls(pki, "station"), password=None)
    await station.connect()
    await station.booted()


# --- HTTP Basic password changes -------------------------------------------------------------

NEW_PASSWORD = "a-new-basic-auth-password-42"
BASIC_AUTH_PASSWORD = {"component": "SecurityCtrlr", "variable": "BasicAuthPassword"}


async def test_TC_A_09_CSMS(csms: Csms, cs: Station201) -> None:
    """Update Charging Station Password for HTTP Basic Authentication - Accepted: only the new
    password is accepted afterwards."""
    result = await csms.command(
        STATION_201, "set_variables", {"values": [[BASIC_AUTH_PASSWORD, NEW_PASSWORD]]}
    )
    assert result["results"][0]["status"] == "Accepted"
    assert cs.last("SetVariables")["setVariableData"] == [
        {
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"},
            "attributeValue": NEW_PASSWORD,
        }
    ]
    await cs.close()
    assert await refused(csms, user=STATION_201, password=PASSWORD) == 401
    await cs.connect(password=NEW_PASSWORD)
    await cs.booted()


async def test_TC_A_10_CSMS(csms: Csms, cs: Station201) -> None:
    """Update Charging Station Password for HTTP Basic Authentication - Rejected: the old
    password stays."""
    cs.reply(
        "SetVariables",
        lambda request: {
            "setVariableResult": [
                {
                    "attributeStatus": "Rejected",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in request["setVariableData"]
            ]
        },
    )
    result = await csms.command(
        STATION_201, "set_variables", {"values": [[BASIC_AUTH_PASSWORD, NEW_PASSWORD]]}
    )
    assert result["results"][0]["status"] == "Rejected"
    await cs.close()
    assert await refused(csms, user=STATION_201, password=NEW_PASSWORD) == 401
    await cs.connect()
    await cs.booted()


# --- station certificates signed by the CSMS; moving up a security profile ----------------------


def authority(pki: dict[str, Path]) -> CertificateAuthority:
    loaded = CertificateAuthority.load(
        OcppSettings(station_ca_certificate=pki["ca"], station_ca_key=pki["ca_key"])
    )
    assert loaded is not None
    return loaded


async def renew_certificate(
    csms: Csms, cs: Station201, pki: dict[str, Path], answer: str = "Accepted"
) -> tuple[str, PrivateKey]:
    """Part 6 memory state RenewChargingStationCertificate: the chain the CSMS signed, the key."""
    csms.system.csms_service.certificate_authority = authority(pki)
    cs.reply("CertificateSigned", {"status": answer})
    result = await csms.command(
        STATION_201, "trigger_message", {"message": "SignChargingStationCertificate"}
    )
    assert result["status"] == "Accepted"
    assert cs.last("TriggerMessage") == {"requestedMessage": "SignChargingStationCertificate"}
    key = new_key()
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, STATION_201)]))
        .sign(key, hashes.SHA256())
    )
    csr = request.public_bytes(serialization.Encoding.PEM).decode()
    signing = await cs.call(
        "SignCertificate", {"csr": csr, "certificateType": "ChargingStationCertificate"}
    )
    assert signing["status"] == "Accepted"
    signed = await cs.next_request("CertificateSigned")
    assert signed["certificateType"] == "ChargingStationCertificate"
    leaf, ca = x509.load_pem_x509_certificates(signed["certificateChain"].encode())
    leaf.verify_directly_issued_by(ca)
    assert ca == x509.load_pem_x509_certificate(pki["ca"].read_bytes())
    assert leaf.public_key() == key.public_key()
    assert leaf.subject == request.subject
    return signed["certificateChain"], key


async def test_TC_A_11_CSMS(csms: Csms, cs: Station201, pki: dict[str, Path]) -> None:
    """Update Charging Station Certificate by request of CSMS - Success."""
    await renew_certificate(csms, cs, pki)


async def test_TC_A_14_CSMS(csms: Csms, cs: Station201, pki: dict[str, Path]) -> None:
    """Update Charging Station Certificate by request of CSMS - Invalid certificate: the
    station's refusal is taken calmly."""
    await renew_certificate(csms, cs, pki, answer="Rejected")
    assert "currentTime" in await cs.call("Heartbeat", {})


async def test_csr_for_another_station_is_refused(
    csms: Csms, cs: Station201, pki: dict[str, Path]
) -> None:
    csms.system.csms_service.certificate_authority = authority(pki)
    key = new_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CL-ICG-0099")]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    assert (await cs.call("SignCertificate", {"csr": csr}))["status"] == "Rejected"
    assert (await cs.call("SignCertificate", {"csr": "not a CSR"}))["status"] == "Rejected"


async def test_TC_A_19_CSMS(csms_tls: Csms, pki: dict[str, Path], tmp_path: Path) -> None:
    """Upgrade Charging Station Security Profile - Accepted: from 2 to 3, with the certificate
    the CSMS signed; afterwards profile 2 is refused."""
    await with_profile(csms_tls, 2)
    cs = csms_tls.station201(tls=station_tls(pki))
    await cs.connect()
    await cs.booted()
    chain, key = await renew_certificate(csms_tls, cs, pki)
    profile = {"slot": 2, "profile": {"url": csms_tls.url, "security_profile": 3}}
    result = await csms_tls.command(STATION_201, "set_network_profile", profile)
    assert result["status"] == "Accepted"
    assert cs.last("SetNetworkProfile")["connectionData"]["securityProfile"] == 3
    priority = {"component": "OCPPCommCtrlr", "variable": "NetworkConfigurationPriority"}
    result = await csms_tls.command(STATION_201, "set_variables", {"values": [[priority, "2,1"]]})
    assert result["results"][0]["status"] == "Accepted"
    assert (await csms_tls.command(STATION_201, "reset", {"kind": "Immediate"}))["status"] == (
        "Accepted"
    )
    await cs.close()
    certificate_file = write_pem(tmp_path / "renewed.pem", key)
    certificate_file.write_text(chain + certificate_file.read_text())
    upgraded = csms_tls.station201(tls=station_tls(pki, str(certificate_file)), password=None)
    await upgraded.connect()
    await upgraded.booted("RemoteReset")
    assert (await csms_tls.station_record(STATION_201))["security_profile"] == 3
    await upgraded.close()
    with pytest.raises(InvalidStatus) as caught:
        await csms_tls.station201(tls=station_tls(pki)).connect()
    assert caught.value.response.status_code == 401


# --- the security event log (A04) -------------------------------------------------------------


async def test_security_events_are_logged(csms: Csms, cs: Station201) -> None:
    """A04: each SecurityEventNotification is stored, then confirmed; the operator reads them."""
    event = {"type": "TamperDetectionActivated", "timestamp": now(), "techInfo": "door open"}
    assert await cs.call("SecurityEventNotification", event) == {}
    response = await csms.client.get(f"/api/v1/stations/{STATION_201}/security-events")
    [logged] = response.json()["items"]
    assert (logged["type"], logged["tech_info"]) == ("TamperDetectionActivated", "door open")
