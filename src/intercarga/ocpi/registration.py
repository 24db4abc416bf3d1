"""The OCPI credentials registration of one partner, as a state machine written down once.

Theory of operation
===================

Two platforms start roaming by exchanging credentials tokens. One of them, the *receiver*, makes
``CREDENTIALS_TOKEN_A`` and hands it over outside OCPI together with its versions URL
(``intercarga partners invite``). The other, the *sender*
(``intercarga partners register --url … --token TOKEN_A``), fetches the receiver's versions and
version details with TOKEN_A, makes ``CREDENTIALS_TOKEN_B`` and POSTs its credentials (TOKEN_B,
its own versions URL, its roles) to the receiver's ``credentials`` endpoint. While answering that
POST the receiver fetches the sender's versions and details *with TOKEN_B*, makes
``CREDENTIALS_TOKEN_C`` and returns its credentials with TOKEN_C. From then on the sender calls
the receiver with TOKEN_C, the receiver calls the sender with TOKEN_B, and TOKEN_A is dead.

An Intercarga deployment plays either part, so each partner record is seen from *this* side and
goes through these states (``None``: no record):

====================  ===================  =================  ==================================
state                 token they present   token we present   what their token opens
====================  ===================  =================  ==================================
``None``              –                    –                  nothing (401)
INVITED               TOKEN_A              –                  versions, credentials
REGISTERING           TOKEN_B              (TOKEN_A)          versions, credentials
REGISTERED            TOKEN_C or TOKEN_B   TOKEN_B or TOKEN_C every module
UNREGISTERED          – (forgotten)        – (forgotten)      nothing (401)
====================  ===================  =================  ==================================

REGISTERING exists because the receiver calls us back *during* our POST: the record (with
TOKEN_B's hash) must be stored before the POST leaves, or their GET of our versions would be 401.

Every change of state is an :class:`Event`, and :data:`TRANSITIONS` is the whole of the rules:
a pair that is not in the table cannot happen. The spec's method rules live here and only here:
a POST from a partner that is already registered, and a PUT or DELETE from one that is not, are
answered ``405 Method Not Allowed``. Tokens are replaced on every POST and PUT (TOKEN_A is never
valid after the POST), so a leaked invitation cannot be replayed.

This module is pure: no I/O, no clock, no storage. :mod:`intercarga.ocpi.registrar` drives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from intercarga.domain.partner import PartnerState
from intercarga.ocpi.envelope import OcpiError, StatusCode

__all__ = [
    "TRANSITIONS",
    "Event",
    "RegistrationError",
    "can_use",
    "next_state",
]


class Event(StrEnum):
    INVITE = "INVITE"  # we made TOKEN_A for a partner to come
    REGISTER_START = "REGISTER_START"  # we, the sender, stored TOKEN_B and are about to POST
    REGISTER_DONE = "REGISTER_DONE"  # our POST was answered with TOKEN_C
    REGISTER_FAILED = "REGISTER_FAILED"  # our POST failed; the record is dropped
    POST_RECEIVED = "POST_RECEIVED"  # they POSTed with our TOKEN_A; we answered TOKEN_C
    PUT_RECEIVED = "PUT_RECEIVED"  # they sent new credentials or a new version
    PUT_SENT = "PUT_SENT"  # we sent new credentials or a new version
    DELETE_RECEIVED = "DELETE_RECEIVED"  # they unregistered
    DELETE_SENT = "DELETE_SENT"  # we unregistered


S = PartnerState

TRANSITIONS: Final[Mapping[tuple[PartnerState | None, Event], PartnerState | None]] = {
    (None, Event.INVITE): S.INVITED,
    (None, Event.REGISTER_START): S.REGISTERING,
    (S.REGISTERING, Event.REGISTER_DONE): S.REGISTERED,
    (S.REGISTERING, Event.REGISTER_FAILED): None,
    (S.INVITED, Event.POST_RECEIVED): S.REGISTERED,
    (S.REGISTERED, Event.PUT_RECEIVED): S.REGISTERED,
    (S.REGISTERED, Event.PUT_SENT): S.REGISTERED,
    (S.REGISTERED, Event.DELETE_RECEIVED): S.UNREGISTERED,
    (S.REGISTERED, Event.DELETE_SENT): S.UNREGISTERED,
}

# Which events arrive as requests from the partner (and so answer 405 when not allowed).
_RECEIVED = frozenset({Event.POST_RECEIVED, Event.PUT_RECEIVED, Event.DELETE_RECEIVED})

# Modules a partner's token opens, by state (None: every module).
_OPENS: Final[Mapping[PartnerState, frozenset[str] | None]] = {
    S.INVITED: frozenset({"versions", "credentials"}),
    S.REGISTERING: frozenset({"versions", "credentials"}),
    S.REGISTERED: None,
    S.UNREGISTERED: frozenset(),
}


class RegistrationError(OcpiError):
    """An event the state machine does not allow in the partner's current state."""


def next_state(state: PartnerState | None, event: Event) -> PartnerState | None:
    """The state after ``event``; :class:`RegistrationError` (HTTP 405 when received) if illegal."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        pass
    shown = "not registered" if state in (None, S.INVITED, S.REGISTERING) else state.lower()
    if event is Event.POST_RECEIVED and state is S.REGISTERED:
        message = "already registered: use PUT to update the credentials"
    elif event in _RECEIVED:
        message = f"{event.removesuffix('_RECEIVED')} is not allowed: this client is {shown}"
    else:
        message = f"cannot {event.lower().replace('_', ' ')}: the partner is {shown}"
    raise RegistrationError(
        StatusCode.CLIENT_ERROR, message, http_status=405 if event in _RECEIVED else 200
    )


def can_use(state: PartnerState, module: str) -> bool:
    """Whether a partner in ``state`` may call ``module`` (TOKEN_A opens only two)."""
    opens = _OPENS[state]
    return opens is None or module in opens
