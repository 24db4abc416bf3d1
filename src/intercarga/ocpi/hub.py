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
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from intercarga.config import Settings
from intercarga.domain.partner import Partner, PartnerState
from intercarga.ocpi.client import OcpiClient, PartnerError, PartnerTimeoutError, Reply
from intercarga.ocpi.envelope import OcpiError, StatusCode, envelope
from intercarga.ocpi.http import OcpiRoute, authenticate, ocpi_response, read_json
from intercarga.ocpi.models import format_datetime
from intercarga.ocpi.modules._common import require_version
from intercarga.ocpi.outbox import Outbox
from intercarga.ocpi.partners import Authenticated, Registrar
from intercarga.ocpi.routing import (
    RECEIVING_ROLES,
    Party,
    broadcast_targets,
    is_hub,
    our_parties,
    path,
    routing_headers,
    to_party,
)
from intercarga.ocpi.translate import object_kind, translate
from intercarga.ocpi.transport import page_headers, page_request
from intercarga.ocpi.versions import HUB_ROUTED
from intercarga.store.roaming import CommandRecord, CommandRepository, OutboxEntry

__all__ = ["Hub", "client_info_list", "hub_router"]

log = logging.getLogger(__name__)

# Who owns the objects a module's SENDER lists (whose lists a GET ALL combines).
_OWNER = {
    "locations": "CPO",
    "tariffs": "CPO",
    "sessions": "CPO",
    "cdrs": "CPO",
    "tokens": "EMSP",
}
# Modules whose receiver answers later, at a response URL the hub must stand in for.
_ASYNCHRONOUS = frozenset({"commands", "chargingprofiles"})
# A GET ALL stops combining here, whatever the partners hold.
_GET_ALL_LIMIT = 10_000


def _from_party(headers: Mapping[str, str]) -> Party | None:
    country, party = headers.get("ocpi-from-country-code"), headers.get("ocpi-from-party-id")
    return (country.upper(), party.upper()) if country and party else None


def client_info_list(partners: list[Partner], offline: set[str]) -> list[dict[str, Any]]:
    """ClientInfo objects for every party the hub's partners host (pure)."""
    found = []
    for partner in partners:
        if partner.state is PartnerState.REGISTERED:
            status = "OFFLINE" if partner.id in offline else "CONNECTED"
        elif partner.state is PartnerState.UNREGISTERED:
            status = "SUSPENDED"
        else:
            continue
        for role in partner.roles:
            if role.role == "HUB":
                continue
            found.append(
                {
                    "party_id": role.party_id,
                    "country_code": role.country_code,
                    "role": role.role,
                    "status": status,
                    "last_updated": format_datetime(partner.last_updated),
                }
            )
    return found


class Hub:
    def __init__(
        self,
        settings: Settings,
        registrar: Registrar,
        client: OcpiClient,
        outbox: Outbox,
        commands: CommandRepository,
    ) -> None:
        self._settings = settings
        self._registrar = registrar
        self._client = client
        self._outbox = outbox
        self._commands = commands

    @property
    def parties(self) -> frozenset[Party]:
        return our_parties(self._settings, "HUB")

    async def authenticate(self, request: Request, module: str) -> Authenticated:
        return await authenticate(self._registrar, request, module)

    @property
    def max_page_size(self) -> int:
        return self._settings.ocpi.max_page_size

    @property
    def party(self) -> Party:
        return sorted(self.parties)[0]

    async def _partners(self) -> list[Partner]:
        return [
            p
            for p in (await self._registrar.partners.list(limit=None)).items
            if p.state is PartnerState.REGISTERED and p.outgoing_token
        ]

    # -- routing ---------------------------------------------------------------------------------
    async def route(
        self, request: Request, version: str, interface: str, module: str, rest: str
    ) -> Response:
        interface = interface.upper()
        if module not in HUB_ROUTED or interface not in ("SENDER", "RECEIVER"):
            raise OcpiError(StatusCode.CLIENT_ERROR, f"no {module} {interface.lower()} here", 404)
        require_version(module, version)
        who = await self.authenticate(request, module)
        caller = who.partner
        method = request.method
        body = await read_json(request) if (await request.body()).strip() else None
        sender = _from_party(request.headers) or _first_party(caller)
        if not caller.hosts(*sender) and not is_hub(caller):
            raise OcpiError(
                StatusCode.INVALID_OR_MISSING_PARAMETERS,
                f"OCPI-from: {sender[0]}-{sender[1]} is not a party you registered",
            )
        segments = [part for part in rest.split("/") if part]
        ctx = _Call(version, interface, module, segments, method, body, sender, caller, request)
        if module in _ASYNCHRONOUS and interface == "SENDER" and method == "POST":
            return await self._command_result(ctx)
        to = to_party(request.headers)
        if to is not None and to in self.parties:
            if method == "GET":
                return await self._get_all(ctx)
            return await self._broadcast(ctx)
        if to is None:
            return await self._open_route(ctx)
        target = self._hosting(await self._partners(), to, module, interface)
        if target is None:
            return _error(StatusCode.UNKNOWN_RECEIVER, f"no connected party {to[0]}-{to[1]}")
        return await self._forward(ctx, target, to)

    @staticmethod
    def _hosting(
        partners: list[Partner], party: Party, module: str, interface: str
    ) -> Partner | None:
        for partner in partners:
            if partner.hosts(*party) and partner.endpoint(module, interface) is not None:
                return partner
        return None

    async def _forward(self, ctx: _Call, target: Partner, to: Party) -> Response:
        if ctx.module in _ASYNCHRONOUS and ctx.interface == "RECEIVER" and ctx.method != "PATCH":
            await self._keep_response_url(ctx, to)
        body = ctx.body
        kind = object_kind(ctx.module, ctx.interface, len(ctx.segments))
        try:
            reply = await self._call(
                ctx, target, to, translate(kind, body, ctx.version, target.version)
            )
        except PartnerTimeoutError as error:
            return _error(StatusCode.FORWARD_TIMEOUT, str(error))
        except PartnerError as error:
            return _error(StatusCode.CONNECTION_PROBLEM, str(error))
        except ValueError as error:
            return _error(StatusCode.INVALID_OR_MISSING_PARAMETERS, str(error).splitlines()[0])
        data = reply.body
        if ctx.method == "GET" and "data" in data:
            try:
                data = {**data, "data": translate(kind, data["data"], target.version, ctx.version)}
            except ValueError as error:
                return _error(StatusCode.HUB_ERROR, f"the receiver's answer: {error}")
        headers = {
            name: reply.headers[name]
            for name in ("X-Total-Count", "X-Limit", "Location")
            if name in reply.headers
        }
        if "link" in reply.headers:
            base = target.endpoint(ctx.module, ctx.interface) or ""
            headers["Link"] = reply.headers["link"].replace(base.rstrip("/"), self._url(ctx))
        headers.update(routing_headers(to, ctx.sender))
        return JSONResponse(data, status_code=reply.http_status, headers=headers)

    async def _call(self, ctx: _Call, target: Partner, to: Party, body: Any) -> Reply:
        base = target.endpoint(ctx.module, ctx.interface)
        assert base is not None and target.outgoing_token is not None
        return await self._client.call(
            ctx.method,
            base.rstrip("/") + path(*ctx.segments),
            token=target.outgoing_token,
            raw=target.raw_token,
            json=body,
            params=ctx.params or None,
            correlation_id=ctx.request.headers.get("x-correlation-id"),
            headers=routing_headers(ctx.sender, to),
        )

    def _url(self, ctx: _Call) -> str:
        interface = ctx.interface.lower()
        return f"{self._registrar.base_url}/hub/{ctx.version}/{interface}/{ctx.module}"

    # -- broadcast push and GET ALL --------------------------------------------------------------
    async def _broadcast(self, ctx: _Call) -> Response:
        if ctx.interface != "RECEIVER":
            raise OcpiError(
                StatusCode.INVALID_OR_MISSING_PARAMETERS, "a broadcast push goes to a RECEIVER"
            )
        sender_role = _role_of(ctx.caller, ctx.sender)
        targets = [
            t
            for t in broadcast_targets(
                await self._partners(), ctx.module, sender_role, exclude=ctx.caller.id
            )
            if not t.hub  # never back into another hub: no loops
        ]
        suffix = path(*ctx.segments)
        query = ctx.request.url.query
        key = ctx.module + suffix
        await self._outbox.enqueue(
            [
                OutboxEntry(
                    partner_id=t.partner.id,
                    module=ctx.module,
                    method=ctx.method,
                    path=suffix + (f"?{query}" if query else ""),
                    object_key=key,
                    kind="raw",
                    payload=ctx.body,
                    version=ctx.version,
                    headers=routing_headers(self.party, t.to),
                    correlation_id=ctx.request.headers.get("x-correlation-id") or str(uuid.uuid4()),
                    replaces=frozenset({"raw"}) if ctx.method == "PUT" else frozenset(),
                )
                for t in targets
            ]
        )
        log.info("hub: broadcast %s %s to %d partners", ctx.method, key, len(targets))
        return ocpi_response(headers=routing_headers(self.party, ctx.sender))

    async def _get_all(self, ctx: _Call) -> Response:
        owner = _OWNER.get(ctx.module)
        if ctx.interface != "SENDER" or ctx.segments or owner is None:
            raise OcpiError(
                StatusCode.INVALID_OR_MISSING_PARAMETERS, "GET ALL is for a SENDER's list"
            )
        params = dict(ctx.request.query_params)
        page = page_request(params, max_limit=self._settings.ocpi.max_page_size)
        filters = {k: v for k, v in params.items() if k in ("date_from", "date_to")}
        kind = object_kind(ctx.module, "SENDER", 0)
        combined: list[Any] = []
        for partner in await self._partners():
            if partner.id == ctx.caller.id or partner.endpoint(ctx.module, "SENDER") is None:
                continue
            owned = [r for r in partner.roles if r.role == owner]
            if not owned:
                continue
            base = partner.endpoint(ctx.module, "SENDER")
            assert base is not None and partner.outgoing_token is not None
            try:
                async for items in self._client.pages(
                    base, token=partner.outgoing_token, raw=partner.raw_token, params=filters
                ):
                    combined += translate(kind, items, partner.version, ctx.version)
                    if len(combined) >= _GET_ALL_LIMIT:
                        break
            except (PartnerError, ValueError) as error:
                log.warning("hub: GET ALL skipped %s: %s", partner.id, error)
        chosen = combined[page.offset : page.offset + page.limit]
        headers = page_headers(self._url(ctx), params, page, len(chosen), len(combined))
        headers.update(routing_headers(self.party, ctx.sender))
        return ocpi_response(chosen, headers=headers)

    # -- open routing -----------------------------------------------------------------------------
    async def _open_route(self, ctx: _Call) -> Response:
        partners = await self._partners()
        if (
            ctx.module == "tokens"
            and ctx.interface == "SENDER"
            and ctx.method == "POST"
            and ctx.segments[-1:] == ["authorize"]
        ):
            return await self._authorize_anywhere(ctx, partners)
        token = ctx.body.get("cdr_token") if isinstance(ctx.body, dict) else None
        if ctx.module in ("sessions", "cdrs") and isinstance(token, dict):
            to = (
                str(token.get("country_code", "")).upper(),
                str(token.get("party_id", "")).upper(),
            )
            target = self._hosting(partners, to, ctx.module, ctx.interface)
            if target is None:
                return _error(StatusCode.UNKNOWN_RECEIVER, f"no connected party {to[0]}-{to[1]}")
            return await self._forward(ctx, target, to)
        if ctx.method != "GET" and ctx.interface == "RECEIVER" and ctx.module != "commands":
            return await self._broadcast(ctx)
        return _error(
            StatusCode.UNKNOWN_RECEIVER, "cannot tell where this goes: send OCPI-to headers"
        )

    async def _authorize_anywhere(self, ctx: _Call, partners: list[Partner]) -> Response:
        """Ask every eMSP at once; the first that knows the token answers."""
        asked = [
            (partner, (role.country_code, role.party_id))
            for partner in partners
            if partner.id != ctx.caller.id and partner.endpoint("tokens", "SENDER") is not None
            for role in partner.roles
            if role.role == "EMSP"
        ]

        async def ask(partner: Partner, to: Party) -> tuple[Partner, Party, Reply] | None:
            try:
                reply = await self._call(ctx, partner, to, ctx.body)
            except PartnerError as error:
                log.warning("hub: authorization at %s failed: %s", partner.id, error)
                return None
            return (partner, to, reply) if reply.status_code == StatusCode.SUCCESS else None

        for found in await asyncio.gather(*(ask(partner, to) for partner, to in asked)):
            if found is not None:
                partner, to, reply = found
                data = reply.data
                if partner.version != ctx.version and isinstance(data, dict):
                    data = _authorization_info(data, partner.version, ctx.version)
                return ocpi_response(data, headers=routing_headers(to, ctx.sender))
        return ocpi_response(
            None,
            StatusCode.UNKNOWN_TOKEN,
            "no connected eMSP knows this token",
            http_status=404,
            headers=routing_headers(self.party, ctx.sender),
        )

    # -- commands through the hub -------------------------------------------------------------------
    async def _keep_response_url(self, ctx: _Call, to: Party) -> None:
        """Keep the eMSP's response URL (in the body, or the query of a charging profile GET
        or DELETE); give the CPO one of ours instead."""
        in_body = isinstance(ctx.body, dict) and isinstance(ctx.body.get("response_url"), str)
        original = ctx.body["response_url"] if in_body else ctx.params.get("response_url")
        if not original:
            return
        if ctx.module == "commands":
            name, place = (ctx.segments[0] if ctx.segments else "").upper(), "commands"
        else:
            name, place = (
                {"PUT": "SET_PROFILE", "GET": "GET_PROFILE"}.get(ctx.method, "CLEAR_PROFILE"),
                "results",
            )
        record_id = str(uuid.uuid4())
        await self._commands.create(
            CommandRecord(
                id=record_id,
                direction="ROUTED",
                partner_id=ctx.caller.id,
                command=name[:24],
                country_code=to[0],
                party_id=to[1],
                request={"body": ctx.body, "query": ctx.params, "from": list(ctx.sender)},
                response_url=original,
            )
        )
        segment = name if place == "commands" else place
        ours = f"{self._url(ctx).replace('/receiver/', '/sender/')}{path(segment, record_id)}"
        if in_body:
            ctx.body = {**ctx.body, "response_url": ours}
        else:
            ctx.params = {**ctx.params, "response_url": ours}

    async def _command_result(self, ctx: _Call) -> Response:
        record_id = ctx.segments[-1] if len(ctx.segments) == 2 else ""
        record = await self._commands.find(record_id)
        if record is None or record.direction != "ROUTED" or record.partner_id is None:
            raise OcpiError(StatusCode.CLIENT_ERROR, f"unknown command {record_id}", 404)
        await self._commands.update(record_id, result=ctx.body)
        emsp = tuple(record.request.get("from") or ("ZZ", "ZZZ"))
        await self._outbox.enqueue(
            [
                OutboxEntry(
                    partner_id=record.partner_id,
                    module=ctx.module,
                    method="POST",
                    path="",
                    url=record.response_url,
                    object_key=f"{ctx.module}/{record_id}",
                    kind="raw",
                    payload=ctx.body,
                    interface="SENDER",
                    headers=routing_headers(ctx.sender, (emsp[0], emsp[1])),
                    correlation_id=ctx.request.headers.get("x-correlation-id") or str(uuid.uuid4()),
                )
            ]
        )
        return ocpi_response(headers=routing_headers(self.party, ctx.sender))

    # -- hub client info ---------------------------------------------------------------------------
    async def client_infos(self) -> list[dict[str, Any]]:
        partners = (await self._registrar.partners.list(limit=None)).items
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


class _Call:
    """One request the hub routes."""

    def __init__(
        self,
        version: str,
        interface: str,
        module: str,
        segments: list[str],
        method: str,
        body: Any,
        sender: Party,
        caller: Partner,
        request: Request,
    ) -> None:
        self.version = version
        self.interface = interface
        self.module = module
        self.segments = segments
        self.method = method
        self.body = body
        self.sender = sender
        self.caller = caller
        self.request = request
        self.params = dict(request.query_params)


def _first_party(partner: Partner) -> Party:
    for role in partner.roles:
        return role.country_code, role.party_id
    raise OcpiError(StatusCode.CLIENT_ERROR, "the calling platform registered no party")


def _role_of(partner: Partner, party: Party) -> str:
    """The role ``party`` plays at ``partner`` (CPO when it plays several, for a push)."""
    roles = {r.role for r in partner.roles if (r.country_code, r.party_id) == party}
    for role in ("CPO", "EMSP"):
        if role in roles:
            return role
    return next(iter(roles), "CPO") if roles & set(RECEIVING_ROLES) else "EMSP"


def _authorization_info(data: dict[str, Any], source: str | None, target: str) -> dict[str, Any]:
    token = data.get("token")
    if not isinstance(token, dict):
        return data
    return {**data, "token": translate("Token", token, source, target)}


def _error(code: StatusCode, message: str) -> Response:
    return JSONResponse(envelope(None, code, message), status_code=200)


def hub_router(hub: Hub) -> APIRouter:
    router = APIRouter(prefix="/hub/{version}", route_class=OcpiRoute)

    async def hosted() -> None:
        if not hub.parties:
            raise OcpiError(StatusCode.CLIENT_ERROR, "this platform hosts no HUB party", 404)

    @router.get("/sender/hubclientinfo", summary="Hub client info: the parties this hub reaches")
    async def list_client_info(version: str, request: Request) -> Response:
        await hosted()
        require_version("hubclientinfo", version)
        await hub.authenticate(request, "hubclientinfo")
        params = dict(request.query_params)
        page = page_request(params, max_limit=hub.max_page_size)
        infos = await hub.client_infos()
        chosen = infos[page.offset : page.offset + page.limit]
        url = str(request.url).split("?", 1)[0]
        return ocpi_response(
            chosen, headers=page_headers(url, params, page, len(chosen), len(infos))
        )

    async def route(
        version: str, interface: str, module: str, request: Request, rest: str = ""
    ) -> Response:
        await hosted()
        return await hub.route(request, version, interface, module, rest)

    # One route per method: one route for several gave them one OpenAPI operationId.
    for routed in ("/{interface}/{module}", "/{interface}/{module}/{rest:path}"):
        for method in ("GET", "PUT", "PATCH", "POST", "DELETE"):
            router.add_api_route(routed, route, methods=[method], summary="Routed")
    return router
