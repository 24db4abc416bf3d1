"""What a simulated station says on the wire, per OCPP version, in both directions.

The station thinks in version-free terms (a meter sample, a connector status, "start a session
on EVSE 2 for this token"); a :class:`Dialect` turns those into OCPP 1.6, 2.0.1 or 2.1 payloads
and reads the CSMS's answers back. Calls from the CSMS are translated the same way: the dialect
reads the payload, asks the station through the :class:`StationControl` interface, and writes
the version's response. An action the version defines but the simulator does not play is a
NotSupported CALLERROR; an action the version does not define never reaches here (the RPC core
answers NotImplemented).

Numbering: the simulator gives each EVSE one connector, so an OCPP 1.6 connectorId equals the
2.0.1 evseId and the 2.0.1 connectorId is always 1.

This module builds and reads dicts; it must never send anything, read a clock or keep state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Final
from typing import Protocol as TypingProtocol

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.sim.clock import format_timestamp
from intercarga.sim.connector import ConnectorStatus, status_201
from intercarga.sim.variables import SetOutcome, Settings

__all__ = [
    "VENDOR_ID",
    "Dialect",
    "Dialect16",
    "Dialect21",
    "Dialect201",
    "MeterSample",
    "Reading",
    "SessionFacts",
    "StationControl",
    "StationInfo",
    "TriggerOutcome",
    "UnlockOutcome",
    "dialect_for",
    "readings",
]

VENDOR_ID: Final = "org.intercarga.sim"
"""The DataTransfer vendor id the simulator answers to (it echoes the data back)."""


# --- version-free facts -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StationInfo:
    vendor: str = "Intercarga"
    model: str = "SimCharger"
    serial_number: str = ""
    firmware_version: str = "sim-1.0"


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One reading of an EVSE's meter."""

    at: datetime
    energy_wh: float  # the register: everything the meter has counted since it was installed
    power_w: float
    offered_w: float
    current_a: float  # per phase on AC, total on DC
    volts: float
    phases: int  # 0 for DC
    soc: float | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    measurand: str
    value: float
    unit: str | None
    phase: str | None = None


def readings(sample: MeterSample, *, full: bool = False) -> list[Reading]:
    """The sampled values of one meter sample.

    The basic set is what MeterValuesSampledData holds by default (energy register, power,
    current, SoC). ``full`` gives ten values, per phase on three-phase AC, the "MeterValues with
    10 samples" the benchmarks send.
    """
    energy = Reading("Energy.Active.Import.Register", round(sample.energy_wh, 1), "Wh")
    power = Reading("Power.Active.Import", round(sample.power_w, 1), "W")
    soc = [] if sample.soc is None else [Reading("SoC", round(sample.soc, 1), "Percent")]
    if not full:
        return [energy, power, Reading("Current.Import", round(sample.current_a, 2), "A"), *soc]
    phases = ("L1", "L2", "L3") if sample.phases == 3 else ("L1",) * 3
    per_phase = [
        Reading("Current.Import", round(sample.current_a, 2), "A", phase) for phase in phases
    ] + [Reading("Voltage", round(sample.volts, 1), "V", f"{phase}-N") for phase in phases]
    if sample.phases != 3:  # single phase or DC: one current and voltage, and what else a meter has
        per_phase = [
            Reading("Current.Import", round(sample.current_a, 2), "A"),
            Reading("Current.Offered", round(sample.offered_w / max(sample.volts, 1.0), 2), "A"),
            Reading("Voltage", round(sample.volts, 1), "V"),
            Reading("Power.Reactive.Import", round(sample.power_w * 0.05, 1), "var"),
            Reading("Power.Factor", 0.99, None),
            Reading("Energy.Active.Import.Interval", 0.0, "Wh"),
        ]
    return [
        energy,
        power,
        Reading("Power.Offered", round(sample.offered_w, 1), "W"),
        *per_phase,
        Reading("SoC", round(sample.soc if sample.soc is not None else 0.0, 1), "Percent"),
    ]


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What a transaction message says about its session."""

    evse_id: int
    id_tag: str
    transaction_id: str | int | None  # 1.6: the CSMS's integer; 2.x: the station's string
    seq_no: int = 0
    remote_start_id: int | None = None
    charging_state: str = "Charging"  # 2.x ChargingStateEnumType
    seconds_charging: int = 0


class UnlockOutcome(StrEnum):
    UNLOCKED = "Unlocked"
    FAILED = "UnlockFailed"
    ONGOING_TRANSACTION = "OngoingAuthorizedTransaction"
    UNKNOWN_CONNECTOR = "UnknownConnector"


class TriggerOutcome(StrEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    NOT_IMPLEMENTED = "NotImplemented"


class StationControl(TypingProtocol):
    """What the CSMS may ask a station to do; answers are decided at once, work runs after."""

    settings: Settings

    def request_start(
        self, evse_id: int | None, id_tag: str, remote_start_id: int | None
    ) -> bool: ...

    def request_stop(self, transaction_id: str) -> bool: ...

    def reset(self, *, immediate: bool) -> str: ...  # Accepted | Scheduled | Rejected

    def unlock(self, evse_id: int, *, end_transaction: bool) -> UnlockOutcome: ...

    def change_availability(self, evse_id: int | None, operative: bool) -> str: ...

    def trigger(self, action: str, evse_id: int | None) -> TriggerOutcome: ...

    def clear_cache(self) -> bool: ...

    def transaction_on(self, evse_id: int | None) -> str | None: ...

    def transaction_status(self, transaction_id: str) -> tuple[bool, bool]:
        """(is it ongoing, do messages of it wait in the station's queue)."""
        ...

    def certificate_signed(self, chain: str) -> bool:
        """Take the certificate the CSMS signed for the station's last CSR; False if it is not
        for that key (or not a certificate at all)."""
        ...

    def update_firmware(self, request_id: int, signing_certificate: str) -> str:
        """Start a signed firmware update: Accepted, or InvalidCertificate when the signing
        certificate is not one."""
        ...


# --- dialects ---------------------------------------------------------------------------------


Answerer = Callable[["Dialect", dict[str, Any], StationControl], dict[str, Any]]


class Dialect:
    """Base of the version dialects; see the module docstring."""

    version: ClassVar[OcppVersion]
    triggerable: ClassVar[frozenset[str]]
    """Messages a TriggerMessage may ask for that the simulator can send."""
    answers: ClassVar[Mapping[str, Answerer]]

    # -- outgoing --------------------------------------------------------------------------

    def boot_notification(self, info: StationInfo, reason: str) -> dict[str, Any]:
        raise NotImplementedError

    def status_notification(
        self, evse_id: int, status: ConnectorStatus, at: datetime
    ) -> dict[str, Any]:
        raise NotImplementedError

    def authorize(self, id_tag: str) -> dict[str, Any]:
        raise NotImplementedError

    def meter_values(
        self, evse_id: int, sample: MeterSample, *, full: bool = False
    ) -> dict[str, Any]:
        raise NotImplementedError

    def idle_notification(self, action: str) -> dict[str, Any]:
        """The payload of a firmware / diagnostics / log status notification: nothing going on."""
        return {"status": "Idle"}

    def sign_certificate(self, csr: str) -> dict[str, Any]:
        """The SignCertificate payload asking the CSMS to sign the station's certificate."""
        raise NotImplementedError

    def firmware_status(self, status: str, request_id: int) -> tuple[str, dict[str, Any]]:
        """The notification of a step of a signed firmware update."""
        raise NotImplementedError

    def security_event(
        self, kind: str, at: datetime, tech_info: str | None = None
    ) -> dict[str, Any]:
        """A SecurityEventNotification payload (the same in 1.6 and 2.x)."""
        payload = {"type": kind, "timestamp": format_timestamp(at)}
        if tech_info:
            payload["techInfo"] = tech_info[:255]
        return payload

    def transaction_started(
        self, session: SessionFacts, sample: MeterSample, trigger: str, *, offline: bool = False
    ) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def transaction_updated(
        self,
        session: SessionFacts,
        sample: MeterSample,
        trigger: str,
        *,
        offline: bool = False,
        full: bool = False,
    ) -> tuple[str, dict[str, Any]] | None:
        """The periodic message of a running session; None when the version has none to send."""
        raise NotImplementedError

    def transaction_ended(
        self, session: SessionFacts, sample: MeterSample, reason: str, *, offline: bool = False
    ) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    # -- incoming answers ------------------------------------------------------------------

    def boot_answer(self, answer: Mapping[str, Any]) -> tuple[str, int]:
        """(status, interval) of a BootNotification answer."""
        return str(answer["status"]), int(answer.get("interval", 0))

    def authorize_answer(self, answer: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def transaction_answer(self, answer: Mapping[str, Any]) -> tuple[int | None, str | None]:
        """(the transaction id the CSMS assigned, if any; the token's status, if given)."""
        raise NotImplementedError

    # -- calls from the CSMS ---------------------------------------------------------------

    def answer(
        self, action: str, payload: dict[str, Any], station: StationControl
    ) -> dict[str, Any]:
        answerer = self.answers.get(action)
        if answerer is None:
            raise CallError(
                ErrorCode.NOT_SUPPORTED, f"{action} is not supported by this simulated station"
            )
        return answerer(self, payload, station)


def _data_transfer(
    dialect: Dialect, payload: dict[str, Any], station: StationControl
) -> dict[str, Any]:
    if payload.get("vendorId") != VENDOR_ID:
        return {"status": "UnknownVendorId"}
    answer: dict[str, Any] = {"status": "Accepted"}
    if "data" in payload:
        answer["data"] = payload["data"]
    return answer


def _clear_cache(
    dialect: Dialect, payload: dict[str, Any], station: StationControl
) -> dict[str, Any]:
    return {"status": "Accepted" if station.clear_cache() else "Rejected"}


# --- OCPP 1.6 ---------------------------------------------------------------------------------


def _decimal_text(value: float) -> str:
    """1.6 sends values as text: every digit the reading has, never an exponent.

    ``:g`` kept six significant digits, so a register past 1 MWh was rounded to tens of Wh and
    went back and forth against the exact meterStart/meterStop.
    """
    return format(Decimal(repr(value)).normalize(), "f")


def _value_16(reading: Reading, context: str) -> dict[str, Any]:
    value: dict[str, Any] = {
        "value": _decimal_text(reading.value),
        "context": context,
        "measurand": reading.measurand,
    }
    if reading.unit is not None:
        value["unit"] = reading.unit
    if reading.phase is not None:
        value["phase"] = reading.phase
    return value


def _meter_value_16(sample: MeterSample, context: str, *, full: bool = False) -> dict[str, Any]:
    return {
        "timestamp": format_timestamp(sample.at),
        "sampledValue": [_value_16(r, context) for r in readings(sample, full=full)],
    }


def _remote_start_16(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    accepted = s.request_start(p.get("connectorId") or None, p["idTag"], None)
    return {"status": "Accepted" if accepted else "Rejected"}


def _remote_stop_16(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    return {"status": "Accepted" if s.request_stop(str(p["transactionId"])) else "Rejected"}


def _reset_16(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    # 1.6 has no "Scheduled": a reset waits for transactions to stop, which we do at once.
    status = s.reset(immediate=True)
    return {"status": "Rejected" if status == "Rejected" else "Accepted"}


def _unlock_16(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    outcome = s.unlock(int(p["connectorId"]), end_transaction=True)
    if outcome is UnlockOutcome.UNKNOWN_CONNECTOR:
        return {"status": "NotSupported"}
    # 1.6: unlocking a connector with a transaction stops the transaction first (section 5.17).
    return {"status": "UnlockFailed" if outcome is UnlockOutcome.FAILED else "Unlocked"}


def _availability_16(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    connector = int(p["connectorId"])
    return {"status": s.change_availability(connector or None, p["type"] == "Operative")}


def _trigger_16(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    return {"status": s.trigger(p["requestedMessage"], p.get("connectorId") or None).value}


# ExtendedTriggerMessage (1.6 Security Whitepaper) names the station certificate request its own
# way; the rest are the messages TriggerMessage may ask for, and LogStatusNotification.
_EXTENDED_TRIGGER_16: Final[Mapping[str, str]] = {
    "SignChargePointCertificate": "SignCertificate",
}


def _extended_trigger_16(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    requested = p["requestedMessage"]
    action = _EXTENDED_TRIGGER_16.get(requested, requested)
    return {"status": s.trigger(action, p.get("connectorId") or None).value}


def _certificate_signed(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    return {"status": "Accepted" if s.certificate_signed(p["certificateChain"]) else "Rejected"}


def _signed_update_firmware_16(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    return {"status": s.update_firmware(p["requestId"], p["firmware"]["signingCertificate"])}


def _get_configuration(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    wanted = p.get("key")
    known: list[dict[str, Any]] = []
    unknown: list[str] = []
    if wanted:
        for key in wanted:
            setting = s.settings.get(key)
            if setting is None:
                unknown.append(key)
            else:
                known.append({"key": key, "readonly": setting.readonly, "value": setting.value})
    else:
        known = [
            {"key": key, "readonly": setting.readonly, "value": setting.value}
            for key, setting in s.settings
        ]
    answer: dict[str, Any] = {"configurationKey": known}
    if unknown:
        answer["unknownKey"] = unknown
    return answer


def _change_configuration(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    outcome = s.settings.set(p["key"], p["value"])
    return {"status": "NotSupported" if outcome is SetOutcome.UNKNOWN else outcome.value}


class Dialect16(Dialect):
    version = OcppVersion.V16
    triggerable = frozenset(
        {
            "BootNotification",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "LogStatusNotification",
            "MeterValues",
            "SignCertificate",
            "StatusNotification",
        }
    )

    def sign_certificate(self, csr: str) -> dict[str, Any]:
        return {"csr": csr}

    def firmware_status(self, status: str, request_id: int) -> tuple[str, dict[str, Any]]:
        return "SignedFirmwareStatusNotification", {"status": status, "requestId": request_id}

    def boot_notification(self, info: StationInfo, reason: str) -> dict[str, Any]:
        payload = {
            "chargePointVendor": info.vendor[:20],
            "chargePointModel": info.model[:20],
            "firmwareVersion": info.firmware_version[:50],
        }
        if info.serial_number:
            payload["chargePointSerialNumber"] = info.serial_number[:25]
        return payload

    def status_notification(
        self, evse_id: int, status: ConnectorStatus, at: datetime
    ) -> dict[str, Any]:
        return {
            "connectorId": evse_id,
            "errorCode": "OtherError" if status is ConnectorStatus.FAULTED else "NoError",
            "status": status.value,
            "timestamp": format_timestamp(at),
        }

    def authorize(self, id_tag: str) -> dict[str, Any]:
        return {"idTag": id_tag[:20]}

    def meter_values(
        self, evse_id: int, sample: MeterSample, *, full: bool = False
    ) -> dict[str, Any]:
        return {
            "connectorId": evse_id,
            "meterValue": [_meter_value_16(sample, "Trigger", full=full)],
        }

    def transaction_started(
        self, session: SessionFacts, sample: MeterSample, trigger: str, *, offline: bool = False
    ) -> tuple[str, dict[str, Any]]:
        return "StartTransaction", {
            "connectorId": session.evse_id,
            "idTag": session.id_tag[:20],
            "meterStart": round(sample.energy_wh),
            "timestamp": format_timestamp(sample.at),
        }

    def transaction_updated(
        self,
        session: SessionFacts,
        sample: MeterSample,
        trigger: str,
        *,
        offline: bool = False,
        full: bool = False,
    ) -> tuple[str, dict[str, Any]] | None:
        payload: dict[str, Any] = {
            "connectorId": session.evse_id,
            "meterValue": [_meter_value_16(sample, "Sample.Periodic", full=full)],
        }
        if isinstance(session.transaction_id, int):
            payload["transactionId"] = session.transaction_id
        return "MeterValues", payload

    def transaction_ended(
        self, session: SessionFacts, sample: MeterSample, reason: str, *, offline: bool = False
    ) -> tuple[str, dict[str, Any]]:
        payload: dict[str, Any] = {
            "idTag": session.id_tag[:20],
            "meterStop": round(sample.energy_wh),
            "timestamp": format_timestamp(sample.at),
            "reason": _STOP_REASONS_16.get(reason, "Other"),
            "transactionData": [_meter_value_16(sample, "Transaction.End")],
        }
        if isinstance(session.transaction_id, int):
            payload["transactionId"] = session.transaction_id
        return "StopTransaction", payload

    def authorize_answer(self, answer: Mapping[str, Any]) -> str:
        return str(answer["idTagInfo"]["status"])

    def transaction_answer(self, answer: Mapping[str, Any]) -> tuple[int | None, str | None]:
        info = answer.get("idTagInfo")
        transaction_id = answer.get("transactionId")
        return (
            transaction_id if isinstance(transaction_id, int) else None,
            str(info["status"]) if isinstance(info, dict) else None,
        )

    answers = {
        "CertificateSigned": _certificate_signed,
        "ChangeAvailability": _availability_16,
        "ChangeConfiguration": _change_configuration,
        "ClearCache": _clear_cache,
        "DataTransfer": _data_transfer,
        "ExtendedTriggerMessage": _extended_trigger_16,
        "GetConfiguration": _get_configuration,
        "RemoteStartTransaction": _remote_start_16,
        "RemoteStopTransaction": _remote_stop_16,
        "Reset": _reset_16,
        "SignedUpdateFirmware": _signed_update_firmware_16,
        "TriggerMessage": _trigger_16,
        "UnlockConnector": _unlock_16,
    }


# Version-free stop reasons are 2.0.1's ReasonEnumType; 1.6 names differ in a few places.
_STOP_REASONS_16: Final[Mapping[str, str]] = {
    "DeAuthorized": "DeAuthorized",
    "EmergencyStop": "EmergencyStop",
    "EVDisconnected": "EVDisconnected",
    "ImmediateReset": "HardReset",
    "Local": "Local",
    "Other": "Other",
    "PowerLoss": "PowerLoss",
    "Reboot": "Reboot",
    "Remote": "Remote",
    "UnlockCommand": "UnlockCommand",
}


# --- OCPP 2.0.1 and 2.1 -----------------------------------------------------------------------


def _value_201(reading: Reading, context: str) -> dict[str, Any]:
    value: dict[str, Any] = {
        "value": reading.value,
        "context": context,
        "measurand": reading.measurand,
    }
    if reading.unit is not None:
        value["unitOfMeasure"] = {"unit": reading.unit}
    if reading.phase is not None:
        value["phase"] = reading.phase
    return value


def _meter_value_201(sample: MeterSample, context: str, *, full: bool = False) -> dict[str, Any]:
    return {
        "timestamp": format_timestamp(sample.at),
        "sampledValue": [_value_201(r, context) for r in readings(sample, full=full)],
    }


def _evse_of(payload: Mapping[str, Any]) -> int | None:
    evse = payload.get("evse")
    return (int(evse["id"]) or None) if isinstance(evse, dict) else None


def _request_start(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    evse = p.get("evseId")
    accepted = s.request_start(evse or None, p["idToken"]["idToken"], p["remoteStartId"])
    answer: dict[str, Any] = {"status": "Accepted" if accepted else "Rejected"}
    running = s.transaction_on(evse) if evse else None
    if running is not None:
        answer["transactionId"] = running
    return answer


def _request_stop(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    return {"status": "Accepted" if s.request_stop(p["transactionId"]) else "Rejected"}


def _reset_201(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    if p.get("evseId"):
        return {"status": "Rejected"}  # resetting one EVSE is not simulated
    return {"status": s.reset(immediate=p["type"] != "OnIdle")}


def _unlock_201(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    if p["connectorId"] != 1:
        return {"status": UnlockOutcome.UNKNOWN_CONNECTOR.value}
    return {"status": s.unlock(int(p["evseId"]), end_transaction=False).value}


def _availability_201(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    return {"status": s.change_availability(_evse_of(p), p["operationalStatus"] == "Operative")}


def _trigger_201(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    return {"status": s.trigger(p["requestedMessage"], _evse_of(p)).value}


def _variable_ref(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"component": item["component"], "variable": item["variable"]}


def _get_variables(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    results = []
    for item in p["getVariableData"]:
        result = _variable_ref(item)
        attribute = item.get("attributeType", "Actual")
        if "attributeType" in item:
            result["attributeType"] = attribute
        component, variable = item["component"]["name"], item["variable"]["name"]
        key = Settings.key_201(component, variable)
        setting = s.settings.get(key) if key else None
        if not Settings.knows_component_201(component):
            result["attributeStatus"] = "UnknownComponent"
        elif setting is None:
            result["attributeStatus"] = "UnknownVariable"
        elif attribute != "Actual":
            result["attributeStatus"] = "NotSupportedAttributeType"
        else:
            result["attributeStatus"] = "Accepted"
            result["attributeValue"] = setting.value
        results.append(result)
    return {"getVariableResult": results}


def _set_variables(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    results = []
    for item in p["setVariableData"]:
        result = _variable_ref(item)
        attribute = item.get("attributeType", "Actual")
        if "attributeType" in item:
            result["attributeType"] = attribute
        component, variable = item["component"]["name"], item["variable"]["name"]
        key = Settings.key_201(component, variable)
        if not Settings.knows_component_201(component):
            result["attributeStatus"] = "UnknownComponent"
        elif key is None:
            result["attributeStatus"] = "UnknownVariable"
        elif attribute != "Actual":
            result["attributeStatus"] = "NotSupportedAttributeType"
        else:
            outcome = s.settings.set(key, str(item["attributeValue"]))
            result["attributeStatus"] = (
                "UnknownVariable" if outcome is SetOutcome.UNKNOWN else outcome.value
            )
        results.append(result)
    return {"setVariableResult": results}


def _transaction_status(d: Dialect, p: dict[str, Any], s: StationControl) -> dict[str, Any]:
    transaction_id = p.get("transactionId")
    if transaction_id is None:
        _, queued = s.transaction_status("")
        return {"messagesInQueue": queued}
    ongoing, queued = s.transaction_status(transaction_id)
    return {"ongoingIndicator": ongoing, "messagesInQueue": queued}


class Dialect201(Dialect):
    version = OcppVersion.V201
    triggerable = frozenset(
        {
            "BootNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "LogStatusNotification",
            "MeterValues",
            "StatusNotification",
            "TransactionEvent",
        }
    )

    def boot_notification(self, info: StationInfo, reason: str) -> dict[str, Any]:
        station: dict[str, Any] = {
            "vendorName": info.vendor[:50],
            "model": info.model[:20],
            "firmwareVersion": info.firmware_version[:50],
        }
        if info.serial_number:
            station["serialNumber"] = info.serial_number[:25]
        return {"chargingStation": station, "reason": reason}

    def status_notification(
        self, evse_id: int, status: ConnectorStatus, at: datetime
    ) -> dict[str, Any]:
        return {
            "timestamp": format_timestamp(at),
            "connectorStatus": status_201(status),
            "evseId": evse_id,
            "connectorId": 1,
        }

    def authorize(self, id_tag: str) -> dict[str, Any]:
        return {"idToken": self._token(id_tag)}

    @staticmethod
    def _token(id_tag: str) -> dict[str, Any]:
        return {"idToken": id_tag[:36], "type": "ISO14443"}

    def meter_values(
        self, evse_id: int, sample: MeterSample, *, full: bool = False
    ) -> dict[str, Any]:
        return {"evseId": evse_id, "meterValue": [_meter_value_201(sample, "Trigger", full=full)]}

    def _event(
        self,
        kind: str,
        session: SessionFacts,
        sample: MeterSample,
        trigger: str,
        context: str,
        *,
        offline: bool,
        full: bool = False,
    ) -> dict[str, Any]:
        info: dict[str, Any] = {
            "transactionId": str(session.transaction_id),
            "chargingState": session.charging_state,
            "timeSpentCharging": session.seconds_charging,
        }
        payload: dict[str, Any] = {
            "eventType": kind,
            "timestamp": format_timestamp(sample.at),
            "triggerReason": trigger,
            "seqNo": session.seq_no,
            "transactionInfo": info,
            "meterValue": [_meter_value_201(sample, context, full=full)],
        }
        if offline:
            payload["offline"] = True
        return payload

    def transaction_started(
        self, session: SessionFacts, sample: MeterSample, trigger: str, *, offline: bool = False
    ) -> tuple[str, dict[str, Any]]:
        payload = self._event(
            "Started", session, sample, trigger, "Transaction.Begin", offline=offline
        )
        payload["evse"] = {"id": session.evse_id, "connectorId": 1}
        payload["idToken"] = self._token(session.id_tag)
        if session.remote_start_id is not None:
            payload["transactionInfo"]["remoteStartId"] = session.remote_start_id
        return "TransactionEvent", payload

    def transaction_updated(
        self,
        session: SessionFacts,
        sample: MeterSample,
        trigger: str,
        *,
        offline: bool = False,
        full: bool = False,
    ) -> tuple[str, dict[str, Any]] | None:
        return "TransactionEvent", self._event(
            "Updated", session, sample, trigger, "Sample.Periodic", offline=offline, full=full
        )

    def transaction_ended(
        self, session: SessionFacts, sample: MeterSample, reason: str, *, offline: bool = False
    ) -> tuple[str, dict[str, Any]]:
        trigger = {
            "Remote": "RemoteStop",
            "EVDisconnected": "EVCommunicationLost",
            "ImmediateReset": "ResetCommand",
            "UnlockCommand": "UnlockCommand",
        }.get(reason, "StopAuthorized")
        payload = self._event("Ended", session, sample, trigger, "Transaction.End", offline=offline)
        payload["transactionInfo"]["stoppedReason"] = reason
        return "TransactionEvent", payload

    def authorize_answer(self, answer: Mapping[str, Any]) -> str:
        return str(answer["idTokenInfo"]["status"])

    def transaction_answer(self, answer: Mapping[str, Any]) -> tuple[int | None, str | None]:
        info = answer.get("idTokenInfo")
        return None, str(info["status"]) if isinstance(info, dict) else None

    answers = {
        "ChangeAvailability": _availability_201,
        "ClearCache": _clear_cache,
        "DataTransfer": _data_transfer,
        "GetTransactionStatus": _transaction_status,
        "GetVariables": _get_variables,
        "RequestStartTransaction": _request_start,
        "RequestStopTransaction": _request_stop,
        "Reset": _reset_201,
        "SetVariables": _set_variables,
        "TriggerMessage": _trigger_201,
        "UnlockConnector": _unlock_201,
    }


class Dialect21(Dialect201):
    """OCPP 2.1 keeps every 2.0.1 payload the simulator uses (its additions are all optional)."""

    version = OcppVersion.V21


_DIALECTS: Final[Mapping[OcppVersion, type[Dialect]]] = {
    OcppVersion.V16: Dialect16,
    OcppVersion.V201: Dialect201,
    OcppVersion.V21: Dialect21,
}


def dialect_for(version: OcppVersion) -> Dialect:
    return _DIALECTS[version]()
