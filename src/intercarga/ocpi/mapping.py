"""OCPI objects ↔ domain objects: Location/EVSE/Connector, Token, Tariff, Session, CDR.

The edge where OCPI versions end. ``*_to_domain`` takes a parsed OCPI object of any supported
version (2.1.1 objects need the owning party, which 2.1.1 does not carry) and returns the domain
object; ``*_to_ocpi`` writes a domain object as the JSON value of one version's object, checked
against that version's model. Keys are upper-cased on the way in (CiStrings compare without
case; the domain keeps one spelling). What the domain does not hold (images, operator details,
energy mix, parking places, …) is not carried over, and a value the domain cannot hold (a 2.3.0
connector type it does not know, an address longer than it stores) is an
:class:`~intercarga.errors.InvalidInputError` naming the field. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from intercarga import domain
from intercarga.errors import InvalidInputError
from intercarga.ids import looks_like_contract_id, normalize_contract_id, normalize_evse_id
from intercarga.ocpi.models import dump, parse, v211, v221, v230
from intercarga.ocpi.models._types import OcpiModel

__all__ = [
    "cdr_to_domain",
    "cdr_to_ocpi",
    "connector_to_domain",
    "evse_to_domain",
    "location_to_domain",
    "location_to_ocpi",
    "model_for",
    "session_to_domain",
    "session_to_ocpi",
    "tariff_to_domain",
    "tariff_to_ocpi",
    "token_to_domain",
    "token_to_ocpi",
]

D = TypeVar("D", bound=BaseModel)

_MODULES: dict[str, Any] = {"2.1.1": v211, "2.2.1": v221, "2.3.0": v230}


def model_for(version: str, name: str) -> type[OcpiModel]:
    """The class named ``name`` (``"Location"``, ``"Token"``, …) in ``version``'s models."""
    model: type[OcpiModel] = getattr(_MODULES[version], name)
    return model


def _domain(factory: Callable[..., D], where: str = "", **values: Any) -> D:
    """Build a domain object; its validation errors become one InvalidInputError with the field."""
    try:
        return factory(**values)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        field = f"{where}.{field}" if where and field else where or field
        raise InvalidInputError(first["msg"], field or None) from None


def _checked_id(normalize: Callable[[str], str], value: str | None, field: str) -> str | None:
    """The id as the partner wrote it, once checked; a malformed one is refused naming the field
    and the wrong part. Kept as written so that what a partner sent round-trips unchanged."""
    if value is None:
        return None
    try:
        normalize(value)
    except InvalidInputError as error:
        raise InvalidInputError(str(error), field) from None
    return value


def _value(item: Any) -> Any:
    """An enum member's value, anything else as is (open enums may hold plain strings)."""
    return getattr(item, "value", item)


def _enum(kind: type[Any], value: Any, field: str) -> Any:
    try:
        return kind(_value(value))
    except ValueError:
        raise InvalidInputError(f"{_value(value)!r} is not supported here", field) from None


def _ocpi(version: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """Check ``data`` against the version's model and return its JSON value."""
    value: dict[str, Any] = dump(parse(model_for(version, name), data))
    return value


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


# -- Locations -----------------------------------------------------------------------------------
def connector_to_domain(connector: Any, where: str = "connector") -> domain.Connector:
    if isinstance(connector, v211.Connector):
        voltage, amperage = connector.voltage, connector.amperage
        tariff_ids = [connector.tariff_id] if connector.tariff_id else []
    else:
        voltage, amperage = connector.max_voltage, connector.max_amperage
        tariff_ids = list(connector.tariff_ids or [])
    return _domain(
        domain.Connector,
        where,
        id=connector.id,
        standard=_enum(domain.ConnectorStandard, connector.standard, f"{where}.standard"),
        format=_enum(domain.ConnectorFormat, connector.format, f"{where}.format"),
        power_type=_enum(domain.PowerType, connector.power_type, f"{where}.power_type"),
        max_voltage=voltage,
        max_amperage=amperage,
        max_electric_power=getattr(connector, "max_electric_power", None),
        tariff_ids=tariff_ids,
        terms_and_conditions=connector.terms_and_conditions,
        last_updated=connector.last_updated,
    )


def evse_to_domain(evse: Any, where: str = "evse") -> domain.EVSE:
    capabilities = [
        domain.Capability(_value(c))
        for c in evse.capabilities or []
        if _value(c) in domain.Capability.__members__
    ]
    return _domain(
        domain.EVSE,
        where,
        uid=evse.uid,
        evse_id=_checked_id(normalize_evse_id, evse.evse_id, f"{where}.evse_id"),
        status=_enum(domain.EVSEStatus, evse.status, f"{where}.status"),
        capabilities=capabilities,
        connectors=[
            connector_to_domain(c, f"{where}.connectors.{i}") for i, c in enumerate(evse.connectors)
        ],
        floor_level=evse.floor_level,
        coordinates=None
        if evse.coordinates is None
        else domain.GeoLocation(
            latitude=evse.coordinates.latitude, longitude=evse.coordinates.longitude
        ),
        physical_reference=evse.physical_reference,
        parking_restrictions=[_value(r) for r in evse.parking_restrictions or []],
        last_updated=evse.last_updated,
    )


def _hours_to_domain(hours: Any) -> domain.Hours | None:
    if hours is None:
        return None
    return _domain(
        domain.Hours,
        "opening_times",
        twentyfourseven=bool(hours.twentyfourseven),
        regular_hours=[
            domain.RegularHours(
                weekday=h.weekday, period_begin=h.period_begin, period_end=h.period_end
            )
            for h in hours.regular_hours or []
        ],
        exceptional_openings=[p.model_dump() for p in hours.exceptional_openings or []],
        exceptional_closings=[p.model_dump() for p in hours.exceptional_closings or []],
    )


_LEGACY_PARKING = {"OTHER": None, "UNKNOWN": None}


def location_to_domain(
    location: Any, party: tuple[str, str] | None = None, *, time_zone: str = "UTC"
) -> domain.Location:
    """A Location of any version; 2.1.1 needs ``party`` (its owner) and may lack a time zone."""
    if isinstance(location, v211.Location):
        if party is None:
            raise InvalidInputError("a 2.1.1 location needs its owning party", "party")
        country_code, party_id = party
        parking = _LEGACY_PARKING.get(location.type.value, location.type.value)
        publish, state, zone = True, None, location.time_zone or time_zone
    else:
        country_code, party_id = location.country_code, location.party_id
        parking = None if location.parking_type is None else _value(location.parking_type)
        publish, state, zone = location.publish, location.state, location.time_zone
    if parking is not None and parking not in domain.ParkingType.__members__:
        raise InvalidInputError(f"{parking!r} is not supported here", "parking_type")
    return _domain(
        domain.Location,
        country_code=country_code.upper(),
        party_id=party_id.upper(),
        id=location.id,
        publish=publish,
        name=location.name,
        address=location.address,
        city=location.city,
        postal_code=location.postal_code,
        state=state,
        country=location.country.upper(),
        coordinates=domain.GeoLocation(
            latitude=location.coordinates.latitude, longitude=location.coordinates.longitude
        ),
        parking_type=parking,
        evses=[evse_to_domain(e, f"evses.{i}") for i, e in enumerate(location.evses or [])],
        time_zone=zone,
        opening_times=_hours_to_domain(location.opening_times),
        charging_when_closed=location.charging_when_closed,
        last_updated=location.last_updated,
    )


def _geo(point: domain.GeoLocation | None) -> dict[str, str] | None:
    return None if point is None else {"latitude": point.latitude, "longitude": point.longitude}


def _connector_json(connector: domain.Connector, version: str) -> dict[str, Any]:
    if version == "2.1.1":
        return _drop_none(
            {
                "id": connector.id,
                "standard": connector.standard.value,
                "format": connector.format.value,
                "power_type": connector.power_type.value,
                "voltage": connector.max_voltage,
                "amperage": connector.max_amperage,
                "tariff_id": connector.tariff_ids[0] if connector.tariff_ids else None,
                "terms_and_conditions": connector.terms_and_conditions,
                "last_updated": connector.last_updated,
            }
        )
    return _drop_none(
        {
            "id": connector.id,
            "standard": connector.standard.value,
            "format": connector.format.value,
            "power_type": connector.power_type.value,
            "max_voltage": connector.max_voltage,
            "max_amperage": connector.max_amperage,
            "max_electric_power": connector.max_electric_power,
            "tariff_ids": connector.tariff_ids or None,
            "terms_and_conditions": connector.terms_and_conditions,
            "last_updated": connector.last_updated,
        }
    )


def _evse_json(evse: domain.EVSE, version: str) -> dict[str, Any]:
    return _drop_none(
        {
            "uid": evse.uid,
            "evse_id": evse.evse_id,
            "status": evse.status.value,
            "capabilities": [c.value for c in evse.capabilities] or None,
            "connectors": [_connector_json(c, version) for c in evse.connectors],
            "floor_level": evse.floor_level,
            "coordinates": _geo(evse.coordinates),
            "physical_reference": evse.physical_reference,
            "parking_restrictions": evse.parking_restrictions or None,
            "last_updated": evse.last_updated,
        }
    )


def _expressible(evses: list[domain.EVSE], version: str) -> list[domain.EVSE]:
    """The EVSEs as ``version`` can say them: 2.1.1 lacks newer connector standards (GB/T,
    NACS, …), so such connectors are left out, and EVSEs with no connector left too."""
    if version != "2.1.1":
        return evses
    known = {t.value for t in v211.ConnectorType}
    kept = []
    for evse in evses:
        connectors = [c for c in evse.connectors if c.standard.value in known]
        if connectors:
            kept.append(evse.model_copy(update={"connectors": connectors}))
    return kept


def location_to_ocpi(location: domain.Location, version: str) -> dict[str, Any]:
    hours = location.opening_times
    opening = None
    if hours is not None:
        opening = _drop_none(
            {
                "twentyfourseven": hours.twentyfourseven,
                "regular_hours": [h.model_dump() for h in hours.regular_hours] or None,
                "exceptional_openings": [p.model_dump() for p in hours.exceptional_openings]
                or None,
                "exceptional_closings": [p.model_dump() for p in hours.exceptional_closings]
                or None,
            }
        )
    data: dict[str, Any] = {
        "id": location.id,
        "name": location.name,
        "address": location.address,
        "city": location.city,
        "postal_code": location.postal_code,
        "country": location.country,
        "coordinates": _geo(location.coordinates),
        "evses": [_evse_json(e, version) for e in _expressible(location.evses, version)] or None,
        "time_zone": location.time_zone,
        "opening_times": opening,
        "charging_when_closed": location.charging_when_closed,
        "last_updated": location.last_updated,
    }
    if version == "2.1.1":
        legacy_types = {t.value for t in v211.LocationType}
        parking = location.parking_type.value if location.parking_type else "UNKNOWN"
        data["type"] = parking if parking in legacy_types else "OTHER"
    else:
        data.update(
            country_code=location.country_code,
            party_id=location.party_id,
            publish=location.publish,
            state=location.state,
            parking_type=location.parking_type.value if location.parking_type else None,
        )
    return _ocpi(version, "Location", _drop_none(data))


# -- Tokens --------------------------------------------------------------------------------------
def token_to_domain(token: Any, party: tuple[str, str] | None = None) -> domain.Token:
    """A Token of any version; 2.1.1 needs ``party`` (the eMSP that issued it)."""
    if isinstance(token, v211.Token):
        if party is None:
            raise InvalidInputError("a 2.1.1 token needs its issuing party", "party")
        country_code, party_id = party
        contract_id, group_id = token.auth_id, None
    else:
        country_code, party_id = token.country_code, token.party_id
        contract_id, group_id = token.contract_id, token.group_id
    if looks_like_contract_id(contract_id):
        # OCPI recommends eMI3 contract ids without requiring them: a partner's own format is
        # accepted, but a value in EMAID shape must carry the right check character.
        _checked_id(normalize_contract_id, contract_id, "contract_id")
    return _domain(
        domain.Token,
        country_code=country_code.upper(),
        party_id=party_id.upper(),
        uid=token.uid,
        type=_enum(domain.TokenType, token.type, "type"),
        contract_id=contract_id,
        visual_number=token.visual_number,
        issuer=token.issuer,
        group_id=group_id,
        valid=token.valid,
        whitelist=_enum(domain.Whitelist, token.whitelist, "whitelist"),
        language=token.language,
        last_updated=token.last_updated,
    )


def token_to_ocpi(token: domain.Token, version: str) -> dict[str, Any]:
    if version == "2.1.1":
        data: dict[str, Any] = {"auth_id": token.contract_id}
    else:
        data = {
            "country_code": token.country_code,
            "party_id": token.party_id,
            "contract_id": token.contract_id,
            "group_id": token.group_id,
        }
    data.update(
        uid=token.uid,
        type=token.type.value,
        visual_number=token.visual_number,
        issuer=token.issuer,
        valid=token.valid,
        whitelist=token.whitelist.value,
        language=token.language,
        last_updated=token.last_updated,
    )
    return _ocpi(version, "Token", _drop_none(data))


# -- prices --------------------------------------------------------------------------------------
def _price_to_domain(price: Any) -> domain.TaxAmount | None:
    """2.2.1 Price, 2.3.0 Price or PriceLimit → the domain's TaxAmount."""
    if price is None:
        return None
    if isinstance(price, v221.Price):
        return domain.TaxAmount(excl_vat=price.excl_vat, incl_vat=price.incl_vat)
    if isinstance(price, v230.PriceLimit):
        return domain.TaxAmount(excl_vat=price.before_taxes, incl_vat=price.after_taxes)
    taxes = [
        domain.Tax(
            name=t.name, percentage=t.percentage, amount=t.amount, account_number=t.account_number
        )
        for t in price.taxes or []
    ]
    total = price.before_taxes + sum((t.amount for t in taxes), Decimal(0)) if taxes else None
    return domain.TaxAmount(excl_vat=price.before_taxes, incl_vat=total, taxes=taxes)


def _price_json(price: domain.TaxAmount | None, version: str, *, limit: bool = False) -> Any:
    if price is None:
        return None
    if version == "2.2.1":
        incl = price.incl_vat
        if incl is None and price.taxes:
            incl = price.excl_vat + sum((t.amount for t in price.taxes), Decimal(0))
        return _drop_none({"excl_vat": price.excl_vat, "incl_vat": incl})
    if limit:
        return _drop_none({"before_taxes": price.excl_vat, "after_taxes": price.incl_vat})
    taxes = [
        _drop_none(
            {
                "name": t.name,
                "account_number": t.account_number,
                "percentage": t.percentage,
                "amount": t.amount,
            }
        )
        for t in price.taxes
    ]
    if not taxes and price.incl_vat is not None and price.incl_vat != price.excl_vat:
        # A price known only with and without tax (from 2.2.1): the difference is one tax.
        taxes = [{"name": "VAT", "amount": price.incl_vat - price.excl_vat}]
    return _drop_none({"before_taxes": price.excl_vat, "taxes": taxes or None})


# -- Tariffs -------------------------------------------------------------------------------------
def tariff_to_domain(tariff: Any, party: tuple[str, str] | None = None) -> domain.Tariff:
    if isinstance(tariff, v211.Tariff):
        if party is None:
            raise InvalidInputError("a 2.1.1 tariff needs its owning party", "party")
        country_code, party_id = party
    else:
        country_code, party_id = tariff.country_code, tariff.party_id
    elements = []
    for element in tariff.elements:
        restrictions = element.restrictions
        elements.append(
            domain.TariffElement(
                price_components=[
                    domain.PriceComponent(
                        type=domain.TariffDimension(c.type.value),
                        price=c.price,
                        vat=getattr(c, "vat", None),
                        step_size=c.step_size,
                    )
                    for c in element.price_components
                ],
                restrictions=None
                if restrictions is None
                else domain.TariffRestrictions.model_validate(
                    restrictions.model_dump(exclude_none=True)
                ),
            )
        )
    tax_included = getattr(tariff, "tax_included", None)
    return _domain(
        domain.Tariff,
        country_code=country_code.upper(),
        party_id=party_id.upper(),
        id=tariff.id,
        currency=tariff.currency.upper(),
        type=None if getattr(tariff, "type", None) is None else tariff.type.value,
        tariff_alt_text=[t.model_dump() for t in tariff.tariff_alt_text or []],
        tariff_alt_url=tariff.tariff_alt_url,
        min_price=_price_to_domain(getattr(tariff, "min_price", None)),
        max_price=_price_to_domain(getattr(tariff, "max_price", None)),
        elements=elements,
        tax_included=None if tax_included is None else tax_included.value,
        start_date_time=getattr(tariff, "start_date_time", None),
        end_date_time=getattr(tariff, "end_date_time", None),
        last_updated=tariff.last_updated,
    )


def tariff_to_ocpi(tariff: domain.Tariff, version: str) -> dict[str, Any]:
    elements = []
    for element in tariff.elements:
        components = []
        for component in element.price_components:
            item: dict[str, Any] = {
                "type": component.type.value,
                "price": component.price,
                "step_size": component.step_size,
            }
            if version != "2.1.1" and component.vat is not None:
                item["vat"] = component.vat
            components.append(item)
        restrictions = None
        if element.restrictions is not None:
            restrictions = element.restrictions.model_dump(mode="python", exclude_none=True)
            if "day_of_week" in restrictions:
                restrictions["day_of_week"] = [
                    d.value for d in element.restrictions.day_of_week or []
                ]
            if "reservation" in restrictions:
                restrictions["reservation"] = restrictions["reservation"].value
            if version == "2.1.1":
                for name in ("min_current", "max_current", "reservation"):
                    restrictions.pop(name, None)
        elements.append(_drop_none({"price_components": components, "restrictions": restrictions}))
    data: dict[str, Any] = {
        "id": tariff.id,
        "currency": tariff.currency,
        "tariff_alt_text": [t.model_dump() for t in tariff.tariff_alt_text] or None,
        "tariff_alt_url": tariff.tariff_alt_url,
        "elements": elements,
        "last_updated": tariff.last_updated,
    }
    if version != "2.1.1":
        data.update(
            country_code=tariff.country_code,
            party_id=tariff.party_id,
            type=tariff.type.value if tariff.type else None,
            min_price=_price_json(tariff.min_price, version, limit=True),
            max_price=_price_json(tariff.max_price, version, limit=True),
            start_date_time=tariff.start_date_time,
            end_date_time=tariff.end_date_time,
        )
    if version == "2.3.0":
        # 2.3.0 requires tax_included; a tariff that never said is priced excluding taxes.
        data["tax_included"] = (tariff.tax_included or domain.TaxIncluded.NO).value
    return _ocpi(version, "Tariff", _drop_none(data))


# -- Sessions and CDRs ---------------------------------------------------------------------------
def _periods_to_domain(periods: Any) -> list[domain.ChargingPeriod]:
    return [
        domain.ChargingPeriod(
            start_date_time=p.start_date_time,
            dimensions=[
                domain.CdrDimension(type=domain.CdrDimensionType(d.type.value), volume=d.volume)
                for d in p.dimensions
            ],
            tariff_id=getattr(p, "tariff_id", None),
        )
        for p in periods or []
    ]


def _periods_json(periods: list[domain.ChargingPeriod]) -> list[dict[str, Any]]:
    return [
        _drop_none(
            {
                "start_date_time": p.start_date_time,
                "dimensions": [{"type": d.type.value, "volume": d.volume} for d in p.dimensions],
                "tariff_id": p.tariff_id,
            }
        )
        for p in periods
    ]


def session_to_domain(session: Any) -> tuple[domain.Session, domain.CdrToken]:
    """A 2.2.1/2.3.0 Session and the token it was started with."""
    token = _domain(
        domain.CdrToken,
        "cdr_token",
        country_code=session.cdr_token.country_code.upper(),
        party_id=session.cdr_token.party_id.upper(),
        uid=session.cdr_token.uid,
        type=_value(session.cdr_token.type),
        contract_id=session.cdr_token.contract_id,
    )
    total = _price_to_domain(session.total_cost)
    mapped = _domain(
        domain.Session,
        country_code=session.country_code.upper(),
        party_id=session.party_id.upper(),
        id=session.id,
        start_date_time=session.start_date_time,
        end_date_time=session.end_date_time,
        kwh=session.kwh,
        token_uid=session.cdr_token.uid,
        auth_method=session.auth_method.value,
        authorization_reference=getattr(session, "authorization_reference", None),
        location_id=session.location_id,
        evse_uid=session.evse_uid,
        connector_id=session.connector_id,
        meter_id=session.meter_id,
        currency=session.currency.upper(),
        charging_periods=_periods_to_domain(session.charging_periods),
        total_cost=None if total is None else total.excl_vat,
        status=session.status.value,
        last_updated=session.last_updated,
    )
    return mapped, token


def _token_json(token: domain.CdrToken) -> dict[str, Any]:
    return token.model_dump()


def session_to_ocpi(
    session: domain.Session, token: domain.CdrToken, version: str
) -> dict[str, Any]:
    total = None if session.total_cost is None else domain.TaxAmount(excl_vat=session.total_cost)
    data = {
        "country_code": session.country_code,
        "party_id": session.party_id,
        "id": session.id,
        "start_date_time": session.start_date_time,
        "end_date_time": session.end_date_time,
        "kwh": session.kwh,
        "cdr_token": _token_json(token),
        "auth_method": session.auth_method.value,
        "authorization_reference": session.authorization_reference,
        "location_id": session.location_id,
        "evse_uid": session.evse_uid,
        "connector_id": session.connector_id,
        "meter_id": session.meter_id,
        "currency": session.currency,
        "charging_periods": _periods_json(session.charging_periods) or None,
        "total_cost": _price_json(total, version),
        "status": session.status.value,
        "last_updated": session.last_updated,
    }
    return _ocpi(version, "Session", _drop_none(data))


_CDR_PRICES = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)


def cdr_to_domain(cdr: Any) -> domain.Cdr:
    """A 2.2.1/2.3.0 CDR."""
    where = cdr.cdr_location
    location = _domain(
        domain.CdrLocation,
        "cdr_location",
        id=where.id,
        name=where.name,
        address=where.address,
        city=where.city,
        postal_code=where.postal_code,
        state=where.state,
        country=where.country,
        latitude=where.coordinates.latitude,
        longitude=where.coordinates.longitude,
        evse_uid=where.evse_uid,
        evse_id=where.evse_id,
        connector_id=where.connector_id,
        connector_standard=_value(where.connector_standard),
        connector_format=where.connector_format.value,
        connector_power_type=where.connector_power_type.value,
    )
    prices: dict[str, Any] = {name: _price_to_domain(getattr(cdr, name)) for name in _CDR_PRICES}
    return _domain(
        domain.Cdr,
        country_code=cdr.country_code.upper(),
        party_id=cdr.party_id.upper(),
        id=cdr.id,
        start_date_time=cdr.start_date_time,
        end_date_time=cdr.end_date_time,
        session_id=cdr.session_id,
        cdr_token=domain.CdrToken(
            country_code=cdr.cdr_token.country_code.upper(),
            party_id=cdr.cdr_token.party_id.upper(),
            uid=cdr.cdr_token.uid,
            type=_value(cdr.cdr_token.type),
            contract_id=cdr.cdr_token.contract_id,
        ),
        auth_method=cdr.auth_method.value,
        authorization_reference=getattr(cdr, "authorization_reference", None),
        cdr_location=location,
        currency=cdr.currency.upper(),
        tariffs=[tariff_to_domain(t) for t in cdr.tariffs or []],
        charging_periods=_periods_to_domain(cdr.charging_periods),
        total_energy=cdr.total_energy,
        total_time=cdr.total_time,
        total_parking_time=cdr.total_parking_time,
        remark=cdr.remark,
        last_updated=cdr.last_updated,
        **prices,
    )


def cdr_to_ocpi(cdr: domain.Cdr, version: str) -> dict[str, Any]:
    where = cdr.cdr_location
    data: dict[str, Any] = {
        "country_code": cdr.country_code,
        "party_id": cdr.party_id,
        "id": cdr.id,
        "start_date_time": cdr.start_date_time,
        "end_date_time": cdr.end_date_time,
        "session_id": cdr.session_id,
        "cdr_token": _token_json(cdr.cdr_token),
        "auth_method": cdr.auth_method.value,
        "authorization_reference": cdr.authorization_reference,
        "cdr_location": _drop_none(
            {
                "id": where.id,
                "name": where.name,
                "address": where.address,
                "city": where.city,
                "postal_code": where.postal_code,
                "state": where.state,
                "country": where.country,
                "coordinates": {"latitude": where.latitude, "longitude": where.longitude},
                "evse_uid": where.evse_uid,
                "evse_id": where.evse_id,
                "connector_id": where.connector_id,
                "connector_standard": where.connector_standard,
                "connector_format": where.connector_format,
                "connector_power_type": where.connector_power_type,
            }
        ),
        "currency": cdr.currency,
        "tariffs": [tariff_to_ocpi(t, version) for t in cdr.tariffs] or None,
        "charging_periods": _periods_json(cdr.charging_periods),
        "total_energy": cdr.total_energy,
        "total_time": cdr.total_time,
        "total_parking_time": cdr.total_parking_time,
        "remark": cdr.remark,
        "last_updated": cdr.last_updated,
    }
    for name in _CDR_PRICES:
        data[name] = _price_json(getattr(cdr, name), version)
    return _ocpi(version, "CDR", _drop_none(data))
