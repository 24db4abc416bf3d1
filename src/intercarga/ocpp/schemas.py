"""Payload validation against the OCA JSON schemas shipped in the ``ocpp`` package.

Each (version, action, request|response) schema is compiled by fastjsonschema into a Python
function the first time it is needed and cached for the life of the process; :func:`preload`
compiles a whole version up front for a server that prefers to pay at start. A failure becomes a
:class:`~intercarga.ocpp.errors.CallError` whose code follows OCPP-J:

==========================  ===============================  ===============================
schema rule                 OCPP 1.6                         OCPP 2.0.1 / 2.1
==========================  ===============================  ===============================
payload not an object       FormationViolation               FormatViolation
``type``                    TypeConstraintViolation          TypeConstraintViolation
``maxLength``, ``format``   TypeConstraintViolation          TypeConstraintViolation
``enum``, ``minimum``,      PropertyConstraintViolation      PropertyConstraintViolation
``maximum``, ``multipleOf``
``required``                ProtocolError ("incomplete")     OccurrenceConstraintViolation
``minItems``, ``maxItems``  OccurenceConstraintViolation     OccurrenceConstraintViolation
``additionalProperties``    FormationViolation ("not         ProtocolError ("not conform the
                            conform the PDU structure")      PDU structure")
==========================  ===============================  ===============================

String lengths and date-times are data types in OCPP (CiString25Type, dateTime), hence
TypeConstraintViolation. The quoted words are each version's definition of the code; OCPP 2.0.1
moved "not conform the PDU structure" from FormationViolation to ProtocolError, which is why an
unexpected property maps differently.

A lenient validator downgrades the violations real chargers commit harmlessly (a string longer
than its CiString, a value outside an enumeration, an extra property, a date-time without its UTC
offset or with a space for "T") to warnings: the payload is then checked again against a relaxed
copy of the schema without the first three rules and with a looser date-time, so every other
violation (a wrong type, a missing field, a date that is not a date) is still an error. Lenience
is for what a station sends; what we send is always strict.

This module reads schema files and nothing else; it must never parse frames or know who sent
the payload.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from enum import StrEnum
from importlib import resources
from typing import Any, Final

import fastjsonschema

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.actions import known_actions
from intercarga.ocpp.errors import CallError, ErrorCode

__all__ = [
    "HARMLESS_RULES",
    "LOOSE_DATE_TIME",
    "Direction",
    "Validator",
    "load_schema",
    "preload",
    "validated_schema",
]


class Direction(StrEnum):
    """Which half of an exchange a payload is: a CALL's request or a CALLRESULT's response."""

    REQUEST = "request"
    RESPONSE = "response"


HARMLESS_RULES: Final = frozenset({"maxLength", "enum", "additionalProperties", "format"})
"""Schema rules a lenient validator reports as a warning instead of an error."""

# A date-time as chargers write it when they get it slightly wrong: offset missing (read as UTC),
# lower-case or space separator, seconds missing. A relaxed schema checks this instead of RFC 3339.
LOOSE_DATE_TIME: Final = (
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?$"
)

_PACKAGE_DIR: Final[Mapping[OcppVersion, str]] = {
    OcppVersion.V16: "v16",
    OcppVersion.V201: "v201",
    OcppVersion.V21: "v21",
}

_COMMON_CODES: Final[Mapping[str, ErrorCode]] = {
    "type": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "minLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "format": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "enum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minItems": ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
    "maxItems": ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
}
_RULE_CODES: Final[Mapping[OcppVersion, Mapping[str, ErrorCode]]] = {
    OcppVersion.V16: {
        **_COMMON_CODES,
        "required": ErrorCode.PROTOCOL_ERROR,
        "additionalProperties": ErrorCode.FORMAT_VIOLATION,
    },
    OcppVersion.V201: {
        **_COMMON_CODES,
        "required": ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
        "additionalProperties": ErrorCode.PROTOCOL_ERROR,
    },
}
_RULE_CODES_21: Final = _RULE_CODES[OcppVersion.V201]

_Check = Callable[[Any], Any]
# (version, action, direction, relaxed) -> compiled check; None when the version has no schema.
_compiled: dict[tuple[OcppVersion, str, Direction, bool], _Check | None] = {}
# The payloads whose schema an empty object satisfies (strictly, so leniently too).
_EMPTY_VALID: set[tuple[OcppVersion, str, Direction]] = set()


def _schema_files(version: OcppVersion, action: str, direction: Direction) -> tuple[str, ...]:
    if direction is Direction.RESPONSE:
        return (f"{action}Response.json",)
    if version is OcppVersion.V16:
        return (f"{action}.json",)
    # 2.1 names a SEND message's schema without the "Request" suffix.
    return (f"{action}Request.json", f"{action}.json")


def load_schema(version: OcppVersion, action: str, direction: Direction) -> dict[str, Any] | None:
    """The OCA schema of one payload as a dict, or None when ``version`` has no such action."""
    if action not in known_actions(version):
        return None
    folder = resources.files("ocpp").joinpath(_PACKAGE_DIR[version], "schemas")
    for name in _schema_files(version, action, direction):
        source = folder.joinpath(name)
        if source.is_file():
            # The 2.0.1 files start with a byte order mark.
            schema: dict[str, Any] = json.loads(source.read_text(encoding="utf-8-sig"))
            return schema
    return None


_DOCUMENTATION_KEYS: Final = frozenset({"description", "javaType", "comment", "title", "$id"})


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` with every ``#/definitions/…`` reference replaced by its target.

    fastjsonschema turns each reference into a function call that also builds the field's path
    string, on success too; the OCA schemas have no recursive references, so inlining them is
    always possible and makes a 2.0.1 TransactionEvent check about 40% faster. Documentation
    keywords are dropped on the way: they only make the generated code longer.
    """
    definitions: dict[str, Any] = schema.get("definitions", {})

    def resolve(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [resolve(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/definitions/"):
            name = reference.removeprefix("#/definitions/")
            if name in seen:  # pragma: no cover - no OCA schema is recursive
                raise ValueError(f"recursive reference to {name}")
            return resolve(definitions[name], seen | {name})
        resolved: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DOCUMENTATION_KEYS or key == "definitions":
                continue
            if key == "properties":
                # Keys here are property names, never keywords.
                resolved[key] = {name: resolve(sub, seen) for name, sub in value.items()}
            else:
                resolved[key] = resolve(value, seen)
        return resolved

    inlined: dict[str, Any] = resolve(schema, frozenset())
    return inlined


def _relax(node: Any) -> Any:
    """A copy of an inlined schema node without the rules in HARMLESS_RULES, at every depth."""
    if isinstance(node, list):
        return [_relax(item) for item in node]
    if not isinstance(node, dict):
        return node
    relaxed: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("maxLength", "enum") or (key == "additionalProperties" and value is False):
            continue
        if key == "properties":
            # Keys here are property names, never keywords.
            relaxed[key] = {name: _relax(sub) for name, sub in value.items()}
        else:
            relaxed[key] = _relax(value)
    return relaxed


def validated_schema(
    version: OcppVersion, action: str, direction: Direction, *, relaxed: bool = False
) -> dict[str, Any] | None:
    """The schema a validator checks a payload against: the OCA schema inlined, or its relaxed
    copy (whose date-times are checked against :data:`LOOSE_DATE_TIME`); None when ``version``
    has no such action."""
    schema = load_schema(version, action, direction)
    if schema is None:
        return None
    inlined = _inline(schema)
    relaxed_schema: dict[str, Any] = _relax(inlined) if relaxed else inlined
    return relaxed_schema


def _check(version: OcppVersion, action: str, direction: Direction, relaxed: bool) -> _Check | None:
    key = (version, action, direction, relaxed)
    try:
        return _compiled[key]
    except KeyError:
        pass
    schema = validated_schema(version, action, direction, relaxed=relaxed)
    check: _Check | None = None
    if schema is not None:
        # use_default=False: fastjsonschema would otherwise write schema defaults into the payload.
        if relaxed:
            check = fastjsonschema.compile(
                schema, use_default=False, formats={"date-time": LOOSE_DATE_TIME}
            )
        else:
            check = fastjsonschema.compile(schema, use_default=False)
    _compiled[key] = check
    return check


def preload(version: OcppVersion, *, lenient: bool = False) -> int:
    """Compile every schema of ``version`` now (and their relaxed copies if ``lenient``).

    Returns how many checks are compiled. Optional: validation compiles lazily anyway.
    """
    count = 0
    for action in sorted(known_actions(version)):
        for direction in Direction:
            for relaxed in (False, True) if lenient else (False,):
                if _check(version, action, direction, relaxed) is not None:
                    count += 1
    return count


def _where(name: str | None) -> str:
    """``data.meterValue[0].unit`` → ``meterValue[0].unit`` (the root is the payload itself)."""
    if not name or name == "data":
        return ""
    return name[5:] if name.startswith("data.") else name


def _message(error: fastjsonschema.JsonSchemaValueException) -> str:
    """fastjsonschema's message, naming fields from the payload (which it calls ``data``)."""
    message: str = error.message
    if message.startswith("data."):
        return message[5:]
    if message.startswith("data "):
        return "payload" + message[4:]
    return message


class Validator:
    """Checks payloads of one OCPP version; cheap to create, share or keep one per station.

    ``validate`` returns the warnings a lenient validator produced (empty when the payload is
    clean) and raises :class:`CallError` otherwise, including NotImplemented for an action the
    version does not define.
    """

    __slots__ = ("_codes", "lenient", "version")

    def __init__(self, version: OcppVersion, *, lenient: bool = False) -> None:
        self.version = version
        self.lenient = lenient
        self._codes = _RULE_CODES.get(version, _RULE_CODES_21)

    def knows(self, action: str) -> bool:
        """Whether the version defines ``action`` at all."""
        return action in known_actions(self.version)

    def request(self, action: str, payload: Any, *, strict: bool = False) -> tuple[str, ...]:
        """Validate a CALL (or SEND) payload of ``action``."""
        return self.validate(action, Direction.REQUEST, payload, strict=strict)

    def response(self, action: str, payload: Any, *, strict: bool = False) -> tuple[str, ...]:
        """Validate the CALLRESULT payload answering ``action``."""
        return self.validate(action, Direction.RESPONSE, payload, strict=strict)

    def validate(
        self, action: str, direction: Direction, payload: Any, *, strict: bool = False
    ) -> tuple[str, ...]:
        """Validate ``payload``; ``strict`` ignores lenience (for payloads we send)."""
        check = _compiled.get((self.version, action, direction, False))
        if check is None:
            check = _check(self.version, action, direction, relaxed=False)
            if check is None:
                raise CallError(
                    ErrorCode.NOT_IMPLEMENTED,
                    f"{action} is not an OCPP {self.version.value.removeprefix('ocpp')} action",
                    {"action": action},
                )
        if payload == {} and (self.version, action, direction) in _EMPTY_VALID:
            return ()  # the answer of most station messages, checked once per process
        try:
            check(payload)
        except fastjsonschema.JsonSchemaValueException as error:
            if not strict and self.lenient and error.rule in HARMLESS_RULES:
                return self._lenient(action, direction, payload, error)
            raise self._call_error(action, error) from None
        if payload == {}:
            _EMPTY_VALID.add((self.version, action, direction))
        return ()

    def _lenient(
        self,
        action: str,
        direction: Direction,
        payload: Any,
        first: fastjsonschema.JsonSchemaValueException,
    ) -> tuple[str, ...]:
        relaxed = _check(self.version, action, direction, relaxed=True)
        assert relaxed is not None  # the strict schema exists, so does its relaxed copy
        try:
            relaxed(payload)
        except fastjsonschema.JsonSchemaValueException as error:
            raise self._call_error(action, error) from None
        # fastjsonschema stops at the first violation, so the warning names that one; any
        # further harmless ones are covered by the same relaxed check.
        return (f"{action}: {_message(first)}",)

    def _call_error(self, action: str, error: fastjsonschema.JsonSchemaValueException) -> CallError:
        where = _where(error.name)
        rule = error.rule or ""
        if not where and rule == "type":
            code = ErrorCode.FORMAT_VIOLATION
        else:
            code = self._codes.get(rule, ErrorCode.FORMAT_VIOLATION)
        details: dict[str, Any] = {"action": action, "rule": rule}
        if where:
            details["field"] = where
        return CallError(code, f"{action}: {_message(error)}", details)
