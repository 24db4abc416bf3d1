"""The state machine of one simulated connector, written down once as a table.

Theory of operation: a connector is in one :class:`ConnectorStatus` (OCPP 1.6's vocabulary, the
richest of the three versions; 2.0.1 and 2.1 report a coarser one, see :func:`status_201`). Only
a :class:`ConnectorEvent` moves it, and only along a row of :data:`TRANSITIONS`; anything else
is an :class:`IllegalTransitionError`, so a scenario that unplugs a cable that was never plugged
in fails loudly instead of sending nonsense to the CSMS.

The transaction itself (ids, seqNo, meter) lives in the station; this table decides only what
the connector shows. Typical path: Available →plug_in→ Preparing →start→ Charging
(→ev_full→ SuspendedEV →ev_resume→ Charging) →stop→ Finishing →unplug→ Available. Authorizing
before plugging in also goes to Preparing (OCPP 1.6 section 4.9: "when a user swipes a card").

This module is pure data and one function; it must never send messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from intercarga.errors import InvalidInputError

__all__ = [
    "TRANSITIONS",
    "ConnectorEvent",
    "ConnectorStatus",
    "IllegalTransitionError",
    "status_201",
    "transition",
]


class ConnectorStatus(StrEnum):
    """OCPP 1.6 ChargePointStatus values (section 7.7)."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class ConnectorEvent(StrEnum):
    PLUG_IN = "plug_in"
    AUTHORIZE = "authorize"
    START = "start"
    EV_FULL = "ev_full"
    EV_RESUME = "ev_resume"
    STOP = "stop"
    UNPLUG = "unplug"
    DISABLE = "disable"
    ENABLE = "enable"
    FAULT = "fault"
    CLEAR_FAULT = "clear_fault"


_S = ConnectorStatus
_E = ConnectorEvent

TRANSITIONS: Final[Mapping[tuple[ConnectorStatus, ConnectorEvent], ConnectorStatus]] = {
    (_S.AVAILABLE, _E.PLUG_IN): _S.PREPARING,
    (_S.AVAILABLE, _E.AUTHORIZE): _S.PREPARING,
    (_S.AVAILABLE, _E.DISABLE): _S.UNAVAILABLE,
    (_S.PREPARING, _E.PLUG_IN): _S.PREPARING,
    (_S.PREPARING, _E.AUTHORIZE): _S.PREPARING,
    (_S.PREPARING, _E.START): _S.CHARGING,
    (_S.PREPARING, _E.UNPLUG): _S.AVAILABLE,
    (_S.PREPARING, _E.DISABLE): _S.UNAVAILABLE,
    (_S.CHARGING, _E.EV_FULL): _S.SUSPENDED_EV,
    (_S.CHARGING, _E.STOP): _S.FINISHING,
    (_S.SUSPENDED_EV, _E.EV_RESUME): _S.CHARGING,
    (_S.SUSPENDED_EV, _E.STOP): _S.FINISHING,
    (_S.SUSPENDED_EVSE, _E.EV_RESUME): _S.CHARGING,
    (_S.SUSPENDED_EVSE, _E.STOP): _S.FINISHING,
    (_S.FINISHING, _E.UNPLUG): _S.AVAILABLE,
    (_S.FINISHING, _E.PLUG_IN): _S.FINISHING,
    (_S.FINISHING, _E.DISABLE): _S.UNAVAILABLE,
    (_S.UNAVAILABLE, _E.ENABLE): _S.AVAILABLE,
    (_S.UNAVAILABLE, _E.UNPLUG): _S.UNAVAILABLE,
    (_S.FAULTED, _E.CLEAR_FAULT): _S.AVAILABLE,
    **{(status, _E.FAULT): _S.FAULTED for status in ConnectorStatus},
}
"""(status, event) → the next status; every pair not listed is illegal."""


class IllegalTransitionError(InvalidInputError):
    """The event cannot happen in the connector's present status."""

    def __init__(self, status: ConnectorStatus, event: ConnectorEvent) -> None:
        super().__init__(
            f"cannot {event.value.replace('_', ' ')} a connector that is {status.value}"
        )
        self.status = status
        self.event = event


def transition(status: ConnectorStatus, event: ConnectorEvent) -> ConnectorStatus:
    """The status after ``event``; raises :class:`IllegalTransitionError` if it cannot happen."""
    following = TRANSITIONS.get((status, event))
    if following is None:
        raise IllegalTransitionError(status, event)
    return following


def status_201(status: ConnectorStatus) -> str:
    """The OCPP 2.0.1 / 2.1 ConnectorStatusEnumType value for a 1.6 status."""
    if status in (_S.AVAILABLE, _S.RESERVED, _S.UNAVAILABLE, _S.FAULTED):
        return status.value
    return "Occupied"
