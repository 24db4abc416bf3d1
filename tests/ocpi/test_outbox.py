"""The push outbox between two deployments: what a partner receives, in which order, and when."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga import domain
from intercarga.domain.events import CdrCreated, EvseStatusChanged, SessionChanged
from intercarga.domain.partner import Partner
from intercarga.ocpi import mapping
from intercarga.ocpi.client import OcpiClient, PartnerRejectedError, PartnerUnreachableError
from intercarga.ocpi.models import parse, v221
from intercarga.ocpi.outbox import Failure, Outbox, Request, RetryPolicy, classify, together
from intercarga.sim.example import example_network
from intercarga.store.partners import PartnerRepository
from intercarga.store.roaming import FAILED, PENDING, SENT, OutboxEntry, OutboxRepository
from tests import factories
from tests.ocpi.conftest import Deployment, Hosts, Network, connect, party, until

EXAMPLES = Path(__file__).parent.parent / "data" / "ocpi-examples"
AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


async def _pair(
    network: tuple[Network, Hosts], version: str = "2.2.1"
) -> tuple[Deployment, Deployment]:
    make, _hosts = network
    cpo = await make("cpo", [party("CO", "CPO", "CPO", "Carga CPO")])
    emsp = await make("emsp", [party("CO", "EMS", "EMSP", "Movilidad eMSP")])
    await connect(cpo, emsp, version)
    # What these tests store at the CPO is pushed by the events they publish, not by the watcher
    # of operators' edits (tested in test_roles).
    await cpo.roaming.watcher.stop()
    return cpo, emsp


def _location(location_id: str = "LOC1") -> domain.Location:
    return (
        example_network()
        .locations[0]
        .model_copy(update={"country_code": "CO", "party_id": "CPO", "id": location_id})
    )


def _cdr(cdr_id: str = "CDR1") -> domain.Cdr:
    data: dict[str, Any] = json.loads((EXAMPLES / "2.2.1" / "cdr_example.json").read_text())
    data.update(country_code="CO", party_id="CPO", id=cdr_id)
    data["cdr_token"].update(country_code="CO", party_id="EMS")
    return mapping.cdr_to_domain(parse(v221.CDR, data))


async def _partner_id(deployment: Deployment) -> str:
    [partner] = (await deployment.roaming.registrar.partners.list()).items
    return partner.id


async def _status(cpo: Deployment, evse_uid: str, status: domain.EVSEStatus, at: datetime) -> None:
    """What the CSMS does on a StatusNotification: store, then publish."""
    key = ("CO", "CPO", "LOC1")
    assert await cpo.system.store.locations.set_evse_status(key, evse_uid, status, at)
    await cpo.system.bus.publish(EvseStatusChanged(*key, evse_uid, status, at))


async def test_an_evse_status_reaches_the_emsp_and_an_unknown_location_is_put_whole(
    network: tuple[Network, Hosts],
) -> None:
    cpo, emsp = await _pair(network)
    location = _location()
    await cpo.system.store.locations.put(location)
    evse = location.evses[0].uid
    # The eMSP never saw LOC1: its 2003 answer to the PATCH makes the CPO PUT the whole Location.
    await _status(cpo, evse, domain.EVSEStatus.CHARGING, AT)

    async def charging() -> bool:
        found = await emsp.system.store.locations.find("CO", "CPO", "LOC1")
        return found is not None and found.evse(evse).status is domain.EVSEStatus.CHARGING  # type: ignore[union-attr]

    await until(charging)
    await _status(cpo, evse, domain.EVSEStatus.AVAILABLE, AT + timedelta(minutes=1))

    async def available() -> bool:
        found = await emsp.system.store.locations.get("CO", "CPO", "LOC1")
        return found.evse(evse).status is domain.EVSEStatus.AVAILABLE  # type: ignore[union-attr]

    await until(available)
    entries, total = await cpo.roaming.outbox.repository.entries(await _partner_id(cpo))
    assert total == 2 and [e.state for e in entries] == [SENT, SENT]
    assert [e.method for e in entries] == ["PATCH", "PATCH"]


async def test_a_partner_down_for_a_while_gets_everything_in_order_and_one_cdr(
    network: tuple[Network, Hosts],
) -> None:
    _make, hosts = network
    cpo, emsp = await _pair(network)
    location = _location()
    await cpo.system.store.locations.put(location)
    await emsp.system.store.locations.put(location)
    evse = location.evses[0].uid
    partner_id = await _partner_id(cpo)
    hosts.down.add("emsp.test")
    statuses = [domain.EVSEStatus.CHARGING, domain.EVSEStatus.BLOCKED, domain.EVSEStatus.AVAILABLE]
    for minute, status in enumerate(statuses):
        await _status(cpo, evse, status, AT + timedelta(minutes=minute))
    cdr = _cdr()
    await cpo.system.store.cdrs.put(cdr)
    await cpo.system.bus.publish(CdrCreated(cdr))

    async def retried() -> bool:
        shown = (await cpo.admin.get(f"/api/v1/partners/{partner_id}")).json()["outbox"]
        return bool(shown["attempts"] >= 2)

    await until(retried)
    shown = (await cpo.admin.get(f"/api/v1/partners/{partner_id}")).json()["outbox"]
    # Newer statuses of the same EVSE made the older ones stale (all but the one that was on its
    # way out when they came): at most two PATCHes, then the CDR, wait in order.
    assert shown["pending"] in (2, 3) and shown["sent"] == 0
    assert "connection refused" in shown["last_error"]
    listed = (await cpo.admin.get(f"/api/v1/partners/{partner_id}/outbox")).json()
    assert [e["kind"] for e in listed][-2:] == ["evse_status", "cdr"]
    assert {e["state"] for e in listed} == {PENDING}

    hosts.down.discard("emsp.test")

    async def delivered() -> bool:
        return (await cpo.roaming.outbox.repository.backlog(partner_id)).pending == 0

    await until(delivered)
    stored = await emsp.system.store.locations.get("CO", "CPO", "LOC1")
    assert stored.evse(evse).status is domain.EVSEStatus.AVAILABLE  # type: ignore[union-attr]
    assert await emsp.system.store.cdrs.count() == 1
    backlog = await cpo.roaming.outbox.repository.backlog(partner_id)
    assert (backlog.pending, backlog.failed) == (0, 0) and backlog.sent == shown["pending"]


async def test_a_cdr_whose_answer_is_lost_is_sent_again_and_stored_once(
    network: tuple[Network, Hosts],
) -> None:
    cpo, emsp = await _pair(network)
    network[1].lose_answers["emsp.test"] = 2
    cdr = _cdr()
    await cpo.system.store.cdrs.put(cdr)
    await cpo.system.bus.publish(CdrCreated(cdr))
    partner_id = await _partner_id(cpo)

    async def sent() -> bool:
        return (await cpo.roaming.outbox.repository.backlog(partner_id)).sent == 1

    await until(sent)
    [entry], _total = await cpo.roaming.outbox.repository.entries(partner_id)
    assert entry.attempts == 2  # two lost answers, then the third try was answered
    assert await emsp.system.store.cdrs.count() == 1
    assert (await emsp.system.store.cdrs.get("CO", "CPO", "CDR1")).id == "CDR1"


async def test_a_cdr_waiting_for_the_emsp_is_delivered_after_the_emsp_updates_its_credentials(
    network: tuple[Network, Hosts],
) -> None:
    cpo, emsp = await _pair(network)
    partner_id = await _partner_id(cpo)
    # Deliveries paused: the CDR waits in the CPO's outbox while the eMSP rotates its token.
    await cpo.roaming.outbox.stop()
    cdr = _cdr()
    await cpo.system.store.cdrs.put(cdr)
    await cpo.system.bus.publish(CdrCreated(cdr))

    async def waiting() -> bool:
        return (await cpo.roaming.outbox.repository.backlog(partner_id)).pending == 1

    await until(waiting)
    updated = await emsp.admin.put(f"/api/v1/partners/{await _partner_id(emsp)}/credentials")
    assert updated.status_code == 200, updated.text
    assert await waiting()
    await cpo.roaming.outbox.start()

    async def delivered() -> bool:
        return await emsp.system.store.cdrs.find("CO", "CPO", "CDR1") is not None

    await until(delivered)


async def test_the_cpo_restarts_with_a_backlog_and_still_delivers_it(
    network: tuple[Network, Hosts],
) -> None:
    make, hosts = network
    cpo, emsp = await _pair(network)
    hosts.down.add("emsp.test")
    cdr = _cdr()
    await cpo.system.store.cdrs.put(cdr)
    await cpo.system.bus.publish(CdrCreated(cdr))
    partner_id = await _partner_id(cpo)

    async def tried() -> bool:
        return (await cpo.roaming.outbox.repository.backlog(partner_id)).attempts >= 1

    await until(tried)
    cpo = await make.restart(cpo)
    hosts.down.discard("emsp.test")

    async def delivered() -> bool:
        return (await cpo.roaming.outbox.repository.backlog(partner_id)).sent == 1

    await until(delivered)
    assert await emsp.system.store.cdrs.find("CO", "CPO", "CDR1") is not None


async def test_a_refused_push_is_set_aside_and_the_rest_goes_on(
    network: tuple[Network, Hosts],
) -> None:
    cpo, emsp = await _pair(network)
    bad = _cdr("BAD")
    await emsp.system.store.cdrs.put(
        bad.model_copy(update={"total_energy": Decimal(1)})
    )  # other content
    good = _cdr("GOOD")
    for cdr in (bad, good):
        await cpo.system.store.cdrs.put(cdr)
        await cpo.system.bus.publish(CdrCreated(cdr))
    partner_id = await _partner_id(cpo)

    async def settled() -> bool:
        backlog = await cpo.roaming.outbox.repository.backlog(partner_id)
        return backlog.pending == 0

    await until(settled)
    failed, _ = await cpo.roaming.outbox.repository.entries(partner_id, state=FAILED)
    assert [e.object_key for e in failed] == ["cdrs/CO/CPO/BAD"]
    assert failed[0].attempts == 3 and "2001" in (failed[0].last_error or "")
    assert await emsp.system.store.cdrs.find("CO", "CPO", "GOOD") is not None
    # The operator fixes it at the eMSP and asks for another try.
    await emsp.system.store.cdrs.delete("CO", "CPO", "BAD")
    retried = await cpo.admin.post(
        f"/api/v1/partners/{partner_id}/outbox/retry", params={"failed": "true"}
    )
    assert retried.json()["due_now"] == 1

    async def fixed() -> bool:
        return await emsp.system.store.cdrs.find("CO", "CPO", "BAD") is not None

    await until(fixed)


async def test_sessions_go_only_to_the_tokens_emsp_and_local_drivers_stay_home(
    network: tuple[Network, Hosts],
) -> None:
    make, _hosts = network
    cpo = await make(
        "cpo", [party("CO", "CPO", "CPO"), party("CO", "OWN", "EMSP", "the CPO's own eMSP")]
    )
    emsp = await make("emsp", [party("CO", "EMS", "EMSP")])
    other = await make("other", [party("CO", "OTH", "EMSP")])
    await connect(cpo, emsp, "2.2.1")
    await connect(cpo, other, "2.2.1")
    tokens = {
        "ROAMER": domain.Token(
            country_code="CO", party_id="EMS", uid="ROAMER", contract_id="CO-EMS-C1", issuer="EMS"
        ),
        "LOCAL": domain.Token(
            country_code="CO", party_id="OWN", uid="LOCAL", contract_id="CO-OWN-C1", issuer="OWN"
        ),
    }
    for token in tokens.values():
        await cpo.system.store.tokens.put(token)
    for uid in tokens:
        session = domain.Session(
            country_code="CO",
            party_id="CPO",
            id=f"S-{uid}",
            start_date_time=AT,
            token_uid=uid,
            location_id="LOC1",
            evse_uid="E1",
            connector_id="1",
            currency="COP",
            status=domain.SessionStatus.ACTIVE,
        )
        await cpo.system.store.sessions.put(session)
        await cpo.system.bus.publish(SessionChanged(session))

    async def arrived() -> bool:
        return await emsp.system.store.sessions.find("CO", "CPO", "S-ROAMER") is not None

    await until(arrived)
    assert await emsp.system.store.sessions.count() == 1
    assert await other.system.store.sessions.count() == 0
    entries, total = await cpo.roaming.outbox.repository.entries()
    assert total == 1 and entries[0].object_key == "sessions/CO/CPO/S-ROAMER"


def test_failures_are_told_apart_and_backoff_grows_to_its_cap() -> None:
    assert classify(PartnerUnreachableError("refused")) is Failure.TRANSIENT
    assert classify(PartnerRejectedError("x", None, 503)) is Failure.TRANSIENT
    assert classify(PartnerRejectedError("x", None, 401)) is Failure.TRANSIENT
    assert classify(PartnerRejectedError("x", 3001, 200)) is Failure.TRANSIENT
    assert classify(PartnerRejectedError("x", 4001, 200)) is Failure.TRANSIENT
    assert classify(PartnerRejectedError("x", 2001, 200)) is Failure.REFUSED
    assert classify(PartnerRejectedError("x", None, 400)) is Failure.REFUSED
    policy = RetryPolicy(first_delay=2, max_delay=60)
    assert [policy.delay(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]


async def test_a_cdr_stored_but_never_queued_is_queued_at_the_next_start(
    network: tuple[Network, Hosts],
) -> None:
    make, _hosts = network
    cpo, emsp = await _pair(network)
    # The process died between storing the CDR and publishing it: no outbox row.
    now = datetime.now(UTC)
    await cpo.system.store.cdrs.put(_cdr("LOST").model_copy(update={"last_updated": now}))
    local = _cdr("LOCAL").model_copy(update={"last_updated": now})
    local.cdr_token.party_id = "CPO"  # a driver of no partner: stays home
    await cpo.system.store.cdrs.put(local)
    cpo = await make.restart(cpo)

    async def delivered() -> bool:
        return await emsp.system.store.cdrs.find("CO", "CPO", "LOST") is not None

    await until(delivered)
    assert await emsp.system.store.cdrs.count() == 1
    # Queued once: a second start finds its row and queues nothing.
    assert await cpo.roaming.pusher.requeue_missing_cdrs(AT - timedelta(days=400)) == 0


def _row(key: str, *, attempts: int = 0, due: datetime = AT, row_id: int = 0) -> OutboxEntry:
    return OutboxEntry(
        "p1", "locations", "PATCH", "", key, "evse_status", None,
        id=row_id, attempts=attempts, next_attempt_at=due,
    )  # fmt: skip


def test_rows_of_different_objects_go_together_and_one_objects_rows_one_at_a_time() -> None:
    l1, e1, e2 = "locations/CO/CPO/L1", "locations/CO/CPO/L1/E1", "locations/CO/CPO/L1/E2"
    rows = [_row(e1), _row(e2), _row("cdrs/CO/CPO/C1"), _row(e1), _row(e2)]
    assert together(rows, AT) == rows[:3]  # up to the first row about an object in flight
    # A Location and one of its EVSEs are one object to order: the PUT first, then the PATCH.
    assert together([_row(l1), _row(e1)], AT) == [_row(l1)]
    assert together([_row(e1), _row("locations/CO/CPO/L10")], AT) == [
        _row(e1),
        _row("locations/CO/CPO/L10"),
    ]
    # A row that failed before is a probe, alone; a row not yet due stops the run.
    assert together([_row(e1, attempts=2), _row(e2)], AT) == [_row(e1, attempts=2)]
    assert together([_row(e1), _row(e2, attempts=1)], AT) == [_row(e1)]
    later = AT + timedelta(seconds=5)
    assert together([_row(e1), _row(e2, due=later)], AT) == [_row(e1)]


async def test_one_objects_updates_arrive_in_order_while_others_are_in_flight(
    engine: AsyncEngine,
) -> None:
    received: list[tuple[str, int]] = []
    in_flight, most = 0, 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        body = json.loads(request.read())
        in_flight += 1
        most = max(most, in_flight)
        # Objects answered at different speeds: a later object's row may overtake.
        await asyncio.sleep(0.001 * (len(received) % 5))
        received.append((body["key"], body["n"]))
        in_flight -= 1
        return httpx.Response(200, json={"status_code": 1000, "timestamp": AT.isoformat()})

    class Body:
        async def render(self, entry: OutboxEntry, _partner: Partner) -> Request:
            return Request("PATCH", "https://emsp.example/ocpi/l", entry.payload)

        async def fallback(self, *_args: object) -> None:
            return None

    await PartnerRepository(engine).create(factories.partner())
    keys = [f"locations/CO/CPO/L{n % 7}" for n in range(60)]
    rows = OutboxRepository(engine)
    await rows.enqueue(
        [
            OutboxEntry("p1", "locations", "PATCH", "", key, "raw", {"key": key, "n": n})
            for n, key in enumerate(keys)
        ]
    )
    outbox = Outbox(
        rows, PartnerRepository(engine), OcpiClient(httpx.MockTransport(answer)), Body()
    )
    await outbox.start()
    try:
        outbox.wake("p1")

        async def delivered() -> bool:
            return (await rows.backlog("p1")).sent == len(keys)

        await until(delivered)
    finally:
        await outbox.stop()
    assert sorted(n for _key, n in received) == list(range(len(keys)))  # each once
    for key in set(keys):
        assert [n for k, n in received if k == key] == [n for n, k in enumerate(keys) if k == key]
    assert most > 1  # different objects were in flight at the same time


async def test_a_push_whose_answer_was_lost_reaches_the_emsp_once(
    network: tuple[Network, Hosts],
) -> None:
    """The eMSP stores each push and its answer is lost: the CPO asks with a GET of the same URL
    (answered by Intercarga's own receivers), finds the eMSP holds it, and sends nothing again."""
    _make, hosts = network
    cpo, emsp = await _pair(network)
    partner_id = await _partner_id(cpo)
    location = _location()
    await cpo.system.store.locations.put(location)
    hosts.lose_answers_of = frozenset({"PUT", "PATCH"})
    hosts.lose_answers["emsp.test"] = 3
    await cpo.roaming.pusher.location_changed(location)
    evse = location.evses[0].uid
    await _status(cpo, evse, domain.EVSEStatus.CHARGING, AT + timedelta(hours=1))
    token = domain.Token(
        country_code="CO", party_id="EMS", uid="ROAMER", contract_id="CO-EMS-C1", issuer="EMS"
    )
    await cpo.system.store.tokens.put(token)
    session = domain.Session(
        country_code="CO",
        party_id="CPO",
        id="S1",
        start_date_time=AT,
        token_uid="ROAMER",
        location_id="LOC1",
        evse_uid=evse,
        connector_id="1",
        currency="COP",
        status=domain.SessionStatus.ACTIVE,
        last_updated=AT + timedelta(hours=1),
    )
    await cpo.system.store.sessions.put(session)
    await cpo.system.bus.publish(SessionChanged(session))

    async def settled() -> bool:
        return (await cpo.roaming.outbox.repository.backlog(partner_id)).sent == 3

    await until(settled)
    entries, _total = await cpo.roaming.outbox.repository.entries(partner_id)
    assert all(entry.attempts == 1 for entry in entries)  # each answer was lost once
    modules = "/ocpi/emsp/2.2.1/"  # the eMSP's receivers
    pushed = [m for m, p in hosts.delivered if m != "GET" and p.startswith(modules)]
    asked = [p for m, p in hosts.delivered if m == "GET" and p.startswith(modules)]
    assert sorted(pushed) == ["PATCH", "PUT", "PUT"]  # nothing sent twice
    assert sorted(asked) == [  # one GET per push in doubt
        modules + "locations/CO/CPO/LOC1",
        modules + f"locations/CO/CPO/LOC1/{evse}",
        modules + "sessions/CO/CPO/S1",
    ]
    stored = await emsp.system.store.locations.get("CO", "CPO", "LOC1")
    assert stored.evse(evse).status is domain.EVSEStatus.CHARGING  # type: ignore[union-attr]
    assert (await emsp.system.store.sessions.get("CO", "CPO", "S1")).id == "S1"
