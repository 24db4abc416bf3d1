"""OCPI's scalar types and the base of every OCPI object, shared by all versions.

OCPI writes its limits into its types: ``CiString(n)`` (printable ASCII, compared without case),
``string(n)`` (printable UTF-8), ``DateTime`` (RFC 3339 in UTC, ``Z`` or nothing after the
seconds), ``number`` (a JSON number, exact here as :class:`~decimal.Decimal`), ``URL`` and the
GeoLocation strings. They are written once here as annotated types. This module must never know
a module's objects nor do I/O.

Unknown fields: OCPI 2.2.1 objects must carry only the fields the spec names, but 2.3.0 says a
platform "SHALL NOT reject" payloads for undocumented fields. The same class can serve both
versions (``GeoLocation`` did not change), so the rule is not a class setting: every object keeps
unknown fields aside and then refuses them unless the validation context says the version is
open. :func:`parse` sets that context from the class being parsed.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

__all__ = [
    "URL",
    "Bool",
    "CiString",
    "CiString2",
    "CiString3",
    "CiString4",
    "CiString5",
    "CiString25",
    "CiString32",
    "CiString36",
    "CiString39",
    "CiString48",
    "CiString255",
    "DateString",
    "DateTime",
    "Int",
    "Latitude",
    "Longitude",
    "Number",
    "OcpiModel",
    "String",
    "String2",
    "String3",
    "String4",
    "String5",
    "String10",
    "String12",
    "String16",
    "String20",
    "String36",
    "String39",
    "String45",
    "String48",
    "String50",
    "String64",
    "String100",
    "String255",
    "String512",
    "String5000",
    "TimeOfDay",
    "dump",
    "format_datetime",
    "parse",
    "parse_datetime",
]

M = TypeVar("M", bound=BaseModel)


# -- strings ---------------------------------------------------------------------------------
def _printable_ascii(value: str) -> str:
    for char in value:
        if not " " <= char <= "~":
            raise ValueError(f"only printable ASCII is allowed (found {char!r})")
    return value


def _printable(value: str) -> str:
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"non-printable character {char!r} is not allowed")
    return value


_ASCII = AfterValidator(_printable_ascii)
_TEXT = AfterValidator(_printable)
_STRICT_STR = StringConstraints(strict=True)

CiString = Annotated[str, _STRICT_STR, _ASCII]
CiString2 = Annotated[str, StringConstraints(strict=True, max_length=2), _ASCII]
CiString3 = Annotated[str, StringConstraints(strict=True, max_length=3), _ASCII]
CiString4 = Annotated[str, StringConstraints(strict=True, max_length=4), _ASCII]
CiString5 = Annotated[str, StringConstraints(strict=True, max_length=5), _ASCII]
CiString25 = Annotated[str, StringConstraints(strict=True, max_length=25), _ASCII]
CiString32 = Annotated[str, StringConstraints(strict=True, max_length=32), _ASCII]
CiString36 = Annotated[str, StringConstraints(strict=True, max_length=36), _ASCII]
CiString39 = Annotated[str, StringConstraints(strict=True, max_length=39), _ASCII]
CiString48 = Annotated[str, StringConstraints(strict=True, max_length=48), _ASCII]
CiString255 = Annotated[str, StringConstraints(strict=True, max_length=255), _ASCII]

String = Annotated[str, _STRICT_STR, _TEXT]
String2 = Annotated[str, StringConstraints(strict=True, max_length=2), _TEXT]
String3 = Annotated[str, StringConstraints(strict=True, max_length=3), _TEXT]
String4 = Annotated[str, StringConstraints(strict=True, max_length=4), _TEXT]
String5 = Annotated[str, StringConstraints(strict=True, max_length=5), _TEXT]
String10 = Annotated[str, StringConstraints(strict=True, max_length=10), _TEXT]
String12 = Annotated[str, StringConstraints(strict=True, max_length=12), _TEXT]
String16 = Annotated[str, StringConstraints(strict=True, max_length=16), _TEXT]
String20 = Annotated[str, StringConstraints(strict=True, max_length=20), _TEXT]
String36 = Annotated[str, StringConstraints(strict=True, max_length=36), _TEXT]
String39 = Annotated[str, StringConstraints(strict=True, max_length=39), _TEXT]
String45 = Annotated[str, StringConstraints(strict=True, max_length=45), _TEXT]
String48 = Annotated[str, StringConstraints(strict=True, max_length=48), _TEXT]
String50 = Annotated[str, StringConstraints(strict=True, max_length=50), _TEXT]
String64 = Annotated[str, StringConstraints(strict=True, max_length=64), _TEXT]
String100 = Annotated[str, StringConstraints(strict=True, max_length=100), _TEXT]
String255 = Annotated[str, StringConstraints(strict=True, max_length=255), _TEXT]
String512 = Annotated[str, StringConstraints(strict=True, max_length=512), _TEXT]
String5000 = Annotated[str, StringConstraints(strict=True, max_length=5000), _TEXT]

URL = Annotated[
    str,
    StringConstraints(strict=True, max_length=255, pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*://\S+$"),
]
# GeoLocation: decimal degrees as strings, kept as strings so they round-trip. The spec gives
# both string(10)/string(11) and a regex that allows one character more for negative values
# with 7 decimals ("-33.4263000"); the regex, the more precise of the two, is what is enforced.
Latitude = Annotated[str, StringConstraints(strict=True, pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$")]
Longitude = Annotated[str, StringConstraints(strict=True, pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$")]
TimeOfDay = Annotated[
    str, StringConstraints(strict=True, pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")
]
DateString = Annotated[
    str,
    StringConstraints(
        strict=True, pattern=r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
    ),
]
Int = StrictInt
Bool = StrictBool


# -- DateTime ----------------------------------------------------------------------------------
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6})\d*)?Z?$")


def parse_datetime(value: Any) -> datetime:
    """An OCPI DateTime: ``2015-06-29T20:39:09Z``, fractions allowed, no ``Z`` meaning UTC.

    Offsets such as ``+00:00`` are refused: the spec lists the allowed forms and says
    "other formats/patterns are not allowed".
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not isinstance(value, str) or len(value) > 25:
        raise ValueError("must be an OCPI DateTime string such as 2015-06-29T20:39:09Z")
    match = _DATETIME.match(value)
    if match is None:
        raise ValueError(
            f"{value!r} is not an OCPI DateTime (UTC, e.g. 2015-06-29T20:39:09Z, no offsets)"
        )
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid date and time: {error}") from None


def format_datetime(value: datetime) -> str:
    """UTC with a ``Z``; milliseconds only when there are some, without trailing zeros.

    An OCPI DateTime is a string(25): microseconds would make it 27 characters, which a strict
    receiver (this one too) refuses, so the fraction is cut to milliseconds.
    """
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    # isoformat: twice strftime's speed, and a four-digit year always (strftime gives "1" for 1)
    text = value.replace(tzinfo=None, microsecond=0).isoformat()
    milliseconds = value.microsecond // 1000
    if milliseconds:
        text += "." + f"{milliseconds:03d}".rstrip("0")
    return text + "Z"


DateTime = Annotated[
    datetime,
    BeforeValidator(parse_datetime),
    PlainSerializer(format_datetime, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


# -- number ------------------------------------------------------------------------------------
def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a JSON number")
    try:
        number = Decimal(value) if isinstance(value, int | Decimal) else Decimal(repr(value))
    except InvalidOperation:
        raise ValueError("must be a finite number") from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return number


def _json_number(value: Decimal) -> int | float:
    # JSON has one number type; integral values are written without a fraction and the rest
    # as the shortest float that reads back to the same decimal (OCPI uses up to 4 decimals).
    if value == value.to_integral_value():
        return int(value)
    return float(value)


Number = Annotated[
    Decimal,
    BeforeValidator(_number),
    PlainSerializer(_json_number, return_type=float),
    WithJsonSchema({"type": "number"}),
]


# -- base model --------------------------------------------------------------------------------
class OcpiModel(BaseModel):
    """Base of every OCPI object. Undocumented fields are refused unless the version is open."""

    # defer_build: each model's validator is built at its first use, not at import: every
    # `intercarga serve` imports all three versions' models (some 120), and most processes
    # validate a few of them (a fifth of the models' import cost, 0.05-0.1 s of CPU per start).
    model_config = ConfigDict(extra="forbid", validate_default=False, defer_build=True)

    ocpi_open: ClassVar[bool] = False

    @model_validator(mode="before")
    @classmethod
    def _undocumented_fields(cls, data: Any, info: ValidationInfo) -> Any:
        # 2.3.0: "SHALL NOT reject ... payloads based on the presence of JSON object field names
        # that are not documented": they are set aside (not stored, not forwarded).
        if isinstance(data, dict) and (
            cls.ocpi_open or (info.context or {}).get("ocpi_open", False)
        ):
            return {key: value for key, value in data.items() if key in cls.model_fields}
        return data


def parse(model: type[M], data: Any, *, open_version: bool | None = None) -> M:
    """Validate ``data`` as ``model`` under its version's rule for undocumented fields.

    The rule is the class's own (2.3.0 and 2.1.1 classes are open) unless ``open_version`` says
    which version a generic wrapper (an envelope, a list) carries.
    """
    is_open = bool(getattr(model, "ocpi_open", False)) if open_version is None else open_version
    return model.model_validate(data, context={"ocpi_open": is_open})


def dump(value: BaseModel, *, partial: bool = False) -> Any:
    """The JSON value of an OCPI object: absent optional fields are left out, never ``null``.

    ``partial`` (PATCH bodies) writes only the fields that were set.
    """
    if partial:
        return value.model_dump(mode="json", exclude_unset=True)
    return value.model_dump(mode="json", exclude_none=True)
