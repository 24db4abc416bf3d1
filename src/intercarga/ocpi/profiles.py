"""OCPI ChargingProfiles: smart charging of a running session, asked by its eMSP (or an SCSP).

CPO (RECEIVER, ``/ocpi/cpo/{version}/chargingprofiles/{session_id}``): PUT a ChargingProfile
becomes OCPP SetChargingProfile (a TxProfile for the session's transaction, on its EVSE); GET
(``?duration=&response_url=``) becomes GetCompositeSchedule, whose schedule comes back as the
ActiveChargingProfile; DELETE clears the profile set for the session. The ChargingProfileResponse
is immediate (ACCEPTED, UNKNOWN_SESSION, NOT_SUPPORTED, REJECTED); the station's answer goes as
ChargingProfileResult / ActiveChargingProfileResult / ClearProfileResult to the ``response_url``
through the outbox, like a command's result (:mod:`.commands`, which runs the OCPP side).

eMSP (SENDER): :meth:`ChargingProfiles.send` asks a CPO (directly or through a hub) with a
response URL of ours, ``/ocpi/emsp/{version}/chargingprofiles/results/{id}``, where the result
is stored; a CPO's PUT of an ActiveChargingProfile it changed on its own is stored too. Records
share the commands table (``SET_PROFILE``, ``GET_PROFILE``, ``CLEAR_PROFILE``,
``ACTIVE_PROFILE``). The OCPI ↔ OCPP translation is pure.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from intercarga import domain
from intercarga.domain._types import utc_now
from intercarga.domain.partner import Partner
from intercarga.errors import InvalidInputError, NotFoundError
from intercarga.ocpi import mapping
from intercarga.ocpi.client import PartnerError
from intercarga.ocpi.commands import Commands
from intercarga.ocpi.envelope import OcpiError, StatusCode
from intercarga.ocpi.models import format_datetime, parse
from intercarga.ocpi.routing import Party, addressed, may_act_for, path, routing_headers
from intercarga.ocpi.sessions import session_token
from intercarga.ocpp.commands import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    ClearChargingProfile,
    Command,
    CompositeScheduleResult,
    GetCompositeSchedule,
    Result,
    SetChargingProfile,
)
from intercarga.store.roaming import CommandRecord

__all__ = [
    "ACTIONS",
    "ChargingProfiles",
    "active_profile",
    "ocpp_profile",
    "profile_number",
    "profile_result",
]

# What the eMSP asks, by HTTP method of the CPO's RECEIVER.
ACTIONS: Mapping[str, str] = {"PUT": "SET_PROFILE", "GET": "GET_PROFILE", "DELETE": "CLEAR_PROFILE"}


def profile_number(session_id: str) -> int:
    """The OCPP charging profile id of a session's profile (the same for the same session)."""
    return zlib.crc32(session_id.encode()) & 0x7FFFFFFF


def ocpp_profile(session: domain.Session, profile: Any) -> ChargingProfile:
    """The OCPP TxProfile for an OCPI ChargingProfile of ``session``."""
    periods = tuple(
        ChargingSchedulePeriod(start=p.start_period, limit=Decimal(str(p.limit)))
        for p in profile.charging_profile_period or ()
    )
    if not periods:
        raise InvalidInputError("a charging profile needs at least one period", "charging_profile")
    start = profile.start_date_time
    schedule = ChargingSchedule(
        unit=ChargingRateUnit(profile.charging_rate_unit.value),
        periods=periods,
        start=start,
        duration=profile.duration,
        min_rate=None
        if profile.min_charging_rate is None
        else Decimal(str(profile.min_charging_rate)),
    )
    return ChargingProfile(
        id=profile_number(session.id),
        stack_level=1,
        purpose=ChargingProfilePurpose.TX,
        kind=ChargingProfileKind.ABSOLUTE if start is not None else ChargingProfileKind.RELATIVE,
        schedules=(schedule,),
        transaction_id=session.transaction_id,
    )


def profile_result(action: str, answer: Result) -> dict[str, Any]:
    """The OCPI result body for the station's answer to ``action``."""
    status = getattr(answer, "status", "Rejected")
    if action == "GET_PROFILE":
        return (
            active_profile(answer)
            if isinstance(answer, CompositeScheduleResult)
            else {"result": "UNKNOWN"}
        )
    if status == "Accepted":
        return {"result": "ACCEPTED"}
    if status == "Unknown":
        return {"result": "UNKNOWN"}
    return {"result": "REJECTED"}


def active_profile(answer: CompositeScheduleResult, now: datetime | None = None) -> dict[str, Any]:
    """An ActiveChargingProfileResult from a composite schedule."""
    schedule = answer.schedule
    if answer.status != "Accepted" or schedule is None:
        return {"result": "REJECTED" if answer.status == "Rejected" else "UNKNOWN"}
    start = schedule.start or now or utc_now()
    profile: dict[str, Any] = {
        "start_date_time": format_datetime(start),
        "charging_rate_unit": schedule.unit.value,
        "charging_profile_period": [
            {"start_period": p.start, "limit": float(p.limit)} for p in schedule.periods
        ],
    }
    if schedule.duration is not None:
        profile["duration"] = schedule.duration
    return {
        "result": "ACCEPTED",
        "profile": {"start_date_time": format_datetime(start), "charging_profile": profile},
    }


def _response(result: str, timeout: int) -> dict[str, Any]:
    return {"result": result, "timeout": timeout}


class ChargingProfiles:
    """Runs on stations through the same seam as :class:`~intercarga.ocpi.commands.Commands`."""

    def __init__(self, commands: Commands) -> None:
        self._commands = commands

    # -- CPO: receiving ---------------------------------------------------------------------
    async def receive(
        self,
        partner: Partner,
        version: str,
        method: str,
        session_id: str,
        cpo: Party,
        *,
        query: Mapping[str, str],
        body: Any,
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        commands = self._commands
        action = ACTIONS[method]
        if method == "PUT":
            request: Any = parse(mapping.model_for(version, "SetChargingProfile"), body)
            response_url = request.response_url
        else:
            response_url = query.get("response_url") or ""
            if not response_url:
                raise OcpiError(StatusCode.INVALID_OR_MISSING_PARAMETERS, "response_url: required")
        duration = 0
        if method == "GET":
            try:
                duration = int(query.get("duration", ""))
            except ValueError:
                raise OcpiError(
                    StatusCode.INVALID_OR_MISSING_PARAMETERS, "duration: a whole number of seconds"
                ) from None
        if commands.stations is None:
            return _response("NOT_SUPPORTED", 0)
        store = commands.store
        session = await store.sessions.find(cpo[0], cpo[1], session_id)
        if (
            session is None
            or session.status is not domain.SessionStatus.ACTIVE
            or session.station_id is None
        ):
            return _response("UNKNOWN_SESSION", 0)
        token = await session_token(store, session)
        if not may_act_for(partner, token.country_code, token.party_id, "EMSP"):
            return _response("UNKNOWN_SESSION", 0)
        found = await commands.stations.station_for_evse(
            cpo[0], cpo[1], session.location_id, session.evse_uid
        )
        evse = found[1] if found else 1
        ocpp: Command
        if method == "PUT":
            try:
                ocpp = SetChargingProfile(evse, ocpp_profile(session, request.charging_profile))
            except InvalidInputError:
                return _response("REJECTED", 0)
        elif method == "GET":
            ocpp = GetCompositeSchedule(evse, duration)
        else:
            ocpp = ClearChargingProfile(profile_id=profile_number(session.id))
        record_id = str(uuid.uuid4())
        response = _response("ACCEPTED", commands.timeout)
        await commands.records.create(
            CommandRecord(
                id=record_id,
                direction="RECEIVED",
                partner_id=partner.id,
                command=action,
                country_code=cpo[0],
                party_id=cpo[1],
                request={"session_id": session_id, **({"body": body} if body else {}), **query},
                response=response,
                response_url=response_url,
            )
        )
        emsp = (token.country_code, token.party_id)
        commands.spawn(
            self._carry_out(partner, record_id, action, session.station_id, ocpp, cpo, emsp),
            name=f"ocpi-profile-{record_id}",
        )
        return response

    async def _carry_out(
        self,
        partner: Partner,
        record_id: str,
        action: str,
        station_id: str,
        ocpp: Command,
        cpo: Party,
        emsp: Party,
    ) -> None:
        outcome, _message = await self._commands.run_on_station(station_id, ocpp)
        if isinstance(outcome, str):
            body: dict[str, Any] = {"result": "UNKNOWN" if outcome == "TIMEOUT" else "REJECTED"}
        else:
            body = profile_result(action, outcome)
        await self._commands.send_result(partner, record_id, "chargingprofiles", body, cpo, emsp)

    # -- eMSP: sending -----------------------------------------------------------------------
    async def send(
        self,
        action: str,
        cpo: Party,
        session_id: str,
        *,
        charging_profile: dict[str, Any] | None = None,
        duration: int | None = None,
    ) -> CommandRecord:
        """Ask a CPO to set, read or clear a session's charging profile."""
        commands = self._commands
        method = {v: k for k, v in ACTIONS.items()}.get(action)
        if method is None:
            raise InvalidInputError(f"unknown action {action}", "action")
        sender = commands.our_emsp()
        partners = await commands.registrar.partners.current()
        target = addressed(partners, cpo, "CPO", "chargingprofiles", "RECEIVER")
        if target is None:
            raise NotFoundError(
                f"no registered partner reaches CPO {cpo[0]}-{cpo[1]} for charging profiles"
            )
        partner = target.partner
        version = partner.version or "2.2.1"
        record_id = str(uuid.uuid4())
        response_url = (
            f"{commands.registrar.base_url}/emsp/{version}/chargingprofiles/results/{record_id}"
        )
        body: dict[str, Any] | None = None
        params: dict[str, str] = {"response_url": response_url}
        if method == "PUT":
            if charging_profile is None:
                raise InvalidInputError("a charging profile is required", "charging_profile")
            body = {"charging_profile": charging_profile, "response_url": response_url}
            try:
                checked = parse(mapping.model_for(version, "SetChargingProfile"), body)
            except ValueError as error:
                raise InvalidInputError(str(error).splitlines()[0], "charging_profile") from None
            body = checked.model_dump(mode="json", exclude_none=True)
            params = {}
        elif method == "GET":
            if duration is None or duration <= 0:
                raise InvalidInputError("a duration in seconds is required", "duration")
            params["duration"] = str(duration)
        await commands.records.create(
            CommandRecord(
                id=record_id,
                direction="SENT",
                partner_id=partner.id,
                command=action,
                country_code=cpo[0],
                party_id=cpo[1],
                request={"session_id": session_id, **({"body": body} if body else {}), **params},
                response_url=response_url,
            )
        )
        base = partner.endpoint("chargingprofiles", "RECEIVER")
        assert base is not None and partner.outgoing_token is not None
        try:
            reply = await commands.client.call_ok(
                method,
                base.rstrip("/") + path(session_id),
                token=partner.outgoing_token,
                raw=partner.raw_token,
                json=body,
                params=params or None,
                headers=routing_headers(sender, cpo),
            )
            response = reply.data if isinstance(reply.data, dict) else {}
        except PartnerError as error:
            response = {"result": "FAILED", "message": str(error)[:255]}
        await commands.records.update(record_id, response=response)
        return await commands.records.get(record_id)

    async def result_received(
        self, partner: Partner, version: str, record_id: str, body: Any
    ) -> None:
        record = await self._commands.records.find(record_id)
        if record is None or record.direction != "SENT" or record.partner_id != partner.id:
            raise OcpiError(StatusCode.CLIENT_ERROR, f"unknown request {record_id}", 404)
        name = {
            "SET_PROFILE": "ChargingProfileResult",
            "GET_PROFILE": "ActiveChargingProfileResult",
            "CLEAR_PROFILE": "ClearProfileResult",
        }[record.command]
        result: Any = parse(mapping.model_for(version, name), body)
        await self._commands.records.update(
            record_id, result=result.model_dump(mode="json", exclude_none=True)
        )

    async def active_profile_received(
        self, partner: Partner, version: str, session_id: str, body: Any, cpo: Party
    ) -> None:
        """A CPO changed a session's profile on its own and tells us (the eMSP's PUT)."""
        profile: Any = parse(mapping.model_for(version, "ActiveChargingProfile"), body)
        await self._commands.records.create(
            CommandRecord(
                id=str(uuid.uuid4()),
                direction="RECEIVED",
                partner_id=partner.id,
                command="ACTIVE_PROFILE",
                country_code=cpo[0],
                party_id=cpo[1],
                request={"session_id": session_id},
                result=profile.model_dump(mode="json", exclude_none=True),
            )
        )
