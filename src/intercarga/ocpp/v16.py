"""OCPP 1.6J (edition 2, with the Security Whitepaper extension) ↔ version-free events and commands.

What 1.6 does differently, and how it lands in the one model:

* A 1.6 connector is an EVSE with one connector: ``connectorId`` N is EVSE N, connector 1, and
  connectorId 0 is the station itself (EVSE 0, connector 0). :func:`evse_of` and
  :func:`connector_id_of` are the one place that knows.
* StartTransaction leaves the transaction id to the CSMS (an integer), so
  :class:`~intercarga.ocpp.events.TransactionStarted` has none and the decision must carry it;
  MeterValues naming a transaction become :class:`~intercarga.ocpp.events.TransactionUpdated`;
  StopTransaction's meterStop and StartTransaction's meterStart also become Transaction.End /
  Transaction.Begin register readings, as 2.x stations send them.
* Sampled values are strings in 1.6: ``SignedData`` ones are kept verbatim as signed meter
  values, numeric ones become domain meter values, anything else is logged and skipped.
* Configuration keys map to 2.0.1 device-model variables where 2.0.1 names an equivalent
  (:data:`CONFIGURATION_KEYS`); 1.6 changes one key per ChangeConfiguration call.
* Statuses and reasons 2.x added (NoCredit, NotAtThisTime, …) are answered as Invalid.
* A command becomes its CALLs through ``_BUILDERS``, a table from each version-free command type
  1.6 can express to a small builder; :meth:`V16Adapter.command` only looks it up.

This module must never do I/O or keep state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Final

from intercarga.domain.session import MeterValue, SignedMeterValue
from intercarga.domain.station import OcppVersion
from intercarga.errors import InvalidInputError
from intercarga.ocpp.actions import STATION_TO_CSMS
from intercarga.ocpp.commands import (
    CancelReservation,
    CertificateSigned,
    CertificateUse,
    ChangeAvailability,
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedulePeriod,
    ClearCache,
    ClearChargingProfile,
    Command,
    CommandResult,
    CompositeSchedule,
    CompositeScheduleResult,
    DataTransfer,
    DataTransferResult,
    DeleteCertificate,
    DeviceVariable,
    GetBaseReport,
    GetCompositeSchedule,
    GetInstalledCertificateIds,
    GetLocalListVersion,
    GetLog,
    GetVariables,
    InstallCertificate,
    InstalledCertificate,
    InstalledCertificatesResult,
    LocalListVersionResult,
    LogKind,
    LogResult,
    OutgoingCall,
    RemoteStart,
    RemoteStartResult,
    RemoteStop,
    ReserveNow,
    Reset,
    ResetKind,
    Result,
    SendLocalList,
    SetChargingProfile,
    SetVariables,
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
    SecurityEventReported,
    SigningDecision,
    StationBooted,
    StationEvent,
    StatusChanged,
    StopReason,
    TransactionDecision,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from intercarga.ocpp.payloads import Payload
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

__all__ = ["CONFIGURATION_KEYS", "V16Adapter", "connector_id_of", "evse_of"]

_V16: Final = OcppVersion.V16

CONFIGURATION_KEYS: Final[Mapping[str, tuple[str, str]]] = {
    # 1.6 core / profile key: 2.0.1 (component, variable), from OCPP 2.0.1 part 2 appendix 3.
    "AllowOfflineTxForUnknownId": ("AuthCtrlr", "OfflineTxForUnknownIdEnabled"),
    "AuthorizationCacheEnabled": ("AuthCacheCtrlr", "Enabled"),
    "AuthorizationKey": ("SecurityCtrlr", "BasicAuthPassword"),
    "AuthorizeRemoteTxRequests": ("AuthCtrlr", "AuthorizeRemoteStart"),
    "ClockAlignedDataInterval": ("AlignedDataCtrlr", "Interval"),
    "ConnectionTimeOut": ("TxCtrlr", "EVConnectionTimeOut"),
    "HeartbeatInterval": ("OCPPCommCtrlr", "HeartbeatInterval"),
    "LocalAuthListEnabled": ("LocalAuthListCtrlr", "Enabled"),
    "LocalAuthorizeOffline": ("AuthCtrlr", "LocalAuthorizeOffline"),
    "LocalPreAuthorize": ("AuthCtrlr", "LocalPreAuthorize"),
    "MeterValueSampleInterval": ("SampledDataCtrlr", "TxUpdatedInterval"),
    "MeterValuesAlignedData": ("AlignedDataCtrlr", "Measurands"),
    "MeterValuesSampledData": ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    "SecurityProfile": ("SecurityCtrlr", "SecurityProfile"),
    "StopTransactionOnEVSideDisconnect": ("TxCtrlr", "StopTxOnEVSideDisconnect"),
    "StopTransactionOnInvalidId": ("TxCtrlr", "StopTxOnInvalidId"),
    "StopTxnAlignedData": ("AlignedDataCtrlr", "TxEndedMeasurands"),
    "StopTxnSampledData": ("SampledDataCtrlr", "TxEndedMeasurands"),
    "TransactionMessageAttempts": ("OCPPCommCtrlr", "MessageAttempts"),
    "TransactionMessageRetryInterval": ("OCPPCommCtrlr", "MessageAttemptInterval"),
    "UnlockConnectorOnEVSideDisconnect": ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect"),
    "WebSocketPingInterval": ("OCPPCommCtrlr", "WebSocketPingInterval"),
}
"""1.6 configuration keys with a 2.0.1 device-model twin."""

_KEY_OF: Final = {twin: key for key, twin in CONFIGURATION_KEYS.items()}

_STATUS: Final[Mapping[str, tuple[ConnectorStatus, ChargingState | None]]] = {
    "Available": (ConnectorStatus.AVAILABLE, None),
    "Preparing": (ConnectorStatus.OCCUPIED, None),
    "Charging": (ConnectorStatus.OCCUPIED, ChargingState.CHARGING),
    "SuspendedEV": (ConnectorStatus.OCCUPIED, ChargingState.SUSPENDED_EV),
    "SuspendedEVSE": (ConnectorStatus.OCCUPIED, ChargingState.SUSPENDED_EVSE),
    "Finishing": (ConnectorStatus.OCCUPIED, None),
    "Reserved": (ConnectorStatus.RESERVED, None),
    "Unavailable": (ConnectorStatus.UNAVAILABLE, None),
    "Faulted": (ConnectorStatus.FAULTED, None),
}

_STOP_REASON: Final[Mapping[str, StopReason]] = {
    "DeAuthorized": StopReason.DE_AUTHORIZED,
    "EmergencyStop": StopReason.EMERGENCY_STOP,
    "EVDisconnected": StopReason.EV_DISCONNECTED,
    "HardReset": StopReason.IMMEDIATE_RESET,
    "Local": StopReason.LOCAL,
    "Other": StopReason.OTHER,
    "PowerLoss": StopReason.POWER_LOSS,
    "Reboot": StopReason.REBOOT,
    "Remote": StopReason.REMOTE,
    "SoftReset": StopReason.SOFT_RESET,
    "UnlockCommand": StopReason.UNLOCK_COMMAND,
}

# idTagInfo status: 1.6 knows five of the ten 2.x statuses.
_ID_TAG_STATUS: Final = frozenset({"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"})

_PURPOSE: Final[Mapping[ChargingProfilePurpose, str]] = {
    ChargingProfilePurpose.STATION_MAX: "ChargePointMaxProfile",
    ChargingProfilePurpose.TX_DEFAULT: "TxDefaultProfile",
    ChargingProfilePurpose.TX: "TxProfile",
}

# The 1.6 Security Whitepaper's names for the two CA certificate uses it knows.
_CERTIFICATE_USE: Final[Mapping[CertificateUse, str]] = {
    CertificateUse.CSMS_ROOT: "CentralSystemRootCertificate",
    CertificateUse.MANUFACTURER_ROOT: "ManufacturerRootCertificate",
}

_TRIGGER: Final[Mapping[TriggeredMessage, tuple[str, str]]] = {
    TriggeredMessage.BOOT_NOTIFICATION: ("TriggerMessage", "BootNotification"),
    TriggeredMessage.HEARTBEAT: ("TriggerMessage", "Heartbeat"),
    TriggeredMessage.STATUS_NOTIFICATION: ("TriggerMessage", "StatusNotification"),
    TriggeredMessage.METER_VALUES: ("TriggerMessage", "MeterValues"),
    TriggeredMessage.FIRMWARE_STATUS: ("TriggerMessage", "FirmwareStatusNotification"),
    TriggeredMessage.LOG_STATUS: ("TriggerMessage", "DiagnosticsStatusNotification"),
    TriggeredMessage.SIGN_STATION_CERTIFICATE: (
        "ExtendedTriggerMessage",
        "SignChargePointCertificate",
    ),
}


def evse_of(connector_id: int) -> tuple[int, int]:
    """(EVSE, connector) of a 1.6 connectorId; 0 is the station as a whole."""
    return (connector_id, 1) if connector_id > 0 else (0, 0)


def connector_id_of(evse: int | None, connector: int | None = None) -> int:
    """The 1.6 connectorId of an EVSE (its only connector); None or 0 is the station."""
    if connector not in (None, 0, 1):
        raise unsupported(_V16, f"address connector {connector} of EVSE {evse}: 1.6 has one")
    return evse or 0


def _variable_of(key: str) -> DeviceVariable:
    twin = CONFIGURATION_KEYS.get(key)
    return DeviceVariable(twin[0], twin[1]) if twin else DeviceVariable(None, key)


def _key_of(variable: DeviceVariable) -> str:
    if variable.component is None:
        return variable.variable
    return _KEY_OF.get((variable.component, variable.variable), variable.variable)


def _id_tag_info(result: AuthorizationResult) -> dict[str, Any]:
    status = result.status.value if result.status.value in _ID_TAG_STATUS else "Invalid"
    info: dict[str, Any] = {"status": status}
    if result.expiry is not None:
        info["expiryDate"] = format_time(result.expiry)
    if result.group_id is not None:
        info["parentIdTag"] = result.group_id
    return info


def _authorization(result: AuthorizationResult | None) -> AuthorizationResult:
    if result is None:
        raise ValueError("OCPP 1.6 needs an authorization result in this answer")
    return result


def _readings(groups: Sequence[Any]) -> tuple[tuple[MeterValue, ...], tuple[SignedMeterValue, ...]]:
    """The meter values of MeterValue Structs (see :mod:`~intercarga.ocpp.payloads`)."""
    values: list[MeterValue] = []
    signed: list[SignedMeterValue] = []
    for group in groups:
        timestamp = parse_time(group.timestamp)
        for sample in group.sampled_value:
            measurand = sample.measurand
            if sample.format == "SignedData":
                reading = signed_meter_value(timestamp, sample.value, measurand=measurand)
                if reading is not None:
                    signed.append(reading)
                continue
            number = parse_decimal(sample.value)
            if number is None:
                skip_sample("value is not a number", sample)
                continue
            values.append(
                meter_value(
                    timestamp,
                    number,
                    measurand=measurand,
                    unit=sample.unit,
                    phase=sample.phase,
                    context=sample.context,
                    location=sample.location,
                )
            )
    return tuple(values), tuple(signed)


def _register(timestamp: str, wh: int, context: str) -> MeterValue:
    """The energy register reading a 1.6 start (meterStart) or stop (meterStop) carries."""
    return meter_value(
        parse_time(timestamp), Decimal(wh), measurand=None, unit="Wh", context=context
    )


class V16Adapter(VersionAdapter):
    """OCPP 1.6J."""

    version: ClassVar[OcppVersion] = _V16

    # -- station → CSMS ------------------------------------------------------------------------

    def event(self, action: str, payload: Mapping[str, Any] | Payload) -> StationEvent:
        event = read_struct(self.version, action, payload, _PAYLOAD_READERS)
        if event is not None:
            return event
        assert not isinstance(payload, Payload)  # only the hot messages come as Structs
        reader = _READERS.get(action)
        if reader is None:
            raise CallError(ErrorCode.NOT_SUPPORTED, f"{action} is not sent by a 1.6 station")
        return reader(payload)

    def response(self, event: StationEvent, decision: Decision | None = None) -> dict[str, Any]:
        match event, decision:
            case StationBooted(), BootDecision():
                return {
                    "status": decision.status.value,
                    "currentTime": format_time(decision.current_time),
                    "interval": decision.interval,
                }
            case Heartbeat(), HeartbeatDecision():
                return {"currentTime": format_time(decision.current_time)}
            case AuthorizationRequested(), AuthorizationResult():
                return {"idTagInfo": _id_tag_info(decision)}
            case TransactionStarted(), TransactionDecision():
                transaction_id = decision.transaction_id or event.transaction_id
                if transaction_id is None or not transaction_id.isdigit():
                    raise ValueError("OCPP 1.6 needs an integer transaction id from the CSMS")
                return {
                    "transactionId": int(transaction_id),
                    "idTagInfo": _id_tag_info(_authorization(decision.authorization)),
                }
            case TransactionEnded(), TransactionDecision() if decision.authorization is not None:
                return {"idTagInfo": _id_tag_info(decision.authorization)}
            case DataTransferReceived(), DataTransferDecision():
                answer: dict[str, Any] = {"status": decision.status.value}
                if decision.data is not None:
                    data = decision.data
                    answer["data"] = data if isinstance(data, str) else json.dumps(data)
                return answer
            case CertificateSigningRequested(), SigningDecision():
                return {"status": "Accepted" if decision.accepted else "Rejected"}
            case (
                (
                    TransactionEnded()
                    | TransactionUpdated()
                    | MeterValuesReported()
                    | StatusChanged()
                    | FirmwareStatusChanged()
                    | DiagnosticsStatusChanged()
                    | SecurityEventReported()
                ),
                None | Acknowledgement() | TransactionDecision(),
            ):
                return {}
        raise TypeError(f"{type(decision).__name__} does not answer {type(event).__name__}")

    # -- CSMS → station ------------------------------------------------------------------------

    def command(self, command: Command) -> tuple[OutgoingCall, ...]:
        builder = _BUILDERS.get(type(command))
        if builder is None:
            raise unsupported(_V16, f"carry out {type(command).__name__}")
        return builder(command)

    def result(self, command: Command, answers: Sequence[Mapping[str, Any]]) -> Result:
        if not answers:
            raise ValueError("a command result needs the station's answers")
        answer = answers[0]
        match command:
            case RemoteStart():
                return RemoteStartResult(answer["status"])
            case GetVariables():
                return _variables_read(command, answer)
            case GetBaseReport():
                return _variables_read(GetVariables(), answer)
            case SetVariables():
                return VariablesResult(
                    tuple(
                        VariableResult(variable, _SET_STATUS.get(reply["status"], reply["status"]))
                        for (variable, _), reply in zip(command.values, answers, strict=True)
                    )
                )
            case GetLocalListVersion():
                return LocalListVersionResult(answer["listVersion"])
            case GetCompositeSchedule():
                return _composite(answer)
            case UpdateFirmware() if command.signature is None:
                return CommandResult("Accepted")  # 1.6 UpdateFirmware.conf has no status
            case GetLog() if command.kind is LogKind.DIAGNOSTICS:
                filename = answer.get("fileName")
                if filename:
                    return LogResult("Accepted", filename=filename)
                return LogResult("Rejected", reason="NoDiagnosticsAvailable")
            case GetLog():
                return LogResult(answer["status"], filename=answer.get("filename"))
            case DataTransfer():
                return DataTransferResult(answer["status"], data=answer.get("data"))
            case GetInstalledCertificateIds():
                (use,) = command.uses
                return InstalledCertificatesResult(
                    answer["status"],
                    tuple(
                        InstalledCertificate(use, read_hash_data(data))
                        for data in answer.get("certificateHashData", ())
                    ),
                )
        return CommandResult(answer["status"])


# --- readers ----------------------------------------------------------------------------------


def _boot(payload: Mapping[str, Any]) -> StationBooted:
    return StationBooted(
        vendor=payload["chargePointVendor"],
        model=payload["chargePointModel"],
        serial_number=payload.get("chargePointSerialNumber")
        or payload.get("chargeBoxSerialNumber"),
        firmware_version=payload.get("firmwareVersion"),
        iccid=payload.get("iccid"),
        imsi=payload.get("imsi"),
        meter_type=payload.get("meterType"),
        meter_serial_number=payload.get("meterSerialNumber"),
    )


def _status(payload: Any) -> StatusChanged:
    try:
        status, charging_state = _STATUS[payload.status]
    except KeyError:
        raise CallError(
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            f"StatusNotification: unknown status {payload.status!r}",
            {"field": "status"},
        ) from None
    evse, connector = evse_of(payload.connector_id)
    error_code = payload.error_code
    timestamp = payload.timestamp
    return StatusChanged(
        evse=evse,
        connector=connector,
        status=status,
        timestamp=parse_time(timestamp) if timestamp else None,
        charging_state=charging_state,
        error_code=None if error_code == "NoError" else error_code,
        info=payload.info,
        vendor_error_code=payload.vendor_error_code,
    )


def _start(payload: Any) -> TransactionStarted:
    evse, connector = evse_of(payload.connector_id)
    return TransactionStarted(
        evse=evse,
        connector=connector,
        timestamp=parse_time(payload.timestamp),
        id_token=IdToken(payload.id_tag),
        meter_start=parse_decimal(payload.meter_start),
        reservation_id=payload.reservation_id,
        meter_values=(_register(payload.timestamp, payload.meter_start, "Transaction.Begin"),),
    )


def _stop(payload: Any) -> TransactionEnded:
    values, signed = _readings(payload.transaction_data or ())
    has_end = any(
        v.measurand == ENERGY_REGISTER and v.context == "Transaction.End" and v.phase is None
        for v in values
    )
    if not has_end:
        values += (_register(payload.timestamp, payload.meter_stop, "Transaction.End"),)
    id_tag = payload.id_tag
    # 1.6: reason may only be omitted when it is Local.
    reason = "Local" if payload.reason is None else payload.reason
    return TransactionEnded(
        transaction_id=str(payload.transaction_id),
        timestamp=parse_time(payload.timestamp),
        id_token=IdToken(id_tag) if id_tag else None,
        meter_stop=parse_decimal(payload.meter_stop),
        stop_reason=_STOP_REASON.get(reason, StopReason.OTHER),
        meter_values=values,
        signed_meter_values=signed,
    )


def _meter_values(payload: Any) -> TransactionUpdated | MeterValuesReported:
    values, signed = _readings(payload.meter_value)
    evse, connector = evse_of(payload.connector_id)
    transaction_id = payload.transaction_id
    if transaction_id is None:
        return MeterValuesReported(evse, connector, values, signed)
    return TransactionUpdated(
        transaction_id=str(transaction_id),
        timestamp=parse_time(payload.meter_value[-1].timestamp),
        evse=evse,
        connector=connector,
        meter_values=values,
        signed_meter_values=signed,
    )


def _data_transfer(payload: Mapping[str, Any]) -> DataTransferReceived:
    return DataTransferReceived(payload["vendorId"], payload.get("messageId"), payload.get("data"))


# The hot messages, read from their payload Structs (intercarga.ocpp.payloads).
_PAYLOAD_READERS: Final[Mapping[str, Callable[[Any], StationEvent]]] = {
    "Heartbeat": lambda p: Heartbeat(),
    "MeterValues": _meter_values,
    "StartTransaction": _start,
    "StatusNotification": _status,
    "StopTransaction": _stop,
}
_READERS: Final[Mapping[str, Callable[[Mapping[str, Any]], StationEvent]]] = {
    "Authorize": lambda p: AuthorizationRequested(IdToken(p["idTag"])),
    "BootNotification": _boot,
    "DataTransfer": _data_transfer,
    "DiagnosticsStatusNotification": lambda p: DiagnosticsStatusChanged(
        "UploadFailure" if p["status"] == "UploadFailed" else p["status"]
    ),
    "FirmwareStatusNotification": lambda p: FirmwareStatusChanged(p["status"]),
    "LogStatusNotification": lambda p: DiagnosticsStatusChanged(p["status"], p.get("requestId")),
    "SecurityEventNotification": lambda p: SecurityEventReported(
        p["type"], parse_time(p["timestamp"]), p.get("techInfo")
    ),
    "SignCertificate": lambda p: CertificateSigningRequested(p["csr"]),
    "SignedFirmwareStatusNotification": lambda p: FirmwareStatusChanged(
        p["status"], p.get("requestId")
    ),
}
assert not set(_READERS) & set(_PAYLOAD_READERS)
assert set(_READERS) | set(_PAYLOAD_READERS) == STATION_TO_CSMS[_V16]


# --- builders ---------------------------------------------------------------------------------


def _call(action: str, payload: dict[str, Any]) -> tuple[OutgoingCall, ...]:
    return (OutgoingCall(action, {k: v for k, v in payload.items() if v is not None}),)


def _integer_id(transaction_id: str | None, what: str) -> int | None:
    if transaction_id is None:
        return None
    if not transaction_id.isdigit():
        raise InvalidInputError(
            f"OCPP 1.6 transaction ids are integers, not {transaction_id!r}", what
        )
    return int(transaction_id)


def _profile(profile: ChargingProfile) -> dict[str, Any]:
    if len(profile.schedules) != 1:
        raise unsupported(_V16, "send a charging profile with other than one schedule")
    purpose = _PURPOSE.get(profile.purpose)
    if purpose is None:
        raise unsupported(_V16, f"use the {profile.purpose.value} purpose")
    schedule = profile.schedules[0]
    body = {
        "chargingProfileId": profile.id,
        "transactionId": _integer_id(profile.transaction_id, "profile.transaction_id"),
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": profile.kind.value,
        "recurrencyKind": profile.recurrency.value if profile.recurrency else None,
        "validFrom": format_time(profile.valid_from) if profile.valid_from else None,
        "validTo": format_time(profile.valid_to) if profile.valid_to else None,
        "chargingSchedule": {
            k: v
            for k, v in {
                "duration": schedule.duration,
                "startSchedule": format_time(schedule.start) if schedule.start else None,
                "chargingRateUnit": schedule.unit.value,
                "chargingSchedulePeriod": [_period(period) for period in schedule.periods],
                "minChargingRate": json_number(schedule.min_rate)
                if schedule.min_rate is not None
                else None,
            }.items()
            if v is not None
        },
    }
    return {k: v for k, v in body.items() if v is not None}


def _period(period: ChargingSchedulePeriod) -> dict[str, Any]:
    body: dict[str, Any] = {"startPeriod": period.start, "limit": json_number(period.limit)}
    if period.phases is not None:
        body["numberPhases"] = period.phases
    return body


def _remote_start(command: RemoteStart) -> tuple[OutgoingCall, ...]:
    return _call(
        "RemoteStartTransaction",
        {
            "connectorId": connector_id_of(command.evse) or None,
            "idTag": command.id_token.value,
            "chargingProfile": _profile(command.charging_profile)
            if command.charging_profile
            else None,
        },
    )


def _reset(command: Reset) -> tuple[OutgoingCall, ...]:
    if command.evse:
        raise unsupported(_V16, "reset a single EVSE")
    return _call("Reset", {"type": "Hard" if command.kind is ResetKind.IMMEDIATE else "Soft"})


def _trigger(command: TriggerMessage) -> tuple[OutgoingCall, ...]:
    target = _TRIGGER.get(command.message)
    if target is None:
        raise unsupported(_V16, f"trigger {command.message.value}")
    action, message = target
    connector = connector_id_of(command.evse, command.connector) if command.evse else None
    return _call(action, {"requestedMessage": message, "connectorId": connector})


def _local_list(command: SendLocalList) -> tuple[OutgoingCall, ...]:
    if command.version is None:
        raise InvalidInputError("the list needs a version number", "version")
    entries = [
        {"idTag": entry.id_token.value}
        | ({"idTagInfo": _id_tag_info(entry.authorization)} if entry.authorization else {})
        for entry in command.entries
    ]
    return _call(
        "SendLocalList",
        {
            "listVersion": command.version,
            "updateType": "Full" if command.full else "Differential",
            "localAuthorizationList": entries or None,
        },
    )


def _reserve(command: ReserveNow) -> tuple[OutgoingCall, ...]:
    return _call(
        "ReserveNow",
        {
            "connectorId": connector_id_of(command.evse),
            "expiryDate": format_time(command.expiry),
            "idTag": command.id_token.value,
            "parentIdTag": command.group_id_token.value if command.group_id_token else None,
            "reservationId": command.reservation_id,
        },
    )


def _update_firmware(command: UpdateFirmware) -> tuple[OutgoingCall, ...]:
    if command.signature is None and command.signing_certificate is None:
        return _call(
            "UpdateFirmware",
            {
                "location": command.location,
                "retrieveDate": format_time(command.retrieve_at),
                "retries": command.retries,
                "retryInterval": command.retry_interval,
            },
        )
    # Security Whitepaper L01.FR.11: the station checks the signature against the certificate
    # the CSMS sends with it, so a signed update carries both.
    for field, value in (
        ("signature", command.signature),
        ("signing_certificate", command.signing_certificate),
    ):
        if value is None:
            raise InvalidInputError(
                "a signed firmware update needs both signature and signing_certificate", field
            )
    firmware = {
        "location": command.location,
        "retrieveDateTime": format_time(command.retrieve_at),
        "installDateTime": format_time(command.install_at) if command.install_at else None,
        "signingCertificate": command.signing_certificate,
        "signature": command.signature,
    }
    return _call(
        "SignedUpdateFirmware",
        {
            "requestId": command.request_id,
            "firmware": {k: v for k, v in firmware.items() if v is not None},
            "retries": command.retries,
            "retryInterval": command.retry_interval,
        },
    )


def _get_log(command: GetLog) -> tuple[OutgoingCall, ...]:
    if command.kind is LogKind.DIAGNOSTICS:
        return _call(
            "GetDiagnostics",
            {
                "location": command.location,
                "retries": command.retries,
                "retryInterval": command.retry_interval,
                "startTime": format_time(command.oldest) if command.oldest else None,
                "stopTime": format_time(command.latest) if command.latest else None,
            },
        )
    log = {
        "remoteLocation": command.location,
        "oldestTimestamp": format_time(command.oldest) if command.oldest else None,
        "latestTimestamp": format_time(command.latest) if command.latest else None,
    }
    return _call(
        "GetLog",
        {
            "log": {k: v for k, v in log.items() if v is not None},
            "logType": command.kind.value,
            "requestId": command.request_id,
            "retries": command.retries,
            "retryInterval": command.retry_interval,
        },
    )


def _data(command: DataTransfer) -> tuple[OutgoingCall, ...]:
    data = command.data
    return _call(
        "DataTransfer",
        {
            "vendorId": command.vendor_id,
            "messageId": command.message_id,
            "data": data if data is None or isinstance(data, str) else json.dumps(data),
        },
    )


def _clear_profile(command: ClearChargingProfile) -> tuple[OutgoingCall, ...]:
    purpose = None
    if command.purpose is not None:
        purpose = _PURPOSE.get(command.purpose)
        if purpose is None:
            raise unsupported(_V16, f"use the {command.purpose.value} purpose")
    return _call(
        "ClearChargingProfile",
        {
            "id": command.profile_id,
            "connectorId": command.evse,
            "chargingProfilePurpose": purpose,
            "stackLevel": command.stack_level,
        },
    )


def _certificate_use(use: CertificateUse) -> str:
    name = _CERTIFICATE_USE.get(use)
    if name is None:
        raise unsupported(_V16, f"handle a {use.value}")
    return name


def _installed_ids(command: GetInstalledCertificateIds) -> tuple[OutgoingCall, ...]:
    if len(command.uses) != 1:
        raise unsupported(_V16, "list certificates of other than exactly one use")
    return _call(
        "GetInstalledCertificateIds", {"certificateType": _certificate_use(command.uses[0])}
    )


_BUILDERS: Final[Mapping[type, Callable[[Any], tuple[OutgoingCall, ...]]]] = {
    RemoteStart: _remote_start,
    RemoteStop: lambda c: _call(
        "RemoteStopTransaction", {"transactionId": _integer_id(c.transaction_id, "transaction_id")}
    ),
    Reset: _reset,
    UnlockConnector: lambda c: _call(
        "UnlockConnector", {"connectorId": connector_id_of(c.evse, c.connector)}
    ),
    ChangeAvailability: lambda c: _call(
        "ChangeAvailability",
        {
            "connectorId": connector_id_of(c.evse, c.connector),
            "type": "Operative" if c.operative else "Inoperative",
        },
    ),
    TriggerMessage: _trigger,
    GetVariables: lambda c: _call(
        "GetConfiguration", {"key": [_key_of(v) for v in c.variables] or None}
    ),
    SetVariables: lambda c: tuple(
        OutgoingCall("ChangeConfiguration", {"key": _key_of(variable), "value": value})
        for variable, value in c.values
    ),
    # 1.6 has no device model: its report is every configuration key, whatever the report base.
    GetBaseReport: lambda c: _call("GetConfiguration", {}),
    ClearCache: lambda c: _call("ClearCache", {}),
    SendLocalList: _local_list,
    GetLocalListVersion: lambda c: _call("GetLocalListVersion", {}),
    ReserveNow: _reserve,
    CancelReservation: lambda c: _call("CancelReservation", {"reservationId": c.reservation_id}),
    SetChargingProfile: lambda c: _call(
        "SetChargingProfile", {"connectorId": c.evse, "csChargingProfiles": _profile(c.profile)}
    ),
    ClearChargingProfile: _clear_profile,
    GetCompositeSchedule: lambda c: _call(
        "GetCompositeSchedule",
        {
            "connectorId": c.evse,
            "duration": c.duration,
            "chargingRateUnit": c.unit.value if c.unit else None,
        },
    ),
    UpdateFirmware: _update_firmware,
    GetLog: _get_log,
    DataTransfer: _data,
    InstallCertificate: lambda c: _call(
        "InstallCertificate",
        {"certificateType": _certificate_use(c.use), "certificate": c.certificate},
    ),
    GetInstalledCertificateIds: _installed_ids,
    DeleteCertificate: lambda c: _call(
        "DeleteCertificate", {"certificateHashData": hash_data_payload(c.hash_data)}
    ),
    CertificateSigned: lambda c: _call(
        "CertificateSigned", {"certificateChain": c.certificate_chain}
    ),
}


# --- results ----------------------------------------------------------------------------------

_SET_STATUS: Final = {"NotSupported": "UnknownVariable"}


def _variables_read(command: GetVariables, answer: Mapping[str, Any]) -> VariablesResult:
    asked = {_key_of(variable): variable for variable in command.variables}
    results = [
        VariableResult(
            asked.get(entry["key"]) or _variable_of(entry["key"]),
            "Accepted",
            entry.get("value"),
            entry["readonly"],
        )
        for entry in answer.get("configurationKey", ())
    ]
    results += [
        VariableResult(asked.get(key) or _variable_of(key), "UnknownVariable")
        for key in answer.get("unknownKey", ())
    ]
    return VariablesResult(tuple(results))


def _composite(answer: Mapping[str, Any]) -> CompositeScheduleResult:
    schedule = answer.get("chargingSchedule")
    if answer["status"] != "Accepted" or schedule is None:
        return CompositeScheduleResult(answer["status"])
    start = answer.get("scheduleStart") or schedule.get("startSchedule")
    return CompositeScheduleResult(
        answer["status"],
        schedule=CompositeSchedule(
            evse=answer.get("connectorId", 0),
            start=parse_time(start) if start else None,
            duration=schedule.get("duration"),
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
