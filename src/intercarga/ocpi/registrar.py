"""Partners: inviting, registering, updating and unregistering OCPI platforms, both directions.

:class:`Registrar` drives the registration state machine (:mod:`.registration`) with real
partners: it stores records through :class:`~intercarga.store.partners.PartnerRepository`, calls
partners through :class:`~intercarga.ocpi.client.OcpiClient`, and answers the credentials module
(the HTTP layer hands it parsed requests). It also authenticates every incoming OCPI request by
its credentials token. It never formats HTTP responses and never logs a token.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from intercarga.config import OcpiParty, Settings
from intercarga.domain._types import utc_now
from intercarga.domain.partner import Partner, PartnerEndpoint, PartnerRole, PartnerState
from intercarga.errors import InvalidInputError
from intercarga.ocpi.client import OcpiClient, PartnerError, PartnerRejectedError
from intercarga.ocpi.envelope import OcpiError, StatusCode, describe_validation_error
from intercarga.ocpi.models import parse, v211, v221, v230
from intercarga.ocpi.registration import Event, can_use, next_state
from intercarga.ocpi.transport import TokenReading, read_authorization
from intercarga.ocpi.versions import SUPPORTED_VERSIONS, choose_version, endpoints, versions
from intercarga.security import hash_token, new_token
from intercarga.store.partners import PartnerRepository

__all__ = [
    "Authenticated",
    "Invitation",
    "PartnerListener",
    "Registrar",
    "credentials_model",
    "ocpi_base_url",
]

log = logging.getLogger(__name__)

_CREDENTIALS: dict[str, type[BaseModel]] = {
    "2.1.1": v211.Credentials,
    "2.2.1": v221.Credentials,
    "2.3.0": v230.Credentials,
}


PartnerListener = Callable[[Partner], Awaitable[None]]
"""Told of a partner after its registration is done, changed or ended."""


def ocpi_base_url(settings: Settings) -> str:
    """Where this platform's OCPI interface lives (its versions, modules and hub routes)."""
    return settings.public_url.rstrip("/") + "/ocpi"


def credentials_model(version: str) -> type[BaseModel]:
    try:
        return _CREDENTIALS[version]
    except KeyError:
        raise OcpiError(
            StatusCode.UNSUPPORTED_VERSION, f"OCPI {version} is not supported", 404
        ) from None


@dataclass(frozen=True, slots=True)
class Invitation:
    partner_id: str
    versions_url: str
    token: str


@dataclass(frozen=True, slots=True)
class Authenticated:
    """Who sent a request: the partner, and the token exactly as they meant it."""

    partner: Partner
    token: str


@dataclass(frozen=True, slots=True)
class _Offer:
    """What a partner offers: the chosen version, its endpoints, how to send it the token."""

    version: str
    endpoints: list[PartnerEndpoint]
    raw_token: bool


class Registrar:
    # Collaborators come through __init__ only: no attribute can be added (or patched in) later.
    __slots__ = ("_client", "_listeners", "_settings", "partners")

    def __init__(
        self,
        repository: PartnerRepository,
        settings: Settings,
        client: OcpiClient,
        *,
        listeners: Sequence[PartnerListener] = (),
    ) -> None:
        self.partners = repository
        self._settings = settings
        self._client = client
        # Given at construction and never changed: whoever must hear of a partner is built first.
        self._listeners = tuple(listeners)

    async def _changed(self, partner: Partner) -> None:
        for listener in self._listeners:
            try:
                await listener(partner)
            except Exception:
                log.exception("a listener of partner %s failed", partner.id)

    # -- what we are ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return ocpi_base_url(self._settings)

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/versions"

    @property
    def parties(self) -> list[OcpiParty]:
        return list(self._settings.ocpi.parties)

    @property
    def offered_versions(self) -> list[str]:
        return [v for v in self._settings.ocpi.versions if v in SUPPORTED_VERSIONS]

    def versions_data(self) -> list[dict[str, str]]:
        return versions(self.base_url, self.offered_versions)

    def details_data(self, version: str) -> dict[str, Any]:
        if version not in self.offered_versions:
            raise OcpiError(StatusCode.UNSUPPORTED_VERSION, f"OCPI {version} is not offered", 404)
        roles = {party.role for party in self.parties}
        return {"version": version, "endpoints": endpoints(self.base_url, version, roles)}

    async def credentials_data(self, version: str, token: str) -> dict[str, Any]:
        """Our credentials object in ``version``'s shape, carrying ``token``."""
        reachable: list[PartnerRole] = []
        if version == "2.3.0" and any(party.role == "HUB" for party in self.parties):
            # 2.3.0 hubs list the parties reachable through them as their roles.
            for partner in (await self.partners.list(limit=None)).items:
                if partner.state is PartnerState.REGISTERED:
                    reachable += [role for role in partner.roles if role.role != "HUB"]
        return self._credentials(version, token, reachable)

    def _credentials(
        self, version: str, token: str, reachable: list[PartnerRole]
    ) -> dict[str, Any]:

        def details(party: OcpiParty) -> dict[str, Any]:
            shown: dict[str, Any] = {"name": party.name}
            if party.website:
                shown["website"] = party.website
            return shown

        if version == "2.1.1":
            party = next((p for p in self.parties if p.role == "CPO"), self.parties[0])
            return {
                "token": token,
                "url": self.versions_url,
                "business_details": details(party),
                "party_id": party.party_id,
                "country_code": party.country_code,
            }
        body: dict[str, Any] = {"token": token, "url": self.versions_url}
        roles = []
        for party in self.parties:
            if version == "2.3.0" and party.role == "HUB":
                body["hub_party_id"] = party.country_code + party.party_id
                continue
            roles.append(
                {
                    "role": party.role,
                    "business_details": details(party),
                    "party_id": party.party_id,
                    "country_code": party.country_code,
                }
            )
        seen = {(r["country_code"], r["party_id"], r["role"]) for r in roles}
        for role in reachable:
            if (role.country_code, role.party_id, role.role) not in seen:
                seen.add((role.country_code, role.party_id, role.role))
                roles.append(
                    {
                        "role": role.role,
                        "business_details": {"name": role.name},
                        "party_id": role.party_id,
                        "country_code": role.country_code,
                    }
                )
        if not roles:
            # A 2.3.0 hub no one has joined yet: its own party, as the spec has no HUB role.
            hub = next(p for p in self.parties if p.role == "HUB")
            roles.append(
                {
                    "role": "OTHER",
                    "business_details": details(hub),
                    "party_id": hub.party_id,
                    "country_code": hub.country_code,
                }
            )
        body["roles"] = roles
        return body

    # -- authentication ------------------------------------------------------------------------
    async def authenticate(self, header: str | None, module: str) -> Authenticated:
        """The partner behind ``Authorization``; 401 when unknown or not allowed ``module``."""
        reading = read_authorization(header)
        if reading is None:
            raise OcpiError(StatusCode.CLIENT_ERROR, "missing 'Authorization: Token …'", 401)
        partner, token = await self._presenting(reading)
        if partner is None or not can_use(partner.state, module):
            # The partners come from a copy up to a second old: before refusing, the store
            # itself (the CLI, in its own process, may have just invited or registered them).
            partner, token = await self._presenting(reading, fresh=True)
        if partner is None:
            raise OcpiError(StatusCode.CLIENT_ERROR, "unknown credentials token", 401)
        if not can_use(partner.state, module):
            raise OcpiError(
                StatusCode.CLIENT_ERROR,
                f"this credentials token does not open the {module} module",
                401,
            )
        return Authenticated(partner, token)

    async def _presenting(
        self, reading: TokenReading, *, fresh: bool = False
    ) -> tuple[Partner | None, str]:
        """The partner presenting the token of ``reading`` and the token as it matched."""
        partner = None
        token = ""
        if reading.decoded is not None:
            token = reading.decoded
            partner = await self.partners.find_by_token_hash(hash_token(token), fresh=fresh)
        if partner is None:
            token = reading.raw
            partner = await self.partners.find_by_token_hash(hash_token(token), fresh=fresh)
            if partner is not None and not partner.raw_token:
                # Until registration is over we learn how the partner sends its token; after
                # that an unencoded token is accepted only where the switch says so.
                if partner.state is PartnerState.REGISTERED and partner.version != "2.1.1":
                    partner = None
                else:
                    await self.partners.touch_raw_token(partner.id, True)
                    partner = partner.model_copy(update={"raw_token": True})
        return partner, token

    # -- this side invites (receiver of the POST) ----------------------------------------------
    async def invite(self, name: str | None = None) -> Invitation:
        """A new partner record with a fresh TOKEN_A (printed once, only its hash kept)."""
        token = new_token()
        partner_id = _new_id()
        state = next_state(None, Event.INVITE)
        assert state is not None
        await self.partners.create(
            Partner(
                id=partner_id,
                name=name or f"partner {partner_id}",
                state=state,
                initiated_by="THEM",
                token_hash=hash_token(token),
            )
        )
        log.info("partner %s invited", partner_id)
        return Invitation(partner_id, self.versions_url, token)

    async def on_post(self, partner: Partner, version: str, body: Any) -> dict[str, Any]:
        """They POSTed their credentials (TOKEN_B) with our TOKEN_A: register, answer TOKEN_C."""
        state = next_state(partner.state, Event.POST_RECEIVED)
        assert state is not None
        theirs = _read_credentials(version, body)
        offer = await self._offer(
            theirs.url, theirs.token, version, partner.raw_token, receiving=True
        )
        token_c = new_token()
        registered = partner.model_copy(
            update={
                "name": partner.name
                if not partner.name.startswith("partner ")
                else theirs.name or partner.name,
                "state": state,
                "version": offer.version,
                "versions_url": theirs.url,
                "token_hash": hash_token(token_c),
                "outgoing_token": theirs.token,
                "raw_token": offer.raw_token,
                "hub_party_id": theirs.hub_party_id,
                "roles": theirs.roles or self._assumed_roles(theirs),
                "endpoints": offer.endpoints,
                "last_updated": utc_now(),
            }
        )
        stored = Partner.model_validate(registered.model_dump())
        await self.partners.put(stored)
        log.info("partner %s registered us (OCPI %s)", partner.id, offer.version)
        answer = await self.credentials_data(version, token_c)
        await self._changed(stored)
        return answer

    async def on_put(self, partner: Partner, version: str, body: Any) -> dict[str, Any]:
        """They sent new credentials (new token for us, maybe a new version): refetch, new token."""
        state = next_state(partner.state, Event.PUT_RECEIVED)
        assert state is not None
        theirs = _read_credentials(version, body)
        offer = await self._offer(
            theirs.url, theirs.token, version, partner.raw_token, receiving=True
        )
        token = new_token()
        updated = partner.model_copy(
            update={
                "state": state,
                "version": offer.version,
                "versions_url": theirs.url,
                "token_hash": hash_token(token),
                "outgoing_token": theirs.token,
                "raw_token": offer.raw_token,
                "hub_party_id": theirs.hub_party_id,
                "roles": theirs.roles or partner.roles,
                "endpoints": offer.endpoints,
                "last_updated": utc_now(),
            }
        )
        await self.partners.put(updated)
        log.info("partner %s updated its credentials (OCPI %s)", partner.id, offer.version)
        answer = await self.credentials_data(version, token)
        await self._changed(updated)
        return answer

    async def on_delete(self, partner: Partner) -> None:
        """They unregistered: forget both tokens; the record stays, UNREGISTERED."""
        state = next_state(partner.state, Event.DELETE_RECEIVED)
        assert state is not None
        gone = _forgotten(partner, state)
        await self.partners.put(gone)
        log.info("partner %s unregistered", partner.id)
        await self._changed(gone)

    # -- this side registers (sender of the POST) ----------------------------------------------
    async def register(self, versions_url: str, token_a: str, name: str | None = None) -> Partner:
        """Register with a partner that invited us (their versions URL and TOKEN_A)."""
        try:
            offer = await self._offer(versions_url, token_a, None, None, receiving=False)
        except OcpiError as error:
            raise PartnerError(str(error), error.status_code) from None
        credentials_url = _credentials_url(offer)
        token_b = new_token()
        partner_id = _new_id()
        state = next_state(None, Event.REGISTER_START)
        assert state is not None
        pending = Partner(
            id=partner_id,
            name=name or f"partner {partner_id}",
            state=state,
            initiated_by="US",
            version=offer.version,
            versions_url=versions_url,
            token_hash=hash_token(token_b),
            outgoing_token=token_a,
            raw_token=offer.raw_token,
            endpoints=offer.endpoints,
        )
        # Stored before the POST leaves: the partner calls us back with TOKEN_B while answering.
        await self.partners.create(pending)
        try:
            reply = await self._client.call_ok(
                "POST",
                credentials_url,
                token=token_a,
                raw=offer.raw_token,
                json=await self.credentials_data(offer.version, token_b),
            )
            theirs = _read_credentials(offer.version, reply.data)
        except (PartnerError, OcpiError):
            next_state(state, Event.REGISTER_FAILED)
            await self.partners.delete(partner_id)
            raise
        done = next_state(state, Event.REGISTER_DONE)
        assert done is not None
        registered = pending.model_copy(
            update={
                "name": name or theirs.name or pending.name,
                "state": done,
                "versions_url": theirs.url,
                "outgoing_token": theirs.token,
                "hub_party_id": theirs.hub_party_id,
                "roles": theirs.roles or self._assumed_roles(theirs),
                "last_updated": utc_now(),
            }
        )
        await self.partners.put(registered)
        log.info("registered with partner %s (OCPI %s)", partner_id, offer.version)
        await self._changed(registered)
        return registered

    async def update(self, partner_id: str, version: str | None = None) -> Partner:
        """Send new credentials (a new token for them to use), switching version if asked."""
        partner = await self.partners.get(partner_id)
        state = next_state(partner.state, Event.PUT_SENT)
        assert state is not None and partner.versions_url and partner.outgoing_token
        offer = await self._offer(
            partner.versions_url,
            partner.outgoing_token,
            version,
            partner.raw_token,
            receiving=False,
        )
        token = new_token()
        # The partner calls us back with the new token while answering the PUT, so it must be
        # valid before the PUT leaves; the old one is put back if the PUT fails.
        await self.partners.put(partner.model_copy(update={"token_hash": hash_token(token)}))
        try:
            reply = await self._client.call_ok(
                "PUT",
                _credentials_url(offer),
                token=partner.outgoing_token,
                raw=partner.raw_token,
                json=await self.credentials_data(offer.version, token),
            )
            theirs = _read_credentials(offer.version, reply.data)
        except (PartnerError, OcpiError):
            await self.partners.put(partner)
            raise
        updated = partner.model_copy(
            update={
                "state": state,
                "version": offer.version,
                "versions_url": theirs.url,
                "token_hash": hash_token(token),
                "outgoing_token": theirs.token,
                "endpoints": offer.endpoints,
                "roles": theirs.roles or partner.roles,
                "last_updated": utc_now(),
            }
        )
        await self.partners.put(updated)
        await self._changed(updated)
        return updated

    async def unregister(self, partner_id: str) -> Partner:
        """Tell the partner we stop (DELETE on their credentials); forget the tokens."""
        partner = await self.partners.get(partner_id)
        state = next_state(partner.state, Event.DELETE_SENT)
        assert state is not None
        url = partner.endpoint("credentials")
        if url is None or partner.outgoing_token is None:
            raise InvalidInputError("the partner has no credentials endpoint", "partner")
        await self._client.call_ok(
            "DELETE", url, token=partner.outgoing_token, raw=partner.raw_token
        )
        gone = _forgotten(partner, state)
        await self.partners.put(gone)
        await self._changed(gone)
        return gone

    async def remove(self, partner_id: str) -> bool:
        """Unregister when registered (best effort), then delete the record.

        Returns whether the partner was told; an unreachable partner does not keep a record
        alive.
        """
        partner = await self.partners.get(partner_id)
        told = False
        if partner.state is PartnerState.REGISTERED:
            try:
                await self.unregister(partner_id)
                told = True
            except PartnerError as error:
                log.warning("partner %s not told of its removal: %s", partner_id, error)
        await self.partners.delete(partner_id)
        return told

    # -- helpers ---------------------------------------------------------------------------------
    async def _offer(
        self,
        versions_url: str,
        token: str,
        version: str | None,
        raw: bool | None,
        *,
        receiving: bool,
    ) -> _Offer:
        """Fetch a partner's versions and the details of ``version`` (or the best mutual one).

        While answering their POST/PUT (``receiving``) a failure is OCPI 3001 for them.
        """
        try:
            if raw is None:
                reply, raw = await self._client.call_trying_encodings(
                    "GET", versions_url, token=token
                )
            else:
                try:
                    reply = await self._client.call_ok("GET", versions_url, token=token, raw=raw)
                except PartnerError as error:
                    if error.http_status != 401:
                        raise
                    raw = not raw
                    reply = await self._client.call_ok("GET", versions_url, token=token, raw=raw)
            listed = _read_versions(reply.data)
            if version is None:
                version = choose_version(self.offered_versions, listed)
            elif version not in listed:
                # Whoever registers chose the URL: what it answered is not repeated to them.
                offered = "" if receiving else f" ({', '.join(listed)})"
                raise OcpiError(
                    StatusCode.UNSUPPORTED_VERSION,
                    f"OCPI {version} is not in the partner's versions{offered}",
                )
            details = await self._client.call_ok("GET", listed[version], token=token, raw=raw)
            found = _read_endpoints(details.data)
        except PartnerError as error:
            if receiving:
                log.warning(
                    "fetching the versions of partner at %s failed: %s", versions_url, error
                )
                raise OcpiError(StatusCode.UNABLE_TO_USE_CLIENT_API, _outcome(error)) from None
            raise
        if not any(endpoint.identifier != "credentials" for endpoint in found):
            raise OcpiError(
                StatusCode.NO_MATCHING_ENDPOINTS,
                f"the partner offers no module besides credentials in OCPI {version}",
            )
        return _Offer(version, found, raw)

    def _assumed_roles(self, theirs: _TheirCredentials) -> list[PartnerRole]:
        """2.1.1 credentials name one party and no role: it plays the mirror of ours."""
        if theirs.party is None:
            return []
        ours = {party.role for party in self.parties}
        role = "EMSP" if "CPO" in ours else "CPO"
        country_code, party_id = theirs.party
        return [
            PartnerRole(
                country_code=country_code,
                party_id=party_id,
                role=role,
                name=theirs.name or party_id,
            )
        ]


@dataclass(frozen=True, slots=True)
class _TheirCredentials:
    token: str
    url: str
    name: str | None
    roles: list[PartnerRole]
    hub_party_id: str | None
    party: tuple[str, str] | None  # 2.1.1: the one party of the connection


def _read_credentials(version: str, body: Any) -> _TheirCredentials:
    model = credentials_model(version)
    try:
        credentials = parse(model, body)
    except ValidationError as error:
        raise OcpiError(
            StatusCode.INVALID_OR_MISSING_PARAMETERS, describe_validation_error(error)
        ) from None
    if isinstance(credentials, v211.Credentials):
        return _TheirCredentials(
            token=credentials.token,
            url=credentials.url,
            name=credentials.business_details.name,
            roles=[],
            hub_party_id=None,
            party=(credentials.country_code.upper(), credentials.party_id.upper()),
        )
    assert isinstance(credentials, v221.Credentials | v230.Credentials)
    try:
        roles = [
            PartnerRole(
                country_code=role.country_code.upper(),
                party_id=role.party_id.upper(),
                role=role.role.value,
                name=role.business_details.name,
                website=role.business_details.website,
            )
            for role in credentials.roles
        ]
    except ValidationError as error:
        raise OcpiError(
            StatusCode.INVALID_OR_MISSING_PARAMETERS,
            describe_validation_error(error, "roles"),
        ) from None
    hub = credentials.hub_party_id if isinstance(credentials, v230.Credentials) else None
    return _TheirCredentials(
        token=credentials.token,
        url=credentials.url,
        name=roles[0].name if roles else None,
        roles=roles,
        hub_party_id=hub.upper() if hub else None,
        party=None,
    )


def _outcome(error: PartnerError) -> str:
    """A failed call told to the partner who chose its URL: what happened, never what came back.

    The URL is theirs, but its answer may come from anything it points at (an internal
    service, a cloud metadata endpoint): echoing it would make registration a way to read them.
    """
    if isinstance(error, PartnerRejectedError):
        code = f", OCPI status {error.status_code}" if error.status_code is not None else ""
        return f"{error.method} {error.url} was refused: HTTP {error.http_status}{code}"
    return str(error)


def _read_versions(data: Any) -> dict[str, str]:
    """``{version: details URL}`` from a versions reply, ignoring entries that make no sense."""
    found: dict[str, str] = {}
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict) and isinstance(item.get("version"), str):
            url = item.get("url")
            if isinstance(url, str) and url:
                found[item["version"]] = url
    if not found:
        raise OcpiError(StatusCode.UNSUPPORTED_VERSION, "the partner lists no OCPI version")
    return found


def _read_endpoints(data: Any) -> list[PartnerEndpoint]:
    items = data.get("endpoints") if isinstance(data, dict) else None
    found = []
    for item in items if isinstance(items, list) else []:
        try:
            found.append(
                PartnerEndpoint(
                    identifier=item["identifier"], role=item.get("role"), url=item["url"]
                )
            )
        except (KeyError, TypeError, ValidationError):
            continue
    return found


def _credentials_url(offer: _Offer) -> str:
    url = next((e.url for e in offer.endpoints if e.identifier == "credentials"), None)
    if url is None:
        raise PartnerError(
            "the partner's version details list no credentials endpoint",
            StatusCode.NO_MATCHING_ENDPOINTS,
        )
    return url


def _forgotten(partner: Partner, state: PartnerState | None) -> Partner:
    assert state is not None
    return partner.model_copy(
        update={
            "state": state,
            "token_hash": None,
            "outgoing_token": None,
            "last_updated": utc_now(),
        }
    )


def _new_id() -> str:
    return "p" + uuid.uuid4().hex[:11]
