"""OCPP 1.6 with the Security Whitepaper (edition 2): security profiles 2 and 3 over real TLS,
the station's certificate signed by the CSMS's CA (SignCertificate → CertificateSigned), moving
up a security profile (A05), secure firmware update (L01) and the security event log (A04).

The requirement ids (A00.FR.…, A02.FR.…) are the whitepaper's; certificates come from the
conformance PKI made in the test (tests/pki.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from websockets.exceptions import InvalidHandshake, InvalidStatus

from intercarga.config import OcppSettings
from intercarga.csms.certificates import CertificateAuthority
from intercarga.domain.station import OcppVersion
from intercarga.sim.clock import SimClock
from intercarga.sim.station import SimulatedStation, StationConfig
from tests.conformance.harness import PASSWORD, STATION_16, Csms, Station16, now
from tests.pki import PrivateKey, new_key, write_pem

IN_AN_HOUR = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)


def station_tls(pki: dict[str, Path], certificate: str | None = None) -> ssl.SSLContext:
    """The station's TLS context: trusts the test CA; ``certificate`` names a PEM of ``pki``
    (or a file) with the station's certificate and key."""
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    if certificate is not None:
        context.load_cert_chain(pki.get(certificate, Path(certificate)))
    return context


async def with_profile(csms: Csms, profile: int) -> None:
    station = await csms.system.store.stations.get(STATION_16)
    await csms.system.store.stations.put(station.model_copy(update={"security_profile": profile}))


async def refused(station: Station16) -> int:
    with pytest.raises(InvalidStatus) as caught:
        await station.connect()
    return caught.value.response.status_code


# --- security profile 2: TLS with Basic authentication --------------------------------------


async def test_profile_2_password_over_tls(csms_tls: Csms, pki: dict[str, Path]) -> None:
    """A00.FR.301-305: over wss://, HTTP Basic with the station id and its AuthorizationKey."""
    await with_profile(csms_tls, 2)
    station = csms_tls.station16(tls=station_tls(pki))
    await station.connect()
    assert (await station.booted())["status"] == "Accepted"
    await station.close()
    assert await refused(csms_tls.station16(tls=station_tls(pki), password=None)) == 401
    wrong = csms_tls.station16(tls=station_tls(pki), password="not-the-authorization-key")
    assert await refused(wrong) == 401


async def test_profile_2_is_refused_without_tls(csms: Csms) -> None:
    """A00.FR.002: a profile 2 station connecting over ws:// is refused, password or not."""
    await with_profile(csms, 2)
    assert await refused(csms.station16()) == 401


# --- security profile 3: TLS with client certificates ----------------------------------------


async def test_profile_3_client_certificate(csms_tls: Csms, pki: dict[str, Path]) -> None:
    """A00.FR.401-407: the station's certificate from the CSMS's CA, naming it, opens the
    connection; none, another station's or one from another CA does not."""
    await with_profile(csms_tls, 3)
    station = csms_tls.station16(tls=station_tls(pki, "station_16"), password=None)
    await station.connect()
    assert (await station.booted())["status"] == "Accepted"
    await station.close()
    # A password is not enough at profile 3.
    assert await refused(csms_tls.station16(tls=station_tls(pki))) == 401
    assert await refused(csms_tls.station16(tls=station_tls(pki, "station"), password=None)) == 401
    stranger = csms_tls.station16(tls=station_tls(pki, "unknown_ca_16"), password=None)
    # A certificate from an unknown CA ends the TLS handshake (an error, or the connection
    # closing before any HTTP answer).
    with pytest.raises((ssl.SSLError, OSError, InvalidHandshake)) as caught:
        await stranger.connect()
    if isinstance(caught.value, InvalidStatus):
        assert caught.value.response.status_code == 401


# --- the station's certificate, signed by the CSMS (A02, A03) --------------------------------


def use_authority(csms: Csms, pki: dict[str, Path]) -> None:
    authority = CertificateAuthority.load(
        OcppSettings(station_ca_certificate=pki["ca"], station_ca_key=pki["ca_key"])
    )
    assert authority is not None
    csms.system.csms_service.certificate_authority = authority


def signing_request(station_id: str) -> tuple[str, PrivateKey]:
    key = new_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Intercarga Tests"),
                    x509.NameAttribute(NameOID.COMMON_NAME, station_id),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


async def renew_certificate(
    csms: Csms, cs: Station16, pki: dict[str, Path], answer: str = "Accepted"
) -> tuple[str, PrivateKey]:
    """A02 asked by the CSMS: ExtendedTriggerMessage SignChargePointCertificate, the station's
    SignCertificate, the CSMS's CertificateSigned. The chain and the station's new key."""
    use_authority(csms, pki)
    cs.reply("ExtendedTriggerMessage", {"status": "Accepted"})
    cs.reply("CertificateSigned", {"status": answer})
    result = await csms.command(
        STATION_16, "trigger_message", {"message": "SignChargingStationCertificate"}
    )
    assert result["status"] == "Accepted"
    assert cs.last("ExtendedTriggerMessage") == {"requestedMessage": "SignChargePointCertificate"}
    csr, key = signing_request(STATION_16)
    assert await cs.call("SignCertificate", {"csr": csr}) == {"status": "Accepted"}  # A02.FR.11
    signed = await cs.next_request("CertificateSigned")
    assert set(signed) == {"certificateChain"}  # 1.6 has no certificateType
    leaf, ca = x509.load_pem_x509_certificates(signed["certificateChain"].encode())
    leaf.verify_directly_issued_by(ca)
    assert ca == x509.load_pem_x509_certificate(pki["ca"].read_bytes())
    assert leaf.public_key() == key.public_key()
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == STATION_16
    return signed["certificateChain"], key


async def test_certificate_signed_at_the_csms_request(
    csms: Csms, cs16: Station16, pki: dict[str, Path]
) -> None:
    await renew_certificate(csms, cs16, pki)


async def test_a_refused_certificate_is_taken_calmly(
    csms: Csms, cs16: Station16, pki: dict[str, Path]
) -> None:
    """A02.FR.07: the station may refuse what it got; it stays connected and served."""
    await renew_certificate(csms, cs16, pki, answer="Rejected")
    assert "currentTime" in await cs16.call("Heartbeat", {})


async def test_certificate_the_station_asks_for_itself(
    csms: Csms, cs16: Station16, pki: dict[str, Path]
) -> None:
    """A03: the station sends SignCertificate unasked (its certificate is about to expire)."""
    use_authority(csms, pki)
    cs16.reply("CertificateSigned", {"status": "Accepted"})
    csr, key = signing_request(STATION_16)
    assert await cs16.call("SignCertificate", {"csr": csr}) == {"status": "Accepted"}
    signed = await cs16.next_request("CertificateSigned")
    leaf = x509.load_pem_x509_certificates(signed["certificateChain"].encode())[0]
    assert leaf.public_key() == key.public_key()


async def test_requests_the_csms_cannot_sign_are_rejected(
    csms: Csms, cs16: Station16, pki: dict[str, Path]
) -> None:
    """A02.FR.12: without a CA, for another station, or not a CSR: Rejected, nothing sent."""
    csr, _ = signing_request(STATION_16)
    assert await cs16.call("SignCertificate", {"csr": csr}) == {"status": "Rejected"}
    use_authority(csms, pki)
    other, _ = signing_request("CO-ICG-0099")
    assert await cs16.call("SignCertificate", {"csr": other}) == {"status": "Rejected"}
    assert await cs16.call("SignCertificate", {"csr": "not a CSR"}) == {"status": "Rejected"}
    assert cs16.requests("CertificateSigned") == []


# --- moving up a security profile (A05) -------------------------------------------------------


async def test_upgrade_from_profile_2_to_3(
    csms_tls: Csms, pki: dict[str, Path], tmp_path: Path
) -> None:
    """A05: ChangeConfiguration SecurityProfile 3 accepted, the station reconnects with the
    certificate the CSMS signed; from then on profile 2 is refused (A05.FR.09)."""
    await with_profile(csms_tls, 2)
    cs = csms_tls.station16(tls=station_tls(pki))
    cs.configuration["SecurityProfile"] = "2"
    await cs.connect()
    await cs.booted()
    chain, key = await renew_certificate(csms_tls, cs, pki)
    result = await csms_tls.command(
        STATION_16,
        "set_variables",
        {"values": [[{"component": None, "variable": "SecurityProfile"}, "3"]]},
    )
    assert result["results"][0]["status"] == "Accepted"
    assert cs.last("ChangeConfiguration") == {"key": "SecurityProfile", "value": "3"}
    await cs.close()  # A05.FR.06
    certificate_file = write_pem(tmp_path / "renewed.pem", key)
    certificate_file.write_text(chain + certificate_file.read_text())
    upgraded = csms_tls.station16(tls=station_tls(pki, str(certificate_file)), password=None)
    await upgraded.connect()  # A05.FR.07
    await upgraded.booted()
    assert (await csms_tls.station_record(STATION_16))["security_profile"] == 3
    await upgraded.close()
    assert await refused(csms_tls.station16(tls=station_tls(pki))) == 401


async def test_a_refused_upgrade_changes_nothing(csms_tls: Csms, pki: dict[str, Path]) -> None:
    """A05.FR.01-04: the station refuses (no certificate yet); profile 2 still opens."""
    await with_profile(csms_tls, 2)
    cs = csms_tls.station16(tls=station_tls(pki))
    cs.reply("ChangeConfiguration", {"status": "Rejected"})
    await cs.connect()
    await cs.booted()
    result = await csms_tls.command(
        STATION_16,
        "set_variables",
        {"values": [[{"component": None, "variable": "SecurityProfile"}, "3"]]},
    )
    assert result["results"][0]["status"] == "Rejected"
    await cs.close()
    again = csms_tls.station16(tls=station_tls(pki))
    await again.connect()
    await again.booted()
    assert (await csms_tls.station_record(STATION_16))["security_profile"] == 2


async def test_the_simulator_moves_up_to_profile_3(
    csms_tls: Csms, pki: dict[str, Path], tmp_path: Path
) -> None:
    """The charge point simulator at profile 2 gets its certificate signed (ExtendedTriggerMessage
    → SignCertificate → CertificateSigned), then connects with it at profile 3."""
    await with_profile(csms_tls, 2)
    use_authority(csms_tls, pki)
    config = StationConfig(STATION_16, csms_tls.url, OcppVersion.V16, password=PASSWORD)
    station = SimulatedStation(replace_tls(config, station_tls(pki)), SimClock(60.0))
    try:
        assert await station.power_on(timeout=10) == "Accepted"
        result = await csms_tls.command(
            STATION_16, "trigger_message", {"message": "SignChargingStationCertificate"}
        )
        assert result["status"] == "Accepted"
        async with asyncio.timeout(10):
            while station.certificate is None:  # noqa: ASYNC110 - the CSMS signs in its own time
                await asyncio.sleep(0.01)
    finally:
        await station.shutdown()
    certificate = station.certificate
    leaf = x509.load_pem_x509_certificates(certificate.chain.encode())[0]
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == STATION_16
    await with_profile(csms_tls, 3)
    files = tmp_path / "station.pem"
    files.write_text(certificate.chain + certificate.key)
    upgraded = SimulatedStation(
        replace_tls(config, station_tls(pki, str(files)), password=None), SimClock(60.0)
    )
    try:
        assert await upgraded.power_on(timeout=10) == "Accepted"
    finally:
        await upgraded.shutdown()


def replace_tls(config: StationConfig, tls: ssl.SSLContext, **changes: Any) -> StationConfig:
    return dataclasses.replace(config, tls=tls, **changes)


# --- secure firmware update (L01) and the security event log (A04) ------------------------------


async def security_events(csms: Csms, station_id: str = STATION_16, **params: Any) -> Any:
    response = await csms.client.get(
        f"/api/v1/stations/{station_id}/security-events", params=params
    )
    assert response.status_code == 200, response.text
    return response.json()


FIRMWARE = {
    "location": "https://firmware.example.com/cs-2.1.0.bin",
    "retrieve_at": IN_AN_HOUR.isoformat(),
    "install_at": (IN_AN_HOUR + timedelta(hours=1)).isoformat(),
    "request_id": 21,
    "signing_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "signature": "MEUCIQDsignature==",
    "retries": 2,
    "retry_interval": 60,
}


async def test_signed_firmware_update_over_tls(csms_tls: Csms, pki: dict[str, Path]) -> None:
    """L01 at profile 2: SignedUpdateFirmware from the admin API; every
    SignedFirmwareStatusNotification is kept as the station's firmware status, and the
    FirmwareUpdated security event (L01.FR.02) lands in the security log."""
    await with_profile(csms_tls, 2)
    cs = csms_tls.station16(tls=station_tls(pki))
    await cs.connect()
    await cs.booted()
    cs.reply("SignedUpdateFirmware", {"status": "Accepted"})
    result = await csms_tls.command(STATION_16, "update_firmware", FIRMWARE)
    assert result["status"] == "Accepted"
    assert cs.last("SignedUpdateFirmware") == {
        "requestId": 21,
        "retries": 2,
        "retryInterval": 60,
        "firmware": {
            "location": FIRMWARE["location"],
            "retrieveDateTime": cs.last("SignedUpdateFirmware")["firmware"]["retrieveDateTime"],
            "installDateTime": cs.last("SignedUpdateFirmware")["firmware"]["installDateTime"],
            "signingCertificate": FIRMWARE["signing_certificate"],
            "signature": FIRMWARE["signature"],
        },
    }
    sent = cs.last("SignedUpdateFirmware")["firmware"]
    assert datetime.fromisoformat(sent["retrieveDateTime"]) == IN_AN_HOUR
    for status in ("Downloading", "Downloaded", "SignatureVerified", "Installing"):
        answer = await cs.call(
            "SignedFirmwareStatusNotification", {"status": status, "requestId": 21}
        )
        assert answer == {}
        assert (await csms_tls.station_record(STATION_16))["firmware_status"] == status
    await cs.close()  # the station reboots into the new firmware
    await cs.connect()
    await cs.booted()
    answer = await cs.call(
        "SignedFirmwareStatusNotification", {"status": "Installed", "requestId": 21}
    )
    assert answer == {}
    assert (await csms_tls.station_record(STATION_16))["firmware_status"] == "Installed"
    event = {"type": "FirmwareUpdated", "timestamp": now(), "techInfo": "2.1.0"}
    assert await cs.call("SecurityEventNotification", event) == {}
    [logged] = (await security_events(csms_tls))["items"]
    assert (logged["type"], logged["tech_info"]) == ("FirmwareUpdated", "2.1.0")


async def test_firmware_with_an_invalid_signature(csms: Csms, cs16: Station16) -> None:
    """L01.FR.03: the station refuses firmware whose signature does not verify, and says so
    twice: InvalidSignature as its status, InvalidFirmwareSignature in the security log."""
    cs16.reply("SignedUpdateFirmware", {"status": "Accepted"})
    assert (await csms.command(STATION_16, "update_firmware", FIRMWARE))["status"] == "Accepted"
    for status in ("Downloading", "Downloaded", "InvalidSignature"):
        await cs16.call("SignedFirmwareStatusNotification", {"status": status, "requestId": 21})
    event = {"type": "InvalidFirmwareSignature", "timestamp": now()}
    assert await cs16.call("SecurityEventNotification", event) == {}
    assert (await csms.station_record(STATION_16))["firmware_status"] == "InvalidSignature"
    [logged] = (await security_events(csms))["items"]
    assert (logged["type"], logged["tech_info"]) == ("InvalidFirmwareSignature", None)
    assert datetime.fromisoformat(logged["timestamp"]) == datetime.fromisoformat(event["timestamp"])


async def test_the_security_log_newest_first(csms: Csms, cs16: Station16) -> None:
    """A04.FR.03: each notification is confirmed once stored; the operator reads them newest
    first, a page at a time."""
    kinds = ["StartupOfTheDevice", "ResetOrReboot", "SettingSystemTime", "MemoryExhaustion"]
    for kind in kinds:
        notification = {"type": kind, "timestamp": now(), "techInfo": f"seen {kind}"}
        assert await cs16.call("SecurityEventNotification", notification) == {}
    log = await security_events(csms)
    assert [item["type"] for item in log["items"]] == kinds[::-1]
    assert log["total"] == 4
    page = await security_events(csms, offset=1, limit=2)
    assert [item["type"] for item in page["items"]] == kinds[2:0:-1]
    assert page["total"] == 4
    assert (await security_events(csms, "CL-ICG-0001"))["items"] == []
    response = await csms.client.get("/api/v1/stations/NOBODY/security-events")
    assert response.status_code == 404


async def test_a_signed_update_needs_certificate_and_signature(csms: Csms, cs16: Station16) -> None:
    """L01.FR.11: the CSMS sends the signing certificate with the signature; one without the
    other is the operator's mistake, told in one line, and nothing is sent."""
    for missing in ("signing_certificate", "signature"):
        body = {k: v for k, v in FIRMWARE.items() if k != missing}
        problem = await csms.command(STATION_16, "update_firmware", body, status=422)
        assert problem["errors"][0]["field"] == missing, problem
    assert cs16.requests("SignedUpdateFirmware") == []
    assert cs16.requests("UpdateFirmware") == []


async def test_the_simulator_updates_its_firmware(csms: Csms, pki: dict[str, Path]) -> None:
    """The charge point simulator's signed update, from the admin API: every step kept as the
    station's firmware status, FirmwareUpdated in the security log; a signing certificate that
    is not one is answered InvalidCertificate and logged as InvalidFirmwareSigningCertificate."""
    config = StationConfig(STATION_16, csms.url, OcppVersion.V16, password=PASSWORD)
    station = SimulatedStation(config, SimClock(600.0))

    async def logged(count: int) -> list[str]:
        async with asyncio.timeout(10):
            while len(items := (await security_events(csms))["items"]) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        return [item["type"] for item in items]

    try:
        assert await station.power_on(timeout=10) == "Accepted"
        bad = FIRMWARE | {"signing_certificate": "not a certificate"}
        result = await csms.command(STATION_16, "update_firmware", bad)
        assert result["status"] == "InvalidCertificate"
        assert await logged(1) == ["InvalidFirmwareSigningCertificate"]
        good = FIRMWARE | {"signing_certificate": pki["ca"].read_text()}
        result = await csms.command(STATION_16, "update_firmware", good)
        assert result["status"] == "Accepted"
        assert await logged(2) == ["FirmwareUpdated", "InvalidFirmwareSigningCertificate"]
    finally:
        await station.shutdown()
    # FirmwareUpdated follows the last step, so every status has been stored by now.
    assert (await csms.station_record(STATION_16))["firmware_status"] == "Installed"
