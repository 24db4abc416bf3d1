"""The HUB role: route OCPI requests between the platforms connected to this one.

Theory of operation
===================

A hub offers both interfaces of every routed module (``/ocpi/hub/{version}/{sender|receiver}/
{module}/…``) and decides, for each request, where it goes by its ``OCPI-to-*`` headers:

- **Addressed** (to a party a registered partner hosts): the request is forwarded at once to that
  partner's same interface, with the original ``OCPI-from-*``, the same X-Correlation-ID and a
  new X-Request-ID, and the partner's answer is relayed (its pagination ``Link`` rewritten to
  the hub's URL). A party nobody hosts is OCPI 4001; a partner that cannot be reached 4003 (4002
  when it does not answer in time). The caller's outbox retries, so nothing is lost.
- **Broadcast push** (to the hub's own party): the hub answers at once and stores one outbox row
  per other partner that implements the module's RECEIVER and hosts a receiving role (the
  mirror of the sender's role), sent from the hub's party; each partner gets it in order, with
  retries, even after an outage. GET to the hub's own party is **GET ALL**: the lists of every
  partner that owns such objects, combined and paginated by the hub.
- **Open routing** (no ``OCPI-to-*``): the hub finds the receiver itself. A real-time
  authorization is asked of every eMSP at once and the first that knows the token answers; a
  Session or CDR goes to the eMSP of its ``cdr_token``; any other push is broadcast; a GET it
  cannot place is 4001.

Commands and charging profiles: the ``response_url`` points at the eMSP, which the CPO cannot
call, so the hub keeps it (``ocpi_commands``, direction ROUTED) and gives the CPO a URL of its
own; the result that comes there is sent on to the eMSP through the outbox. Objects keep their ``last_updated``
(the spec forbids a hub to change it); when the two sides speak different OCPI versions, whole
objects are translated (:mod:`.translate`).

Hub client info: the hub tells every connected platform which parties it reaches and whether they
are CONNECTED (registered, deliveries working), OFFLINE (deliveries failing) or SUSPENDED
(unregistered), when a registration changes, and serves the same list (SENDER).

Tiers: :mod:`.hubplan` decides where a request goes (pure); :class:`Hub` here carries the plan
out with the client and the outbox and answers a :class:`HubReply` (plain values); the FastAPI
glue is :mod:`intercarga.ocpi.api.hub`. This module must never import an HTTP framework.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from intercarga.config import Settings
from intercarga.domain.partner import Partner, PartnerState
from intercarga.ocpi.client import OcpiClient, PartnerError, PartnerTimeoutError, Reply
from intercarga.ocpi.envelope import OcpiError, StatusCode, envelope
from intercarga.ocpi.hubplan import (
    AskEveryEmsp,
    Broadcast,
    CommandResult,
    Forward,
    GetAll,
    RoutedRequest,
    Unroutable,
    client_info_list,
    plan,
    sender_of,
)
from intercarga.ocpi.outbox import Outbox
from intercarga.ocpi.registrar import ocpi_base_url
from intercarga.ocpi.routing import Party, Target, our_parties, path, routing_headers
from intercarga.ocpi.translate import object_kind, translate
from intercarga.ocpi.transport import page_headers, page_request
from intercarga.store.partners import PartnerRepository
from intercarga.store.roaming import CommandRecord, CommandRepository, OutboxEntry

__all__ = ["Hub", "HubReply"]

log = logging.getLogger(__name__)

# A GET ALL stops combining here, whatever the partners hold.
_GET_ALL_LIMIT = 10_000


@dataclass(frozen=True)
class HubReply:
    """The hub's answer: HTTP status, the JSON body (an OCPI envelope) and headers to send."""

    http_status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def _reply(
    data: Any = None,
    status_code: int = StatusCode.SUCCESS,
    message: str | None = None,
    *,
    http_status: int = 200,
    headers: dict[str, str] | None = None,
) -> HubReply:
    return HubReply(http_status, envelope(data, status_code, message), headers or {})


def _error(code: StatusCode, message: str) -> HubReply:
    return _reply(None, code, message)


class Hub:
    def __init__(
        self,
        settings: Settings,
        partners: PartnerRepository,
        client: OcpiClient,
        outbox: Outbox,
        commands: CommandRepository,
    ) -> None:
        self._settings = settings
        self._partner_records = partners
        self._client = client
        self._outbox = outbox
        self._commands = commands

    @property
    def parties(self) -> frozenset[Party]:
        return our_parties(self._settings, "HUB")

    @property
    def party(self) -> Party:
        return sorted(self.parties)[0]

    async def _partners(self, *, fresh: bool = False) -> list[Partner]:
        return [
            p
            for p in await self._partner_records.current(fresh=fresh)
            if p.state is PartnerState.REGISTERED and p.outgoing_token
        ]

    # -- routing ---------------------------------------------------------------------------------
    async def route(self, request: RoutedRequest) -> HubReply:
        """Carry out the plan for ``request`` (checked by :func:`.hubplan.check_routed`)."""
        decided = plan(request, await self._partners(), self.parties)
        if isinstance(decided, Unroutable):
            # The partners come from a copy up to a second old: before answering that nobody
            # hosts the receiver, the store itself (another node may have just registered it).
            decided = plan(request, await self._partners(fresh=True), self.parties)
        sender = _sender(request)
        match decided:
            case CommandResult(record_id):
                return await self._command_result(request, sender, record_id)
            case GetAll(sources):
                return await self._get_all(request, sender, sources)
            case Broadcast(targets):
                return await self._broadcast(request, sender, targets)
            case AskEveryEmsp(asked):
                return await self._authorize_anywhere(request, sender, asked)
            case Forward(target, to, keeps):
                if keeps:
                    request = await self._keep_response_url(request, sender, to)
                return await self._forward(request, sender, target, to)
            case Unroutable(message):
                return _error(StatusCode.UNKNOWN_RECEIVER, message)

    async def _forward(
        self, request: RoutedRequest, sender: Party, target: Partner, to: Party
    ) -> HubReply:
        kind = object_kind(request.module, request.interface, len(request.segments))
        try:
            body = translate(kind, request.body, request.version, target.version)
            reply = await self._call(request, sender, target, to, body)
        except PartnerTimeoutError as error:
            return _error(StatusCode.FORWARD_TIMEOUT, str(error))
        except PartnerError as error:
            return _error(StatusCode.CONNECTION_PROBLEM, str(error))
        except ValueError as error:
            return _error(StatusCode.INVALID_OR_MISSING_PARAMETERS, str(error).splitlines()[0])
        data = reply.body
        if request.method == "GET" and "data" in data:
            try:
                data = {
                    **data,
                    "data": translate(kind, data["data"], target.version, request.version),
                }
            except ValueError as error:
                return _error(StatusCode.HUB_ERROR, f"the receiver's answer: {error}")
        headers = {
            name: reply.headers[name]
            for name in ("X-Total-Count", "X-Limit", "Location")
            if name in reply.headers
        }
        if "link" in reply.headers:
            base = target.endpoint(request.module, request.interface) or ""
            headers["Link"] = reply.headers["link"].replace(base.rstrip("/"), self._url(request))
        headers.update(routing_headers(to, sender))
        return HubReply(reply.http_status, data, headers)

    async def _call(
        self, request: RoutedRequest, sender: Party, target: Partner, to: Party, body: Any
    ) -> Reply:
        base = target.endpoint(request.module, request.interface)
        assert base is not None and target.outgoing_token is not None
        return await self._client.call(
            request.method,
            base.rstrip("/") + path(*request.segments),
            token=target.outgoing_token,
            raw=target.raw_token,
            json=body,
            params=dict(request.query) or None,
            correlation_id=request.headers.get("x-correlation-id"),
            headers=routing_headers(sender, to),
            alone=True,  # the caller waits on the line: never behind the hub's pushes
        )

    def _url(self, request: RoutedRequest) -> str:
        interface = request.interface.lower()
        return f"{ocpi_base_url(self._settings)}/hub/{request.version}/{interface}/{request.module}"

    # -- broadcast push and GET ALL --------------------------------------------------------------
    async def _broadcast(
        self, request: RoutedRequest, sender: Party, targets: tuple[Target, ...]
    ) -> HubReply:
        suffix = path(*request.segments)
        query = request.query_string
        key = request.module + suffix
        await self._outbox.enqueue(
            [
                OutboxEntry(
                    partner_id=t.partner.id,
                    module=request.module,
                    method=request.method,
                    path=suffix + (f"?{query}" if query else ""),
                    object_key=key,
                    kind="raw",
                    payload=request.body,
                    version=request.version,
                    headers=routing_headers(self.party, t.to),
                    correlation_id=_correlation_id(request),
                    replaces=frozenset({"raw"}) if request.method == "PUT" else frozenset(),
                )
                for t in targets
            ]
        )
        log.info("hub: broadcast %s %s to %d partners", request.method, key, len(targets))
        return _reply(headers=routing_headers(self.party, sender))

    async def _get_all(
        self, request: RoutedRequest, sender: Party, sources: tuple[Partner, ...]
    ) -> HubReply:
        params = dict(request.query)
        page = page_request(params, max_limit=self._settings.ocpi.max_page_size)
        filters = {k: v for k, v in params.items() if k in ("date_from", "date_to")}
        kind = object_kind(request.module, "SENDER", 0)
        combined: list[Any] = []
        for partner in sources:
            base = partner.endpoint(request.module, "SENDER")
            assert base is not None and partner.outgoing_token is not None
            try:
                async for items in self._client.pages(
                    base, token=partner.outgoing_token, raw=partner.raw_token, params=filters
                ):
                    combined += translate(kind, items, partner.version, request.version)
                    if len(combined) >= _GET_ALL_LIMIT:
                        break
            except (PartnerError, ValueError) as error:
                log.warning("hub: GET ALL skipped %s: %s", partner.id, error)
        chosen = combined[page.offset : page.offset + page.limit]
        headers = page_headers(self._url(request), params, page, len(chosen), len(combined))
        headers.update(routing_headers(self.party, sender))
        return _reply(chosen, headers=headers)

    # -- open routing -----------------------------------------------------------------------------
    async def _authorize_anywhere(
        self, request: RoutedRequest, sender: Party, asked: tuple[tuple[Partner, Party], ...]
    ) -> HubReply:
        """Ask every eMSP at once; the first that knows the token answers."""

        async def ask(partner: Partner, to: Party) -> tuple[Partner, Party, Reply] | None:
            try:
                reply = await self._call(request, sender, partner, to, request.body)
            except PartnerError as error:
                log.warning("hub: authorization at %s failed: %s", partner.id, error)
                return None
            return (partner, to, reply) if reply.status_code == StatusCode.SUCCESS else None

        for found in await asyncio.gather(*(ask(partner, to) for partner, to in asked)):
            if found is not None:
                partner, to, reply = found
                data = reply.data
                if partner.version != request.version and isinstance(data, dict):
                    data = _authorization_info(data, partner.version, request.version)
                return _reply(data, headers=routing_headers(to, sender))
        return _reply(
            None,
            StatusCode.UNKNOWN_TOKEN,
            "no connected eMSP knows this token",
            http_status=404,
            headers=routing_headers(self.party, sender),
        )

    # -- commands through the hub -------------------------------------------------------------------
    async def _keep_response_url(
        self, request: RoutedRequest, sender: Party, to: Party
    ) -> RoutedRequest:
        """Keep the eMSP's response URL (in the body, or the query of a charging profile GET
        or DELETE); give the CPO one of ours instead: the request to forward."""
        body = request.body
        in_body = isinstance(body, dict) and isinstance(body.get("response_url"), str)
        original = body["response_url"] if in_body else request.query.get("response_url")
        if not original:
            return request
        if request.module == "commands":
            name, place = (request.segments[0] if request.segments else "").upper(), "commands"
        else:
            name, place = (
                {"PUT": "SET_PROFILE", "GET": "GET_PROFILE"}.get(request.method, "CLEAR_PROFILE"),
                "results",
            )
        record_id = str(uuid.uuid4())
        await self._commands.create(
            CommandRecord(
                id=record_id,
                direction="ROUTED",
                partner_id=request.caller.id,
                command=name[:24],
                country_code=to[0],
                party_id=to[1],
                request={"body": body, "query": dict(request.query), "from": list(sender)},
                response_url=original,
            )
        )
        segment = name if place == "commands" else place
        ours = f"{self._url(request).replace('/receiver/', '/sender/')}{path(segment, record_id)}"
        if in_body:
            return replace(request, body={**body, "response_url": ours})
        return replace(request, query={**request.query, "response_url": ours})

    async def _command_result(
        self, request: RoutedRequest, sender: Party, record_id: str
    ) -> HubReply:
        record = await self._commands.find(record_id)
        if record is None or record.direction != "ROUTED" or record.partner_id is None:
            raise OcpiError(StatusCode.CLIENT_ERROR, f"unknown command {record_id}", 404)
        await self._commands.update(record_id, result=request.body)
        emsp = tuple(record.request.get("from") or ("ZZ", "ZZZ"))
        await self._outbox.enqueue(
            [
                OutboxEntry(
                    partner_id=record.partner_id,
                    module=request.module,
                    method="POST",
                    path="",
                    url=record.response_url,
                    object_key=f"{request.module}/{record_id}",
                    kind="raw",
                    payload=request.body,
                    interface="SENDER",
                    headers=routing_headers(sender, (emsp[0], emsp[1])),
                    correlation_id=_correlation_id(request),
                )
            ]
        )
        return _reply(headers=routing_headers(self.party, sender))

    # -- hub client info ---------------------------------------------------------------------------
    async def client_infos(self) -> list[dict[str, Any]]:
        partners = (await self._partner_records.list(limit=None)).items
        offline = set()
        for partner in partners:
            backlog = await self._outbox.repository.backlog(partner.id)
            if backlog.pending and backlog.attempts >= 3:
                offline.add(partner.id)
        return client_info_list(partners, offline)

    async def partner_changed(self, partner: Partner) -> None:
        """Tell every platform about ``partner``'s parties, and ``partner`` about the others'."""
        if not self.parties:
            return
        mine = client_info_list([partner], set())
        others = [
            info
            for info in await self.client_infos()
            if not partner.hosts(info["country_code"], info["party_id"])
        ]
        entries = []
        for receiver in await self._partners():
            if receiver.endpoint("hubclientinfo", "RECEIVER") is None:
                continue
            infos = others if receiver.id == partner.id else mine
            for info in infos:
                suffix = path(info["country_code"], info["party_id"])
                entries.append(
                    OutboxEntry(
                        partner_id=receiver.id,
                        module="hubclientinfo",
                        method="PUT",
                        path=suffix,
                        object_key=f"hubclientinfo{suffix}/{info['role']}",
                        kind="raw",
                        payload=info,
                        correlation_id=str(uuid.uuid4()),
                        replaces=frozenset({"raw"}),
                    )
                )
        await self._outbox.enqueue(entries)


def _sender(request: RoutedRequest) -> Party:
    return sender_of(request.headers, request.caller)


def _correlation_id(request: RoutedRequest) -> str:
    return request.headers.get("x-correlation-id") or str(uuid.uuid4())


def _authorization_info(data: dict[str, Any], source: str | None, target: str) -> dict[str, Any]:
    token = data.get("token")
    if not isinstance(token, dict):
        return data
    return {**data, "token": translate("Token", token, source, target)}
