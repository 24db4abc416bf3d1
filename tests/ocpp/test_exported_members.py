"""The public surface of ``intercarga.ocpp``: what the server, the simulator and the admin API use.

Changing it is a decision, not an accident: this test lists it.
"""

from __future__ import annotations

import intercarga.ocpp as ocpp
from intercarga.ocpp import commands, events, transaction


def test_package_exports() -> None:
    assert sorted(ocpp.__all__) == [
        "CallCancelled",
        "CallError",
        "CallErrorReceived",
        "CallReceived",
        "CallResultErrorReceived",
        "CallResultReceived",
        "CallTimedOut",
        "DEFAULT_CALL_TIMEOUT",
        "Effect",
        "ErrorCode",
        "Event",
        "Expire",
        "IllegalTransitionError",
        "MessageType",
        "OutgoingMessageError",
        "Protocol",
        "ProtocolClosedError",
        "ProtocolUsageError",
        "ProtocolViolation",
        "Role",
        "SendReceived",
        "Step",
        "TransactionRecord",
        "TxState",
        "Validator",
        "VersionAdapter",
        "adapter_for",
        "advance",
        "expire_due",
        "preload",
    ]
    for name in ocpp.__all__:
        assert hasattr(ocpp, name), name


def test_every_public_name_of_the_vocabulary_modules_is_declared() -> None:
    for module in (events, commands, transaction):
        declared = set(module.__all__)
        for name in declared:
            assert hasattr(module, name), f"{module.__name__}.{name}"
        defined_here = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
        }
        assert defined_here <= declared, defined_here - declared
