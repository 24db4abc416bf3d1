"""The simulated station's own key and certificate (security profile 3; 1.6 Security Whitepaper
A02/A03, 2.0.1 A02/A03): a new EC P-256 key and its certificate signing request, and the check
that the certificate the CSMS sent back is for that key; and whether a firmware signing
certificate is one at all.

Pure work on values: this module must never send anything or touch a file.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["KeyRequest", "StationCertificate", "is_certificate", "new_request"]


@dataclass(frozen=True, slots=True)
class StationCertificate:
    """A signed certificate chain (leaf first) and its private key, both PEM."""

    chain: str
    key: str


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """A key pair made for one signing request, kept until the CSMS answers."""

    csr: str
    key: ec.EllipticCurvePrivateKey

    def certificate(self, chain: str) -> StationCertificate | None:
        """The certificate, if ``chain`` is PEM whose first certificate holds this key."""
        try:
            leaf = x509.load_pem_x509_certificates(chain.encode())[0]
        except (ValueError, IndexError):
            return None
        if leaf.public_key() != self.key.public_key():
            return None
        key = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return StationCertificate(chain, key.decode())


def new_request(station_id: str, organization: str) -> KeyRequest:
    """A new key and its CSR: the station id as common name (what security profile 3 checks),
    the operator's name (1.6 CpoName) as organization (A02.FR.13)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, station_id),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return KeyRequest(csr.public_bytes(serialization.Encoding.PEM).decode(), key)


def is_certificate(pem: str) -> bool:
    """Whether ``pem`` is an X.509 certificate in PEM."""
    try:
        x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return False
    return True
