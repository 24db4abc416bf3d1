"""Properties of the engine that must hold for any tariff and session (hypothesis).

- cost never decreases when a volume grows within one element;
- cutting a charging period in two (volumes split in proportion) never changes the totals;
- settled amounts are the exact ones rounded once; taxes add up; breakdown lines add up;
- a tariff without time restrictions prices the same in every time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intercarga.billing import CdrPricing, compile_tariff, price_session, read_tariff_terms
from intercarga.billing.compiled import CompiledTariff
from intercarga.domain import CdrDimension, CdrDimensionType, ChargingPeriod
from tests.fuzzing import examples

D = Decimal
ZONES = ["UTC", "America/Santiago", "America/Bogota", "America/Sao_Paulo", "America/Mexico_City"]
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
TOLERANCE = D("1e-12")
SETTINGS = settings(
    max_examples=examples(150, 2_000), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

money = st.decimals(min_value=0, max_value=500, places=2)
volume = st.decimals(min_value=0, max_value=40, places=3)
clock_time = st.builds(
    lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 30])
)


@st.composite
def restrictions(draw: st.DrawFn) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    if draw(st.booleans()):
        chosen["start_time"] = draw(clock_time)
    if draw(st.booleans()):
        chosen["end_time"] = draw(clock_time)
    if draw(st.booleans()):
        chosen["day_of_week"] = draw(st.lists(st.sampled_from(DAYS), min_size=1, unique=True))
    if draw(st.booleans()):
        low = draw(st.integers(0, 30))
        chosen["min_kwh"] = low
        if draw(st.booleans()):
            chosen["max_kwh"] = low + draw(st.integers(1, 30))
    if draw(st.booleans()):
        chosen["max_duration"] = draw(st.integers(1, 12)) * 900
    if draw(st.booleans()):
        chosen["min_power"] = draw(st.integers(0, 60))
    return chosen


@st.composite
def components(draw: st.DrawFn, kinds: list[str] | None = None) -> list[dict[str, Any]]:
    kinds = kinds or draw(
        st.lists(
            st.sampled_from(["FLAT", "ENERGY", "TIME", "PARKING_TIME"]), min_size=1, unique=True
        )
    )
    return [
        {
            "type": kind,
            "price": draw(money),
            "vat": draw(st.none() | st.sampled_from([0, 5, 10, 19, 21])),
            "step_size": draw(st.sampled_from([0, 1, 60, 300, 900, 500, 1000])),
        }
        for kind in kinds
    ]


@st.composite
def tariffs(draw: st.DrawFn, restricted: bool = True) -> CompiledTariff:
    count = draw(st.integers(1, 3))
    elements = []
    for _ in range(count):
        element: dict[str, Any] = {"price_components": draw(components())}
        if restricted and draw(st.booleans()):
            element["restrictions"] = draw(restrictions())
        elements.append(element)
    body: dict[str, Any] = {"currency": draw(st.sampled_from(["CLP", "COP", "BRL", "MXN"]))}
    body["elements"] = elements
    included = draw(st.sampled_from([None, "YES", "NO", "N/A"]))
    if included:
        body["tax_included"] = included
    before, after = ("before_taxes", "after_taxes") if included else ("excl_vat", "incl_vat")
    if draw(st.booleans()):
        body["min_price"] = {before: draw(money)}
    if draw(st.booleans()):
        body["max_price"] = {before: draw(money) + 500, after: draw(money) + 600}
    return compile_tariff(read_tariff_terms(body))


Session = tuple[datetime, datetime, list[ChargingPeriod]]


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    # Around the Santiago DST changes of 2025 and ordinary days.
    base = draw(
        st.sampled_from(
            [
                datetime(2025, 4, 5, 20, 0, tzinfo=UTC),
                datetime(2025, 9, 6, 22, 0, tzinfo=UTC),
                datetime(2025, 1, 13, 8, 0, tzinfo=UTC),
                datetime(2025, 6, 21, 15, 0, tzinfo=UTC),
            ]
        )
    )
    start = base + timedelta(minutes=draw(st.integers(0, 24 * 60)))
    periods = []
    at = start
    for _ in range(draw(st.integers(1, 4))):
        minutes = draw(st.integers(1, 300))
        dimensions = [
            CdrDimension(type=CdrDimensionType.ENERGY, volume=draw(volume)),
            CdrDimension(type=CdrDimensionType.TIME, volume=D(minutes) / 60),
        ]
        if draw(st.booleans()):
            dimensions.append(
                CdrDimension(type=CdrDimensionType.PARKING_TIME, volume=draw(volume) / 10)
            )
        power = D(draw(st.integers(1, 80)))
        dimensions += [
            CdrDimension(type=CdrDimensionType.MIN_POWER, volume=power),
            CdrDimension(type=CdrDimensionType.MAX_POWER, volume=power),
        ]
        periods.append(ChargingPeriod(start_date_time=at, dimensions=dimensions))
        at += timedelta(minutes=minutes)
    return start, at, periods


def priced(tariff: CompiledTariff, session: Session, zone: str) -> CdrPricing:
    start, end, periods = session
    return price_session(tariff, periods, start=start, end=end, time_zone=zone)


def close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= TOLERANCE


def same_totals(one: CdrPricing, other: CdrPricing) -> bool:
    return all(
        close(x.before_taxes, y.before_taxes) and close(x.after_taxes, y.after_taxes)
        for x, y in zip(one.costs().values(), other.costs().values(), strict=True)
    )


def split(period: ChargingPeriod, minutes: int, length: int) -> list[ChargingPeriod]:
    """Cut a period after ``minutes`` of its ``length``; volumes in proportion, the rest after."""
    first, second = [], []
    for dimension in period.dimensions:
        kind, amount = dimension.type, dimension.volume
        if kind in (CdrDimensionType.MIN_POWER, CdrDimensionType.MAX_POWER):
            first.append(dimension)
            second.append(dimension)
            continue
        part = amount * minutes / length
        first.append(CdrDimension(type=kind, volume=part))
        second.append(CdrDimension(type=kind, volume=amount - part))
    return [
        ChargingPeriod(start_date_time=period.start_date_time, dimensions=first),
        ChargingPeriod(
            start_date_time=period.start_date_time + timedelta(minutes=minutes), dimensions=second
        ),
    ]


@SETTINGS
@given(tariffs(), sessions(), st.sampled_from(ZONES), st.data())
def test_cutting_a_period_in_two_never_changes_the_totals(
    tariff: CompiledTariff, session: Session, zone: str, data: st.DataObject
) -> None:
    start, end, periods = session
    index = data.draw(st.integers(0, len(periods) - 1))
    period_end = periods[index + 1].start_date_time if index + 1 < len(periods) else end
    length = int((period_end - periods[index].start_date_time).total_seconds() // 60)
    if length < 2:
        return
    minutes = data.draw(st.integers(1, length - 1))
    cut = periods[:index] + split(periods[index], minutes, length) + periods[index + 1 :]
    assert same_totals(priced(tariff, session, zone), priced(tariff, (start, end, cut), zone))


@SETTINGS
@given(
    st.builds(
        lambda c: compile_tariff(read_tariff_terms({"currency": "EUR", "elements": [c]})),
        st.builds(lambda cs: {"price_components": cs}, components()),
    ),
    sessions(),
    # Not PARKING_TIME from nothing: a first minute of parking moves the time step_size from
    # TIME to parking (mod_cdrs), which can lower the bill; test_engine shows that case.
    st.sampled_from(["ENERGY", "TIME"]),
    st.decimals(min_value=0, max_value=10, places=3),
    st.data(),
)
def test_cost_never_decreases_when_a_volume_grows_within_one_element(
    tariff: CompiledTariff, session: Session, kind: str, extra: Decimal, data: st.DataObject
) -> None:
    start, end, periods = session
    index = data.draw(st.integers(0, len(periods) - 1))
    grown = periods[index].model_copy(deep=True)
    dimensions = [d for d in grown.dimensions if d.type != kind]
    current = sum((d.volume for d in grown.dimensions if d.type == kind), D(0))
    dimensions.append(CdrDimension(type=CdrDimensionType(kind), volume=current + extra))
    grown.dimensions = dimensions
    more = (start, end, [*periods[:index], grown, *periods[index + 1 :]])
    before, after = priced(tariff, session, "UTC"), priced(tariff, more, "UTC")
    assert after.total_cost.before_taxes >= before.total_cost.before_taxes
    assert after.total_cost.after_taxes >= before.total_cost.after_taxes


@SETTINGS
@given(tariffs(), sessions(), st.sampled_from(ZONES))
def test_settled_amounts_are_the_exact_ones_rounded_once(
    tariff: CompiledTariff, session: Session, zone: str
) -> None:
    exact = priced(tariff, session, zone)
    settled = exact.settled()
    currency = exact.currency
    for (name, a), b in zip(exact.costs().items(), settled.costs().values(), strict=True):
        assert b.before_taxes == currency.round(a.before_taxes), name
        assert b.after_taxes == currency.round(a.after_taxes), name
        assert b.before_taxes.as_tuple().exponent == -currency.minor_unit


@SETTINGS
@given(tariffs(), sessions(), st.sampled_from(ZONES))
def test_taxes_and_lines_add_up(tariff: CompiledTariff, session: Session, zone: str) -> None:
    pricing = priced(tariff, session, zone)
    for price in (*pricing.costs().values(), pricing.cost_before_limits):
        taxes = sum((tax.amount for tax in price.taxes), D(0))
        assert close(price.after_taxes - price.before_taxes, taxes)
    lines = sum((line.cost for line in pricing.lines), D(0))
    if tariff.tax_included is not None and tariff.tax_included.value == "YES":
        assert close(lines, pricing.cost_before_limits.after_taxes)
    else:
        assert close(lines, pricing.cost_before_limits.before_taxes)
    assert pricing.total_cost.before_taxes >= 0


@SETTINGS
@given(tariffs(restricted=False), sessions(), st.sampled_from(ZONES[1:]))
def test_without_time_restrictions_the_zone_does_not_matter(
    tariff: CompiledTariff, session: Session, zone: str
) -> None:
    assert same_totals(priced(tariff, session, "UTC"), priced(tariff, session, zone))


@SETTINGS
@given(tariffs(), sessions(), st.sampled_from(ZONES))
def test_a_free_copy_of_any_tariff_costs_nothing(
    tariff: CompiledTariff, session: Session, zone: str
) -> None:
    source = tariff.tariff
    free = read_tariff_terms(
        {
            "currency": source.currency,
            "elements": [
                {
                    "price_components": [
                        {**c.model_dump(exclude_none=True), "price": 0} for c in e.price_components
                    ],
                    **({"restrictions": e.restrictions.model_dump(exclude_none=True)}
                       if e.restrictions else {}),
                }
                for e in source.elements
            ],
        }
    )  # fmt: skip
    pricing = priced(compile_tariff(free), session, zone)
    assert pricing.total_cost.before_taxes == 0 == pricing.total_cost.after_taxes
