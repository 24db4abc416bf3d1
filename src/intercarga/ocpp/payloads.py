"""The hot station payloads as msgspec Structs: decoded and validated from JSON in one pass.

A CSMS spends most of its time on a few messages (TransactionEvent, MeterValues,
StatusNotification, Heartbeat, 1.6's Start/StopTransaction). For these, :func:`payload_types`
gives a msgspec Struct type per action, generated from the same inlined OCA schema that
:mod:`~intercarga.ocpp.schemas` compiles with fastjsonschema, so a Struct accepts exactly what the
schema accepts:

=========================  ===============================================================
schema rule                Struct
=========================  ===============================================================
``type: object``           a Struct; ``additionalProperties: false`` forbids unknown fields
                           (customData allows them, as its schema does)
``required``               a field without default; the others default to None, and a JSON
                           null is refused as the schema refuses it
``type: integer``          ``int`` (a 2.x integral float such as ``1.0`` is refused here,
                           accepted by the schema: the caller falls back, see below)
``type: number``           ``int | float``, so an integer stays exact
``enum``                   ``Literal`` of the values
``maxLength`` …            ``msgspec.Meta`` bounds (code points, as fastjsonschema counts)
``format: date-time``      the date-time regular expression fastjsonschema checks
=========================  ===============================================================

A schema using anything else gets no Struct (:func:`payload_types` leaves the action out), so
nothing is ever accepted here that the schema would refuse. The converse need not hold: a payload
a Struct refuses is given to the fastjsonschema validator, which either accepts it (then the
adapter converts the dict with :func:`from_dict` into the *relaxed* Struct, generated from the
lenient validator's relaxed schema) or raises the CALLERROR it always raised. The property tests
in ``tests/ocpp/test_payloads.py`` hold both paths equal on generated and mutated payloads.

Attribute names are the schema's in snake_case (``seqNo`` → ``seq_no``). This module reads
schemas and builds types; it must never parse frames, decide what a message means, or raise
CALLERRORs (the validator does).
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Annotated, Any, Final, Literal

import msgspec
from fastjsonschema.draft04 import CodeGeneratorDraft04

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.schemas import LOOSE_DATE_TIME, Direction, validated_schema

__all__ = [
    "HOT_ACTIONS",
    "Payload",
    "PayloadDecoder",
    "from_dict",
    "payload_decoders",
    "payload_types",
]

Payload = msgspec.Struct
"""What a decoded hot payload is: a Struct of the generated type of its action."""

PayloadDecoder = Callable[[str | bytes | memoryview], Payload]
"""Decodes one JSON payload into its Struct; raises ``msgspec.DecodeError`` or
``msgspec.ValidationError`` (both ``msgspec.MsgspecError``) for anything its schema refuses."""

HOT_ACTIONS: Final[Mapping[OcppVersion, frozenset[str]]] = {
    OcppVersion.V16: frozenset(
        {"Heartbeat", "MeterValues", "StatusNotification", "StartTransaction", "StopTransaction"}
    ),
    OcppVersion.V201: frozenset(
        {"Heartbeat", "MeterValues", "StatusNotification", "TransactionEvent"}
    ),
    OcppVersion.V21: frozenset(
        {"Heartbeat", "MeterValues", "StatusNotification", "TransactionEvent"}
    ),
}
"""The station messages decoded into Structs; every other message stays a dict."""

_STRICT_DATE_TIME: Final[str] = CodeGeneratorDraft04.FORMAT_REGEXS["date-time"]
# Keywords that only document, or that fastjsonschema ignores as we compile (use_default=False;
# additionalItems beside an items *schema* has no effect).
_IGNORED: Final = frozenset({"$schema", "$id", "default", "additionalItems"})
_STRING_KEYS: Final = frozenset({"type", "enum", "maxLength", "minLength", "format"})
_NUMBER_KEYS: Final = frozenset({"type", "minimum", "maximum"})
_ARRAY_KEYS: Final = frozenset({"type", "items", "minItems", "maxItems"})
_OBJECT_KEYS: Final = frozenset({"type", "properties", "required", "additionalProperties"})
_CAMEL_HUMP: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class _UnsupportedRuleError(Exception):
    """The schema uses a rule a Struct cannot express exactly: the action gets no Struct."""


def _snake(name: str) -> str:
    snake = _CAMEL_HUMP.sub("_", name).lower()
    if not snake.isidentifier() or keyword.iskeyword(snake):
        raise _UnsupportedRuleError(f"property {name!r}")
    return snake


def _rules(node: Mapping[str, Any], allowed: frozenset[str]) -> None:
    # additionalProperties on a non-object (OCA enums carry it) is ignored by fastjsonschema.
    extra = set(node) - allowed - _IGNORED - {"additionalProperties"}
    if extra:
        raise _UnsupportedRuleError(f"rules {sorted(extra)}")


def _meta(**bounds: Any) -> msgspec.Meta | None:
    given = {key: value for key, value in bounds.items() if value is not None}
    return msgspec.Meta(**given) if given else None


def _annotated(kind: Any, meta: msgspec.Meta | None) -> Any:
    return kind if meta is None else Annotated[kind, meta]


def _type(node: Mapping[str, Any], name: str, date_time: str) -> Any:
    kind = node.get("type")
    if kind == "string":
        _rules(node, _STRING_KEYS)
        if "enum" in node:
            values = node["enum"]
            if not values or not all(isinstance(value, str) for value in values):
                raise _UnsupportedRuleError(f"enum {values!r}")
            # A value in the enumeration satisfies the length and format rules too, or the
            # schema could accept none of it; check them anyway if present.
            if {"maxLength", "minLength", "format"} & set(node):
                raise _UnsupportedRuleError("enum with other string rules")
            return Literal[tuple(values)]
        fmt = node.get("format")
        if fmt is not None and fmt != "date-time":
            raise _UnsupportedRuleError(f"format {fmt!r}")
        return _annotated(
            str,
            _meta(
                max_length=node.get("maxLength"),
                min_length=node.get("minLength"),
                pattern=date_time if fmt else None,
            ),
        )
    if kind in ("integer", "number"):
        _rules(node, _NUMBER_KEYS)
        low, high = node.get("minimum"), node.get("maximum")
        # The 2.1 schemas write bounds as floats (0.0): for an int, n >= 0.5 is n >= 1.
        whole = _annotated(
            int,
            _meta(
                ge=None if low is None else math.ceil(low),
                le=None if high is None else math.floor(high),
            ),
        )
        if kind == "integer":
            return whole
        # Both, so that an integer stays an int (exact) as json.loads gives it.
        return whole | _annotated(
            float,
            _meta(ge=None if low is None else float(low), le=None if high is None else float(high)),
        )
    if kind == "boolean":
        _rules(node, frozenset({"type"}))
        return bool
    if kind == "array":
        _rules(node, _ARRAY_KEYS)
        items = node.get("items")
        if not isinstance(items, dict):
            raise _UnsupportedRuleError("array without an items schema")
        item = _type(items, name, date_time)
        return _annotated(
            list[item],  # type: ignore[valid-type]
            _meta(min_length=node.get("minItems"), max_length=node.get("maxItems")),
        )
    if kind == "object":
        return _struct(node, name, date_time)
    raise _UnsupportedRuleError(f"type {kind!r}")


def _struct(node: Mapping[str, Any], name: str, date_time: str) -> Any:
    _rules(node, _OBJECT_KEYS)
    allows_extra = node.get("additionalProperties", True)
    if not isinstance(allows_extra, bool):
        raise _UnsupportedRuleError("additionalProperties as a schema")
    properties: Mapping[str, Any] = node.get("properties", {})
    required = node.get("required", [])
    if not set(required) <= set(properties):
        raise _UnsupportedRuleError("a required field without a schema")
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    for json_name, schema in properties.items():
        attribute = _snake(json_name)
        if attribute in rename:
            raise _UnsupportedRuleError(f"two properties named {attribute!r}")
        rename[attribute] = json_name
        kind = _type(schema, f"{name}_{json_name}", date_time)
        if json_name in required:
            fields.append((attribute, kind))
        else:
            # None only as a default: the field's type refuses a JSON null, as the schema does.
            fields.append((attribute, kind, None))
    # Required fields first: a Struct cannot have a field without default after one with.
    fields.sort(key=lambda field: len(field) == 3)
    return msgspec.defstruct(
        name,
        fields,
        rename=rename,
        forbid_unknown_fields=not allows_extra,
        frozen=True,
        gc=False,
        module=__name__,
    )


def _generate(version: OcppVersion, action: str, *, relaxed: bool) -> type[msgspec.Struct] | None:
    schema = validated_schema(version, action, Direction.REQUEST, relaxed=relaxed)
    if schema is None or schema.get("type") != "object":
        return None
    name = f"{action}{version.name}{'Relaxed' if relaxed else ''}"
    try:
        generated: type[msgspec.Struct] = _struct(
            schema, name, LOOSE_DATE_TIME if relaxed else _STRICT_DATE_TIME
        )
        msgspec.json.Decoder(generated)  # msgspec checks a type's constraints only here
    except (_UnsupportedRuleError, TypeError):
        return None
    return generated


@cache
def payload_types(version: OcppVersion) -> Mapping[str, type[msgspec.Struct]]:
    """The Struct type of each hot request payload of ``version`` whose schema a Struct can
    express exactly (every one of :data:`HOT_ACTIONS` today)."""
    types: dict[str, type[msgspec.Struct]] = {}
    for action in sorted(HOT_ACTIONS[version]):
        generated = _generate(version, action, relaxed=False)
        if generated is not None:
            types[action] = generated
    return types


@cache
def payload_decoders(version: OcppVersion) -> Mapping[str, PayloadDecoder]:
    """A decoder per Struct of :func:`payload_types`, built once per process."""
    return {
        action: msgspec.json.Decoder(kind).decode for action, kind in payload_types(version).items()
    }


@cache
def _relaxed_type(version: OcppVersion, action: str) -> type[msgspec.Struct] | None:
    return _generate(version, action, relaxed=True)


def from_dict(version: OcppVersion, action: str, payload: Mapping[str, Any]) -> msgspec.Struct:
    """The Struct of a hot ``payload`` that passed the (possibly lenient) validator as a dict.

    The relaxed Struct takes what a lenient validator lets through (an unknown enum value, a
    long string, an extra property); ``strict=False`` takes the integral float a 2.x integer
    may be.
    """
    kind = _relaxed_type(version, action)
    if kind is None:
        raise ValueError(f"{action} has no payload Struct in {version.value}")
    try:
        return msgspec.convert(payload, kind, strict=False)
    except msgspec.ValidationError as error:  # pragma: no cover - the validator ran first
        raise CallError(
            ErrorCode.TYPE_CONSTRAINT_VIOLATION, f"{action}: {error}", {"action": action}
        ) from None
