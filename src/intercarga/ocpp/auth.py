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

An unknown station id (with ``unknown_stations = "reject"``) is refused exactly like a known
station with a wrong password: the same 401, after the same scrypt work against a dummy hash,
so that station ids cannot be enumerated. A station registered with an OCPP version connects
with that version only; moving it to another is the operator's decision (its ``ocpp_version``
in the admin API, or none to let it choose).

This module decides; it must never touch a socket.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import hmac
from http import HTTPStatus

from intercarga.config import OcppSettings, UnknownStationPolicy
from intercarga.domain import Station
from intercarga.ocpp.server import HandshakeDecision, HandshakeInfo
from intercarga.security import hash_password, verify_password
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


@functools.cache
def _dummy_hash() -> str:
    """A hash no password is known for: unknown stations cost the same scrypt as known ones."""
    return hash_password(base64.b64encode(hashlib.sha256(b"no such station").digest()).decode())


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
                return await self._refused_at_equal_cost(info, f"unknown station {info.station_id}")
            return HandshakeDecision.accept(known=False)
        decision = await self._authenticate(station, info)
        if decision.accepted and station.ocpp_version is not None:
            if station.ocpp_version not in info.offered:
                return HandshakeDecision.refuse(
                    HTTPStatus.BAD_REQUEST,
                    f"station {station.id} is registered for {station.ocpp_version.value};"
                    f" it offered {', '.join(v.value for v in info.offered) or 'none'}",
                )
            return HandshakeDecision.accept(lenient=station.lenient, version=station.ocpp_version)
        return decision

    async def _refused_at_equal_cost(self, info: HandshakeInfo, reason: str) -> HandshakeDecision:
        """A 401 that costs what a wrong password costs, so timing tells nothing either."""
        credentials = _basic(info.authorization)
        if credentials is not None and credentials[0] == info.station_id:
            await self._verify(credentials[1], None)
        return self._unauthorized(reason)

    async def _authenticate(self, station: Station, info: HandshakeInfo) -> HandshakeDecision:
        lenient = station.lenient
        profile = station.security_profile
        if profile == 0:
            return HandshakeDecision.accept(lenient=lenient)
        if info.client_certificate_cn == station.id:
            # A verified certificate naming the station is profile 3, which meets every lower
            # profile: a station moving up to it (SetNetworkProfile) connects this way.
            return HandshakeDecision.accept(lenient=lenient)
        if profile >= 2 and not info.tls:
            return await self._refused_at_equal_cost(info, f"profile {profile} requires TLS")
        if profile == 3:
            if info.client_certificate_cn != station.id:
                return await self._refused_at_equal_cost(
                    info,
                    f"client certificate CN {info.client_certificate_cn!r} is not the station id",
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
        digest = hashlib.sha256(password.encode()).hexdigest()
        remembered = self._verified.get(station.id)
        if (
            remembered is not None
            and remembered[0] == station.password_hash
            and hmac.compare_digest(remembered[1], digest)
        ):
            return True
        # Not the remembered form: it may be the key's other form, and a wrong password costs
        # the scrypt an unknown station costs.
        if not await self._verify(password, station.password_hash):
            return False
        assert station.password_hash is not None  # nothing matches the dummy hash
        self._verified[station.id] = (station.password_hash, digest)
        return True

    @staticmethod
    async def _verify(password: str, stored: str | None) -> bool:
        """Whether either form of ``password`` matches ``stored``; with none, the same work
        against a dummy hash, and False."""
        # scrypt is deliberately slow: keep it off the event loop.
        against = stored if stored is not None else await asyncio.to_thread(_dummy_hash)
        for candidate in password_candidates(password):
            if await asyncio.to_thread(verify_password, candidate, against):
                return stored is not None
        return False
