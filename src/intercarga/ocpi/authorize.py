"""Real-time authorization of a token a CPO station read: the CSMS Authorizer's roaming hook.

Called for a token the CSMS cannot decide on its own (unknown, or whitelist NEVER). Tokens the
eMSPs pushed to us are honoured by their whitelist type: ALWAYS and ALLOWED are decided from the
cached token; ALLOWED_OFFLINE asks the eMSP and falls back to the cached token only when the
eMSP cannot be reached; NEVER always asks. Asking is ``POST tokens/{uid}/authorize`` to the
token's eMSP, directly or through a hub addressed to it; a token nobody pushed is asked of every
eMSP partner and every hub at once (the hub routes it: open routing), and the first eMSP that
knows it answers. The token in the answer is cached, so the session and its CDR name the right
eMSP. Returns None (no opinion) when no eMSP knows the token or none can be asked. Every ask is
stored with its outcome and latency (``store.authorizations``): the assessment's real-time
authorization indicator counts them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from intercarga import domain
from intercarga.config import Settings
from intercarga.csms.authorization import decide
from intercarga.domain._types import utc_now
from intercarga.domain.partner import Partner, PartnerState
from intercarga.errors import IntercargaError
from intercarga.ocpi import mapping, storing
from intercarga.ocpi.client import OcpiClient, PartnerError, PartnerTimeoutError
from intercarga.ocpi.envelope import StatusCode
from intercarga.ocpi.models import parse
from intercarga.ocpi.routing import (
    Party,
    Target,
    addressed,
    hub_party,
    is_hub,
    our_parties,
    path,
    routing_headers,
)
from intercarga.ocpp.events import AuthorizationResult, AuthorizationStatus
from intercarga.store import Store
from intercarga.store.authorizations import AuthorizationOutcome, AuthorizationRecord
from intercarga.store.partners import PartnerRepository
from intercarga.store.roaming import ClientInfoRepository

__all__ = ["RealTimeAuthorization", "ocpi_token_type", "verdict"]

log = logging.getLogger(__name__)

_VERDICTS = {
    "ALLOWED": AuthorizationStatus.ACCEPTED,
    "BLOCKED": AuthorizationStatus.BLOCKED,
    "EXPIRED": AuthorizationStatus.EXPIRED,
    "NO_CREDIT": AuthorizationStatus.NO_CREDIT,
    "NOT_ALLOWED": AuthorizationStatus.NOT_AT_THIS_LOCATION,
}
_OUTCOMES = {
    "ALLOWED": AuthorizationOutcome.ACCEPTED,
    "BLOCKED": AuthorizationOutcome.BLOCKED,
    "EXPIRED": AuthorizationOutcome.EXPIRED,
    "NO_CREDIT": AuthorizationOutcome.NO_CREDIT,
    "NOT_ALLOWED": AuthorizationOutcome.NOT_ALLOWED,
}


def ocpi_token_type(ocpp_type: str | None) -> str:
    """The OCPI TokenType of an OCPP id token type (1.6 idTags are RFID cards)."""
    if ocpp_type in (None, "ISO14443", "ISO15693"):
        return "RFID"
    if ocpp_type == "Central":
        return "APP_USER"
    if ocpp_type == "eMAID":
        return "EMAID"
    return "OTHER"


def verdict(allowed: str, token: domain.Token | None) -> AuthorizationResult:
    """The OCPP verdict for an OCPI AllowedType (unknown words are refusals)."""
    status = _VERDICTS.get(allowed, AuthorizationStatus.INVALID)
    return AuthorizationResult(
        status, token.group_id if token else None, token.expires_at if token else None
    )


@dataclass(frozen=True, slots=True)
class _Ask:
    """One ``POST tokens/{uid}/authorize`` to send: to whom, for which station."""

    target: Target
    uid: str
    kind: str
    cpo: Party
    references: dict[str, Any] | None
    routed: bool  # OCPI-to headers sent (False: open routing, the hub finds the eMSP)


class RealTimeAuthorization:
    """``await hook(uid, ocpp_type, station)``: the verdict of the token's eMSP, or None."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        partners: PartnerRepository,
        client_info: ClientInfoRepository,
        client: OcpiClient,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._store = store
        self._partners = partners
        self._client_info = client_info
        self._client = client
        self._clock = clock

    async def __call__(
        self,
        uid: str,
        ocpp_type: str | None,
        station: domain.Station,
        known: Sequence[domain.Token] | None = None,
    ) -> AuthorizationResult | None:
        """``known``: the tokens held with this uid, when the caller has just read them."""
        ours = our_parties(self._settings, "EMSP")
        kind = ocpi_token_type(ocpp_type)
        if known is None:
            known = await self._store.tokens.find_by_uid(uid)
        if any((t.country_code, t.party_id) in ours for t in known):
            return None  # our own driver's token: decided here, never sent to a partner
        cached = list(known)
        cached.sort(key=lambda t: t.type.value != kind)
        token = cached[0] if cached else None
        if token is not None and token.whitelist in (
            domain.Whitelist.ALWAYS,
            domain.Whitelist.ALLOWED,
        ):
            return decide(token, self._clock())
        answer = await self._ask(uid, token.type.value if token else kind, station, token)
        if answer is not None:
            return answer
        if token is not None and token.whitelist is domain.Whitelist.ALLOWED_OFFLINE:
            return decide(token, self._clock())
        return None

    # -- asking the eMSP -----------------------------------------------------------------------
    async def _ask(
        self, uid: str, kind: str, station: domain.Station, token: domain.Token | None
    ) -> AuthorizationResult | None:
        partners = [
            p
            for p in await self._partners.current()
            if p.state is PartnerState.REGISTERED and p.outgoing_token
        ]
        cpo = (station.country_code, station.party_id)
        references = _references(station)
        if token is not None:
            emsp = (token.country_code, token.party_id)
            hubs = await self._client_info.reachable_through(*emsp, roles=("EMSP",))
            target = addressed(partners, emsp, "EMSP", "tokens", "SENDER", hubs_reaching=hubs)
            if target is None:
                return None
            return await self._one(_Ask(target, uid, kind, cpo, references, True), token)
        targets = []
        for partner in partners:
            if partner.endpoint("tokens", "SENDER") is None:
                continue
            if is_hub(partner):
                party = hub_party(partner)
                assert party is not None
                targets.append(Target(partner, party, hub=True))
            else:
                targets.extend(
                    Target(partner, (r.country_code, r.party_id))
                    for r in partner.roles
                    if r.role == "EMSP"
                )
        if not targets:
            return None
        answers = await asyncio.gather(
            *(self._one(_Ask(t, uid, kind, cpo, references, not t.hub)) for t in targets)
        )
        known = [answer for answer in answers if answer is not None]
        accepted = [a for a in known if a.status is AuthorizationStatus.ACCEPTED]
        chosen = accepted or known
        return chosen[0] if chosen else None

    async def _one(
        self, ask: _Ask, token: domain.Token | None = None
    ) -> AuthorizationResult | None:
        """Ask one partner, and store what came back; None when it does not know the token or
        cannot be asked."""
        asked_at = self._clock()
        started = time.monotonic()
        outcome, result, answered = await self._ask_partner(ask, token)
        target, cpo, references, routed = ask.target, ask.cpo, ask.references, ask.routed
        issuer = answered or token
        emsp = None if target.hub and not routed else f"{target.to[0]}-{target.to[1]}"
        if answered is not None:
            emsp = f"{answered.country_code}-{answered.party_id}"
        location_id = None if references is None else references["location_id"]
        evse_uids = [] if references is None else references["evse_uids"]
        await self._store.authorizations.add(
            AuthorizationRecord(
                asked_at=asked_at,
                country_code=cpo[0],
                cpo_party_id=cpo[1],
                token_party=None if issuer is None else f"{issuer.country_code}-{issuer.party_id}",
                emsp=emsp,
                partner_id=target.partner.id,
                location_id=location_id,
                evse_uid=evse_uids[0] if len(evse_uids) == 1 else None,
                outcome=outcome,
                via_hub=target.hub,
                latency_ms=round((time.monotonic() - started) * 1000),
            )
        )
        return result

    async def _ask_partner(
        self, ask: _Ask, known: domain.Token | None
    ) -> tuple[AuthorizationOutcome, AuthorizationResult | None, domain.Token | None]:
        """The outcome of one ``POST tokens/{uid}/authorize``, the verdict and the answered token."""
        partner = ask.target.partner
        base = partner.endpoint("tokens", "SENDER")
        assert base is not None and partner.outgoing_token is not None
        headers = routing_headers(ask.cpo, ask.target.to)
        if not ask.routed:
            # Open routing: the hub finds the token's eMSP itself.
            headers = {k: v for k, v in headers.items() if not k.startswith("OCPI-to")}
        try:
            reply = await self._client.call(
                "POST",
                base.rstrip("/") + path(ask.uid, "authorize"),
                token=partner.outgoing_token,
                raw=partner.raw_token,
                json=ask.references,
                params={"type": ask.kind},
                headers=headers,
                alone=True,  # a station waits for it: never behind the pushes
            )
        except PartnerTimeoutError as error:
            log.warning("real-time authorization: %s did not answer: %s", partner.id, error)
            return AuthorizationOutcome.TIMEOUT, None, None
        except PartnerError as error:
            log.warning("real-time authorization: %s unreachable: %s", partner.id, error)
            return AuthorizationOutcome.ERROR, None, None
        if reply.http_status == 404 or reply.status_code == StatusCode.UNKNOWN_TOKEN:
            return AuthorizationOutcome.UNKNOWN, None, None
        if reply.http_status >= 400 or reply.status_code != StatusCode.SUCCESS:
            log.warning(
                "real-time authorization: %s answered HTTP %s, OCPI %s",
                partner.id,
                reply.http_status,
                reply.status_code,
            )
            return AuthorizationOutcome.ERROR, None, None
        return await self._read(partner, reply.data, known)

    async def _read(
        self, partner: Partner, data: Any, known: domain.Token | None
    ) -> tuple[AuthorizationOutcome, AuthorizationResult | None, domain.Token | None]:
        version = partner.version or "2.2.1"
        try:
            info: Any = parse(mapping.model_for(version, "AuthorizationInfo"), data)
            token = mapping.token_to_domain(info.token)
        except (ValueError, IntercargaError) as error:
            log.warning("real-time authorization: bad answer from %s: %s", partner.id, error)
            return AuthorizationOutcome.ERROR, None, None
        if token != known:
            # Cached so that the session and its CDR know the token's eMSP (and whitelist); an
            # answer that repeats the copy held is not written again.
            await storing.put(self._store.tokens, token)
        allowed = str(getattr(info.allowed, "value", info.allowed))
        decided = verdict(allowed, token)
        reference = getattr(info, "authorization_reference", None)
        outcome = _OUTCOMES.get(allowed, AuthorizationOutcome.ERROR)
        return (
            outcome,
            replace(decided, real_time=True, authorization_reference=reference),
            token,
        )


def _references(station: domain.Station) -> dict[str, Any] | None:
    """LocationReferences for the station: its Location and EVSEs, when it is mapped."""
    if not station.evses:
        return None
    location_id = station.evses[0].location_id
    uids = [e.evse_uid for e in station.evses if e.location_id == location_id]
    return {"location_id": location_id, "evse_uids": uids}
