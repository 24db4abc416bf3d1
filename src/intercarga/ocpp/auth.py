"""Station authentication at the WebSocket handshake, by OCPP security profile.

Profiles (OCPP 2.0.1 part 2 A00; OCPP 1.6 Security Whitepaper):

* 0 — no authentication; only for a station explicitly configured with profile 0.
* 1 — HTTP Basic (user = station id, password) over ws:// or wss://.
* 2 — TLS ≥ 1.2 (wss://) and HTTP Basic.
* 3 — TLS with a client certificate whose subject CN is the station id (mutual TLS).

A higher profile than the station's meets it: TLS with a password passes profile 1, and a client
certificate naming the station passes any profile (so a station can move up, OCPP 2.0.1 A05).

A password is accepted as given, or in the hexadecimal form OCPP 1.6's AuthorizationKey uses
(some stations send the key's hex text, some its bytes). Verified passwords are remembered as
a SHA-256 digest, so a reconnecting station costs one hash, not one scrypt. Wrong credentials
are a 401 and nothing else: the reason goes to the log, never to the station.

This module decides; it must never touch a socket.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
from http import HTTPStatus

from intercarga.config import OcppSettings, UnknownStationPolicy
from intercarga.domain import Station
from intercarga.ocpp.server import HandshakeDecision, HandshakeInfo
from intercarga.security import verify_password
from intercarga.store import Store

__all__ = ["StoreAuthenticator", "password_candidates"]


def password_candidates(password: str) -> list[str]:
    """The given password, and its other AuthorizationKey form (hex text ↔ bytes)."""
    candidates = [password]
    try:
        decoded = bytes.fromhex(password).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    if decoded and decoded not in candidates:
        candidates.append(decoded)
    hexed = password.encode().hex()
    if hexed not in candidates:
        candidates.append(hexed)
    return candidates


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        user, _, password = (
            base64.b64decode(authorization[6:].strip(), validate=True)
            .decode("utf-8")
            .partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


class StoreAuthenticator:
    """Authenticates stations against their records in the store."""

    def __init__(self, store: Store, settings: OcppSettings) -> None:
        self._store = store
        self._settings = settings
        self._verified: dict[str, tuple[str, str]] = {}

    async def authenticate(self, info: HandshakeInfo) -> HandshakeDecision:
        station = await self._store.stations.find(info.station_id)
        if station is None:
            if self._settings.unknown_stations is UnknownStationPolicy.REJECT:
                return HandshakeDecision.refuse(
                    HTTPStatus.NOT_FOUND, f"unknown station {info.station_id}"
                )
            return HandshakeDecision.accept(known=False)
        lenient = station.lenient
        profile = station.security_profile
        if profile == 0:
            return HandshakeDecision.accept(lenient=lenient)
        if info.client_certificate_cn == station.id:
            # A verified certificate naming the station is profile 3, which meets every lower
            # profile: a station moving up to it (SetNetworkProfile) connects this way.
            return HandshakeDecision.accept(lenient=lenient)
        if profile >= 2 and not info.tls:
            return self._unauthorized(f"profile {profile} requires TLS")
        if profile == 3:
            if info.client_certificate_cn != station.id:
                return self._unauthorized(
                    f"client certificate CN {info.client_certificate_cn!r} is not the station id"
                )
            return HandshakeDecision.accept(lenient=lenient)
        credentials = _basic(info.authorization)
        if credentials is None:
            return self._unauthorized("no HTTP Basic credentials")
        user, password = credentials
        if user != station.id:
            return self._unauthorized("Basic user is not the station id")
        if not await self._password_matches(station, password):
            return self._unauthorized("wrong password")
        return HandshakeDecision.accept(lenient=lenient)

    @staticmethod
    def _unauthorized(reason: str) -> HandshakeDecision:
        return HandshakeDecision.refuse(HTTPStatus.UNAUTHORIZED, reason)

    async def _password_matches(self, station: Station, password: str) -> bool:
        if station.password_hash is None:
            return False
        digest = hashlib.sha256(password.encode()).hexdigest()
        remembered = self._verified.get(station.id)
        if remembered is not None and remembered[0] == station.password_hash:
            return hmac.compare_digest(remembered[1], digest)
        for candidate in password_candidates(password):
            # scrypt is deliberately slow: keep it off the event loop.
            if await asyncio.to_thread(verify_password, candidate, station.password_hash):
                self._verified[station.id] = (station.password_hash, digest)
                return True
        return False
