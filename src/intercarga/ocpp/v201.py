"""OCPP 2.0.1 ↔ version-free events and commands; OCPP 2.1 reuses all of it (:mod:`.v21`).

2.0.1 already speaks the vocabulary of :mod:`~intercarga.ocpp.events`: EVSE and connector
numbers, ConnectorStatus, ChargingState, AuthorizationStatus and ReasonEnumType are taken as
they are. What this adapter adds:

* One TransactionEvent becomes :class:`~intercarga.ocpp.events.TransactionStarted`,
  ``Updated`` or ``Ended`` by its eventType, keeping ``seqNo`` and ``offline`` for the
  transaction state machine, and the energy register reading of the Started / Ended event as
  ``meter_start`` / ``meter_stop``.
* Sampled values are numbers with a unitOfMeasure (unit and power-of-ten multiplier): they become
  domain meter values in base units; a signedMeterValue is kept verbatim beside its reading.
* Station messages without a version-free model yet (NotifyEvent, NotifyChargingLimit, …)
  become :class:`~intercarga.ocpp.events.StationMessage` and get the neutral answer of
  :meth:`V201Adapter.neutral_response`.
* A command becomes its CALLs through ``_BUILDERS``, a table from each version-free command type
  to a small builder, shaped as in :mod:`.v16`; :meth:`V201Adapter.command` only looks it up. A
  builder is given the adapter's version: 2.1 shares the table and refuses in its own name.

This module must never do I/O or keep state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Final, TypeVar

from intercarga.domain.session import MeterValue, SignedMeterValue
from intercarga.domain.station import OcppVersion
from intercarga.errors import InvalidInputError
from intercarga.ocpp.actions import STATION_TO_CSMS
from intercarga.ocpp.commands import (
    COMMANDS,
    CancelReservation,
    CertificateSigned,
    CertificateUse,
    ChangeAvailability,
    ChargingProfile,
    ChargingRateUnit,
    ChargingSchedulePeriod,
    ClearCache,
    ClearChargingProfile,
    Command,
    CommandResult,
    CompositeSchedule,
    CompositeScheduleResult,
    CustomerInformation,
    DataTransfer,
    DataTransferResult,
    DeleteCertificate,
    DeviceVariable,
    GetBaseReport,
    GetCompositeSchedule,
    GetInstalledCertificateIds,
    GetLocalListVersion,
    GetLog,
    GetTransactionStatus,
    GetVariables,
    InstallCertificate,
    InstalledCertificate,
    InstalledCertificatesResult,
    LocalListVersionResult,
    LogResult,
    OutgoingCall,
    RemoteStart,
    RemoteStartResult,
    RemoteStop,
    ReserveNow,
    Reset,
    Result,
    SendLocalList,
    SetChargingProfile,
    SetNetworkProfile,
    SetVariables,
    TransactionStatusResult,
    TriggeredMessage,
    TriggerMessage,
    UnlockConnector,
    UpdateFirmware,
    VariableResult,
    VariablesResult,
)
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.events import (
    Acknowledgement,
    AuthorizationRequested,
    AuthorizationResult,
    BootDecision,
    BootReason,
    CertificateSigningRequested,
    ChargingState,
    ConnectorStatus,
    DataTransferDecision,
    DataTransferReceived,
    Decision,
    DiagnosticsStatusChanged,
    FirmwareStatusChanged,
    Heartbeat,
    HeartbeatDecision,
    IdToken,
    MeterValuesReported,
    OpaquePayload,
    ReportedVariable,
    ReportReceived,
    ReservationStatusChanged,
    SecurityEventReported,
    SigningDecision,
    StationBooted,
    StationEvent,
    StationMessage,
    StatusChanged,
    StopReason,
    TransactionDecision,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from intercarga.ocpp.payloads import Payload
from intercarga.ocpp.v16 import CONFIGURATION_KEYS
from intercarga.ocpp.version_adapter import (
    ENERGY_REGISTER,
    VersionAdapter,
    format_time,
    hash_data_payload,
    json_number,
    meter_value,
    parse_decimal,
    parse_time,
    read_hash_data,
    read_struct,
    signed_meter_value,
    skip_sample,
    unsupported,
)

__all__ = ["V201Adapter"]

# The id token type a command uses when the caller did not give one: a token the CSMS hands to a
# station for a remote start or reservation is its own ("Central"); a local list holds cards.
_COMMAND_TOKEN_TYPE: Final = "Central"
_LIST_TOKEN_TYPE: Final = "ISO14443"


_E = TypeVar("_E", ConnectorStatus, ChargingState, StopReason, BootReason)


def _enum(kind: type[_E], value: str | None, field: str, *, required: bool = True) -> _E | None:
    """``value`` as a member of ``kind``, None when absent.

    A value outside the enumeration (only a lenient station gets that far) is None when the fact
    stands without it (``required`` False), else a PropertyConstraintViolation.
    """
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        if not required:
            return None
        raise CallError(
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            f"unknown {field} {value!r}",
            {"field": field},
        ) from None


def _id_token(data: Mapping[str, Any] | None) -> IdToken | None:
    return IdToken(data["idToken"], data["type"]) if data else None


def _token(token: IdToken, default_type: str) -> dict[str, Any]:
    return {"idToken": token.value, "type": token.type or default_type}


def _id_token_info(result: AuthorizationResult) -> dict[str, Any]:
    """The IdTokenInfoType of ``result``."""
    info: dict[str, Any] = {"status": result.status.value}
    if result.expiry is not None:
        info["cacheExpiryDateTime"] = format_time(result.expiry)
    if result.group_id is not None:
        info["groupIdToken"] = {"idToken": result.group_id, "type": _COMMAND_TOKEN_TYPE}
    return info


def _reason(answer: Mapping[str, Any]) -> str | None:
    info = answer.get("statusInfo")
    if not info:
        return None
    extra = info.get("additionalInfo")
    return f"{info['reasonCode']}: {extra}" if extra else info["reasonCode"]


def _drop_none(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _readings(groups: Sequence[Any]) -> tuple[tuple[MeterValue, ...], tuple[SignedMeterValue, ...]]:
    """The meter values of MeterValueType Structs (see :mod:`~intercarga.ocpp.payloads`)."""
    values: list[MeterValue] = []
    signed: list[SignedMeterValue] = []
    for group in groups:
        timestamp = parse_time(group.timestamp)
        for sample in group.sampled_value:
            measurand = sample.measurand
            number = parse_decimal(sample.value)
            if number is None:
                skip_sample("value is not a number", sample)
                continue
            unit = sample.unit_of_measure
            values.append(
                meter_value(
                    timestamp,
                    number,
                    measurand=measurand,
                    unit=None if unit is None else unit.unit,
                    multiplier=0 if unit is None or unit.multiplier is None else unit.multiplier,
                    phase=sample.phase,
                    context=sample.context,
                    location=sample.location,
                )
            )
            proof = sample.signed_meter_value
            if proof is not None:
                reading = signed_meter_value(
                    timestamp,
                    proof.signed_meter_data,
                    measurand=measurand,
                    signing_method=proof.signing_method,
                    encoding_method=proof.encoding_method,
                    public_key=proof.public_key,
                )
                if reading is not None:
                    signed.append(reading)
    return tuple(values), tuple(signed)


def _register(values: Sequence[MeterValue], context: str) -> Decimal | None:
    """The energy register reading of a start or end: the one in ``context``, else any."""
    registers = [v for v in values if v.measurand == ENERGY_REGISTER and v.phase is None]
    preferred = [v for v in registers if v.context == context]
    chosen = preferred or registers
    if not chosen:
        return None
    return chosen[0].value if context == "Transaction.Begin" else chosen[-1].value


class V201Adapter(VersionAdapter):
    """OCPP 2.0.1 (and, through :class:`~intercarga.ocpp.v21.V21Adapter`, 2.1)."""

    version: ClassVar[OcppVersion] = OcppVersion.V201
    numbers_connectors: ClassVar[bool] = True

    # -- station → CSMS ------------------------------------------------------------------------

    def event(self, action: str, payload: Mapping[str, Any] | Payload) -> StationEvent:
        event = read_struct(self.version, action, payload, _PAYLOAD_READERS)
        if event is not None:
            return event
        assert not isinstance(payload, Payload)  # only the hot messages come as Structs
        reader = _READERS.get(action)
        if reader is not None:
            return reader(payload)
        if action in STATION_TO_CSMS[self.version]:
            return StationMessage(action, OpaquePayload(payload))
        raise CallError(
            ErrorCode.NOT_SUPPORTED,
            f"{action} is not sent by an OCPP {self.version.value.removeprefix('ocpp')} station",
        )

    def response(self, event: StationEvent, decision: Decision | None = None) -> dict[str, Any]:
        match event, decision:
            case StationBooted(), BootDecision():
                answer: dict[str, Any] = {
                    "currentTime": format_time(decision.current_time),
                    "interval": decision.interval,
                    "status": decision.status.value,
                }
                if decision.reason:
                    answer["statusInfo"] = {"reasonCode": decision.reason[:20]}
                return answer
            case Heartbeat(), HeartbeatDecision():
                return {"currentTime": format_time(decision.current_time)}
            case AuthorizationRequested(), AuthorizationResult():
                return {"idTokenInfo": _id_token_info(decision)}
            case TransactionStarted() | TransactionUpdated() | TransactionEnded(), _:
                return self._transaction_response(event, decision)
            case DataTransferReceived(), DataTransferDecision():
                return _drop_none({"status": decision.status.value, "data": decision.data})
            case CertificateSigningRequested(), SigningDecision():
                return {"status": "Accepted" if decision.accepted else "Rejected"}
            case StationMessage(), None | Acknowledgement():
                return self.neutral_response(event.action, event.payload.for_answer())
            case (
                (
                    StatusChanged()
                    | MeterValuesReported()
                    | FirmwareStatusChanged()
                    | DiagnosticsStatusChanged()
                    | SecurityEventReported()
                    | ReportReceived()
                    | ReservationStatusChanged()
                ),
                None | Acknowledgement(),
            ):
                return {}
        raise TypeError(f"{type(decision).__name__} does not answer {type(event).__name__}")

    def _transaction_response(
        self,
        event: TransactionStarted | TransactionUpdated | TransactionEnded,
        decision: Decision | None,
    ) -> dict[str, Any]:
        if decision is None or isinstance(decision, Acknowledgement):
            decision = TransactionDecision()
        if not isinstance(decision, TransactionDecision):
            raise TypeError(f"{type(decision).__name__} does not answer a transaction event")
        answer: dict[str, Any] = {}
        if decision.authorization is not None:
            answer["idTokenInfo"] = _id_token_info(decision.authorization)
        elif event.id_token is not None:
            # 2.0.1 E01.FR.09 etc.: the answer carries idTokenInfo whenever the event had a token.
            raise ValueError("a transaction event with an id token needs an authorization result")
        if decision.total_cost is not None:
            answer["totalCost"] = json_number(decision.total_cost)
        return answer

    def neutral_response(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The answer to a station message nothing decides on: received, nothing granted.

        Raises :class:`CallError` NotSupported for a message that cannot be answered without a
        decision (the station then sees the RPC error OCPP-J prescribes for it).
        """
        if action in _NOT_SUPPORTED:
            raise CallError(ErrorCode.NOT_SUPPORTED, f"{action} is not supported by this CSMS")
        return dict(_NEUTRAL.get(action, {}))

    # -- CSMS → station ------------------------------------------------------------------------

    def command(self, command: Command) -> tuple[OutgoingCall, ...]:
        builder = _BUILDERS.get(type(command))
        if builder is None:
            raise unsupported(self.version, f"carry out {type(command).__name__}")
        return builder(command, self.version)

    def result(self, command: Command, answers: Sequence[Mapping[str, Any]]) -> Result:
        if not answers:
            raise ValueError("a command result needs the station's answer")
        answer = answers[0]
        match command:
            case RemoteStart():
                return RemoteStartResult(
                    answer["status"], _reason(answer), answer.get("transactionId")
                )
            case GetVariables():
                return VariablesResult(
                    tuple(
                        self._variable_result(command.variables, entry, "attributeValue")
                        for entry in answer["getVariableResult"]
                    )
                )
            case SetVariables():
                asked = tuple(variable for variable, _ in command.values)
                return VariablesResult(
                    tuple(
                        self._variable_result(asked, entry, None)
                        for entry in answer["setVariableResult"]
                    )
                )
            case GetLocalListVersion():
                return LocalListVersionResult(answer["versionNumber"])
            case GetCompositeSchedule():
                schedule = answer.get("schedule")
                if schedule is None:
                    return CompositeScheduleResult(answer["status"], _reason(answer))
                return CompositeScheduleResult(
                    answer["status"],
                    _reason(answer),
                    CompositeSchedule(
                        evse=schedule["evseId"],
                        start=parse_time(schedule["scheduleStart"]),
                        duration=schedule["duration"],
                        unit=ChargingRateUnit(schedule["chargingRateUnit"]),
                        periods=tuple(
                            ChargingSchedulePeriod(
                                period["startPeriod"],
                                Decimal(str(period["limit"])),
                                period.get("numberPhases"),
                            )
                            for period in schedule["chargingSchedulePeriod"]
                        ),
                    ),
                )
            case GetLog():
                return LogResult(answer["status"], _reason(answer), answer.get("filename"))
            case DataTransfer():
                return DataTransferResult(answer["status"], _reason(answer), answer.get("data"))
            case GetTransactionStatus():
                return TransactionStatusResult(
                    answer["messagesInQueue"], answer.get("ongoingIndicator")
                )
            case GetInstalledCertificateIds():
                return InstalledCertificatesResult(
                    answer["status"],
                    tuple(
                        InstalledCertificate(
                            CertificateUse(chain["certificateType"]),
                            read_hash_data(chain["certificateHashData"]),
                            tuple(
                                read_hash_data(child)
                                for child in chain.get("childCertificateHashData", ())
                            ),
                        )
                        for chain in answer.get("certificateHashDataChain", ())
                    ),
                    _reason(answer),
                )
        return CommandResult(answer["status"], _reason(answer))

    def _variable_result(
        self,
        asked: Sequence[DeviceVariable],
        entry: Mapping[str, Any],
        value_key: str | None,
    ) -> VariableResult:
        component = entry["component"]
        variable = entry["variable"]
        evse = component.get("evse") or {}
        reported = DeviceVariable(
            component["name"],
            variable["name"],
            component.get("instance"),
            variable.get("instance"),
            evse.get("id"),
            evse.get("connectorId"),
            entry.get("attributeType"),
        )
        # Answer with the caller's own DeviceVariable when it is the one asked about.
        key = _variable_key(reported)
        match = next(
            (candidate for candidate in asked if _variable_key(candidate) == key), reported
        )
        value = entry.get(value_key) if value_key else None
        return VariableResult(match, entry["attributeStatus"], value)


def _variable_key(variable: DeviceVariable) -> tuple[object, ...]:
    """What identifies a variable on a 2.x station; a 1.6 key resolves to its 2.0.1 twin."""
    component, name = variable.component, variable.variable
    if component is None:
        component, name = CONFIGURATION_KEYS.get(name, ("", name))
    return (
        component,
        name,
        variable.component_instance,
        variable.variable_instance,
        variable.evse,
        variable.connector,
    )


# --- readers ----------------------------------------------------------------------------------


def _boot(payload: Mapping[str, Any]) -> StationBooted:
    station = payload["chargingStation"]
    modem = station.get("modem") or {}
    return StationBooted(
        vendor=station["vendorName"],
        model=station["model"],
        reason=_enum(BootReason, payload["reason"], "reason", required=False) or BootReason.UNKNOWN,
        serial_number=station.get("serialNumber"),
        firmware_version=station.get("firmwareVersion"),
        iccid=modem.get("iccid"),
        imsi=modem.get("imsi"),
    )


def _status(payload: Any) -> StatusChanged:
    return StatusChanged(
        evse=payload.evse_id,
        connector=payload.connector_id,
        status=_enum(ConnectorStatus, payload.connector_status, "connectorStatus")
        or ConnectorStatus.UNAVAILABLE,
        timestamp=parse_time(payload.timestamp),
    )


def _authorize(payload: Mapping[str, Any]) -> AuthorizationRequested:
    token = _id_token(payload["idToken"])
    assert token is not None
    return AuthorizationRequested(token)


def _transaction(payload: Any) -> StationEvent:
    info = payload.transaction_info
    evse = payload.evse
    token = payload.id_token
    values, signed = _readings(payload.meter_value or ())
    common: dict[str, Any] = {
        "timestamp": parse_time(payload.timestamp),
        "evse": None if evse is None else evse.id,
        "connector": None if evse is None else evse.connector_id,
        "id_token": None if token is None else IdToken(token.id_token, token.type),
        "seq_no": payload.seq_no,
        "offline": False if payload.offline is None else payload.offline,
        "trigger": payload.trigger_reason,
        "charging_state": _enum(
            ChargingState, info.charging_state, "chargingState", required=False
        ),
        "meter_values": values,
        "signed_meter_values": signed,
    }
    match payload.event_type:
        case "Started":
            return TransactionStarted(
                transaction_id=info.transaction_id,
                meter_start=_register(values, "Transaction.Begin"),
                reservation_id=payload.reservation_id,
                remote_start_id=info.remote_start_id,
                **common,
            )
        case "Ended":
            reason = info.stopped_reason
            return TransactionEnded(
                transaction_id=info.transaction_id,
                meter_stop=_register(values, "Transaction.End"),
                # stoppedReason may be left out only when it is Local.
                stop_reason=_enum(
                    StopReason,
                    "Local" if reason is None else reason,
                    "stoppedReason",
                    required=False,
                )
                or StopReason.OTHER,
                **common,
            )
        case "Updated":
            return TransactionUpdated(
                transaction_id=info.transaction_id,
                remote_start_id=info.remote_start_id,
                **common,
            )
    raise CallError(
        ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        f"TransactionEvent: unknown eventType {payload.event_type!r}",
        {"field": "eventType"},
    )


def _report(payload: Mapping[str, Any]) -> ReportReceived:
    variables = []
    for item in payload.get("reportData", ()):
        component = item["component"]
        variable = item["variable"]
        evse = component.get("evse") or {}
        attributes = item["variableAttribute"]
        characteristics = item.get("variableCharacteristics") or {}
        variables.append(
            ReportedVariable(
                component=component["name"],
                variable=variable["name"],
                values=tuple((a.get("type", "Actual"), a.get("value")) for a in attributes),
                component_instance=component.get("instance"),
                variable_instance=variable.get("instance"),
                evse=evse.get("id"),
                connector=evse.get("connectorId"),
                mutability=attributes[0].get("mutability") if attributes else None,
                data_type=characteristics.get("dataType"),
                unit=characteristics.get("unit"),
            )
        )
    return ReportReceived(
        request_id=payload["requestId"],
        generated_at=parse_time(payload["generatedAt"]),
        seq_no=payload["seqNo"],
        more_to_follow=payload.get("tbc", False),
        variables=tuple(variables),
    )


# The hot messages, read from their payload Structs (intercarga.ocpp.payloads).
_PAYLOAD_READERS: Final[Mapping[str, Callable[[Any], StationEvent]]] = {
    "Heartbeat": lambda p: Heartbeat(),
    "MeterValues": lambda p: MeterValuesReported(p.evse_id, None, *_readings(p.meter_value)),
    "StatusNotification": _status,
    "TransactionEvent": _transaction,
}
_READERS: Final[Mapping[str, Callable[[Mapping[str, Any]], StationEvent]]] = {
    "Authorize": _authorize,
    "BootNotification": _boot,
    "DataTransfer": lambda p: DataTransferReceived(
        p["vendorId"], p.get("messageId"), p.get("data")
    ),
    "FirmwareStatusNotification": lambda p: FirmwareStatusChanged(p["status"], p.get("requestId")),
    "LogStatusNotification": lambda p: DiagnosticsStatusChanged(p["status"], p.get("requestId")),
    "NotifyReport": _report,
    "ReservationStatusUpdate": lambda p: ReservationStatusChanged(
        p["reservationId"], p["reservationUpdateStatus"]
    ),
    "SecurityEventNotification": lambda p: SecurityEventReported(
        p["type"], parse_time(p["timestamp"]), p.get("techInfo")
    ),
    "SignCertificate": lambda p: CertificateSigningRequested(p["csr"], p.get("certificateType")),
}
assert not set(_READERS) & set(_PAYLOAD_READERS)

# Neutral answers to station messages nothing decides on yet: acknowledge, grant nothing.
_NEUTRAL: Final[Mapping[str, Mapping[str, Any]]] = {
    "Get15118EVCertificate": {"status": "Failed", "exiResponse": ""},
    "GetCertificateStatus": {"status": "Failed"},
    "NotifyEVChargingNeeds": {"status": "Rejected"},
    "NotifyEVChargingSchedule": {"status": "Rejected"},
}
_NOT_SUPPORTED: Final[frozenset[str]] = frozenset()


# --- builders ---------------------------------------------------------------------------------


def _call(action: str, body: Mapping[str, Any]) -> tuple[OutgoingCall, ...]:
    return (OutgoingCall(action, _drop_none(body)),)


def _evse(evse: int | None, connector: int | None) -> dict[str, Any] | None:
    if not evse:
        return None
    return _drop_none({"id": evse, "connectorId": connector})


def _variable(variable: DeviceVariable, version: OcppVersion) -> dict[str, Any]:
    component_name = variable.component
    name = variable.variable
    if component_name is None:
        twin = CONFIGURATION_KEYS.get(variable.variable)
        if twin is None:
            raise unsupported(
                version, f"address variable {variable.variable!r} without a component"
            )
        component_name, name = twin
    component = _drop_none(
        {
            "name": component_name,
            "instance": variable.component_instance,
            "evse": _evse(variable.evse, variable.connector),
        }
    )
    return _drop_none(
        {
            "component": component,
            "variable": _drop_none({"name": name, "instance": variable.variable_instance}),
            "attributeType": variable.attribute,
        }
    )


def _profile(profile: ChargingProfile) -> dict[str, Any]:
    """The ChargingProfileType of ``profile``."""
    schedules = [
        _drop_none(
            {
                "id": schedule.id,
                "startSchedule": format_time(schedule.start) if schedule.start else None,
                "duration": schedule.duration,
                "chargingRateUnit": schedule.unit.value,
                "chargingSchedulePeriod": [
                    _drop_none(
                        {
                            "startPeriod": period.start,
                            "limit": json_number(period.limit),
                            "numberPhases": period.phases,
                        }
                    )
                    for period in schedule.periods
                ],
                "minChargingRate": json_number(schedule.min_rate)
                if schedule.min_rate is not None
                else None,
            }
        )
        for schedule in profile.schedules
    ]
    return _drop_none(
        {
            "id": profile.id,
            "stackLevel": profile.stack_level,
            "chargingProfilePurpose": profile.purpose.value,
            "chargingProfileKind": profile.kind.value,
            "recurrencyKind": profile.recurrency.value if profile.recurrency else None,
            "validFrom": format_time(profile.valid_from) if profile.valid_from else None,
            "validTo": format_time(profile.valid_to) if profile.valid_to else None,
            "transactionId": profile.transaction_id,
            "chargingSchedule": schedules,
        }
    )


def _remote_start(command: RemoteStart, version: OcppVersion) -> tuple[OutgoingCall, ...]:
    return _call(
        "RequestStartTransaction",
        {
            "idToken": _token(command.id_token, _COMMAND_TOKEN_TYPE),
            "remoteStartId": command.remote_start_id,
            "evseId": command.evse,
            "groupIdToken": _token(command.group_id_token, _COMMAND_TOKEN_TYPE)
            if command.group_id_token
            else None,
            "chargingProfile": _profile(command.charging_profile)
            if command.charging_profile
            else None,
        },
    )


def _trigger(command: TriggerMessage, version: OcppVersion) -> tuple[OutgoingCall, ...]:
    if command.message is TriggeredMessage.STATUS_NOTIFICATION:
        # 2.0.1 F06.FR.13 (restated by the 2023-12 errata): a CSMS asks for a connector's
        # status, never an EVSE's or the station's; stations may refuse.
        if not command.evse:
            raise InvalidInputError(
                "a StatusNotification is requested per connector: give evse and connector",
                "evse",
            )
        if not command.connector:
            raise InvalidInputError(
                f"a StatusNotification is requested per connector: give the connector of"
                f" EVSE {command.evse}",
                "connector",
            )
    return _call(
        "TriggerMessage",
        {
            "requestedMessage": command.message.value,
            "evse": _evse(command.evse, command.connector),
        },
    )


def _get_variables(command: GetVariables, version: OcppVersion) -> tuple[OutgoingCall, ...]:
    if not command.variables:
        raise unsupported(version, "read all variables at once: use get_base_report")
    return _call(
        "GetVariables", {"getVariableData": [_variable(v, version) for v in command.variables]}
    )


def _set_variables(command: SetVariables, version: OcppVersion) -> tuple[OutgoingCall, ...]:
    data = [
        _variable(variable, version) | {"attributeValue": value}
        for variable, value in command.values
    ]
    return _call("SetVariables", {"setVariableData": data})


def _local_list(command: SendLocalList, version: OcppVersion) -> tuple[OutgoingCall, ...]:
    if command.version is None:
        raise InvalidInputError("the list needs a version number", "version")
    entries = [
        {"idToken": _token(entry.id_token, _LIST_TOKEN_TYPE)}
        | ({"idTokenInfo": _id_token_info(entry.authorization)} if entry.authorization else {})
        for entry in command.entries
    ]
    return _call(
        "SendLocalList",
        {
            "versionNumber": command.version,
            "updateType": "Full" if command.full else "Differential",
            "localAuthorizationList": entries or None,
        },
    )


def _reserve(command: ReserveNow, version: OcppVersion) -> tuple[OutgoingCall, ...]:
    return _call(
        "ReserveNow",
        {
            "id": command.reservation_id,
            "expiryDateTime": format_time(command.expiry),
            "idToken": _token(command.id_token, _COMMAND_TOKEN_TYPE),
            "evseId": command.evse,
            "groupIdToken": _token(command.group_id_token, _COMMAND_TOKEN_TYPE)
            if command.group_id_token
            else None,
            "connectorType": command.connector_type,
        },
    )


def _clear_profile(command: ClearChargingProfile, version: OcppVersion) -> tuple[OutgoingCall, ...]:
    criteria = _drop_none(
        {
            "evseId": command.evse,
            "chargingProfilePurpose": command.purpose.value if command.purpose else None,
            "stackLevel": command.stack_level,
        }
    )
    return _call(
        "ClearChargingProfile",
        {"chargingProfileId": command.profile_id, "chargingProfileCriteria": criteria or None},
    )


def _update_firmware(command: UpdateFirmware, version: OcppVersion) -> tuple[OutgoingCall, ...]:
    firmware = {
        "location": command.location,
        "retrieveDateTime": format_time(command.retrieve_at),
        "installDateTime": format_time(command.install_at) if command.install_at else None,
        "signingCertificate": command.signing_certificate,
        "signature": command.signature,
    }
    return _call(
        "UpdateFirmware",
        {
            "requestId": command.request_id,
            "firmware": _drop_none(firmware),
            "retries": command.retries,
            "retryInterval": command.retry_interval,
        },
    )


def _get_log(command: GetLog, version: OcppVersion) -> tuple[OutgoingCall, ...]:
    log = {
        "remoteLocation": command.location,
        "oldestTimestamp": format_time(command.oldest) if command.oldest else None,
        "latestTimestamp": format_time(command.latest) if command.latest else None,
    }
    return _call(
        "GetLog",
        {
            "log": _drop_none(log),
            "logType": command.kind.value,
            "requestId": command.request_id,
            "retries": command.retries,
            "retryInterval": command.retry_interval,
        },
    )


def _network_profile(command: SetNetworkProfile, version: OcppVersion) -> tuple[OutgoingCall, ...]:
    profile = command.profile
    return _call(
        "SetNetworkProfile",
        {
            "configurationSlot": command.slot,
            "connectionData": {
                "ocppVersion": profile.ocpp_version,
                "ocppTransport": profile.transport,
                "ocppCsmsUrl": profile.url,
                "messageTimeout": profile.message_timeout,
                "securityProfile": profile.security_profile,
                "ocppInterface": profile.interface,
            },
        },
    )


def _customer_information(
    command: CustomerInformation, version: OcppVersion
) -> tuple[OutgoingCall, ...]:
    return _call(
        "CustomerInformation",
        {
            "requestId": command.request_id,
            "report": command.report,
            "clear": command.clear,
            "idToken": _token(command.id_token, _LIST_TOKEN_TYPE) if command.id_token else None,
            "customerIdentifier": command.customer_identifier,
            "customerCertificate": hash_data_payload(command.customer_certificate)
            if command.customer_certificate
            else None,
        },
    )


def _install_certificate(
    command: InstallCertificate, version: OcppVersion
) -> tuple[OutgoingCall, ...]:
    if command.use is CertificateUse.V2G_CHAIN:
        raise unsupported(version, "install a V2G certificate chain as a CA")
    return _call(
        "InstallCertificate",
        {"certificateType": command.use.value, "certificate": command.certificate},
    )


# 2.1 shares this table, so each builder is given the version it speaks: a command it refuses is
# refused in that version's name.
_BUILDERS: Final[Mapping[type, Callable[[Any, OcppVersion], tuple[OutgoingCall, ...]]]] = {
    RemoteStart: _remote_start,
    RemoteStop: lambda c, v: _call("RequestStopTransaction", {"transactionId": c.transaction_id}),
    Reset: lambda c, v: _call("Reset", {"type": c.kind.value, "evseId": c.evse}),
    UnlockConnector: lambda c, v: _call(
        "UnlockConnector", {"evseId": c.evse, "connectorId": c.connector}
    ),
    ChangeAvailability: lambda c, v: _call(
        "ChangeAvailability",
        {
            "operationalStatus": "Operative" if c.operative else "Inoperative",
            "evse": _evse(c.evse, c.connector),
        },
    ),
    TriggerMessage: _trigger,
    GetVariables: _get_variables,
    SetVariables: _set_variables,
    GetBaseReport: lambda c, v: _call(
        "GetBaseReport", {"requestId": c.request_id, "reportBase": c.report.value}
    ),
    ClearCache: lambda c, v: _call("ClearCache", {}),
    SendLocalList: _local_list,
    GetLocalListVersion: lambda c, v: _call("GetLocalListVersion", {}),
    ReserveNow: _reserve,
    CancelReservation: lambda c, v: _call("CancelReservation", {"reservationId": c.reservation_id}),
    SetChargingProfile: lambda c, v: _call(
        "SetChargingProfile", {"evseId": c.evse, "chargingProfile": _profile(c.profile)}
    ),
    ClearChargingProfile: _clear_profile,
    GetCompositeSchedule: lambda c, v: _call(
        "GetCompositeSchedule",
        {
            "duration": c.duration,
            "evseId": c.evse,
            "chargingRateUnit": c.unit.value if c.unit else None,
        },
    ),
    UpdateFirmware: _update_firmware,
    GetLog: _get_log,
    DataTransfer: lambda c, v: _call(
        "DataTransfer", {"vendorId": c.vendor_id, "messageId": c.message_id, "data": c.data}
    ),
    GetTransactionStatus: lambda c, v: _call(
        "GetTransactionStatus", {"transactionId": c.transaction_id}
    ),
    SetNetworkProfile: _network_profile,
    CustomerInformation: _customer_information,
    InstallCertificate: _install_certificate,
    GetInstalledCertificateIds: lambda c, v: _call(
        "GetInstalledCertificateIds",
        {"certificateType": [use.value for use in c.uses] or None},
    ),
    DeleteCertificate: lambda c, v: _call(
        "DeleteCertificate", {"certificateHashData": hash_data_payload(c.hash_data)}
    ),
    CertificateSigned: lambda c, v: _call(
        "CertificateSigned",
        {"certificateChain": c.certificate_chain, "certificateType": c.certificate_type},
    ),
}
assert set(_BUILDERS) == set(COMMANDS.values())
