"""TLS for the OCPP endpoint (security profiles 2 and 3): the server's SSL context.

TLS 1.2 is the floor (OCPP 2.0.1 part 2 A00.FR.310, 1.6 Security Whitepaper), and the four
TLS 1.2 cipher suites OCPP requires are enabled beside Python's forward-secret defaults: two
need an EC server key (TLS_ECDHE_ECDSA_WITH_AES_128/256_GCM_*), two an RSA one
(TLS_RSA_WITH_AES_128/256_GCM_*, which Python leaves out by default). With a client CA
configured, stations may present certificates (profile 3); the context asks for them but does
not demand them, so profile 2 stations on the same port still connect with a password. Missing
or unreadable files are a configuration error naming the key, never a traceback.
"""

from __future__ import annotations

import ssl

from intercarga.config import OcppSettings
from intercarga.errors import ConfigurationError

__all__ = ["OCPP_CIPHERS", "server_context"]

OCPP_CIPHERS = (
    "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES"
    ":AES128-GCM-SHA256:AES256-GCM-SHA384:!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM"
)


def server_context(settings: OcppSettings) -> ssl.SSLContext | None:
    """The SSL context for wss://, or None when no certificate is configured (ws:// only)."""
    if settings.tls_certificate is None:
        if settings.tls_private_key is not None or settings.tls_client_ca is not None:
            raise ConfigurationError(
                "ocpp.tls_certificate: required when a TLS key or client CA is set"
            )
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(OCPP_CIPHERS)
    try:
        context.load_cert_chain(settings.tls_certificate, settings.tls_private_key)
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(
            f"ocpp.tls_certificate: cannot load {settings.tls_certificate}: {error}"
        ) from None
    if settings.tls_client_ca is not None:
        try:
            context.load_verify_locations(settings.tls_client_ca)
        except (OSError, ssl.SSLError) as error:
            raise ConfigurationError(
                f"ocpp.tls_client_ca: cannot load {settings.tls_client_ca}: {error}"
            ) from None
        context.verify_mode = ssl.CERT_OPTIONAL
    return context
