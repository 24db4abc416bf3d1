"""The simulated station's key and CSR, and which signed certificates it takes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from intercarga.config import OcppSettings
from intercarga.csms.certificates import CertificateAuthority
from intercarga.sim.certificates import new_request
from tests.pki import certificate, new_key, write_pem


def test_the_csr_names_the_station_and_its_operator_and_takes_only_its_own_certificate(
    tmp_path: Path,
) -> None:
    folder = tmp_path
    ca_key = new_key()
    ca = certificate("Sim Test CA", ca_key, None, ca=True)
    authority = CertificateAuthority.load(
        OcppSettings(
            station_ca_certificate=write_pem(folder / "ca.pem", ca),
            station_ca_key=write_pem(folder / "ca.key", ca_key),
        )
    )
    assert authority is not None
    request = new_request("SIM-0001", "Operadora Sur")
    csr = authority.check(request.csr, "SIM-0001")  # what the CSMS accepts for profile 3
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "Operadora Sur"
    )
    chain = authority.sign(csr, dt.datetime.now(dt.UTC))
    taken = request.certificate(chain)
    assert taken is not None and taken.chain == chain
    assert "PRIVATE KEY" in taken.key
    # Another key's certificate, or something that is not one, is refused.
    other = new_request("SIM-0001", "Operadora Sur")
    assert other.certificate(chain) is None
    assert request.certificate("not a certificate") is None
    assert x509.load_pem_x509_certificates(chain.encode())[0].public_key() == (
        request.key.public_key()
    )
