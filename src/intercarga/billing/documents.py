"""OCPI tariff and CDR JSON (2.2.1 and 2.3.0 shapes) read into the domain, and totals written back.

The two versions differ, for pricing, in how a price is written: 2.2.1 ``{"excl_vat", "incl_vat"}``;
2.3.0 ``{"before_taxes", "taxes": [TaxAmount]}`` in a CDR and ``{"before_taxes", "after_taxes"}``
(PriceLimit) in a tariff, plus the tariff's ``tax_included``. Both land in the same domain
:class:`~intercarga.domain.tariff.TaxAmount`; a document's version is told by its fields unless the
caller names it.

Two readings of each document:

- :func:`read_tariff` / :func:`read_cdr`: the whole object, as OCPI requires it, into a domain
  :class:`Tariff` / :class:`Cdr`.
- :func:`read_tariff_terms` / :func:`read_cdr_excerpt`: only what pricing reads, so that an excerpt
  (a support ticket's tariff without its owner, a CDR cut down to its periods and totals) can be
  priced. Every field read is still checked the same way; the identity fields may be missing.

Bad input raises :class:`InvalidInputError` whose ``field`` is the JSON path of the first bad field
(``elements[1].price_components[0].step_size``). Numbers are read as Decimal, never float. Fields
the domain does not model (``energy_mix``, ``signed_data``, ...) are not read. This module parses
text and Python values; it never opens a file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError

from intercarga.billing.result import CdrPricing, Price
from intercarga.domain._currency import CurrencyCode
from intercarga.domain._types import (
    Amount,
    CountryAlpha2,
    DomainModel,
    PartyCode,
    UtcDateTime,
)
from intercarga.domain.cdr import Cdr
from intercarga.domain.session import ChargingPeriod
from intercarga.domain.tariff import (
    DisplayText,
    Tariff,
    TariffElement,
    TariffType,
    TaxAmount,
    TaxIncluded,
)
from intercarga.errors import InvalidInputError

__all__ = [
    "VERSIONS",
    "CdrExcerpt",
    "OcpiVersion",
    "TariffTerms",
    "detect_version",
    "load_json",
    "price_json",
    "read_cdr",
    "read_cdr_excerpt",
    "read_tariff",
    "read_tariff_terms",
    "totals_json",
    "volume_text",
]

OcpiVersion = Literal["2.2.1", "2.3.0"]
VERSIONS: tuple[OcpiVersion, ...] = ("2.2.1", "2.3.0")

_FOUR_PLACES = Decimal("0.0001")
_TARIFF_FIELDS = frozenset(Tariff.model_fields)
_CDR_FIELDS = frozenset(Cdr.model_fields)
_CDR_PRICES = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)
_LOCATION_FIELDS = (
    "id",
    "name",
    "address",
    "city",
    "postal_code",
    "state",
    "country",
    "evse_uid",
    "evse_id",
    "connector_id",
    "connector_standard",
    "connector_format",
    "connector_power_type",
)


class TariffTerms(DomainModel):
    """The part of an OCPI Tariff that pricing and explaining read; the owner may be missing."""

    country_code: CountryAlpha2 | None = None
    party_id: PartyCode | None = None
    id: str | None = Field(default=None, min_length=1, max_length=36)
    currency: CurrencyCode
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] = Field(default_factory=list)
    tariff_alt_url: str | None = None
    min_price: TaxAmount | None = None
    max_price: TaxAmount | None = None
    elements: list[TariffElement] = Field(min_length=1)
    tax_included: TaxIncluded | None = None
    start_date_time: UtcDateTime | None = None
    end_date_time: UtcDateTime | None = None
    last_updated: UtcDateTime | None = None


class CdrExcerpt(DomainModel):
    """The part of an OCPI CDR that pricing reads and ``--check`` compares; totals optional."""

    id: str | None = Field(default=None, min_length=1, max_length=39)
    country_code: CountryAlpha2 | None = None
    party_id: PartyCode | None = None
    currency: CurrencyCode
    start_date_time: UtcDateTime
    end_date_time: UtcDateTime
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    tariffs: list[TariffTerms] = Field(default_factory=list)
    total_cost: TaxAmount | None = None
    total_fixed_cost: TaxAmount | None = None
    total_energy: Amount | None = None
    total_energy_cost: TaxAmount | None = None
    total_time: Amount | None = None
    total_time_cost: TaxAmount | None = None
    total_parking_time: Amount | None = None
    total_parking_cost: TaxAmount | None = None
    total_reservation_cost: TaxAmount | None = None
    last_updated: UtcDateTime | None = None


Model = TypeVar("Model", bound=DomainModel)


def load_json(text: str | bytes, what: str) -> Any:
    """Parse JSON text with every number as Decimal (or int); bad JSON names the line."""
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"not JSON: {error.msg} at line {error.lineno} column {error.colno}", what
        ) from None


def _path(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _validate(model: type[Model], data: dict[str, Any], prefix: str = "") -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = _path(tuple(first["loc"]))
        message = first["msg"]
        if first["type"] == "missing":
            message = "required field is missing"
        elif "input" in first and not isinstance(first["input"], dict | list):
            message = f"{message} (got {first['input']!r})"
        raise InvalidInputError(message, f"{prefix}{field}" if field else prefix or None) from None


def _object(data: object, field: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"expected a JSON object, got {type(data).__name__}", field or None)
    return dict(data)


def _walk_prices(data: Mapping[str, Any]) -> set[str]:
    """The price field names a document uses (excl_vat, before_taxes, ...), anywhere in it."""
    found: set[str] = set()
    for name in ("min_price", "max_price", *_CDR_PRICES):
        value = data.get(name)
        if isinstance(value, Mapping):
            found.update(value)
    for tariff in data.get("tariffs") or ():
        if isinstance(tariff, Mapping):
            found |= _walk_prices(tariff)
    return found


def detect_version(data: Mapping[str, Any]) -> OcpiVersion:
    """2.3.0 when the document uses a 2.3.0 field (tax_included, before_taxes), else 2.2.1."""
    if "tax_included" in data or {"before_taxes", "after_taxes", "taxes"} & _walk_prices(data):
        return "2.3.0"
    if any(isinstance(t, Mapping) and "tax_included" in t for t in data.get("tariffs") or ()):
        return "2.3.0"
    return "2.2.1"


def _price(value: object, field: str, version: OcpiVersion, limit: bool) -> object:
    """One OCPI Price / PriceLimit as the domain's TaxAmount fields."""
    if not isinstance(value, Mapping):
        return value  # let validation say what is wrong with it
    if version == "2.2.1":
        allowed = {"excl_vat", "incl_vat"}
        _only(value, allowed, field, "2.2.1 prices are written excl_vat/incl_vat")
        return dict(value)
    if limit:
        _only(value, {"before_taxes", "after_taxes"}, field, "a 2.3.0 PriceLimit is written"
              " before_taxes/after_taxes")  # fmt: skip
        if "before_taxes" not in value:
            raise InvalidInputError("required field is missing", f"{field}.before_taxes")
        return {"excl_vat": value["before_taxes"], "incl_vat": value.get("after_taxes")}
    _only(value, {"before_taxes", "taxes"}, field, "a 2.3.0 price is written before_taxes/taxes")
    if "before_taxes" not in value:
        raise InvalidInputError("required field is missing", f"{field}.before_taxes")
    taxes = value.get("taxes") or []
    if not isinstance(taxes, list):
        raise InvalidInputError("expected a list of TaxAmount", f"{field}.taxes")
    before = value["before_taxes"]
    after: object = before
    for number, tax in enumerate(taxes):
        amount = tax.get("amount") if isinstance(tax, Mapping) else None
        if not isinstance(amount, int | Decimal):
            raise InvalidInputError("expected a number", f"{field}.taxes[{number}].amount")
        if isinstance(after, int | Decimal):
            after = after + amount
    return {"excl_vat": before, "incl_vat": after, "taxes": taxes}


def _only(value: Mapping[str, Any], allowed: set[str], field: str, hint: str) -> None:
    for name in value:
        if name not in allowed:
            raise InvalidInputError(f"unknown field ({hint})", f"{field}.{name}")


def _tariff_dict(data: object, field: str, version: OcpiVersion | None) -> dict[str, Any]:
    raw = _object(data, field)
    version = version or detect_version(raw)
    body = {name: value for name, value in raw.items() if name in _TARIFF_FIELDS}
    prefix = f"{field}." if field else ""
    for name in ("min_price", "max_price"):
        if body.get(name) is not None:
            body[name] = _price(body[name], f"{prefix}{name}", version, limit=True)
    # 2.3.0 makes tax_included required, yet the spec's own cdr_example.json carries a tariff
    # without it; a missing value is read as 2.2.1 prices are (taxes on top), docs/pricing.md.
    if version == "2.2.1" and "tax_included" in raw:
        raise InvalidInputError("not a 2.2.1 field", f"{prefix}tax_included")
    return body


def read_tariff(data: object, version: OcpiVersion | None = None) -> Tariff:
    """A whole OCPI Tariff object (parsed JSON) as the domain's :class:`Tariff`."""
    return _validate(Tariff, _tariff_dict(data, "", version))


def read_tariff_terms(data: object, version: OcpiVersion | None = None) -> TariffTerms:
    """The priced part of an OCPI Tariff object; the owner and ``last_updated`` may be missing."""
    return _validate(TariffTerms, _tariff_dict(data, "", version))


def _cdr_dict(raw: dict[str, Any], version: OcpiVersion, keep: frozenset[str]) -> dict[str, Any]:
    body = {name: value for name, value in raw.items() if name in keep}
    for name in _CDR_PRICES:
        if body.get(name) is not None:
            body[name] = _price(body[name], name, version, limit=False)
    tariffs = body.get("tariffs")
    if isinstance(tariffs, list):
        body["tariffs"] = [
            _tariff_dict(tariff, f"tariffs[{number}]", version)
            for number, tariff in enumerate(tariffs)
        ]
    return body


def read_cdr(data: object, version: OcpiVersion | None = None) -> Cdr:
    """A whole OCPI CDR object (parsed JSON) as the domain's :class:`Cdr`."""
    raw = _object(data, "")
    body = _cdr_dict(raw, version or detect_version(raw), _CDR_FIELDS)
    location = raw.get("cdr_location")
    if isinstance(location, Mapping):
        flat = {name: location[name] for name in _LOCATION_FIELDS if name in location}
        coordinates = location.get("coordinates")
        if not isinstance(coordinates, Mapping):
            raise InvalidInputError("required field is missing", "cdr_location.coordinates")
        flat["latitude"] = coordinates.get("latitude")
        flat["longitude"] = coordinates.get("longitude")
        body["cdr_location"] = flat
    cdr = _validate(Cdr, body)
    _check_dates(cdr.start_date_time, cdr.end_date_time)
    return cdr


def read_cdr_excerpt(data: object, version: OcpiVersion | None = None) -> CdrExcerpt:
    """What pricing reads from an OCPI CDR (or a cut-down one): times, periods, totals."""
    raw = _object(data, "")
    body = _cdr_dict(raw, version or detect_version(raw), frozenset(CdrExcerpt.model_fields))
    excerpt = _validate(CdrExcerpt, body)
    _check_dates(excerpt.start_date_time, excerpt.end_date_time)
    return excerpt


def _check_dates(start: Any, end: Any) -> None:
    if end < start:
        raise InvalidInputError("the session ends before it starts", "end_date_time")


def _number(value: Decimal) -> str:
    """A Decimal as plain digits (no exponent); amounts are written as strings, like the domain."""
    return f"{value:f}"


def volume_text(value: Decimal) -> str:
    """A volume (hours, kWh) to OCPI's customary 4 decimals, without trailing zeros."""
    return f"{value.quantize(_FOUR_PLACES, ROUND_HALF_UP).normalize():f}"


def price_json(price: Price, version: OcpiVersion) -> dict[str, Any]:
    """A price in the OCPI shape of ``version`` (amounts as decimal strings)."""
    if version == "2.2.1":
        return {"excl_vat": _number(price.before_taxes), "incl_vat": _number(price.after_taxes)}
    taxes = []
    for tax in price.taxes:
        entry: dict[str, Any] = {"name": tax.name}
        if tax.percentage is not None:
            entry["percentage"] = _number(tax.percentage)
        entry["amount"] = _number(tax.amount)
        taxes.append(entry)
    return {"before_taxes": _number(price.before_taxes), "taxes": taxes}


def totals_json(pricing: CdrPricing, version: OcpiVersion) -> dict[str, Any]:
    """A pricing's CDR totals in the OCPI shape of ``version`` (settled, amounts as strings)."""
    settled = pricing.settled()
    body: dict[str, Any] = {"currency": settled.currency.code}
    for name, price in settled.costs().items():
        body[name] = price_json(price, version)
    for name, volume in settled.volumes().items():
        body[name] = None if volume is None else volume_text(volume)
    return body
