"""The registration state machine: its table is the whole of the rules."""

from __future__ import annotations

import pytest

from intercarga.domain.partner import PartnerState as S
from intercarga.ocpi.registration import TRANSITIONS, Event, RegistrationError, can_use, next_state


def test_both_directions_end_registered() -> None:
    assert next_state(next_state(None, Event.INVITE), Event.POST_RECEIVED) is S.REGISTERED
    assert next_state(next_state(None, Event.REGISTER_START), Event.REGISTER_DONE) is S.REGISTERED
    assert next_state(S.REGISTERING, Event.REGISTER_FAILED) is None


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (S.REGISTERED, Event.POST_RECEIVED),
        (S.INVITED, Event.PUT_RECEIVED),
        (S.INVITED, Event.DELETE_RECEIVED),
        (S.REGISTERING, Event.POST_RECEIVED),
        (S.UNREGISTERED, Event.PUT_RECEIVED),
    ],
)
def test_what_the_spec_forbids_is_405(state: S, event: Event) -> None:
    with pytest.raises(RegistrationError) as caught:
        next_state(state, event)
    assert caught.value.http_status == 405


def test_local_mistakes_are_not_http_errors() -> None:
    with pytest.raises(RegistrationError) as caught:
        next_state(S.INVITED, Event.DELETE_SENT)
    assert caught.value.http_status == 200


def test_every_state_is_reachable_and_token_a_opens_two_modules() -> None:
    assert {after for after in TRANSITIONS.values() if after} == set(S)
    assert can_use(S.INVITED, "credentials") and not can_use(S.INVITED, "locations")
    assert can_use(S.REGISTERED, "locations") and not can_use(S.UNREGISTERED, "versions")
