"""The pricing loop: charging periods in, a :class:`CdrPricing` out. Pure; no I/O.

Theory of operation (docs/pricing.md has the long form with examples):

1. Each period lasts from its start to the next period's start (the last one to the session end).
   Volumes are spread evenly over that interval.
2. A period is cut where some restriction of the channel can change its answer: a time-of-day
   boundary or midnight on the Location's wall clock, a UTC offset change, the session reaching a
   ``min/max_duration``, the energy total reaching a ``min/max_kwh``. Each piece is checked once,
   at its start; adjacent pieces that pick the same elements are merged again.
3. Per piece and per dimension, the first element (tariff order) with a component for that
   dimension whose restrictions all hold prices the piece's volume. None → the volume is free and
   the breakdown says so (OCPI: "there will be no costs for that Tariff Dimension").
4. FLAT is charged once per channel, by the first FLAT component active at the earliest moment one
   is active.
5. step_size (mod_cdrs): once for ENERGY (the session's billed energy, rounded up with the step of
   the last ENERGY component used) and once for the time dimensions together (the billed volume
   of whichever of TIME or PARKING_TIME was priced last, with that component's step); reservation
   time has its own step. The extra is billed at that last component's price.
6. Amounts: volume × price per component, taxes per component (``vat`` %, or inside the price when
   the tariff says ``tax_included`` YES), then ``min_price``/``max_price`` on the total. All exact;
   rounding happens later, once (:meth:`CdrPricing.settled`).

The fast path (:func:`_price_quick`) is the session channel's walk when its restrictions are
only times of day, days of the week, current and power (``Channel.quick``): which elements hold
comes from a weekday × time-of-day table once per stretch between cuts and from the current and
power checks once per period, and no breakdown is recorded; reading ``CdrPricing.lines`` replays
the general loop on the same input. It makes the same pieces and the same Decimal operations in
the same order, so every total is the same to the last digit (tests/billing/test_fast_path.py
checks that on random tariffs and sessions). Anything else (dates, durations, energy totals,
reservations, periods out of order, a volume no element prices) takes the general loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal
from functools import partial
from typing import Any

from intercarga.billing.clock import DAY, ZoneClock, zone_clock
from intercarga.billing.compiled import (
    Channel,
    CompiledTariff,
    Component,
    Quick,
    QuickChoice,
    State,
)
from intercarga.billing.periods import Period, PeriodRow
from intercarga.billing.result import ZERO_PRICE, CdrPricing, Price, RawLine, TaxLine
from intercarga.domain.tariff import TariffDimension, TaxAmount, TaxIncluded
from intercarga.errors import InvalidInputError

__all__ = ["price_periods"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_HOUR = Decimal(3600)
_KWH = Decimal(1000)
# Billed volumes are read to a millionth of a second or Wh before step rounding, so that the
# last digits of an evenly split period cannot push a total over a step boundary.
_RESOLUTION = Decimal("1e-6")

_ENERGY = TariffDimension.ENERGY
_TIME = TariffDimension.TIME
_PARKING = TariffDimension.PARKING_TIME
_FLAT = TariffDimension.FLAT
_new = tuple.__new__


class _Tally:
    """Running sums of one pricing: volume per component, the lines, the last line per step group."""

    __slots__ = (
        "energy",
        "last_energy",
        "last_reserved",
        "last_time",
        "lines",
        "parking",
        "seen",
        "unpriced",
        "used",
        "volumes",
    )

    def __init__(self, components: int) -> None:
        self.volumes = [_ZERO] * components
        self.used: list[Component] = []  # components with a volume, in first-use order
        self.seen = bytearray(components)
        # Index in ``lines`` of the last line priced per step group (energy, time, reservation).
        self.last_energy = -1
        self.last_time = -1
        self.last_reserved = -1
        self.lines: list[RawLine] = []
        self.unpriced = False
        self.energy = _ZERO  # session totals, left by the session channel's walk
        self.parking = _ZERO


_Option = list[tuple[int, Component]]
_NEVER = 1 << 62


_CHOICES = 4096  # at most this many answers kept per channel


def _choose(
    active: int, flat: _Option | None, asked: list[tuple[str, _Option | None, Decimal]]
) -> tuple[Component | None, tuple[Component | None, ...]]:
    """The FLAT component and, per asked dimension, the one that prices a piece: for each, the
    first candidate (tariff order) whose element's restrictions all hold (bit ``position`` of
    ``active``), or None."""
    fee = None
    if flat is not None:
        for position, component in flat:
            if active >> position & 1:
                fee = component
                break
    picked: tuple[Component | None, ...] = ()
    for _, options, _ in asked:
        pick = None
        if options:
            for position, option in options:
                if active >> position & 1:
                    pick = option
                    break
        picked += (pick,)
    return fee, picked


def _run(
    channel: Channel,
    periods: Sequence[Period],
    ends: Sequence[int],
    session_start: int,
    clock: ZoneClock,
    tally: _Tally,
    reservation: bool,
) -> None:
    """Price every period of one channel into ``tally`` (in time order)."""
    candidates = channel.candidates
    flat = flat_options = candidates.get(_FLAT)
    tests = channel.tests
    restricted = channel.restricted
    everything = (True,) * len(tests)
    choices = channel.choices
    offset = clock.offset
    lines = tally.lines
    volumes = tally.volumes
    used = tally.used
    seen = tally.seen
    energy_options = candidates.get(_ENERGY)
    time_options = candidates.get(_TIME)
    parking_options = candidates.get(_PARKING)
    # The next instant at which a restriction may change its answer, per kind. Periods come in
    # time order, so each pointer only moves forward: most periods cross no cut and cost one
    # comparison each.
    local = channel.local
    day_cuts = channel.time_of_day_cuts
    next_local = -_NEVER if local else _NEVER
    duration_marks = [session_start + d for d in channel.duration_cuts]
    kwh_marks = channel.kwh_cuts
    next_duration = next_kwh = 0
    energy_before = parked = _ZERO
    for number, period in enumerate(periods):
        parked += period.parking
        if not (period.reserved if reservation else period.session):
            energy_before += period.energy
            continue
        start, end = period.start, ends[number]
        energy = period.energy
        # What this period asks to price: (CDR dimension, candidates, volume), non-zero only.
        asked: list[tuple[str, _Option | None, Decimal]] = []
        kinds = ""  # which dimensions ``asked`` holds, as a key for ``choices``
        if reservation:
            if period.reservation:
                asked.append(("RESERVATION_TIME", time_options, period.reservation))
                kinds = "R"
        else:
            if energy:
                asked.append(("ENERGY", energy_options, energy))
                kinds = "E"
            if period.time:
                asked.append(("TIME", time_options, period.time))
                kinds += "T"
            if period.parking:
                asked.append(("PARKING_TIME", parking_options, period.parking))
                kinds += "P"

        # Cut points inside (start, end): instants first, then energy totals.
        instants: list[int] | None = None
        if next_local <= start:
            next_local = clock.next_cut(start, day_cuts)
        while next_local < end:
            (instants := instants or []).append(next_local)
            next_local = clock.next_cut(next_local, day_cuts)
        while next_duration < len(duration_marks) and duration_marks[next_duration] < end:
            if duration_marks[next_duration] > start:
                (instants := instants or []).append(duration_marks[next_duration])
            next_duration += 1
        starts = [(_ZERO, start, energy_before)]
        if instants:
            span = Decimal(end - start)
            for instant in sorted(set(instants)):
                fraction = (instant - start) / span
                starts.append((fraction, instant, energy_before + energy * fraction))
        reached = energy_before + energy
        while next_kwh < len(kwh_marks) and kwh_marks[next_kwh] < reached:
            kwh = kwh_marks[next_kwh]
            if kwh > energy_before:
                fraction = (kwh - energy_before) / energy
                starts.append((fraction, start + int(fraction * (end - start)), kwh))
                starts.sort()
            next_kwh += 1

        # Pieces: (fraction where it starts, instant, chosen components, state checked).
        pieces: list[tuple[Decimal, int, tuple[Component | None, ...], State | None]] = []
        for fraction, instant, energy_at in starts:
            state: State | None = None
            active = everything
            if restricted:
                if local:
                    day, second = divmod(instant + offset(instant), DAY)
                else:
                    day = second = 0
                state = (
                    second,
                    day,
                    (day + 3) % 7,  # 1970-01-01 was a Thursday; Monday = 0
                    instant - session_start,
                    energy_at,
                    period.min_current,
                    period.max_current,
                    period.min_power,
                    period.max_power,
                )
                active = tuple([test is None or test(state) for test in tests])
            # Which elements price the piece depends only on which restrictions hold and on
            # the dimensions asked: the answer is kept on the channel for the next pricing.
            choice = choices.get((active, kinds))
            if choice is None:
                bits = sum(1 << position for position, holds in enumerate(active) if holds)
                choice = _choose(bits, flat_options, asked)
                if len(choices) < _CHOICES:
                    choices[(active, kinds)] = choice
            fee, picked = choice
            if flat is not None and fee is not None:
                seen[fee.key] = 1
                used.append(fee)
                volumes[fee.key] = _ONE
                lines.append(
                    ("flat", number, instant, instant, "FLAT", _ONE, fee, state, reservation)
                )
                flat = None
            if pieces and pieces[-1][2] == picked:
                continue  # same elements as the piece before: one line, not two
            pieces.append((fraction, instant, picked, state))

        count = len(pieces)
        for index, (fraction, instant, picked, state) in enumerate(pieces):
            last = index + 1 == count
            piece_end = end if last else pieces[index + 1][1]
            for (dimension, options, amount), component in zip(asked, picked):  # noqa: B905
                if count == 1:
                    part = amount
                else:
                    upto = amount if last else amount * pieces[index + 1][0]
                    part = upto - amount * fraction if index else upto
                if component is None:
                    if options:
                        tally.unpriced = True
                        lines.append(
                            ("unpriced", number, instant, piece_end, dimension, part, None, state,
                             reservation)
                        )  # fmt: skip
                    continue
                key = component.key
                if not seen[key]:
                    seen[key] = 1
                    used.append(component)
                volumes[key] += part
                if reservation:
                    tally.last_reserved = len(lines)
                elif dimension == "ENERGY":
                    tally.last_energy = len(lines)
                else:
                    tally.last_time = len(lines)
                lines.append(
                    ("charge", number, instant, piece_end, dimension, part, component, state,
                     reservation)
                )  # fmt: skip
        energy_before = reached
    if not reservation:
        tally.energy, tally.parking = energy_before, parked


def _quick_choice(channel: Channel, quick: Quick, active: int, kinds: int) -> QuickChoice:
    """Choose for one combination (not met before) and keep the answer on ``quick``."""
    candidates = channel.candidates
    dimensions = [
        (name, candidates.get(dimension), slot)
        for bit, name, dimension, slot in _QUICK_KINDS
        if kinds & bit
    ]
    fee, picked = _choose(active, candidates.get(_FLAT), [(n, o, _ZERO) for n, o, _ in dimensions])
    picked = quick.interned.setdefault(picked, picked)
    unpriced = any(c is None and o for c, (_, o, _) in zip(picked, dimensions, strict=True))
    energy = picked[0] if kinds & 1 else None
    times = [c for c, (n, _, _) in zip(picked, dimensions, strict=True) if n != "ENERGY" and c]
    charges = tuple(
        (slot, c.key, c) for c, (_, _, slot) in zip(picked, dimensions, strict=True) if c
    )
    choice = (fee, picked, unpriced, energy, times[-1] if times else None, charges)
    if len(quick.choices) < _CHOICES:
        quick.choices[active << 3 | kinds] = choice
    return choice


# (bit in the fast path's ``kinds``, CDR dimension, tariff dimension, index in a Period)
_QUICK_KINDS = (
    (1, "ENERGY", _ENERGY, Period._fields.index("energy")),
    (2, "TIME", _TIME, Period._fields.index("time")),
    (4, "PARKING_TIME", _PARKING, Period._fields.index("parking")),
)


def _price_quick(
    tariff: CompiledTariff,
    quick: Quick,
    periods: Sequence[PeriodRow],
    session_start: int | None,
    session_end: int | None,
    time_zone: str,
    reservation_expired: bool | None,
) -> CdrPricing | None:
    """:func:`price_periods` for the session channel, recording no breakdown.

    The same pieces, the same components and the same Decimal operations in the same order as
    :func:`_run` (so the same exact totals), but the elements that hold come from the channel's
    :class:`Quick` tables: clock restrictions once per stretch between cuts, current and power
    once per period. The breakdown is left as a replay of the general loop, run when read.
    Returns None, having changed nothing, where the general loop must answer: periods out of
    order, overlapping or invalid (it raises), reservation time, no session period, or a volume
    that no element prices (the warnings name it).
    """
    clock = zone_clock(time_zone)
    # Fields by position (0 start, 9 end): a PeriodRow is a plain tuple.
    start = session_start if session_start is not None else periods[0][0]
    last_end = periods[-1][9]
    if last_end is None:
        last_end = session_end if session_end is not None else periods[-1][0]
    finish = session_end if session_end is not None else last_end
    if tariff.local:
        clock.cover(start, max(finish, last_end))
    count = len(periods)
    volumes = [_ZERO] * len(tariff.components)
    used: list[Component] = []  # components with a volume, in first-use order
    seen = bytearray(len(volumes))
    choices = quick.choices
    cuts = quick.cuts
    table = quick.clock
    locate = clock.locate
    period_checks = quick.period_checks
    everything = quick.everything
    flat = quick.flat  # a FLAT fee is still to charge
    next_local = -_NEVER if table is not None else _NEVER
    stretch = everything  # the elements whose clock checks hold until ``next_local``
    last_energy: Component | None = None
    last_time: Component | None = None
    energy_before = parked = _ZERO
    previous_end = start
    energy_known = any_session = False
    number = 0
    for period in periods:
        # One unpacking rather than an attribute read per field.
        begin, energy, time, parking, _, _, _, _, _, end, session, reserved, has_energy, _ = period
        number += 1  # the next period's index
        if end is None:
            if number < count:
                end = periods[number][0]
            elif session_end is not None:
                end = session_end
            else:
                end = begin
        if begin < previous_end or end < begin or reserved:
            return None
        previous_end = end
        if has_energy:
            energy_known = True
        parked += parking
        if not session:
            energy_before += energy
            continue
        any_session = True
        # The period's fields by index (the checks and charges read them so): Decimal or None.
        row: tuple[Any, ...] = period
        # Which volumes are asked (non-zero only): ENERGY 1, TIME 2, PARKING_TIME 4.
        kinds = (1 if energy else 0) | (2 if time else 0) | (4 if parking else 0)
        allowed = everything
        for keep, slot, bound, minimum in period_checks:
            # The checks of compiled._period_bounds, spelled out: a value the period does not
            # report is taken as met.
            value = row[slot]
            if value is not None and not (value >= bound if minimum else value < bound):
                allowed &= keep
        if next_local <= begin:
            assert table is not None  # next_local stays _NEVER without a clock table
            where, next_local = locate(begin, cuts)
            stretch = table[where]
        active = stretch & allowed
        choice = choices.get(active << 3 | kinds)
        if choice is None:
            choice = _quick_choice(tariff.session, quick, active, kinds)
        fee = choice[0]
        if flat and fee is not None:
            seen[fee.key] = 1
            used.append(fee)
            volumes[fee.key] = _ONE
            flat = False
        if next_local >= end:
            # No cut inside the period: one piece.
            if choice[2]:
                return None  # some volume is unpriced: the general loop warns about it
            for slot, key, component in choice[5]:
                if not seen[key]:
                    seen[key] = 1
                    used.append(component)
                volumes[key] += row[slot]
        else:
            # Pieces: (fraction where it starts, choice); a stretch that picks what the one
            # before it picked belongs to the same piece.
            unpriced = choice[2]
            pieces = [(_ZERO, choice)]
            span = Decimal(end - begin)
            while next_local < end:
                instant = next_local
                where, next_local = locate(instant, cuts)
                active = table[where] & allowed  # type: ignore[index]
                piece_choice = choices.get(active << 3 | kinds)
                if piece_choice is None:
                    piece_choice = _quick_choice(tariff.session, quick, active, kinds)
                fee = piece_choice[0]
                if flat and fee is not None:
                    seen[fee.key] = 1
                    used.append(fee)
                    volumes[fee.key] = _ONE
                    flat = False
                if piece_choice[1] is not choice[1]:
                    pieces.append(((instant - begin) / span, piece_choice))
                    choice = piece_choice
                unpriced = unpriced or piece_choice[2]
            stretch = table[where]  # type: ignore[index]
            if unpriced:
                return None
            several = len(pieces)
            for index, (fraction, piece) in enumerate(pieces):
                last = index + 1 == several
                for slot, key, component in piece[5]:
                    amount: Decimal = row[slot]
                    if several == 1:
                        part = amount
                    else:
                        upto = amount if last else amount * pieces[index + 1][0]
                        part = upto - amount * fraction if index else upto
                    if not seen[key]:
                        seen[key] = 1
                        used.append(component)
                    volumes[key] += part
        if choice[3] is not None:
            last_energy = choice[3]
        if choice[4] is not None:
            last_time = choice[4]
        energy_before += energy
    if not any_session:
        return None
    if last_energy is not None:
        _step_extra(used, volumes, last_energy, _KWH)
    if last_time is not None:
        _step_extra(used, volumes, last_time, _HOUR)
    replay = partial(
        _replay, tariff, tuple(periods), session_start, session_end, time_zone,
        reservation_expired,
    )  # fmt: skip
    return _pricing(
        tariff, time_zone, start, finish, used, volumes, energy_before if energy_known else None,
        parked, _ZERO, replay, None, (),
    )  # fmt: skip


def _round_up(tally: _Tally, last: int, units: Decimal) -> None:
    """Bill the rest of the last step (mod_cdrs "step_size") at the last component's price."""
    if last < 0:
        return
    _, period, _, at, dimension, _, component, _, reservation = tally.lines[last]
    assert component is not None  # only priced lines are marked
    extra = _step_extra(tally.used, tally.volumes, component, units)
    if extra is not None:
        tally.lines.append(
            ("step_size", period, at, at, dimension, extra, component, None, reservation)
        )


def _step_extra(
    used: list[Component], volumes: list[Decimal], component: Component, units: Decimal
) -> Decimal | None:
    """The volume that completes ``component``'s last step, added to its volume (None: none)."""
    step = component.step_size
    if step <= 0:
        return None
    # The billed volume of this dimension: what its components priced so far (before any step).
    billed = _ZERO
    billing = component.billing
    for other in used:
        if other.billing == billing:
            billed += volumes[other.key]
    if billed <= 0:
        return None
    measured = (billed * units).quantize(_RESOLUTION)
    if step == 1:
        # measured / 1 and n * 1 give the same digits and exponent back: two operations saved.
        rounded = measured.to_integral_value(ROUND_CEILING)
    else:
        rounded = (measured / step).to_integral_value(ROUND_CEILING) * step
    if rounded <= measured:
        return None
    extra = (rounded - measured) / units
    volumes[component.key] += extra
    return extra


def _one_rate_prices(
    used: list[Component], volumes: list[Decimal], rate: Decimal, vat: Decimal
) -> tuple[list[Price], Price]:
    """:func:`_group_prices` where every component is taxed at one ``rate`` on top of its price
    (CompiledTariff.one_rate): the same Decimal operations in the same order, with one running
    tax sum per group instead of a table of rates."""
    before: list[Decimal | None] = [None] * 5  # None: no component of that group was used
    after = [_ZERO] * 5
    taxes: list[Decimal] = [_ZERO] * 5
    for component in used:
        amount = volumes[component.key] * component.price
        group = component.group
        tax = amount * rate
        sum_before = before[group]
        if sum_before is None:
            before[group] = _ZERO + amount
            taxes[group] = tax  # the first tax of a group is not added to a zero
        else:
            before[group] = sum_before + amount
            taxes[group] += tax
        after[group] += amount + tax
    prices = [ZERO_PRICE] * 5
    all_before = all_after = all_taxes = _ZERO
    any_group = False
    for group in range(5):
        group_before = before[group]
        if group_before is None:
            continue
        any_group = True
        group_tax = taxes[group]
        all_taxes += group_tax
        group_after = after[group]
        prices[group] = _new(
            Price, (group_before, group_after, (_new(TaxLine, (vat, group_tax, "VAT")),))
        )
        all_before += group_before
        all_after += group_after
    total_taxes = (_new(TaxLine, (vat, all_taxes, "VAT")),) if any_group else ()
    return prices, _new(Price, (all_before, all_after, total_taxes))


def _group_prices(used: list[Component], volumes: list[Decimal]) -> tuple[list[Price], Price]:
    """The price of each CDR total (by :class:`Group`) and of all of them together.

    The sums run in the components' first-use order and each group's taxes in the order their
    rates were first met: exact Decimal sums may round past 28 digits, so the order is part of
    the result.
    """
    before: list[Decimal | None] = [None] * 5  # None: no component of that group was used
    after = [_ZERO] * 5
    taxes: list[dict[Decimal, Decimal] | None] = [None] * 5  # per group: vat % -> tax amount
    for component in used:
        amount = volumes[component.key] * component.price
        group = component.group
        sum_before = before[group]
        if sum_before is None:
            sum_before = _ZERO
        rate = component.tax_rate
        if rate is None:
            # No tax applies, or (tax included, rate unknown) the split cannot be known.
            before[group] = sum_before + amount
            after[group] += amount
            continue
        if component.tax_inside:
            net = amount / (_ONE + rate)
            tax = amount - net
            before[group] = sum_before + net
            after[group] += amount
        else:
            tax = amount * rate
            before[group] = sum_before + amount
            after[group] += amount + tax
        vat = component.vat or _ZERO  # vat is set whenever tax_rate is
        rates = taxes[group]
        if rates is None:
            taxes[group] = {vat: tax}
        else:
            rates[vat] = rates.get(vat, _ZERO) + tax
    # Price and TaxLine are NamedTuples; tuple.__new__ builds the same objects without going
    # through their Python-level __new__, which matters at this rate.
    prices = [ZERO_PRICE] * 5
    all_before = all_after = _ZERO
    all_taxes: dict[Decimal, Decimal] = {}
    for group in range(5):
        group_before = before[group]
        if group_before is None:
            continue
        rates = taxes[group]
        if rates is None:
            lines: tuple[TaxLine, ...] = ()
        else:
            found: list[TaxLine] = []
            for rate, amount in rates.items():
                found.append(_new(TaxLine, (rate, amount, "VAT")))
                all_taxes[rate] = all_taxes.get(rate, _ZERO) + amount
            lines = tuple(found)
        group_after = after[group]
        prices[group] = _new(Price, (group_before, group_after, lines))
        all_before += group_before
        all_after += group_after
    total_taxes = tuple(
        [_new(TaxLine, (rate, amount, "VAT")) for rate, amount in all_taxes.items()]
    )
    return prices, _new(Price, (all_before, all_after, total_taxes))


def _limited(total: Price, tariff: CompiledTariff) -> tuple[Price, str | None]:
    """``min_price`` and ``max_price``: before and after taxes limited each on its own."""
    source = tariff.tariff
    limits: tuple[tuple[str, TaxAmount | None, int], ...] = (
        ("min_price", source.min_price, 1),
        ("max_price", source.max_price, -1),
    )
    for name, limit, sign in limits:
        if limit is None:
            continue
        before, after = total.before_taxes, total.after_taxes
        new_before = max(before, limit.excl_vat) if sign > 0 else min(before, limit.excl_vat)
        if limit.incl_vat is not None:
            bound = limit.incl_vat
            new_after = max(after, bound) if sign > 0 else min(after, bound)
        elif new_before == before:
            new_after = after
        elif before:
            new_after = after * new_before / before  # taxes follow the price (docs/pricing.md)
        else:
            new_after = new_before
        if new_before == before and new_after == after:
            continue
        tax_was = after - before
        tax_now = new_after - new_before
        if total.taxes and tax_was:
            taxes = tuple(
                TaxLine(t.percentage, t.amount * tax_now / tax_was, t.name) for t in total.taxes
            )
        elif tax_now:
            taxes = (TaxLine(None, tax_now),)
        else:
            taxes = ()
        return Price(new_before, new_after, taxes), name
    return total, None


def price_periods(
    tariff: CompiledTariff,
    periods: Sequence[PeriodRow],
    *,
    session_start: int | None = None,
    session_end: int | None = None,
    time_zone: str = "UTC",
    reservation_expired: bool | None = None,
    fast: bool = True,
) -> CdrPricing:
    """Price a session's periods (times in UTC seconds since the epoch) with one tariff.

    ``session_start`` defaults to the first period's start, ``session_end`` to the last period's
    own end (or its start). ``reservation_expired`` None means: expired when no period carries a
    session dimension (only RESERVATION_TIME). ``fast`` False takes the general loop even where
    the fast path applies (the same exact results; the tests compare the two).

    ``periods`` are :class:`Period` records or the same fields as plain tuples
    (:data:`~intercarga.billing.periods.PeriodRow`, what :func:`price_session` makes): the fast
    path reads them by position, and only the general loop makes Periods of plain tuples.
    """
    quick = tariff.session.quick
    if fast and quick is not None and periods:
        pricing = _price_quick(
            tariff, quick, periods, session_start, session_end, time_zone, reservation_expired
        )
        if pricing is not None:
            return pricing
    return _price_general(
        tariff,
        [p if type(p) is Period else _new(Period, p) for p in periods],
        session_start,
        session_end,
        time_zone,
        reservation_expired,
    )


def _price_general(
    tariff: CompiledTariff,
    periods: Sequence[Period],
    session_start: int | None,
    session_end: int | None,
    time_zone: str,
    reservation_expired: bool | None,
) -> CdrPricing:
    """:func:`price_periods` by the general loop, which records the breakdown as it goes."""
    clock = zone_clock(time_zone)
    count = len(periods)
    start = session_start
    if start is None:
        start = periods[0].start if count else 0
    ends: list[int] = []
    energy_known = any_session = any_reserved = False
    for number, period in enumerate(periods):
        end = period.end
        if end is None:
            if number + 1 < count:
                end = periods[number + 1].start
            elif session_end is not None:
                end = session_end
            else:
                end = period.start
        if end < period.start or period.start < start:
            raise InvalidInputError(
                "a charging period starts before the session, after the next period or after"
                " the session's end",
                f"charging_periods[{number}].start_date_time",
            )
        ends.append(end)
        energy_known = energy_known or period.has_energy
        any_session = any_session or period.session
        any_reserved = any_reserved or period.reserved
    finish = session_end if session_end is not None else (ends[-1] if ends else start)
    if tariff.local:
        clock.cover(start, max(finish, ends[-1]) if ends else finish)
    tally = _Tally(len(tariff.components))
    channel: Channel | None = None
    if any_session:
        # The session channel walks every period: it leaves the energy and parking totals.
        _run(tariff.session, periods, ends, start, clock, tally, reservation=False)
    else:
        tally.energy = sum((period.energy for period in periods), _ZERO)
        tally.parking = sum((period.parking for period in periods), _ZERO)
    total_reserved = _ZERO
    if any_reserved:
        total_reserved = sum((period.reservation for period in periods), _ZERO)
        expired = not any_session if reservation_expired is None else reservation_expired
        channel = tariff.reservation_expired if expired else tariff.reservation
        _run(channel, periods, ends, start, clock, tally, reservation=True)
    _round_up(tally, tally.last_energy, _KWH)
    _round_up(tally, tally.last_time, _HOUR)
    _round_up(tally, tally.last_reserved, _HOUR)
    return _pricing(
        tariff, time_zone, start, finish, tally.used, tally.volumes,
        tally.energy if energy_known else None, tally.parking, total_reserved, tally.lines,
        channel, tally.lines if tally.unpriced else (),
    )  # fmt: skip


def _pricing(
    tariff: CompiledTariff,
    time_zone: str,
    start: int,
    finish: int,
    used: list[Component],
    volumes: list[Decimal],
    total_energy: Decimal | None,
    total_parking: Decimal,
    total_reserved: Decimal,
    raw: list[RawLine] | Callable[[], list[RawLine]],
    channel: Channel | None,
    lines: Sequence[RawLine],
) -> CdrPricing:
    """The CDR totals of a finished pricing: volumes by component key, ``used`` in first-use
    order; ``lines`` are the lines to look for unpriced ones in (empty: none is unpriced)."""
    one_rate = tariff.one_rate
    if one_rate is None:
        prices, total = _group_prices(used, volumes)
    else:
        prices, total = _one_rate_prices(used, volumes, *one_rate)
    limited, limit = _limited(total, tariff) if tariff.limited else (total, None)
    fixed, energy, time, parking, reserved = prices
    # Positional, in CdrPricing's parameter order: this runs once per pricing.
    return CdrPricing(
        tariff,
        time_zone,
        start,
        finish,
        limited,
        total,
        limit,
        fixed,
        energy,
        time,
        parking,
        reserved,
        total_energy,
        Decimal(finish - start) / _HOUR,
        total_parking,
        total_reserved,
        raw,
        _warnings(tariff, lines, start) if lines or tariff.cautions else (),
        channel,
    )


def _replay(
    tariff: CompiledTariff,
    periods: Sequence[PeriodRow],
    session_start: int | None,
    session_end: int | None,
    time_zone: str,
    reservation_expired: bool | None,
) -> list[RawLine]:
    """The breakdown of a pricing the fast path made: the general loop on the same input."""
    pricing = price_periods(
        tariff,
        periods,
        session_start=session_start,
        session_end=session_end,
        time_zone=time_zone,
        reservation_expired=reservation_expired,
        fast=False,
    )
    return pricing.raw_lines


def _short(value: Decimal) -> str:
    """A volume to 4 decimals for a message."""
    return f"{value.quantize(Decimal('0.0001')).normalize():f}"


def _warnings(tariff: CompiledTariff, lines: Sequence[RawLine], start: int) -> tuple[str, ...]:
    found: list[str] = []
    for line in lines:
        if line[0] == "unpriced":
            unit = "kWh" if line[4] == "ENERGY" else "h"
            found.append(
                f"charging period {line[1]}: no element prices {line[4]} from"
                f" {datetime.fromtimestamp(line[2], UTC):%Y-%m-%dT%H:%M:%SZ}; {_short(line[5])}"
                f" {unit} of it is free"
            )
    source = tariff.tariff
    valid_from, valid_to = source.start_date_time, source.end_date_time
    if valid_from is not None and start < valid_from.timestamp():
        found.append(
            f"the session starts before the tariff is valid ({valid_from:%Y-%m-%dT%H:%M:%SZ})"
        )
    if valid_to is not None and start >= valid_to.timestamp():
        found.append(f"the session starts after the tariff ended ({valid_to:%Y-%m-%dT%H:%M:%SZ})")
    if tariff.tax_included is TaxIncluded.YES and any(
        component.vat is None for component in tariff.components
    ):
        found.append("prices include taxes at an unknown rate: before_taxes equals the price")
    return tuple(found)
