"""OCPP 2.0.1 CSMS conformance, block M: CA certificates on the station (install, list, delete)."""

from __future__ import annotations

from typing import Any

from tests.conformance.harness import STATION_201, Csms, Station201

ROOT_PEM = "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAIntercargaTestRoot\n-----END CERTIFICATE-----"


def hash_data(algorithm: str = "SHA256", serial: str = "5a3f91") -> dict[str, str]:
    size = {"SHA256": 64, "SHA384": 96, "SHA512": 128}[algorithm]
    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": "ab" * (size // 2),
        "issuerKeyHash": "cd" * (size // 2),
        "serialNumber": serial,
    }


def as_command(data: dict[str, str]) -> dict[str, str]:
    return {
        "hash_algorithm": data["hashAlgorithm"],
        "issuer_name_hash": data["issuerNameHash"],
        "issuer_key_hash": data["issuerKeyHash"],
        "serial_number": data["serialNumber"],
    }


async def install(csms: Csms, cs: Station201, use: str, answer: str = "Accepted") -> None:
    cs.reply("InstallCertificate", {"status": answer})
    result = await csms.command(
        STATION_201, "install_certificate", {"use": use, "certificate": ROOT_PEM}
    )
    assert result["status"] == answer
    assert cs.last("InstallCertificate") == {"certificateType": use, "certificate": ROOT_PEM}


async def installed(
    csms: Csms, cs: Station201, uses: list[str], chains: list[dict[str, Any]] | None
) -> dict[str, Any]:
    reply: dict[str, Any] = {"status": "Accepted" if chains else "NotFound"}
    if chains:
        reply["certificateHashDataChain"] = chains
    cs.reply("GetInstalledCertificateIds", reply)
    result = await csms.command(STATION_201, "get_installed_certificate_ids", {"uses": uses})
    assert cs.last("GetInstalledCertificateIds") == ({"certificateType": uses} if uses else {})
    return result


async def test_TC_M_01_CSMS(csms: Csms, cs: Station201) -> None:
    """Install CA certificate - CSMSRootCertificate."""
    await install(csms, cs, "CSMSRootCertificate")


async def test_TC_M_02_CSMS(csms: Csms, cs: Station201) -> None:
    """Install CA certificate - ManufacturerRootCertificate."""
    await install(csms, cs, "ManufacturerRootCertificate")


async def test_TC_M_05_CSMS(csms: Csms, cs: Station201) -> None:
    """Install CA certificate - Failed."""
    await install(csms, cs, "CSMSRootCertificate", "Failed")


async def test_TC_M_13_CSMS(csms: Csms, cs: Station201) -> None:
    """Retrieve certificates from Charging Station - ManufacturerRootCertificate."""
    chain = {"certificateType": "ManufacturerRootCertificate", "certificateHashData": hash_data()}
    result = await installed(csms, cs, ["ManufacturerRootCertificate"], [chain])
    assert result["status"] == "Accepted"
    [certificate] = result["certificates"]
    assert certificate["use"] == "ManufacturerRootCertificate"
    assert certificate["hash_data"] == as_command(hash_data())


async def test_TC_M_18_CSMS(csms: Csms, cs: Station201) -> None:
    """Retrieve certificates from Charging Station - All certificateTypes."""
    chains = [
        {"certificateType": use, "certificateHashData": hash_data(serial=serial)}
        for use, serial in (("CSMSRootCertificate", "01"), ("ManufacturerRootCertificate", "02"))
    ]
    result = await installed(csms, cs, [], chains)
    assert [c["use"] for c in result["certificates"]] == [
        "CSMSRootCertificate",
        "ManufacturerRootCertificate",
    ]


async def test_TC_M_19_CSMS(csms: Csms, cs: Station201) -> None:
    """Retrieve certificates from Charging Station - No matching certificate found."""
    result = await installed(csms, cs, ["ManufacturerRootCertificate"], None)
    assert (result["status"], result["certificates"]) == ("NotFound", [])


async def delete_after_listing(csms: Csms, cs: Station201, algorithm: str, answer: str) -> None:
    chain = {"certificateType": "CSMSRootCertificate", "certificateHashData": hash_data(algorithm)}
    listed = await installed(csms, cs, ["CSMSRootCertificate"], [chain])
    cs.reply("DeleteCertificate", {"status": answer})
    result = await csms.command(
        STATION_201, "delete_certificate", {"hash_data": listed["certificates"][0]["hash_data"]}
    )
    assert result["status"] == answer
    assert cs.last("DeleteCertificate") == {"certificateHashData": hash_data(algorithm)}


async def test_TC_M_20_CSMS(csms: Csms, cs: Station201) -> None:
    """Delete a certificate from a Charging Station - Success (SHA256, SHA384, SHA512)."""
    for algorithm in ("SHA256", "SHA384", "SHA512"):
        await install(csms, cs, "CSMSRootCertificate")
        await delete_after_listing(csms, cs, algorithm, "Accepted")


async def test_TC_M_21_CSMS(csms: Csms, cs: Station201) -> None:
    """Delete a certificate from a Charging Station - Failed."""
    await delete_after_listing(csms, cs, "SHA256", "Failed")
