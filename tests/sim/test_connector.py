"""The connector's state table."""

from __future__ import annotations

import pytest

from intercarga.sim.connector import (
    ConnectorEvent,
    ConnectorStatus,
    IllegalTransitionError,
    status_201,
    transition,
)

S, E = ConnectorStatus, ConnectorEvent


def test_a_session_walks_the_usual_path() -> None:
    status = S.AVAILABLE
    path = []
    for event in (E.PLUG_IN, E.AUTHORIZE, E.START, E.EV_FULL, E.EV_RESUME, E.STOP, E.UNPLUG):
        status = transition(status, event)
        path.append(status)
    assert path == [
        S.PREPARING,
        S.PREPARING,
        S.CHARGING,
        S.SUSPENDED_EV,
        S.CHARGING,
        S.FINISHING,
        S.AVAILABLE,
    ]


@pytest.mark.parametrize(
    ("status", "event"),
    [
        (S.AVAILABLE, E.UNPLUG),
        (S.AVAILABLE, E.START),
        (S.CHARGING, E.PLUG_IN),
        (S.UNAVAILABLE, E.START),
    ],
)
def test_impossible_events_are_refused(status: ConnectorStatus, event: ConnectorEvent) -> None:
    with pytest.raises(IllegalTransitionError, match=status.value):
        transition(status, event)


def test_any_status_can_fault() -> None:
    assert {transition(status, E.FAULT) for status in S} == {S.FAULTED}


def test_ocpp_201_sees_occupied_for_every_status_with_a_car() -> None:
    assert status_201(S.AVAILABLE) == "Available"
    assert status_201(S.UNAVAILABLE) == "Unavailable"
    assert {status_201(s) for s in (S.PREPARING, S.CHARGING, S.SUSPENDED_EV, S.FINISHING)} == {
        "Occupied"
    }
