"""The certificate authority that signs the certificates stations ask for (OCPP 2.0.1 A02/A03,
1.6 Security Whitepaper "Installation of a Charge Point certificate").

A station sends a certificate signing request (SignCertificate); :meth:`CertificateAuthority.check`
decides whether to accept it (a well-formed CSR, signed by its own key, naming the station as its
common name, as security profile 3 requires), and :meth:`CertificateAuthority.sign` issues the
certificate, returned as the PEM chain the CertificateSigned message carries (leaf first, then
the CA). Pure work on bytes: this module must never send anything or read settings other than
the two PEM files it is given.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from intercarga.config import OcppSettings
from intercarga.errors import ConfigurationError, InvalidInputError

__all__ = ["CertificateAuthority"]

_SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: _SigningKey
    validity: dt.timedelta = dt.timedelta(days=365)

    @classmethod
    def load(cls, settings: OcppSettings) -> CertificateAuthority | None:
        """The CA the settings name, or None; :class:`ConfigurationError` naming a bad file."""
        if settings.station_ca_certificate is None and settings.station_ca_key is None:
            return None
        if settings.station_ca_certificate is None or settings.station_ca_key is None:
            raise ConfigurationError(
                "ocpp.station_ca_certificate and ocpp.station_ca_key go together"
            )
        try:
            certificate = x509.load_pem_x509_certificate(
                Path(settings.station_ca_certificate).read_bytes()
            )
        except (OSError, ValueError) as error:
            raise ConfigurationError(
                f"ocpp.station_ca_certificate: cannot load {settings.station_ca_certificate}:"
                f" {error}"
            ) from None
        try:
            key = serialization.load_pem_private_key(
                Path(settings.station_ca_key).read_bytes(), password=None
            )
        except (OSError, ValueError, TypeError) as error:
            raise ConfigurationError(
                f"ocpp.station_ca_key: cannot load {settings.station_ca_key}: {error}"
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ConfigurationError("ocpp.station_ca_key: an EC or RSA key is needed")
        return cls(certificate, key)

    def check(self, csr_pem: str, station_id: str) -> x509.CertificateSigningRequest:
        """The CSR, if it may be signed for ``station_id``; :class:`InvalidInputError` if not."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError:
            # 1.6 and 2.0.1 carry the CSR as PEM; some stations leave out the armour.
            try:
                csr = x509.load_der_x509_csr(_der(csr_pem))
            except ValueError:
                raise InvalidInputError("not a PEM certificate signing request", "csr") from None
        if not csr.is_signature_valid:
            raise InvalidInputError("the request is not signed by its own key", "csr")
        names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if [name.value for name in names] != [station_id]:
            raise InvalidInputError(
                f"the request's common name must be the station id {station_id}", "csr"
            )
        return csr

    def sign(self, csr: x509.CertificateSigningRequest, now: dt.datetime) -> str:
        """The station's certificate and this CA's, as one PEM chain."""
        issued = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.certificate.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + self.validity)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=True,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )
        return b"".join(
            item.public_bytes(serialization.Encoding.PEM) for item in (issued, self.certificate)
        ).decode()


def _der(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
