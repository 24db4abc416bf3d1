"""A tariff compiled once into the plain structures the pricing loop reads.

OCPI's rule (mod_tariffs, Tariff object): for each dimension, the first Tariff Element in the list
that has a Price Component for that dimension and whose restrictions all hold, prices it. Compiling
a tariff answers everything that does not depend on a session ahead of time: per dimension, the
ordered candidate components; per element, its restrictions as a tuple of small checks with their
constants (seconds of the local day, local day numbers, Decimal bounds); and the instants at which
any restriction can change its answer (times of day, durations, energy totals), so that pricing only
splits a charging period where a split can matter.

Reservations: elements with a ``reservation`` restriction price reservation time only, and elements
without one never do; they are compiled into separate channels. When a reservation expired, the
``RESERVATION_EXPIRES`` elements come first, then the ``RESERVATION`` ones (spec note under
ReservationRestrictionType).

No I/O, no pydantic on the objects the loop touches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum
from typing import Protocol, cast

from intercarga.billing.clock import DAY
from intercarga.billing.periods import Period
from intercarga.domain.money import Currency, currency
from intercarga.domain.tariff import (
    ReservationRestriction,
    TariffDimension,
    TariffElement,
    TariffRestrictions,
    TaxAmount,
    TaxIncluded,
)

__all__ = [
    "Channel",
    "Check",
    "CompiledTariff",
    "Component",
    "Group",
    "PricedTariff",
    "Quick",
    "QuickChoice",
    "Restriction",
    "State",
    "compile_tariff",
]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_ALL_DAYS = 0b111_1111

# What a restriction is checked against at one instant of a session:
# (second of the local day, local day number since 1970-01-01, weekday with Monday = 0,
#  seconds since the session started, kWh consumed before this instant,
#  min current, max current, min power, max power of the charging period, each None if unknown)
State = tuple[
    int, int, int, int, Decimal, Decimal | None, Decimal | None, Decimal | None, Decimal | None
]


class PricedTariff(Protocol):
    """What pricing reads from a tariff: a domain :class:`Tariff` or a tariff excerpt."""

    @property
    def id(self) -> str | None: ...
    @property
    def currency(self) -> str: ...
    @property
    def elements(self) -> Sequence[TariffElement]: ...
    @property
    def min_price(self) -> TaxAmount | None: ...
    @property
    def max_price(self) -> TaxAmount | None: ...
    @property
    def tax_included(self) -> TaxIncluded | None: ...
    @property
    def start_date_time(self) -> datetime | None: ...
    @property
    def end_date_time(self) -> datetime | None: ...


class Group(IntEnum):
    """Which CDR total a priced amount belongs to."""

    FIXED = 0
    ENERGY = 1
    TIME = 2
    PARKING = 3
    RESERVATION = 4


@dataclass(frozen=True, slots=True)
class Component:
    """One price component, where it sits in the tariff, and which CDR total it feeds."""

    key: int  # position in CompiledTariff.components
    element: int  # index in tariff.elements
    index: int  # index in element.price_components
    dimension: TariffDimension
    price: Decimal
    vat: Decimal | None
    step_size: int
    group: int  # a Group, stored as a plain int: list indexing with an IntEnum costs more
    tax_rate: Decimal | None  # vat / 100 when a tax applies (None: no tax, or rate unknown)
    tax_inside: bool  # the price already contains the tax (tax_included YES)
    # group and dimension in one number: step_size bills components equal in it together
    billing: int


@dataclass(frozen=True, slots=True)
class Check:
    """One restriction field (or a start/end pair) as a predicate on a :class:`State`."""

    field: str  # "time", "date", "day_of_week", "kwh", "duration", "current", "power", ...
    low: object
    high: object
    holds: Callable[[State], bool]


@dataclass(frozen=True, slots=True)
class Restriction:
    """The restrictions of one element: every check must hold (OCPI: logical AND).

    ``test`` is the checks folded into one predicate (None when there are none), so the loop pays
    one call per element and piece.
    """

    element: int
    source: TariffRestrictions | None
    checks: tuple[Check, ...]
    test: Callable[[State], bool] | None

    def matches(self, state: State) -> bool:
        return self.test is None or self.test(state)


def _all(checks: Sequence[Check]) -> Callable[[State], bool] | None:
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0].holds
    if len(checks) == 2:
        first, second = checks[0].holds, checks[1].holds
        return lambda s: first(s) and second(s)
    tests = tuple(check.holds for check in checks)

    def every(s: State) -> bool:
        # A plain loop: all() over a generator costs about twice as much, and this runs per piece.
        for test in tests:  # noqa: SIM110
            if not test(s):
                return False
        return True

    return every


# What the fast path keeps per (elements that hold, dimensions asked): the FLAT component, the
# component per asked dimension (one interned tuple per combination, so that ``is`` compares
# them), whether some asked dimension has candidates but none holds, the last ENERGY and time
# components of the piece (for step_size), and the charges: (the volume's index in a
# billing.periods.Period, component key, component) for each asked dimension a component prices,
# in the order ENERGY, TIME, PARKING_TIME.
QuickChoice = tuple[
    Component | None,
    tuple[Component | None, ...],
    bool,
    Component | None,
    Component | None,
    tuple[tuple[int, int, Component], ...],
]
# A current or power check as the fast path reads it from a Period: (the mask that keeps every
# element but the one checked, the index in the Period of the value read, the bound, True for a
# minimum (holds when value >= bound) or False for a maximum (holds when value < bound)).
PeriodCheck = tuple[int, int, Decimal, bool]

# The restriction fields the fast path evaluates from tables: the local clock and calendar by
# weekday and time of day, current and power once per period. Anything else (dates, durations,
# energy totals) makes a channel take the general loop.
_CLOCK_FIELDS = frozenset({"time", "day_of_week"})
_PERIOD_FIELDS = frozenset({"current", "power"})


@dataclass(slots=True)
class Quick:
    """What the session channel's fast path reads instead of evaluating restrictions per piece.

    Elements are bits (bit ``i`` is ``Channel.restrictions[i]``). ``clock[weekday * (len(cuts)
    + 1) + segment]`` has the bits of the elements whose clock checks hold on that weekday
    (Monday = 0) in that stretch of the local day (``segment`` = ``bisect_right(cuts, second)``);
    None when no element reads the clock. ``period_checks`` are the current and power checks of
    every element, read once per period from the Period itself (no call per check).
    """

    cuts: tuple[int, ...]
    clock: tuple[int, ...] | None
    period_checks: tuple[PeriodCheck, ...]
    everything: int
    flat: bool  # some element has a FLAT component
    # elements that hold << 3 | dimensions asked (ENERGY 1, TIME 2, PARKING_TIME 4) -> what
    # the fast path chose for them, filled as pricings meet combinations
    choices: dict[int, QuickChoice] = field(default_factory=dict)
    # the tuples of chosen components, one object per distinct tuple
    interned: dict[tuple[Component | None, ...], tuple[Component | None, ...]] = field(
        default_factory=dict
    )


def _quick(channel: Channel) -> Quick | None:
    """The fast path's tables for ``channel``, or None when a restriction needs the general loop."""
    restrictions = channel.restrictions
    for restriction in restrictions:
        for check in restriction.checks:
            if check.field not in _CLOCK_FIELDS and check.field not in _PERIOD_FIELDS:
                return None
    cuts = channel.time_of_day_cuts
    everything = (1 << len(restrictions)) - 1
    clock: tuple[int, ...] | None = None
    if channel.local:
        table = []
        for weekday in range(7):
            for segment in range(len(cuts) + 1):
                # Every clock check changes its answer only at a cut: the segment's first
                # second stands for all of it.
                second = cuts[segment - 1] if segment else 0
                state: State = (second, 0, weekday, 0, Decimal(0), None, None, None, None)
                mask = 0
                for bit, restriction in enumerate(restrictions):
                    if all(
                        check.holds(state)
                        for check in restriction.checks
                        if check.field in _CLOCK_FIELDS
                    ):
                        mask |= 1 << bit
                table.append(mask)
        clock = tuple(table)
    period_checks: list[PeriodCheck] = []
    for bit, restriction in enumerate(restrictions):
        for check in restriction.checks:
            if check.field in _PERIOD_FIELDS:
                # _period_bounds makes a check of either bound: a minimum reads min_<field>,
                # a maximum max_<field>.
                minimum = check.low is not None
                bound = cast(Decimal, check.low if minimum else check.high)
                slot = Period._fields.index(f"{'min' if minimum else 'max'}_{check.field}")
                period_checks.append((everything & ~(1 << bit), slot, bound, minimum))
    flat = TariffDimension.FLAT in channel.candidates
    return Quick(cuts, clock, tuple(period_checks), everything, flat)


@dataclass(slots=True)
class Channel:
    """The elements that price one kind of time: the session itself, or a reservation."""

    restrictions: list[Restriction] = field(default_factory=list)
    # dimension -> [(position in ``restrictions``, component)], in tariff order
    candidates: dict[TariffDimension, list[tuple[int, Component]]] = field(default_factory=dict)
    tests: tuple[Callable[[State], bool] | None, ...] = ()  # Restriction.test, by position
    restricted: bool = False  # some element of the channel has a restriction
    time_of_day_cuts: tuple[int, ...] = ()  # seconds of the local day where an answer can change
    local: bool = False  # some restriction reads the local clock or calendar
    duration_cuts: tuple[int, ...] = ()
    kwh_cuts: tuple[Decimal, ...] = ()
    # (restrictions that hold, dimensions asked) -> (FLAT component, component per dimension):
    # what the pricing loop chose before, filled as pricings meet new combinations.
    choices: dict[
        tuple[tuple[bool, ...], str], tuple[Component | None, tuple[Component | None, ...]]
    ] = field(default_factory=dict)
    quick: Quick | None = None  # the fast path's tables (None: the general loop only)

    def prices(self, dimension: TariffDimension) -> bool:
        return dimension in self.candidates


@dataclass(frozen=True, slots=True)
class CompiledTariff:
    """A tariff ready to price many sessions; build it with :func:`compile_tariff`."""

    tariff: PricedTariff
    currency: Currency
    components: tuple[Component, ...]
    session: Channel
    reservation: Channel
    reservation_expired: Channel
    tax_included: TaxIncluded | None
    local: bool  # some channel reads the local clock: the zone table must cover the session
    limited: bool  # min_price or max_price is set
    cautions: bool  # validity dates or taxes included at an unknown rate: check for warnings
    # (tax rate, vat % as the totals name it) when every component is taxed at one rate, written
    # the same way, on top of its price: the totals are then summed without a table of rates
    one_rate: tuple[Decimal, Decimal] | None
    quantum: Decimal  # currency.quantum (a property), read by every settled pricing

    @property
    def id(self) -> str | None:
        return self.tariff.id


def _seconds(clock_time: str) -> int:
    hours, minutes = clock_time.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def _day_number(iso_date: str) -> int:
    return date.fromisoformat(iso_date).toordinal() - _EPOCH_ORDINAL


def _time_check(start: int, end: int) -> Check:
    # OCPI: "If end_time < start_time then the period wraps around to the next day. To stop at
    # end of the day use: 00:00." A missing start is the start of the day, a missing end its end.
    if end > start:
        return Check("time", start, end, lambda s: start <= s[0] < end)
    return Check("time", start, end, lambda s: s[0] >= start or s[0] < end)


def _checks(restrictions: TariffRestrictions) -> tuple[list[Check], set[int]]:
    """The checks of one element, and the seconds of the local day at which they can change."""
    checks: list[Check] = []
    cuts: set[int] = set()
    r = restrictions
    if r.start_time is not None or r.end_time is not None:
        start = _seconds(r.start_time) if r.start_time is not None else 0
        end = _seconds(r.end_time) if r.end_time is not None else DAY
        end = end or DAY  # "00:00" as an end means midnight at the end of the day
        if end != start and not (start == 0 and end == DAY):
            checks.append(_time_check(start, end))
            cuts.update((start % DAY, end % DAY))
        # start == end: a window as long as the day, so no constraint (docs/pricing.md).
    if r.day_of_week:
        mask = 0
        for day in r.day_of_week:
            mask |= 1 << _WEEKDAYS.index(day.value)
        if mask != _ALL_DAYS:
            days = mask
            checks.append(Check("day_of_week", mask, None, lambda s: bool(days >> s[2] & 1)))
            cuts.add(0)
    if r.start_date is not None or r.end_date is not None:
        first = _day_number(r.start_date) if r.start_date is not None else None
        end_day = _day_number(r.end_date) if r.end_date is not None else None
        if first is not None and end_day is not None:
            lo, hi = first, end_day
            checks.append(Check("date", first, end_day, lambda s: lo <= s[1] < hi))
        elif first is not None:
            lo = first
            checks.append(Check("date", first, None, lambda s: s[1] >= lo))
        elif end_day is not None:
            hi = end_day
            checks.append(Check("date", None, end_day, lambda s: s[1] < hi))
        cuts.add(0)
    checks.extend(_bounds("kwh", 4, r.min_kwh, r.max_kwh))
    checks.extend(_bounds("duration", 3, r.min_duration, r.max_duration))
    checks.extend(_period_bounds("current", 5, 6, r.min_current, r.max_current))
    checks.extend(_period_bounds("power", 7, 8, r.min_power, r.max_power))
    return checks, cuts


def _bounds(
    name: str, slot: int, low: Decimal | int | None, high: Decimal | int | None
) -> list[Check]:
    """A running total (kWh, seconds) within [low, high): inclusive minimum, exclusive maximum."""
    if low is not None and high is not None:
        lo, hi = low, high
        return [Check(name, low, high, lambda s: lo <= s[slot] < hi)]  # type: ignore[operator]
    if low is not None:
        lo = low
        return [Check(name, low, None, lambda s: s[slot] >= lo)]  # type: ignore[operator]
    if high is not None:
        hi = high
        return [Check(name, None, high, lambda s: s[slot] < hi)]  # type: ignore[operator]
    return []


def _period_bounds(
    name: str, min_slot: int, max_slot: int, low: Decimal | None, high: Decimal | None
) -> list[Check]:
    """Current or power of the period; a value the period does not report is taken as met."""
    checks = []
    if low is not None:
        lo = low

        def at_least(s: State) -> bool:
            value = s[min_slot]
            return value is None or value >= lo

        checks.append(Check(name, low, None, at_least))
    if high is not None:
        hi = high

        def below(s: State) -> bool:
            value = s[max_slot]
            return value is None or value < hi

        checks.append(Check(name, None, high, below))
    return checks


def _finish(channel: Channel, cuts: set[int], durations: set[int], kwhs: set[Decimal]) -> None:
    channel.tests = tuple(restriction.test for restriction in channel.restrictions)
    channel.restricted = any(test is not None for test in channel.tests)
    channel.time_of_day_cuts = tuple(sorted(cuts))
    channel.local = bool(cuts)
    channel.duration_cuts = tuple(sorted(durations))
    channel.kwh_cuts = tuple(sorted(kwhs))
    channel.quick = _quick(channel)


def compile_tariff(tariff: PricedTariff) -> CompiledTariff:
    """Compile once, price many times. The tariff must already be valid (domain-validated)."""
    components: list[Component] = []
    session, reservation, expired = Channel(), Channel(), Channel()
    cuts: dict[int, tuple[set[int], set[int], set[Decimal]]] = {
        id(channel): (set(), set(), set()) for channel in (session, reservation, expired)
    }
    expires_first: list[tuple[int, TariffElement]] = []
    reserved: list[tuple[int, TariffElement]] = []
    plain: list[tuple[int, TariffElement]] = []
    for number, element in enumerate(tariff.elements):
        kind = element.restrictions.reservation if element.restrictions else None
        if kind is ReservationRestriction.RESERVATION_EXPIRES:
            expires_first.append((number, element))
        elif kind is ReservationRestriction.RESERVATION:
            reserved.append((number, element))
        else:
            plain.append((number, element))

    keys: dict[tuple[int, int], Component] = {}

    def component(number: int, index: int, element: TariffElement, group: Group) -> Component:
        known = keys.get((number, index))
        if known is not None:
            return known
        source = element.price_components[index]
        taxed = source.vat is not None and tariff.tax_included is not TaxIncluded.NOT_APPLICABLE
        made = Component(
            key=len(components),
            element=number,
            index=index,
            dimension=source.type,
            price=source.price,
            vat=source.vat,
            step_size=source.step_size,
            group=int(group),
            tax_rate=source.vat / 100 if taxed and source.vat is not None else None,
            tax_inside=tariff.tax_included is TaxIncluded.YES,
            billing=int(group) * 16 + _DIMENSION_CODES[source.type],
        )
        components.append(made)
        keys[(number, index)] = made
        return made

    def add(channel: Channel, number: int, element: TariffElement, reservation: bool) -> None:
        tod, durations, kwhs = cuts[id(channel)]
        checks: list[Check] = []
        if element.restrictions is not None:
            checks, element_cuts = _checks(element.restrictions)
            tod |= element_cuts
            for check in checks:
                if check.field == "duration":
                    durations.update(b for b in (check.low, check.high) if isinstance(b, int))
                elif check.field == "kwh":
                    kwhs.update(b for b in (check.low, check.high) if isinstance(b, Decimal))
        position = len(channel.restrictions)
        channel.restrictions.append(
            Restriction(number, element.restrictions, tuple(checks), _all(checks))
        )
        for index, source in enumerate(element.price_components):
            dimension = source.type
            if reservation:
                if dimension not in (TariffDimension.FLAT, TariffDimension.TIME):
                    continue  # OCPI: a reservation has only FLAT and TIME dimensions
                group = Group.RESERVATION
            else:
                group = _SESSION_GROUPS[dimension]
            made = component(number, index, element, group)
            channel.candidates.setdefault(dimension, []).append((position, made))

    for number, element in plain:
        add(session, number, element, reservation=False)
    for number, element in reserved:
        add(reservation, number, element, reservation=True)
    for number, element in [*expires_first, *reserved]:
        add(expired, number, element, reservation=True)
    for channel in (session, reservation, expired):
        _finish(channel, *cuts[id(channel)])
    money = currency(tariff.currency)
    return CompiledTariff(
        tariff=tariff,
        currency=money,
        components=tuple(components),
        session=session,
        reservation=reservation,
        reservation_expired=expired,
        tax_included=tariff.tax_included,
        local=session.local or reservation.local or expired.local,
        limited=tariff.min_price is not None or tariff.max_price is not None,
        cautions=tariff.start_date_time is not None
        or tariff.end_date_time is not None
        or (
            tariff.tax_included is TaxIncluded.YES
            and any(component.vat is None for component in components)
        ),
        one_rate=_one_rate(components),
        quantum=money.quantum,
    )


def _one_rate(components: Sequence[Component]) -> tuple[Decimal, Decimal] | None:
    """CompiledTariff.one_rate: alike down to the exponent, since a product's exponent follows
    its factors' (0.19 and 0.190 are one rate in value, not in the digits a total shows)."""
    written = {(str(c.tax_rate), str(c.vat), c.tax_inside) for c in components}
    if len(written) != 1 or components[0].tax_inside:
        return None
    rate, vat = components[0].tax_rate, components[0].vat
    if rate is None or vat is None:
        return None
    return rate, vat or _ZERO  # the name engine._group_prices gives a 0 % rate


_ZERO = Decimal(0)
_DIMENSION_CODES = {dimension: code for code, dimension in enumerate(TariffDimension)}
_SESSION_GROUPS = {
    TariffDimension.FLAT: Group.FIXED,
    TariffDimension.ENERGY: Group.ENERGY,
    TariffDimension.TIME: Group.TIME,
    TariffDimension.PARKING_TIME: Group.PARKING,
}
