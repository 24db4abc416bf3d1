"""The fast path prices exactly as the general loop, for any tariff and session (hypothesis).

:func:`price_periods` takes a fast path for the session channel when its restrictions are only
clock (time of day, weekday) and current/power ones: it records no breakdown and reads which
elements hold from tables. Every total must be the same Decimal, digit for digit, as the general
loop's, and the breakdown replayed when read must be the general loop's own.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from intercarga.billing import (
    CdrPricing,
    compile_tariff,
    periods_from_charging_periods,
    price_periods,
    price_session,
    read_tariff_terms,
)
from intercarga.billing.compiled import CompiledTariff
from intercarga.billing.periods import epoch_seconds
from tests.billing.test_properties import (
    SETTINGS,
    ZONES,
    Session,
    clock_time,
    components,
    restrictions,
    sessions,
    tariffs,
)

_SLOW_FIELDS = ("min_kwh", "max_kwh", "max_duration")


@st.composite
def fast_tariffs(draw: st.DrawFn) -> CompiledTariff:
    """Tariffs whose session channel mostly qualifies for the fast path (clock and power only),
    sometimes not (an energy or duration restriction), with min/max prices and tax modes."""
    elements = []
    for _ in range(draw(st.integers(1, 4))):
        element: dict[str, Any] = {"price_components": draw(components())}
        if draw(st.booleans()):
            chosen = draw(restrictions())
            if draw(st.integers(0, 4)):
                chosen = {k: v for k, v in chosen.items() if k not in _SLOW_FIELDS}
            if draw(st.booleans()):
                chosen["max_power"] = draw(st.integers(1, 90))
            if chosen:
                element["restrictions"] = chosen
        elements.append(element)
    body: dict[str, Any] = {"currency": draw(st.sampled_from(["CLP", "COP", "EUR"]))}
    body["elements"] = elements
    included = draw(st.sampled_from([None, "YES", "NO", "N/A"]))
    if included:
        body["tax_included"] = included
    before = "before_taxes" if included else "excl_vat"
    if draw(st.booleans()):
        body["min_price"] = {before: draw(st.decimals(0, 500, places=2))}
    return compile_tariff(read_tariff_terms(body))


def _both(tariff: CompiledTariff, session: Session, zone: str) -> tuple[CdrPricing, CdrPricing]:
    start, end, charging_periods = session
    periods = periods_from_charging_periods(charging_periods)
    first, last = epoch_seconds(start), epoch_seconds(end)
    return tuple(  # type: ignore[return-value]
        price_periods(
            tariff, periods, session_start=first, session_end=last, time_zone=zone, fast=fast
        )
        for fast in (True, False)
    )


def _exact(price: Any) -> tuple[Any, ...]:
    """A Price as plain tuples, compared with == on every Decimal (and its exponent)."""
    return (
        str(price.before_taxes),
        str(price.after_taxes),
        tuple((str(t.percentage), str(t.amount), t.name) for t in price.taxes),
    )


@SETTINGS
@given(fast_tariffs(), sessions(), st.sampled_from(ZONES))
def test_the_fast_path_prices_exactly_as_the_general_loop(
    tariff: CompiledTariff, session: Session, zone: str
) -> None:
    fast, general = _both(tariff, session, zone)
    for (name, one), other in zip(fast.costs().items(), general.costs().values(), strict=True):
        assert _exact(one) == _exact(other), name
    assert _exact(fast.cost_before_limits) == _exact(general.cost_before_limits)
    assert fast.limit == general.limit
    assert {k: str(v) for k, v in fast.volumes().items()} == {
        k: str(v) for k, v in general.volumes().items()
    }
    assert fast.warnings == general.warnings
    settled, settled_general = fast.settled(), general.settled()
    assert _exact(settled.total_cost) == _exact(settled_general.total_cost)
    # The breakdown, replayed when read, is the general loop's, line for line.
    assert settled.lines == general.lines
    assert sum((line.cost for line in fast.lines), Decimal(0)) == sum(
        (line.cost for line in general.lines), Decimal(0)
    )


def test_the_fast_path_applies_to_the_benchmark_tariff() -> None:
    """The three-element tariff of bench/bench_pricing.py takes the fast path, and its breakdown
    is still there when read."""
    from bench.bench_pricing import sample_periods, sample_tariff

    tariff = compile_tariff(sample_tariff())
    assert tariff.session.quick is not None
    charging_periods, start, end = sample_periods()
    fast, general = _both(tariff, (start, end, charging_periods), "America/Santiago")
    assert fast.replayed and fast.settled().replayed and not general.replayed
    assert _exact(fast.settled().total_cost) == ("14385", "17119", (("19", "2733", "VAT"),))
    assert fast.lines == general.lines
    assert [line.kind for line in fast.lines].count("charge") == 5


@st.composite
def one_rate_tariffs(draw: st.DrawFn) -> CompiledTariff:
    """Tariffs whose every component is taxed at the same rate, written the same way; a
    time-of-day element and a fallback with the same dimensions, so that a session crossing
    the window's edge sums two components into one total."""
    vat = Decimal(draw(st.sampled_from(["0", "0.0", "5", "19", "19.0", "10.5"])))
    kinds = draw(
        st.lists(
            st.sampled_from(["FLAT", "ENERGY", "TIME", "PARKING_TIME"]), min_size=1, unique=True
        )
    )
    window = {"start_time": draw(clock_time), "end_time": draw(clock_time)}
    elements: list[dict[str, Any]] = [
        {"price_components": draw(components(kinds)), "restrictions": window},
        {"price_components": draw(components(kinds))},
    ]
    if draw(st.booleans()):
        elements.insert(
            1, {"price_components": draw(components()), "restrictions": draw(restrictions())}
        )
    for element in elements:
        for component in element["price_components"]:
            component["vat"] = vat
    body: dict[str, Any] = {"currency": draw(st.sampled_from(["CLP", "COP"]))}
    body["elements"] = elements
    if draw(st.booleans()):
        body["tax_included"] = "NO"
    return compile_tariff(read_tariff_terms(body))


def _totals(pricing: CdrPricing) -> list[Any]:
    settled = pricing.settled()
    return [_exact(price) for price in [*pricing.costs().values(), *settled.costs().values()]]


@SETTINGS
@given(one_rate_tariffs(), sessions(), st.sampled_from(ZONES))
def test_one_tax_rate_totals_are_those_of_the_table_of_rates(
    tariff: CompiledTariff, session: Session, zone: str
) -> None:
    """A tariff with one tax rate sums its taxes without a table of rates (CompiledTariff
    one_rate): the totals are the table's, digit for digit."""
    assert tariff.one_rate is not None
    start, end, charging_periods = session
    one, table = (
        price_session(compiled, charging_periods, start=start, end=end, time_zone=zone)
        for compiled in (tariff, replace(tariff, one_rate=None))
    )
    assert _totals(one) == _totals(table)


@SETTINGS
@given(tariffs(), sessions(), st.sampled_from(ZONES))
def test_domain_periods_price_exactly_as_converted_periods(
    tariff: CompiledTariff, session: Session, zone: str
) -> None:
    """price_session reads domain periods as plain tuples; Periods give the same totals."""
    start, end, charging_periods = session
    domain = price_session(tariff, charging_periods, start=start, end=end, time_zone=zone)
    converted = price_session(
        tariff,
        periods_from_charging_periods(charging_periods),
        start=start,
        end=end,
        time_zone=zone,
    )
    assert _totals(domain) == _totals(converted)
    assert domain.lines == converted.lines
