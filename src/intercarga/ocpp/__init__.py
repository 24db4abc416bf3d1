"""OCPP 1.6J, 2.0.1 and 2.1: the protocol core of the CSMS, without I/O.

The pieces, in the order a frame meets them (docs/ocpp.md tells the whole story):

* :mod:`.rpc` — :class:`Protocol`, one OCPP-J connection: text frames in, events out, calls and
  answers out as frames; one outstanding CALL, timeouts by :meth:`Protocol.tick`.
* :mod:`.schemas` — :class:`Validator`, the OCA JSON schemas compiled by fastjsonschema, with
  violations mapped to OCPP-J error codes (:class:`ErrorCode`, :class:`CallError`).
* :mod:`.v16`, :mod:`.v201`, :mod:`.v21` — version adapters (:func:`adapter_for`) between a
  version's payloads and the version-free :mod:`.events` (what stations report, what the CSMS
  decides) and :mod:`.commands` (what the CSMS asks, what stations answer).
* :mod:`.transaction` — the transaction state machine (:func:`advance`).

Nothing exported here opens a socket, reads a clock or touches storage; ``server`` is the thin
asyncio adapter that does.
"""

from intercarga.ocpp.actions import Role
from intercarga.ocpp.adapter import VersionAdapter, adapter_for
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.rpc import (
    DEFAULT_CALL_TIMEOUT,
    CallCancelled,
    CallErrorReceived,
    CallReceived,
    CallResultErrorReceived,
    CallResultReceived,
    CallTimedOut,
    Event,
    MessageType,
    OutgoingMessageError,
    Protocol,
    ProtocolClosedError,
    ProtocolUsageError,
    ProtocolViolation,
    SendReceived,
)
from intercarga.ocpp.schemas import Validator, preload
from intercarga.ocpp.transaction import (
    Effect,
    Expire,
    IllegalTransitionError,
    Step,
    TransactionRecord,
    TxState,
    advance,
    expire_due,
)

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "CallCancelled",
    "CallError",
    "CallErrorReceived",
    "CallReceived",
    "CallResultErrorReceived",
    "CallResultReceived",
    "CallTimedOut",
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
