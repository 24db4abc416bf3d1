"""Per-message cost of OCPP payload validation: the ``ocpp`` library's against ours.

Run: ``.venv/bin/python bench/ocpp_validation.py``. Prints microseconds per message for a 1.6
MeterValues (one meter value, ten samples) and a 2.0.1 TransactionEvent (Updated, ten samples),
validated by ``ocpp.messages`` (jsonschema Draft4Validator, as a CSMS built on that library does)
and by ``intercarga.ocpp.schemas.Validator`` (fastjsonschema), plus our whole receive path
(JSON parse, frame checks, validation, event) through ``intercarga.ocpp.rpc.Protocol``.
It only measures; it asserts nothing.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from functools import partial
from typing import Any

from ocpp.messages import Call, _validate_payload

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.rpc import Protocol
from intercarga.ocpp.schemas import Validator

__all__ = ["main", "measure"]

_MEASURANDS_16 = [
    ("Energy.Active.Import.Register", "Wh", None, "15423"),
    ("Power.Active.Import", "W", None, "7360"),
    ("Current.Import", "A", "L1", "31.9"),
    ("Current.Import", "A", "L2", "32.0"),
    ("Current.Import", "A", "L3", "31.8"),
    ("Voltage", "V", "L1-N", "229.8"),
    ("Voltage", "V", "L2-N", "230.4"),
    ("Voltage", "V", "L3-N", "231.0"),
    ("SoC", "Percent", None, "54"),
    ("Temperature", "Celsius", None, "31.5"),
]

METER_VALUES_16: dict[str, Any] = {
    "connectorId": 1,
    "transactionId": 1042,
    "meterValue": [
        {
            "timestamp": "2024-03-01T12:15:00Z",
            "sampledValue": [
                {
                    "value": value,
                    "context": "Sample.Periodic",
                    "format": "Raw",
                    "measurand": measurand,
                    "location": "Outlet" if measurand != "SoC" else "EV",
                    "unit": unit,
                    **({"phase": phase} if phase else {}),
                }
                for measurand, unit, phase, value in _MEASURANDS_16
            ],
        }
    ],
}

TRANSACTION_EVENT_201: dict[str, Any] = {
    "eventType": "Updated",
    "timestamp": "2024-03-01T12:15:00Z",
    "triggerReason": "MeterValuePeriodic",
    "seqNo": 7,
    "offline": False,
    "transactionInfo": {"transactionId": "f3c1d2e4-0001", "chargingState": "Charging"},
    "evse": {"id": 1, "connectorId": 1},
    "meterValue": [
        {
            "timestamp": "2024-03-01T12:15:00Z",
            "sampledValue": [
                {
                    "value": float(value),
                    "context": "Sample.Periodic",
                    "measurand": measurand.replace("Temperature", "Power.Offered"),
                    "location": "Outlet" if measurand != "SoC" else "EV",
                    "unitOfMeasure": {"unit": unit if measurand != "Temperature" else "W"},
                    **({"phase": phase} if phase else {}),
                }
                for measurand, unit, phase, value in _MEASURANDS_16
            ],
        }
    ],
}


def measure(function: Callable[[], object], repeat: int = 5, number: int = 2000) -> float:
    """Best-of-``repeat`` microseconds per call."""
    function()  # compile and cache first
    return min(timeit.repeat(function, repeat=repeat, number=number)) / number * 1e6


def _receive(version: OcppVersion, action: str, payload: dict[str, Any]) -> Callable[[], object]:
    proto = Protocol(version, validator=Validator(version))
    text = json.dumps([2, "bench-1", action, payload])

    def receive() -> object:
        events = proto.receive_text(text)
        proto._handling.clear()  # drop the unanswered call so the next is new
        return events

    return receive


def main() -> None:
    cases = [
        ("1.6 MeterValues, 10 samples", OcppVersion.V16, "1.6", "MeterValues", METER_VALUES_16),
        (
            "2.0.1 TransactionEvent, 10 samples",
            OcppVersion.V201,
            "2.0.1",
            "TransactionEvent",
            TRANSACTION_EVENT_201,
        ),
    ]
    print(f"{'message':38} {'ocpp lib':>10} {'ours':>10} {'speed-up':>9} {'ours, frame→event':>18}")
    for label, version, lib_version, action, payload in cases:
        call = Call(unique_id="1", action=action, payload=payload)
        lib = measure(partial(_validate_payload, call, lib_version), number=300)
        ours = measure(partial(Validator(version).request, action, payload))
        whole = measure(_receive(version, action, payload))
        print(f"{label:38} {lib:>8.1f}µs {ours:>8.1f}µs {lib / ours:>8.0f}x {whole:>16.1f}µs")


if __name__ == "__main__":
    main()
