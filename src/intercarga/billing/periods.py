"""Charging periods as the pricing loop reads them, made from CDR periods or OCPP meter values.

A :class:`Period` is a plain, immutable record: its start as whole seconds since the epoch (UTC),
the volumes of the OCPI dimensions it carries, and the current and power values its restrictions
are checked against. Converting domain objects happens here, once per session, so the loop never
touches pydantic.

Which value a current or power restriction reads (docs/pricing.md, "current and power"):
``min_current``/``min_power`` read the period's MIN_ value, else its average (CURRENT / POWER);
``max_current``/``max_power`` read the MAX_ value, else the average. Power falls back once more to
the average power while charging, ENERGY / TIME. A value still unknown is left as None.

Meter values (OCPP) become periods between consecutive energy register readings: energy delivered
means charging time; no energy after some was delivered means parking time (OCPI 2.2.1 d2/2.3.0:
"time during which the vehicle is not requesting power"); no energy before any was delivered is
still charging time (the car and charger are starting up). A register that goes back delivers
nothing in that period: energy is never negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import NamedTuple

from intercarga.domain.session import CdrDimensionType, ChargingPeriod, MeterValue
from intercarga.errors import InvalidInputError

__all__ = [
    "Period",
    "PeriodRow",
    "epoch_seconds",
    "period_from_charging_period",
    "periods_from_charging_periods",
    "periods_from_meter_values",
    "rows_from_charging_periods",
]

_ZERO = Decimal(0)
_HOUR = Decimal(3600)
_ENERGY_REGISTER = "Energy.Active.Import.Register"
_POWER = "Power.Active.Import"
_CURRENT = "Current.Import"


class Period(NamedTuple):
    """One charging period; ``end`` None means "until the next period starts, or the session ends".

    A NamedTuple rather than a dataclass: it is made once per period per pricing, and a tuple is
    the cheapest immutable record Python builds.
    """

    start: int
    energy: Decimal = _ZERO  # kWh (ENERGY)
    time: Decimal = _ZERO  # hours charging (TIME)
    parking: Decimal = _ZERO  # hours not charging (PARKING_TIME)
    reservation: Decimal = _ZERO  # hours reserved (RESERVATION_TIME)
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    end: int | None = None
    session: bool = True  # carries a session dimension (anything but RESERVATION_TIME)
    reserved: bool = False  # carries RESERVATION_TIME
    has_energy: bool = False  # carries ENERGY (or ENERGY_IMPORT)
    tariff_id: str | None = None


# A Period's fields as a plain tuple, in the same order: what pricing a CDR's periods makes and
# the fast pricing path reads. Building a tuple subclass (a NamedTuple) and freeing it costs about
# five times a plain tuple's, and that path reads the fields by position anyway; a Period is a
# PeriodRow too.
PeriodRow = tuple[
    int,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal | None,
    Decimal | None,
    Decimal | None,
    Decimal | None,
    int | None,
    bool,
    bool,
    bool,
    str | None,
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since 1970-01-01 UTC; fractions of a second are dropped (floor)."""
    if moment.tzinfo is None:
        return int(moment.timestamp() // 1)  # a naive datetime is read as local time
    # days and seconds of a timedelta are normalised (0 <= seconds < 86400), so this is the
    # floor; about half the cost of datetime.timestamp(), and it runs once per period.
    since = moment - _EPOCH
    return since.days * 86_400 + since.seconds


# Where each dimension's volume goes in the list a period's dimensions are gathered into: one
# list, then one unpacking, costs less than a dict and a lookup per field, and this conversion
# runs for every period of every CDR priced.
_D = CdrDimensionType
_READ = (
    _D.ENERGY, _D.ENERGY_IMPORT, _D.ENERGY_EXPORT, _D.TIME, _D.PARKING_TIME, _D.RESERVATION_TIME,
    _D.CURRENT, _D.MIN_CURRENT, _D.MAX_CURRENT, _D.POWER, _D.MIN_POWER, _D.MAX_POWER,
)  # fmt: skip
# Any other dimension (STATE_OF_CHARGE) shares the last slot: pricing reads none of them, they
# only make the period a session period.
_SLOTS = {kind: len(_READ) for kind in CdrDimensionType} | {k: n for n, k in enumerate(_READ)}
_NO_VOLUMES = (None,) * (len(_READ) + 1)
_RESERVATION_TIME = _D.RESERVATION_TIME
_new = tuple.__new__  # builds the NamedTuple in C, without its Python-level __new__


def period_from_charging_period(period: ChargingPeriod) -> Period:
    """The pricing view of one OCPI ChargingPeriod."""
    return _new(Period, rows_from_charging_periods((period,))[0])


def periods_from_charging_periods(periods: Iterable[ChargingPeriod]) -> list[Period]:
    """The pricing view of a CDR's or a session's charging periods, in their order."""
    return [_new(Period, row) for row in rows_from_charging_periods(periods)]


def rows_from_charging_periods(periods: Iterable[ChargingPeriod]) -> list[PeriodRow]:
    """:func:`periods_from_charging_periods` as plain tuples (see :data:`PeriodRow`).

    One loop over the periods rather than a call per period: pricing a CDR starts here.
    """
    rows: list[PeriodRow] = []
    slots = _SLOTS
    for period in periods:
        volumes: list[Decimal | None] = [*_NO_VOLUMES]
        dimensions = period.dimensions
        for dimension in dimensions:
            slot = slots[dimension.type]
            known = volumes[slot]
            # A dimension given twice is added up: two ENERGY entries are two amounts of energy.
            volumes[slot] = dimension.volume if known is None else known + dimension.volume
        (
            energy,
            imported,
            exported,
            time,
            parking,
            reservation,
            average_current,
            min_current,
            max_current,
            average_power,
            min_power,
            max_power,
            _,
        ) = volumes  # in _READ's order
        if energy is None and imported is not None:
            energy = imported - (_ZERO if exported is None else exported)
        if time is None:
            time = _ZERO
        if min_current is None:
            min_current = average_current
        if max_current is None:
            max_current = average_current
        if min_power is None or max_power is None:
            # Only a bound the period does not report reads the average (and only then is the
            # average of ENERGY / TIME worked out).
            if average_power is None and energy is not None and time > 0:
                average_power = energy / time
            if min_power is None:
                min_power = average_power
            if max_power is None:
                max_power = average_power
        since = period.start_date_time - _EPOCH  # a UtcDateTime is aware
        rows.append(
            (  # in Period's field order
                since.days * 86_400 + since.seconds,  # epoch_seconds, inlined
                _ZERO if energy is None else energy,
                time,
                _ZERO if parking is None else parking,
                _ZERO if reservation is None else reservation,
                min_current,
                max_current,
                min_power,
                max_power,
                None,
                # some dimension other than RESERVATION_TIME (not volumes.count(None): comparing a
                # Decimal with None goes through an isinstance on an abstract class)
                bool(dimensions)
                if reservation is None
                else any(d.type != _RESERVATION_TIME for d in dimensions),
                reservation is not None,
                energy is not None,
                period.tariff_id,
            )
        )
    return rows


_KILO = {"wh": Decimal(1000), "kwh": Decimal(1), "w": Decimal(1000), "kw": Decimal(1)}


def _kilo(value: MeterValue, units: tuple[str, str]) -> Decimal:
    """A meter value in kWh or kW, from Wh/kWh or W/kW as the charger reported it."""
    unit = value.unit.lower()
    if unit not in units:
        raise InvalidInputError(
            f"{value.measurand} in {value.unit!r}; expected {' or '.join(units)}",
            "meter_values.unit",
        )
    return value.value / _KILO[unit]


def periods_from_meter_values(values: Sequence[MeterValue]) -> list[Period]:
    """Periods between consecutive energy register readings, each with an explicit end.

    Power (Power.Active.Import) and current (Current.Import, phases added up) sampled at the two
    ends of a period give its minimum and maximum. Readings must be in time order.
    """
    readings: list[tuple[int, Decimal]] = []
    power: dict[int, Decimal] = {}
    current: dict[int, Decimal] = {}
    for value in values:
        at = epoch_seconds(value.timestamp)
        if value.measurand == _ENERGY_REGISTER and value.phase is None:
            # Only the energy register's own begin reading must come first; other measurands
            # (power, SoC, …) sampled at the start carry the same context.
            if value.context == "Transaction.Begin" and readings:
                raise InvalidInputError("Transaction.Begin after other readings", "meter_values")
            if readings and at < readings[-1][0]:
                raise InvalidInputError("energy readings out of time order", "meter_values")
            readings.append((at, _kilo(value, ("wh", "kwh"))))
        elif value.measurand == _POWER and value.phase is None:
            power[at] = _kilo(value, ("w", "kw"))
        elif value.measurand == _CURRENT:
            current[at] = current.get(at, _ZERO) + value.value
    periods: list[Period] = []
    charged = False
    for (start, begin), (end, finish) in pairwise(readings):
        # A register that went back (a meter replaced, a rollover) delivered nothing we know
        # of: OCPI has no negative energy (billing.readings flags the step for the operator).
        delivered = max(finish - begin, _ZERO)
        hours = Decimal(end - start) / _HOUR
        charging = delivered > 0 or not charged
        charged = charged or delivered > 0
        ends = [v for v in (power.get(start), power.get(end)) if v is not None]
        amps = [v for v in (current.get(start), current.get(end)) if v is not None]
        average = delivered / hours if charging and hours > 0 else None
        periods.append(
            Period(
                start=start,
                end=end,
                energy=delivered,
                time=hours if charging else _ZERO,
                parking=_ZERO if charging else hours,
                min_current=min(amps) if amps else None,
                max_current=max(amps) if amps else None,
                min_power=min(ends) if ends else average,
                max_power=max(ends) if ends else average,
                has_energy=True,
            )
        )
    return periods
