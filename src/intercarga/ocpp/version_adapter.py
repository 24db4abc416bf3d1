"""The contract every OCPP version adapter keeps, and the conversions they share.

A :class:`VersionAdapter` is stateless and pure: it turns a validated station CALL into a
version-free :data:`~intercarga.ocpp.events.StationEvent` (:meth:`~VersionAdapter.event`),
a decision into that version's response payload (:meth:`~VersionAdapter.response`), a
version-free command into CALLs (:meth:`~VersionAdapter.command`) and the station's answers into
a result (:meth:`~VersionAdapter.result`). :func:`intercarga.ocpp.adapter.adapter_for` picks
the one for a version; the version modules import this module, never that one.

Payloads reaching an adapter have passed schema validation (possibly leniently), so adapters
trust shapes and types but not values: a value they cannot use raises
:class:`~intercarga.ocpp.errors.CallError`, and a command a version cannot express raises
:class:`~intercarga.errors.InvalidInputError`. This module must never do I/O or keep state.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Final

from intercarga.domain.session import MeterValue, SignedMeterValue
from intercarga.domain.station import OcppVersion
from intercarga.errors import InvalidInputError
from intercarga.ocpp.commands import CertificateHashData, Command, OutgoingCall, Result
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.events import Decision, StationEvent
from intercarga.ocpp.payloads import Payload, from_dict

__all__ = [
    "ENERGY_REGISTER",
    "VersionAdapter",
    "format_time",
    "hash_data_payload",
    "json_number",
    "meter_value",
    "parse_decimal",
    "parse_time",
    "read_hash_data",
    "read_struct",
    "signed_meter_value",
    "skip_sample",
    "unsupported",
]

_log = logging.getLogger(__name__)

ENERGY_REGISTER: Final = "Energy.Active.Import.Register"

# Units normalised to the base unit the domain keeps (Wh, W, var, VA); 1.6's misspelt Celcius too.
_UNIT_SCALE: Final[Mapping[str, tuple[str, Decimal]]] = {
    "kWh": ("Wh", Decimal(1000)),
    "kW": ("W", Decimal(1000)),
    "kvarh": ("varh", Decimal(1000)),
    "kvar": ("var", Decimal(1000)),
    "kVA": ("VA", Decimal(1000)),
    "kVAh": ("VAh", Decimal(1000)),
    "Celcius": ("Celsius", Decimal(1)),
}


def parse_time(text: str) -> datetime:
    """An OCPP dateTime as an aware UTC datetime (a missing offset means UTC)."""
    try:
        value = datetime.fromisoformat(text.upper() if "t" in text or "z" in text else text)
    except ValueError:
        raise CallError(
            ErrorCode.TYPE_CONSTRAINT_VIOLATION, f"{text!r} is not a date-time"
        ) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """An aware or UTC-naive datetime as OCPP writes it: ``2024-03-01T12:15:00Z``."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    text = value.replace(tzinfo=None).isoformat(
        timespec="milliseconds" if value.microsecond else "seconds"
    )
    return text + "Z"


def parse_decimal(value: object) -> Decimal | None:
    """A JSON number or numeric string as an exact Decimal; None when it is not a finite number."""
    if type(value) is float:  # the usual case (a JSON number with a fraction): no strip()
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, bool):
        return None
    try:
        # str() of a float is its shortest round-trip form: 0.1 stays 0.1, not 0.1000000000000000055.
        number = Decimal(value) if isinstance(value, int) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def json_number(value: Decimal) -> int | float:
    """A Decimal as the JSON number a payload carries."""
    return int(value) if value == value.to_integral_value() else float(value)


_set: Final = object.__setattr__
_METER_VALUE_FIELDS: Final = frozenset(MeterValue.model_fields)


def meter_value(
    timestamp: datetime,
    value: Decimal,
    *,
    measurand: str | None,
    unit: str | None,
    multiplier: int = 0,
    phase: str | None = None,
    context: str | None = None,
    location: str | None = None,
) -> MeterValue:
    """A domain meter value in base units (kWh → Wh, …), OCPP defaults filled in."""
    measurand = measurand or ENERGY_REGISTER
    if unit is None:
        unit = "Wh" if measurand.startswith("Energy.Active") else ""
    if multiplier:
        value = value.scaleb(multiplier)
    scale = _UNIT_SCALE.get(unit)
    if scale is not None:
        unit, factor = scale
        value = value * factor
    # Built without pydantic validation: ten of these per message were a tenth of the server's
    # time, and every field is already what validation would make of it (the schema made the
    # texts strings, parse_time the instant aware UTC, parse_decimal the value finite). This is
    # what ``model_construct`` does with every field given, without its per-field loop.
    value_of = MeterValue.__new__(MeterValue)
    _set(
        value_of,
        "__dict__",
        {
            "timestamp": timestamp,
            "measurand": measurand,
            "value": value,
            "unit": unit,
            "phase": phase,
            "context": context or "Sample.Periodic",
            "location": location or "Outlet",
        },
    )
    _set(value_of, "__pydantic_fields_set__", set(_METER_VALUE_FIELDS))
    _set(value_of, "__pydantic_extra__", None)
    _set(value_of, "__pydantic_private__", None)
    return value_of


def signed_meter_value(
    timestamp: datetime,
    signed_data: str,
    *,
    measurand: str | None,
    signing_method: str | None = None,
    encoding_method: str | None = None,
    public_key: str | None = None,
) -> SignedMeterValue | None:
    """The signed reading, verbatim; None when the station sent an empty one."""
    if not signed_data:
        return None
    return SignedMeterValue(
        timestamp=timestamp,
        measurand=measurand or ENERGY_REGISTER,
        signed_data=signed_data,
        signing_method=signing_method or None,
        encoding_method=encoding_method or None,
        public_key=public_key or None,
    )


def skip_sample(reason: str, sample: Mapping[str, Any]) -> None:
    """A sample the domain cannot hold (its value is not a number) is logged, not fatal:
    rejecting the message would make the station resend it forever."""
    _log.warning("OCPP meter sample skipped: %s: %r", reason, sample)


def hash_data_payload(data: CertificateHashData) -> dict[str, Any]:
    """CertificateHashDataType, the same in 2.x and the 1.6 Security Whitepaper."""
    return {
        "hashAlgorithm": data.hash_algorithm,
        "issuerNameHash": data.issuer_name_hash,
        "issuerKeyHash": data.issuer_key_hash,
        "serialNumber": data.serial_number,
    }


def read_hash_data(data: Mapping[str, Any]) -> CertificateHashData:
    return CertificateHashData(
        data["issuerNameHash"], data["issuerKeyHash"], data["serialNumber"], data["hashAlgorithm"]
    )


def read_struct(
    version: OcppVersion,
    action: str,
    payload: Mapping[str, Any] | Payload,
    readers: Mapping[str, Callable[[Any], StationEvent]],
) -> StationEvent | None:
    """The event of a hot message read from its Struct by its reader in ``readers`` (the Struct
    made from ``payload`` when it came as a dict: a lenient station's, a test's); None when
    ``action`` has no reader there (its payload is then a dict)."""
    read = readers.get(action)
    if read is None:
        return None
    return read(payload if isinstance(payload, Payload) else from_dict(version, action, payload))


def unsupported(version: OcppVersion, what: str) -> InvalidInputError:
    """The error for a command ``version`` cannot express."""
    return InvalidInputError(f"OCPP {version.value.removeprefix('ocpp')} cannot {what}", "command")


class VersionAdapter(ABC):
    """Translates between one OCPP version and the version-free events, decisions and commands."""

    version: ClassVar[OcppVersion]
    numbers_connectors: ClassVar[bool] = False
    """Whether an EVSE's connectors have their own numbers (2.x: 1, 2, … on each EVSE) or an
    EVSE is its one connector (1.6 connectorId)."""

    @abstractmethod
    def event(self, action: str, payload: Mapping[str, Any] | Payload) -> StationEvent:
        """The version-free event of a validated station CALL (or SEND): a hot message's
        payload may come as its Struct (:mod:`~intercarga.ocpp.payloads`) or as a dict."""

    @abstractmethod
    def response(self, event: StationEvent, decision: Decision | None = None) -> dict[str, Any]:
        """The CALLRESULT payload answering ``event`` with ``decision``.

        ``decision`` may be None only for events that need none (status, meter values,
        notifications). Raises TypeError / ValueError when the decision does not fit the event:
        that is a bug of the caller, not of the station.
        """

    @abstractmethod
    def command(self, command: Command) -> tuple[OutgoingCall, ...]:
        """The CALLs that carry out ``command``; raises InvalidInputError if it cannot."""

    @abstractmethod
    def result(self, command: Command, answers: Sequence[Mapping[str, Any]]) -> Result:
        """The result of ``command`` from the CALLRESULT payloads of its calls, in order."""
