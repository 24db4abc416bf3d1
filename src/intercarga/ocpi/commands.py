"""OCPI Commands: a CPO runs an eMSP's START_SESSION, STOP_SESSION, RESERVE_NOW,
CANCEL_RESERVATION and UNLOCK_CONNECTOR on its stations; an eMSP sends them and reads results.

CPO (RECEIVER): the request is checked at once and answered with a CommandResponse (ACCEPTED,
REJECTED, UNKNOWN_SESSION, NOT_SUPPORTED); an accepted command then runs as an OCPP command on
the station (through the CSMS's ``run_command``) in a tracked task, and the station's real answer
(or its silence: TIMEOUT, or its absence: FAILED) is POSTed as a CommandResult to the eMSP's
``response_url`` through the outbox, so a result is not lost when the eMSP is briefly down.
Tokens that come with a command are cached like pushed tokens, so the session and its CDR name
the eMSP. Every command received is recorded (``ocpi_commands``, direction RECEIVED).

eMSP (SENDER): :meth:`Commands.send` POSTs a command to the CPO (directly, or through a hub
addressed to it) with a ``response_url`` of ours carrying a fresh id, records it (direction
SENT) with the CPO's CommandResponse, and :meth:`Commands.result_received` stores the
CommandResult when it comes.

The OCPI ↔ OCPP translation (:func:`ocpp_command`, :func:`command_result`) is pure.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from collections.abc import Coroutine, Mapping
from datetime import datetime
from typing import Any, Protocol

from intercarga import domain
from intercarga.config import Settings
from intercarga.domain.partner import Partner
from intercarga.errors import IntercargaError, InvalidInputError, NotFoundError
from intercarga.ocpi import mapping, storing
from intercarga.ocpi.client import OcpiClient, PartnerError
from intercarga.ocpi.envelope import OcpiError, StatusCode
from intercarga.ocpi.models import format_datetime, parse
from intercarga.ocpi.outbox import Outbox
from intercarga.ocpi.registrar import Registrar
from intercarga.ocpi.routing import (
    Party,
    addressed,
    may_act_for,
    our_parties,
    path,
    routing_headers,
)
from intercarga.ocpi.sessions import session_token
from intercarga.ocpp.commands import (
    CancelReservation,
    Command,
    RemoteStart,
    RemoteStop,
    ReserveNow,
    Result,
    UnlockConnector,
)
from intercarga.ocpp.errors import CallTimeoutError, StationOfflineError
from intercarga.ocpp.events import IdToken
from intercarga.store import Store
from intercarga.store.roaming import CommandRecord, CommandRepository, OutboxEntry

__all__ = [
    "COMMAND_MODELS",
    "ChargingStations",
    "Commands",
    "command_result",
    "ocpp_command",
    "ocpp_id_token",
    "reservation_number",
]

log = logging.getLogger(__name__)

COMMAND_MODELS: Mapping[str, str] = {
    "START_SESSION": "StartSession",
    "STOP_SESSION": "StopSession",
    "RESERVE_NOW": "ReserveNow",
    "CANCEL_RESERVATION": "CancelReservation",
    "UNLOCK_CONNECTOR": "UnlockConnector",
}


class ChargingStations(Protocol):
    """What the CSMS offers roaming: run a command on a station; find a Location EVSE's station."""

    async def run_command(self, station_id: str, command: Command) -> Result: ...

    async def station_for_evse(
        self, country_code: str, party_id: str, location_id: str, evse_uid: str
    ) -> tuple[str, int] | None: ...


# -- pure translation --------------------------------------------------------------------------
def reservation_number(reservation_id: str) -> int:
    """OCPP's integer reservation id for OCPI's string one (the same for the same string)."""
    if reservation_id.isdigit() and int(reservation_id) < 2**31:
        return int(reservation_id)
    return zlib.crc32(reservation_id.encode()) & 0x7FFFFFFF


def ocpp_id_token(token: domain.Token) -> IdToken:
    """The OCPP id token a station is given for an OCPI token."""
    kind = {
        domain.TokenType.RFID: "ISO14443",
        domain.TokenType.APP_USER: "Central",
        domain.TokenType.AD_HOC_USER: "Central",
        domain.TokenType.EMAID: "eMAID",
    }.get(token.type, "Central")
    return IdToken(token.uid, kind)


def _connector_number(connector_id: str) -> int:
    return int(connector_id) if connector_id.isdigit() and 0 < int(connector_id) < 100 else 1


def ocpp_command(
    command: str,
    request: Any,
    *,
    evse: int | None,
    token: domain.Token | None = None,
    transaction_id: str | None = None,
    remote_start_id: int = 1,
) -> Command:
    """The OCPP command for a parsed OCPI command request."""
    if command == "START_SESSION":
        assert token is not None
        return RemoteStart(ocpp_id_token(token), evse=evse, remote_start_id=remote_start_id)
    if command == "STOP_SESSION":
        assert transaction_id is not None
        return RemoteStop(transaction_id)
    if command == "RESERVE_NOW":
        assert token is not None
        return ReserveNow(
            reservation_number(request.reservation_id),
            request.expiry_date,
            ocpp_id_token(token),
            evse=evse,
        )
    if command == "CANCEL_RESERVATION":
        return CancelReservation(reservation_number(request.reservation_id))
    if command == "UNLOCK_CONNECTOR":
        assert evse is not None
        return UnlockConnector(evse, _connector_number(request.connector_id))
    raise InvalidInputError(f"unknown command {command}", "command")


_RESULTS = {
    "Accepted": "ACCEPTED",
    "Unlocked": "ACCEPTED",
    "Rejected": "REJECTED",
    "Occupied": "EVSE_OCCUPIED",
    "Faulted": "EVSE_INOPERATIVE",
    "Unavailable": "EVSE_INOPERATIVE",
    "UnlockFailed": "FAILED",
    "OngoingAuthorizedTransaction": "REJECTED",
    "UnknownConnector": "NOT_SUPPORTED",
    "NotSupported": "NOT_SUPPORTED",
}


def command_result(command: str, status: str) -> str:
    """The OCPI CommandResultType for an OCPP answer's status word."""
    if command == "CANCEL_RESERVATION" and status == "Rejected":
        return "UNKNOWN_RESERVATION"
    return _RESULTS.get(status, "FAILED")


def _text(message: str) -> list[dict[str, str]]:
    return [{"language": "en", "text": message[:512]}]


def _response(result: str, timeout: int, message: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"result": result, "timeout": timeout}
    if message:
        body["message"] = _text(message)
    return body


# -- the service -------------------------------------------------------------------------------
class Commands:
    # Collaborators come through __init__ only: no attribute can be added (or patched in) later.
    __slots__ = (
        "_outbox",
        "_settings",
        "_starts",
        "_stations",
        "_tasks",
        "client",
        "records",
        "registrar",
        "store",
    )

    def __init__(
        self,
        settings: Settings,
        store: Store,
        registrar: Registrar,
        client: OcpiClient,
        outbox: Outbox,
        records: CommandRepository,
        *,
        stations: ChargingStations | None = None,
    ) -> None:
        self._settings = settings
        self.store = store
        self.registrar = registrar
        self.client = client
        self._outbox = outbox
        self.records = records
        self._stations = stations
        self._tasks: set[asyncio.Task[None]] = set()
        self._starts = 0

    @property
    def stations(self) -> ChargingStations | None:
        """The CSMS's stations, given at construction; None where no CSMS runs beside roaming."""
        return self._stations

    @property
    def timeout(self) -> int:
        """Seconds the partner should wait for a result."""
        return int(self._settings.ocpp.call_timeout * 2)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_idle(self) -> None:
        """Wait for the commands running on stations (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- CPO: receiving ---------------------------------------------------------------------
    async def receive(
        self,
        partner: Partner,
        version: str,
        command: str,
        body: Any,
        cpo: Party,
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        """Check a command and answer its CommandResponse; run it on the station when accepted."""
        name = COMMAND_MODELS.get(command)
        if name is None:
            raise OcpiError(StatusCode.CLIENT_ERROR, f"unknown command {command}", 404)
        request: Any = parse(mapping.model_for(version, name), body)
        store = self.store
        token: domain.Token | None = None
        if hasattr(request, "token"):
            token = mapping.token_to_domain(request.token)
            if not may_act_for(partner, token.country_code, token.party_id, "EMSP"):
                raise OcpiError(
                    StatusCode.CLIENT_ERROR,
                    f"token.country_code: {token.country_code}-{token.party_id}"
                    " is not an eMSP you registered",
                )
        if self.stations is None:
            return _response("NOT_SUPPORTED", 0, "no stations are connected to this platform")
        record_id = str(uuid.uuid4())
        station: tuple[str, int | None] | None
        transaction_id = None
        if command == "STOP_SESSION":
            session = await store.sessions.find(cpo[0], cpo[1], request.session_id)
            if (
                session is None
                or session.status is not domain.SessionStatus.ACTIVE
                or session.station_id is None
                or session.transaction_id is None
                or not await self._session_of(partner, session)
            ):
                return _response("UNKNOWN_SESSION", 0, f"no active session {request.session_id}")
            station = (session.station_id, None)
            transaction_id = session.transaction_id
        elif command == "CANCEL_RESERVATION":
            reserved = await self.records.find(_reservation_record(cpo, request.reservation_id))
            if reserved is None:
                return _response("REJECTED", 0, f"unknown reservation {request.reservation_id}")
            station = (reserved.request["station_id"], None)
        else:
            found = await self._station(cpo, request)
            if isinstance(found, str):
                return _response("REJECTED", 0, found)
            station = found
        if command == "RESERVE_NOW":
            # Kept under an id derived from the reservation, so a later cancel finds its station
            # (a new reservation under the same id replaces the old one, as OCPI says).
            record_id = _reservation_record(cpo, request.reservation_id)
            await self.records.remove(record_id)
        if token is not None:
            await storing.put(store.tokens, token)
        self._starts += 1
        ocpp = ocpp_command(
            command,
            request,
            evse=station[1],
            token=token,
            transaction_id=transaction_id,
            remote_start_id=self._starts,
        )
        response = _response("ACCEPTED", self.timeout)
        await self.records.create(
            CommandRecord(
                id=record_id,
                direction="RECEIVED",
                partner_id=partner.id,
                command=command,
                country_code=cpo[0],
                party_id=cpo[1],
                request={
                    **request.model_dump(mode="json", exclude_none=True),
                    "station_id": station[0],
                },
                response=response,
                response_url=request.response_url,
            )
        )
        emsp = _from_party(headers) or (
            (token.country_code, token.party_id) if token else _first_emsp(partner)
        )
        self.spawn(
            self._carry_out(partner, record_id, command, station[0], ocpp, cpo, emsp),
            name=f"ocpi-command-{record_id}",
        )
        return response

    async def _session_of(self, partner: Partner, session: domain.Session) -> bool:
        token = await session_token(self.store, session)
        return may_act_for(partner, token.country_code, token.party_id, "EMSP")

    async def _station(self, cpo: Party, request: Any) -> tuple[str, int | None] | str:
        """The station (and OCPP EVSE) a command names; a reason to refuse when there is none."""
        assert self.stations is not None
        location = await self.store.locations.find(cpo[0], cpo[1], request.location_id)
        if location is None:
            return f"unknown location {request.location_id}"
        wanted = getattr(request, "evse_uid", None)
        candidates = [
            e for e in location.evses if wanted is None or e.uid.upper() == wanted.upper()
        ]
        if not candidates:
            return f"unknown EVSE {wanted} at location {request.location_id}"
        # Without an EVSE named, the first available one served by a station.
        candidates.sort(key=lambda e: e.status is not domain.EVSEStatus.AVAILABLE)
        for evse in candidates:
            found = await self.stations.station_for_evse(cpo[0], cpo[1], location.id, evse.uid)
            if found is not None:
                return found
        return f"no station serves {wanted or 'an EVSE'} at location {request.location_id}"

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` in a task this service tracks (awaited or cancelled at stop)."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run_on_station(
        self, station_id: str, ocpp: Command
    ) -> tuple[Result | str, str | None]:
        """The station's answer, or FAILED / TIMEOUT with why when there is none."""
        assert self.stations is not None
        try:
            return await self.stations.run_command(station_id, ocpp), None
        except StationOfflineError:
            return "FAILED", "the station is offline"
        except CallTimeoutError:
            return "TIMEOUT", "the station did not answer"
        except IntercargaError as error:
            return "FAILED", str(error)
        except Exception:
            log.exception("OCPI request %s on %s failed", type(ocpp).__name__, station_id)
            return "FAILED", "internal error"

    async def send_result(
        self,
        partner: Partner,
        record_id: str,
        module: str,
        body: dict[str, Any],
        cpo: Party,
        emsp: Party,
    ) -> None:
        """Record the result and POST it to the record's response URL through the outbox."""
        await self.records.update(record_id, result=body)
        record = await self.records.get(record_id)
        log.info(
            "OCPI %s on %s: %s",
            record.command,
            record.request.get("station_id", ""),
            body.get("result"),
            extra={"partner": partner.id},
        )
        await self._outbox.enqueue(
            [
                OutboxEntry(
                    partner_id=partner.id,
                    module=module,
                    method="POST",
                    path="",
                    url=record.response_url,
                    object_key=f"{module}/{record_id}",
                    kind="raw",
                    payload=body,
                    interface="SENDER",
                    headers=routing_headers(cpo, emsp),
                    correlation_id=str(uuid.uuid4()),
                )
            ]
        )

    async def _carry_out(
        self,
        partner: Partner,
        record_id: str,
        command: str,
        station_id: str,
        ocpp: Command,
        cpo: Party,
        emsp: Party,
    ) -> None:
        answer, message = await self.run_on_station(station_id, ocpp)
        if isinstance(answer, str):
            result = answer
        else:
            result = command_result(command, getattr(answer, "status", "Rejected"))
            message = getattr(answer, "reason", None)
        body: dict[str, Any] = {"result": result}
        if message:
            body["message"] = _text(message)
        await self.send_result(partner, record_id, "commands", body, cpo, emsp)

    def our_emsp(self) -> Party:
        ours = sorted(our_parties(self._settings, "EMSP"))
        if not ours:
            raise InvalidInputError("this platform hosts no eMSP party", "command")
        return ours[0]

    # -- eMSP: sending ------------------------------------------------------------------------
    async def send(
        self,
        command: str,
        cpo: Party,
        *,
        emsp: Party | None = None,
        token_uid: str | None = None,
        location_id: str | None = None,
        evse_uid: str | None = None,
        connector_id: str | None = None,
        session_id: str | None = None,
        reservation_id: str | None = None,
        expiry_date: datetime | None = None,
    ) -> CommandRecord:
        """Send a command to a CPO for one of our eMSP's tokens; the record with its response."""
        if command not in COMMAND_MODELS:
            raise InvalidInputError(f"unknown command {command}", "command")
        sender = emsp or self.our_emsp()
        partners = await self.registrar.partners.current()
        target = addressed(partners, cpo, "CPO", "commands", "RECEIVER")
        if target is None:
            raise NotFoundError(f"no registered partner reaches CPO {cpo[0]}-{cpo[1]} for commands")
        partner = target.partner
        version = partner.version or "2.2.1"
        record_id = str(uuid.uuid4())
        response_url = f"{self.registrar.base_url}/emsp/{version}/commands/{command}/{record_id}"
        body: dict[str, Any] = {"response_url": response_url}
        if command in ("START_SESSION", "RESERVE_NOW"):
            if token_uid is None:
                raise InvalidInputError("a token uid is required", "token_uid")
            token = await self.store.tokens.find(sender[0], sender[1], token_uid)
            if token is None:
                raise NotFoundError(f"token {sender[0]}-{sender[1]}-{token_uid} not found")
            body["token"] = mapping.token_to_ocpi(token, version)
        fields = {
            "location_id": location_id,
            "evse_uid": evse_uid,
            "connector_id": connector_id,
            "session_id": session_id,
            "reservation_id": reservation_id,
            "expiry_date": None if expiry_date is None else format_datetime(expiry_date),
        }
        body.update({k: v for k, v in fields.items() if v is not None})
        try:
            checked = parse(mapping.model_for(version, COMMAND_MODELS[command]), body)
        except ValueError as error:
            raise InvalidInputError(str(error).splitlines()[0], "command") from None
        body = checked.model_dump(mode="json", exclude_none=True)
        record = CommandRecord(
            id=record_id,
            direction="SENT",
            partner_id=partner.id,
            command=command,
            country_code=cpo[0],
            party_id=cpo[1],
            request=body,
            response_url=response_url,
        )
        # Stored before the POST: the CPO may answer at the response URL before it returns.
        await self.records.create(record)
        base = partner.endpoint("commands", "RECEIVER")
        assert base is not None and partner.outgoing_token is not None
        try:
            reply = await self.client.call_ok(
                "POST",
                base.rstrip("/") + path(command),
                token=partner.outgoing_token,
                raw=partner.raw_token,
                json=body,
                headers=routing_headers(sender, cpo),
            )
            response = reply.data if isinstance(reply.data, dict) else {}
        except PartnerError as error:
            response = {"result": "FAILED", "message": _text(str(error))}
        await self.records.update(record_id, response=response)
        return await self.records.get(record_id)

    async def result_received(
        self, partner: Partner, version: str, command: str, record_id: str, body: Any
    ) -> None:
        """A CPO's CommandResult for a command we sent (repeats overwrite with the same)."""
        record = await self.records.find(record_id)
        if record is None or record.direction != "SENT" or record.command != command:
            raise OcpiError(StatusCode.CLIENT_ERROR, f"unknown command {record_id}", 404)
        if record.partner_id != partner.id:
            raise OcpiError(StatusCode.CLIENT_ERROR, "this command was not sent to you", 404)
        result: Any = parse(mapping.model_for(version, "CommandResult"), body)
        await self.records.update(
            record_id, result=result.model_dump(mode="json", exclude_none=True)
        )
        log.info("OCPI %s %s: %s", command, record_id, result.result.value)


def _reservation_record(cpo: Party, reservation_id: str) -> str:
    return "r" + uuid.uuid5(uuid.NAMESPACE_URL, f"{cpo[0]}{cpo[1]}/{reservation_id}").hex[:32]


def _from_party(headers: Mapping[str, str]) -> Party | None:
    country, party = headers.get("ocpi-from-country-code"), headers.get("ocpi-from-party-id")
    return (country.upper(), party.upper()) if country and party else None


def _first_emsp(partner: Partner) -> Party:
    for role in partner.roles:
        if role.role == "EMSP":
            return role.country_code, role.party_id
    first = partner.roles[0] if partner.roles else None
    return (first.country_code, first.party_id) if first else ("ZZ", "ZZZ")
