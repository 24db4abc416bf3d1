"""A session's next state from its last one and a fact: the same from a summary as from the whole,
and billed as :mod:`intercarga.billing.readings` reads the register; values in, values out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from intercarga.csms.lifecycle import Next, SessionState, Tally, next_state
from intercarga.domain import AuthMethod, MeterValue, Session, SessionStatus
from intercarga.ocpp.events import (
    AuthorizationResult,
    AuthorizationStatus,
    IdToken,
    StopReason,
    TransactionEnded,
    TransactionUpdated,
)
from intercarga.ocpp.transaction import Effect, Expire, TransactionFact

START = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
NOW = START + timedelta(hours=1)
REGISTER = "Energy.Active.Import.Register"


def reading(minutes: int, wh: int, context: str = "Sample.Periodic") -> MeterValue:
    return MeterValue(
        timestamp=START + timedelta(minutes=minutes),
        measurand=REGISTER,
        value=Decimal(wh),
        unit="Wh",
        context=context,
    )


def session(*values: MeterValue) -> Session:
    return Session(
        country_code="CL",
        party_id="ICG",
        id="s-1",
        start_date_time=START,
        location_id="LOC-1",
        evse_uid="EVSE-1",
        connector_id="1",
        station_id="CS-1",
        transaction_id="tx-1",
        currency="CLP",
        status=SessionStatus.ACTIVE,
        auth_method=AuthMethod.WHITELIST,
        meter_values=list(values),
    )


def update(
    *values: MeterValue, id_token: IdToken | None = None, remote_start_id: int | None = None
) -> TransactionUpdated:
    return TransactionUpdated(
        transaction_id="tx-1",
        timestamp=values[-1].timestamp if values else START,
        id_token=id_token,
        remote_start_id=remote_start_id,
        meter_values=values,
    )


def advanced(state: SessionState, fact: TransactionFact, effect: Effect = Effect.RECORD) -> Next:
    following = next_state(state, fact, effect, verdict=None, now=NOW)
    assert following is not None
    return following


HELD = session(reading(0, 1000, "Transaction.Begin"), reading(1, 1100))


def test_a_summary_gives_the_session_the_whole_gives_for_newer_readings() -> None:
    fact = update(reading(2, 1250), reading(3, 1400), id_token=IdToken("TOKEN-1"))
    whole = advanced(SessionState.whole(HELD), fact)
    summary = advanced(SessionState.whole(HELD).summary(), fact)
    assert summary.session.kwh == whole.session.kwh == Decimal("0.4")
    assert summary.session.token_uid == whole.session.token_uid == "TOKEN-1"
    assert summary.added == whole.added == fact.meter_values
    assert summary.session.model_dump(exclude={"meter_values"}) == whole.session.model_dump(
        exclude={"meter_values"}
    )
    assert summary.session.meter_values == []  # the store holds them
    assert len(whole.session.meter_values) == 4
    assert summary.state.tally == whole.state.tally


@pytest.mark.parametrize(
    ("fact", "effect"),
    [
        (update(reading(2, 900)), Effect.RECORD),  # the register goes back: billing flags it
        (update(reading(1, 1100)), Effect.RECORD),  # not newer: it could repeat a stored one
        (update(reading(2, 1300, "Transaction.End")), Effect.RECORD),  # an end reading
        (update(reading(2, 1300), remote_start_id=7), Effect.RECORD),  # how it was authorized
        (
            TransactionEnded(transaction_id="tx-1", timestamp=START, meter_stop=Decimal(1300)),
            Effect.CLOSE,
        ),
    ],
)
def test_a_summary_leaves_to_the_whole_what_it_cannot_tell(
    fact: TransactionFact, effect: Effect
) -> None:
    state = SessionState.whole(HELD).summary()
    assert next_state(state, fact, effect, verdict=None, now=NOW) is None
    whole = next_state(SessionState.whole(HELD), fact, effect, verdict=None, now=NOW)
    assert whole is not None


def test_an_end_closes_with_meter_stop_as_the_end_reading() -> None:
    end = TransactionEnded(
        transaction_id="tx-1",
        timestamp=START + timedelta(minutes=5),
        meter_stop=Decimal(1700),
        stop_reason=StopReason.EV_DISCONNECTED,
        meter_values=(reading(5, 1650, "Transaction.End"),),
    )
    closed = advanced(SessionState.whole(HELD), end, Effect.CLOSE)
    assert closed.closed
    assert closed.session.status is SessionStatus.COMPLETED
    assert closed.session.end_date_time == START + timedelta(minutes=5)
    assert closed.session.stop_reason == StopReason.EV_DISCONNECTED.value
    assert closed.session.kwh == Decimal("0.7")  # meterStop, given last, wins over 1650


def test_a_register_that_goes_back_is_not_billed_and_is_named() -> None:
    following = advanced(SessionState.whole(HELD), update(reading(2, 600), reading(3, 800)))
    assert following.session.kwh == Decimal("0.3")  # 1000→1100 and 600→800; 1100→600 not
    (warning,) = following.session.warnings
    assert "went back from 1100 Wh to 600 Wh" in warning


def test_a_reading_sent_again_is_kept_once() -> None:
    again = advanced(SessionState.whole(HELD), update(reading(1, 1100), reading(2, 1200)))
    assert again.added == (reading(2, 1200),)
    assert len(again.session.meter_values) == 3


def test_an_expired_session_ends_at_its_last_reading() -> None:
    expire = Expire(timestamp=NOW, reason="Timeout")
    closed = advanced(SessionState.whole(HELD), expire, Effect.CLOSE_FORCED)
    assert closed.session.end_date_time == START + timedelta(minutes=1)
    assert closed.session.stop_reason == "Timeout"
    assert closed.session.status is SessionStatus.COMPLETED


def test_a_real_time_authorization_is_kept_from_the_first_answer() -> None:
    verdict = AuthorizationResult(
        AuthorizationStatus.ACCEPTED, real_time=True, authorization_reference="REF-1"
    )
    state = SessionState.whole(HELD).summary()
    first = next_state(state, update(reading(2, 1200)), Effect.RECORD, verdict=verdict, now=NOW)
    assert first is not None
    assert first.session.auth_method is AuthMethod.AUTH_REQUEST
    assert first.session.authorization_reference == "REF-1"
    later = AuthorizationResult(
        AuthorizationStatus.ACCEPTED, real_time=True, authorization_reference="REF-2"
    )
    second = next_state(
        first.state, update(reading(3, 1300)), Effect.RECORD, verdict=later, now=NOW
    )
    assert second is not None
    assert second.session.authorization_reference == "REF-1"


def test_a_tally_extends_as_the_whole_series_counts() -> None:
    tally = Tally.of(HELD.meter_values)
    extended = tally.extended([reading(2, 1300), reading(3, 1350)])
    assert extended == Tally.of([*HELD.meter_values, reading(2, 1300), reading(3, 1350)])
