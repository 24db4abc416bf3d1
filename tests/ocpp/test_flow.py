"""The core end to end, without sockets: a station's frames in, the CSMS's frames out.

A tiny CSMS built only from the public surface (Protocol, Validator, adapter, transaction state
machine) runs boot → authorize → start → meter values → stop and a remote start for 1.6, 2.0.1
and 2.1, the way the server composes them.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from intercarga.domain.station import OcppVersion
from intercarga.ocpp import (
    CallError,
    CallReceived,
    CallResultReceived,
    Effect,
    Protocol,
    TransactionRecord,
    Validator,
    adapter_for,
    advance,
)
from intercarga.ocpp.commands import RemoteStart, RemoteStartResult
from intercarga.ocpp.events import (
    AuthorizationRequested,
    AuthorizationResult,
    AuthorizationStatus,
    BootDecision,
    BootStatus,
    Heartbeat,
    HeartbeatDecision,
    IdToken,
    StationBooted,
    StationEvent,
    TransactionDecision,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from tests.ocpp.examples import V16, V21, V201

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ACCEPTED = AuthorizationResult(AuthorizationStatus.ACCEPTED)


class TinyCsms:
    """Decides like a permissive CSMS and keeps transaction records in a dict."""

    def __init__(self, version: OcppVersion) -> None:
        counter = itertools.count(1)
        self.protocol = Protocol(
            version, validator=Validator(version), id_factory=lambda: f"csms-{next(counter)}"
        )
        self.adapter = adapter_for(version)
        self.transactions: dict[str, TransactionRecord] = {}
        self.effects: list[Effect] = []
        self.next_transaction_id = 1042
        self.results: list[dict[str, Any]] = []

    def decide(self, fact: StationEvent) -> Any:
        match fact:
            case StationBooted():
                return BootDecision(BootStatus.ACCEPTED, 300, NOW)
            case Heartbeat():
                return HeartbeatDecision(NOW)
            case AuthorizationRequested():
                return ACCEPTED
            case TransactionStarted(transaction_id=None):
                # The station (1.6) wants the CSMS to name the transaction.
                named = replace(fact, transaction_id=str(self.next_transaction_id))
                self.next_transaction_id += 1
                self.track(named)
                return TransactionDecision(ACCEPTED, transaction_id=named.transaction_id)
            case TransactionStarted() | TransactionUpdated() | TransactionEnded():
                self.track(fact)
                return TransactionDecision(ACCEPTED if fact.id_token is not None else None)
        return None

    def track(self, fact: TransactionStarted | TransactionUpdated | TransactionEnded) -> None:
        assert fact.transaction_id is not None
        record = self.transactions.get(fact.transaction_id, TransactionRecord(fact.transaction_id))
        self.transactions[fact.transaction_id], step = advance(record, fact)
        self.effects.append(step.effect)

    def receive(self, text: str) -> list[list[Any]]:
        for event in self.protocol.receive_text(text):
            if isinstance(event, CallReceived):
                try:
                    fact = self.adapter.event(event.action, event.payload)
                    answer = self.adapter.response(fact, self.decide(fact))
                    self.protocol.send_result(event.unique_id, answer)
                except CallError as error:
                    self.protocol.send_error(event.unique_id, error)
            elif isinstance(event, CallResultReceived):
                self.results.append(event.payload)
        return [json.loads(frame) for frame in self.protocol.data_to_send()]


def call(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return json.dumps([2, unique_id, action, payload])


def test_v16_station_session() -> None:
    csms = TinyCsms(OcppVersion.V16)
    [[kind, _, boot]] = csms.receive(call("1", "BootNotification", V16["BootNotification"]))
    assert kind == 3 and boot["status"] == "Accepted"
    [[_, _, auth]] = csms.receive(call("2", "Authorize", V16["Authorize"]))
    assert auth == {"idTagInfo": {"status": "Accepted"}}
    [[_, _, start]] = csms.receive(call("3", "StartTransaction", V16["StartTransaction"]))
    assert start == {"transactionId": 1042, "idTagInfo": {"status": "Accepted"}}
    assert csms.receive(call("4", "MeterValues", V16["MeterValues"])) == [[3, "4", {}]]
    [[_, _, stop]] = csms.receive(call("5", "StopTransaction", V16["StopTransaction"]))
    assert stop == {"idTagInfo": {"status": "Accepted"}}
    # The stop is resent because its answer was lost: same answer, nothing recorded twice.
    assert csms.receive(call("5", "StopTransaction", V16["StopTransaction"])) == [[3, "5", stop]]
    assert csms.effects == [Effect.OPEN, Effect.RECORD, Effect.CLOSE]
    assert csms.transactions["1042"].complete

    unique_id = csms.protocol.send_call(
        *_only(csms.adapter.command(RemoteStart(IdToken("04A2B3C4D5E680"), evse=1)))
    )
    [[_, sent_id, action, payload]] = [json.loads(f) for f in csms.protocol.data_to_send()]
    assert (sent_id, action, payload) == (
        unique_id,
        "RemoteStartTransaction",
        {"connectorId": 1, "idTag": "04A2B3C4D5E680"},
    )
    csms.receive(json.dumps([3, unique_id, {"status": "Accepted"}]))
    assert csms.adapter.result(RemoteStart(IdToken("x")), csms.results) == RemoteStartResult(
        "Accepted"
    )


@pytest.mark.parametrize(
    ("version", "examples"), [(OcppVersion.V201, V201), (OcppVersion.V21, V21)]
)
def test_v2_station_session(version: OcppVersion, examples: dict[str, dict[str, Any]]) -> None:
    csms = TinyCsms(version)
    [[_, _, boot]] = csms.receive(call("b", "BootNotification", examples["BootNotification"]))
    assert boot["status"] == "Accepted" and boot["interval"] == 300
    [[_, _, auth]] = csms.receive(call("a", "Authorize", examples["Authorize"]))
    assert auth == {"idTokenInfo": {"status": "Accepted"}}
    for unique_id, name in (
        ("s", "TransactionEventStarted"),
        ("u", "TransactionEventUpdated"),
        ("e", "TransactionEventEnded"),
    ):
        [[kind, answered_id, _]] = csms.receive(call(unique_id, "TransactionEvent", examples[name]))
        assert (kind, answered_id) == (3, unique_id)
    record = csms.transactions["f3c1d2e4-7a1b-4c2d-9e8f-000000001042"]
    assert csms.effects == [Effect.OPEN, Effect.RECORD, Effect.CLOSE]
    assert record.complete and record.offline
    # An unknown action is NotImplemented; the station can go on.
    [[kind, _, code, _, _]] = csms.receive(call("x", "MakeCoffee", {}))
    assert (kind, code) == (4, "NotImplemented")
    [[_, _, reply]] = csms.receive(call("n", "NotifyEvent", examples["NotifyEvent"]))
    assert reply == {}


def _only(calls: Any) -> tuple[str, dict[str, Any]]:
    [outgoing] = calls
    return outgoing.action, outgoing.payload
