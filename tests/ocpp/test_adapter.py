"""What all version adapters share: conversions, and robustness against lenient payloads."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.adapter import (
    adapter_for,
    format_time,
    json_number,
    meter_value,
    parse_decimal,
    parse_time,
)
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.schemas import Validator
from tests.ocpp.examples import V16, V21, V201, action_of

EXAMPLES = {OcppVersion.V16: V16, OcppVersion.V201: V201, OcppVersion.V21: V21}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T12:00:00Z", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01t12:00:00z", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01T09:00:00-03:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01T09:00:00-0300", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01T12:00:00.123456789Z", datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2024-03-01T12:00:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),  # no offset: UTC
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected
    assert parse_time(text).tzinfo is UTC


def test_parse_time_refuses_what_is_not_a_time() -> None:
    with pytest.raises(CallError) as caught:
        parse_time("yesterday")
    assert caught.value.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION


def test_format_time() -> None:
    assert (
        format_time(datetime(2024, 3, 1, 9, tzinfo=timezone(timedelta(hours=-3))))
        == "2024-03-01T12:00:00Z"
    )
    assert (
        format_time(datetime(2024, 3, 1, 12, 0, 0, 250000, tzinfo=UTC))
        == "2024-03-01T12:00:00.250Z"
    )
    assert format_time(datetime(2024, 3, 1, 12)) == "2024-03-01T12:00:00Z"


def test_numbers() -> None:
    assert parse_decimal("17.263") == Decimal("17.263")
    assert parse_decimal(0.1) == Decimal("0.1")  # not 0.1000000000000000055…
    assert parse_decimal(7) == Decimal(7)
    for bad in ("n/a", "NaN", "Infinity", True, None, ""):
        assert parse_decimal(bad) is None
    assert json_number(Decimal("16.0")) == 16 and isinstance(json_number(Decimal("16.0")), int)
    assert json_number(Decimal("21.4")) == 21.4


def test_meter_value_defaults_and_units() -> None:
    when = datetime(2024, 3, 1, tzinfo=UTC)
    energy = meter_value(when, Decimal("1.5"), measurand=None, unit=None)
    assert (energy.measurand, energy.unit, energy.value) == (
        "Energy.Active.Import.Register",
        "Wh",
        Decimal("1.5"),
    )
    assert (energy.context, energy.location) == ("Sample.Periodic", "Outlet")
    power = meter_value(
        when, Decimal("7.4"), measurand="Power.Active.Import", unit="W", multiplier=3
    )
    assert (power.value, power.unit) == (Decimal("7400"), "W")
    reactive = meter_value(
        when, Decimal(2), measurand="Energy.Reactive.Import.Register", unit="kvarh"
    )
    assert (reactive.value, reactive.unit) == (Decimal(2000), "varh")


def _string_leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _string_leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _string_leaves(value, (*path, index))
    elif isinstance(node, str):
        yield path


@pytest.mark.parametrize("version", list(OcppVersion))
def test_lenient_payloads_never_crash_an_adapter(version: OcppVersion) -> None:
    """Every string a lenient station may put anywhere gives an event or a typed CallError."""
    validator = Validator(version, lenient=True)
    adapter = adapter_for(version)
    refused = set()
    for name, payload in EXAMPLES[version].items():
        action = action_of(name)
        for path in _string_leaves(payload):
            mutated = copy.deepcopy(payload)
            target = mutated
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = "VendorSpecificValue-" * 3
            try:
                validator.request(action, mutated)
            except CallError:
                continue
            try:
                adapter.event(action, mutated)
            except CallError as error:
                assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
                refused.add(path[-1])
    # Only values without which the fact cannot be placed are refused.
    assert refused <= {"status", "connectorStatus", "eventType"}
