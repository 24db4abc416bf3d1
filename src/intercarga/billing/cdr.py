"""The CDR builder: a finished session, its location and tariff → a priced CDR.

Charging periods come from the session's energy register readings as billing reads them
(:mod:`intercarga.billing.readings`: one period between each two readings, TIME while energy
flows, PARKING_TIME while it does not, nothing billed where the register went back), are
priced by the tariff engine in the Location's time zone and settled once to the currency's
minor unit. Without a tariff the CDR is still made, at zero cost, with a remark saying so: a
session is never lost because it could not be priced. Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from intercarga.billing.compiled import compile_tariff
from intercarga.billing.periods import Period, epoch_seconds, periods_from_meter_values
from intercarga.billing.pricing import price_session
from intercarga.billing.readings import billing_readings, register_of
from intercarga.billing.result import Price
from intercarga.domain import (
    Cdr,
    CdrDimension,
    CdrDimensionType,
    CdrLocation,
    CdrToken,
    ChargingPeriod,
    Location,
    Session,
    Tariff,
    TaxAmount,
    Token,
)
from intercarga.errors import InvalidInputError

__all__ = ["build_cdr", "charging_periods"]

_ZERO = Decimal(0)


def charging_periods(periods: list[Period], tariff_id: str | None) -> list[ChargingPeriod]:
    """The CDR's charging periods (OCPI dimensions: kWh and hours) from priced periods."""
    result = []
    for period in periods:
        dimensions = [CdrDimension(type=CdrDimensionType.ENERGY, volume=period.energy)]
        if period.time > 0:
            dimensions.append(CdrDimension(type=CdrDimensionType.TIME, volume=period.time))
        if period.parking > 0:
            dimensions.append(
                CdrDimension(type=CdrDimensionType.PARKING_TIME, volume=period.parking)
            )
        result.append(
            ChargingPeriod(
                start_date_time=datetime.fromtimestamp(period.start, UTC),
                dimensions=dimensions,
                tariff_id=tariff_id,
            )
        )
    return result


def _amount(price: Price) -> TaxAmount:
    return price.to_domain()


def build_cdr(
    session: Session,
    location: Location,
    tariff: Tariff | None,
    token: Token | None,
    *,
    cdr_id: str | None = None,
) -> Cdr:
    """The CDR of an ended ``session`` at ``location``, priced with ``tariff`` when there is one."""
    if session.end_date_time is None:
        raise InvalidInputError("the session has not ended", "end_date_time")
    evse = location.evse(session.evse_uid)
    connector = (
        next((c for c in evse.connectors if c.id == session.connector_id), None) if evse else None
    )
    periods = periods_from_meter_values(billing_readings(session.meter_values))
    remarks = []
    backwards = len(register_of(session.meter_values).backwards)
    if backwards:
        remarks.append(f"energy register went back {backwards} time(s): those steps not billed")
    if not periods:
        # No two energy readings: one period over the whole session with the energy we know.
        start = epoch_seconds(session.start_date_time)
        end = epoch_seconds(session.end_date_time)
        hours = Decimal(max(end - start, 0)) / Decimal(3600)
        periods = [Period(start=start, end=end, energy=session.kwh, time=hours, has_energy=True)]
    currency = session.currency
    if tariff is not None and tariff.currency == currency:
        pricing = price_session(
            compile_tariff(tariff),
            periods,
            start=session.start_date_time,
            end=session.end_date_time,
            time_zone=location.time_zone,
            currency=currency,
        ).settled()
        total_cost = _amount(pricing.total_cost)
        costs = {
            "total_fixed_cost": _amount(pricing.total_fixed_cost),
            "total_energy_cost": _amount(pricing.total_energy_cost),
            "total_time_cost": _amount(pricing.total_time_cost),
            "total_parking_cost": _amount(pricing.total_parking_cost),
        }
        total_energy = pricing.total_energy if pricing.total_energy is not None else session.kwh
        total_time = pricing.total_time
        total_parking = pricing.total_parking_time
        remarks.extend(pricing.warnings)
    else:
        total_cost = TaxAmount(excl_vat=_ZERO, incl_vat=_ZERO)
        costs = {}
        total_energy = session.kwh
        total_time = sum((p.time for p in periods), _ZERO)
        total_parking = sum((p.parking for p in periods), _ZERO)
        remarks.append(
            "no tariff applies: priced at zero"
            if tariff is None
            else (
                f"tariff {tariff.id} is in {tariff.currency}, the session in {currency}: priced at zero"
            )
        )
    token_uid = session.token_uid or "UNKNOWN"
    cdr_token = CdrToken(
        country_code=token.country_code if token else session.country_code,
        party_id=token.party_id if token else session.party_id,
        uid=token_uid,
        type=token.type.value if token else "OTHER",
        contract_id=token.contract_id if token else token_uid,
    )
    cdr_location = CdrLocation(
        id=location.id,
        name=location.name,
        address=location.address,
        city=location.city,
        postal_code=location.postal_code,
        state=location.state,
        country=location.country,
        latitude=location.coordinates.latitude,
        longitude=location.coordinates.longitude,
        evse_uid=session.evse_uid,
        evse_id=(evse.evse_id if evse and evse.evse_id else session.evse_uid),
        connector_id=session.connector_id,
        connector_standard=connector.standard.value if connector else "IEC_62196_T2",
        connector_format=connector.format.value if connector else "SOCKET",
        connector_power_type=connector.power_type.value if connector else "AC_3_PHASE",
    )
    return Cdr(
        country_code=session.country_code,
        party_id=session.party_id,
        id=cdr_id or session.id,
        start_date_time=session.start_date_time,
        end_date_time=session.end_date_time,
        session_id=session.id,
        cdr_token=cdr_token,
        auth_method=session.auth_method,
        authorization_reference=session.authorization_reference,
        cdr_location=cdr_location,
        currency=currency,
        tariffs=[tariff] if tariff is not None else [],
        charging_periods=charging_periods(periods, tariff.id if tariff else None),
        total_cost=total_cost,
        total_energy=total_energy,
        total_time=total_time,
        total_parking_time=total_parking,
        remark="; ".join(remarks)[:255] or None,
        last_updated=session.end_date_time,
        **costs,
    )
