"""The in-doubt check: a push that may have reached the partner is asked about before it is sent
again, so the partner receives it once (issue 17)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain._types import utc_now
from intercarga.domain.partner import Partner
from intercarga.ocpi.client import OcpiClient
from intercarga.ocpi.doubt import Answer, Verdict, cdr_url, judge, question
from intercarga.ocpi.outbox import Outbox, Request, RetryPolicy
from intercarga.store.leases import LeaseRepository
from intercarga.store.partners import PartnerRepository
from intercarga.store.roaming import PENDING, SENT, OutboxEntry, OutboxRepository, Settled
from tests import factories
from tests.ocpi.conftest import until

URL = "https://emsp.example/ocpi/emsp/2.2.1/locations/CO/CPO/L1"
EARLY, LATE = "2026-11-24T12:00:00Z", "2026-11-24T12:00:00.5Z"


# -- the verdict (pure) ----------------------------------------------------------------------
def _found(data: Any) -> Answer:
    return Answer(200, 1000, data)


def test_only_what_has_a_url_to_ask_and_a_moment_to_compare_is_asked_about() -> None:
    assert question("PUT", {"id": "L1", "last_updated": EARLY})
    assert question("PATCH", {"status": "CHARGING", "last_updated": EARLY})
    assert question("DELETE", None)
    # A CDR's URL at the eMSP comes only in the answer to its POST: not the URL it went to.
    assert not question("POST", {"id": "CDR1", "last_updated": EARLY})
    assert not question("PUT", {"id": "L1"})  # nothing to compare with


@pytest.mark.parametrize(
    ("method", "pushed", "answer", "verdict"),
    [
        ("PUT", EARLY, _found({"last_updated": EARLY}), Verdict.HOLDS),
        ("PUT", EARLY, _found({"last_updated": LATE}), Verdict.HOLDS),  # something newer
        ("PATCH", LATE, _found({"status": "AVAILABLE", "last_updated": EARLY}), Verdict.LACKS),
        # The same moment: the PATCH is there only if its fields are.
        ("PATCH", EARLY, _found({"id": "L1", "last_updated": EARLY}), Verdict.HOLDS),
        ("PATCH", EARLY, _found({"id": "L2", "last_updated": EARLY}), Verdict.LACKS),
        ("PUT", EARLY, _found({"id": "L1"}), Verdict.LACKS),  # its copy has no moment
        ("PUT", EARLY, Answer(404, 2000), Verdict.LACKS),
        ("PATCH", EARLY, Answer(404, None), Verdict.LACKS),  # a 404 without an OCPI body
        ("PATCH", EARLY, Answer(200, 2003), Verdict.LACKS),  # unknown Location
        ("PUT", EARLY, Answer(405, None), Verdict.UNANSWERABLE),
        ("PUT", EARLY, Answer(200, 2001), Verdict.UNANSWERABLE),
        ("DELETE", None, Answer(404, 2000), Verdict.HOLDS),  # already gone
        ("DELETE", None, _found({"last_updated": EARLY}), Verdict.LACKS),
    ],
)
def test_the_partners_answer_says_whether_it_holds_the_push(
    method: str, pushed: str | None, answer: Answer, verdict: Verdict
) -> None:
    body = None if pushed is None else {"id": "L1", "last_updated": pushed}
    assert judge(method, body, answer) is verdict


CDRS = "https://emsp.example/ocpi/emsp/2.2.1/cdrs"


@pytest.mark.parametrize(
    ("location", "located", "url"),
    [
        (f"{CDRS}/CDR1", "CDR1", f"{CDRS}/CDR2"),
        (f"{CDRS}/CO/CPO/CDR1", "CDR1", f"{CDRS}/CO/CPO/CDR2"),
        (f"{CDRS}/CDR1/", "CDR1", f"{CDRS}/CDR2/"),
        (f"{CDRS}/CDR1?expand=yes", "CDR1", f"{CDRS}/CDR2?expand=yes"),
        (f"{CDRS}/8842", "CDR1", None),  # the eMSP's own id: our CDR's URL is not told
        (f"{CDRS}/CDR1-a", "CDR1", None),  # not a whole segment
        (f"{CDRS}/CDR1/CDR1", "CDR1", None),  # twice: which one is the id?
        (f"{CDRS}/CDR1?id=CDR1", "CDR1", None),
        ("/ocpi/emsp/2.2.1/cdrs/CDR1", "CDR1", None),  # not an absolute URL
        ("", "CDR1", None),
    ],
)
def test_a_cdrs_url_is_named_as_the_emsp_named_the_one_before(
    location: str, located: str, url: str | None
) -> None:
    assert cdr_url(location, located, "CDR2") == url


@pytest.mark.parametrize(
    ("theirs", "verdict"),
    [
        (_found({"id": "CDR2", "country_code": "CO", "party_id": "CPO"}), Verdict.HOLDS),
        (_found({"id": "CDR2"}), Verdict.HOLDS),  # OCPI 2.1.1: no party in a CDR
        (_found({"id": "CDR2", "country_code": "CO", "party_id": "OTH"}), Verdict.UNANSWERABLE),
        (_found({"id": "CDR9", "country_code": "CO", "party_id": "CPO"}), Verdict.UNANSWERABLE),
        (Answer(404, 2000), Verdict.LACKS),
        (Answer(404, None), Verdict.LACKS),
        (Answer(405, None), Verdict.UNANSWERABLE),
    ],
)
def test_the_emsp_holds_a_cdr_only_when_it_answers_with_that_very_cdr(
    theirs: Answer, verdict: Verdict
) -> None:
    body = {"id": "CDR2", "country_code": "CO", "party_id": "CPO", "last_updated": EARLY}
    assert judge("POST", body, theirs) is verdict


# -- the outbox asking a partner --------------------------------------------------------------
class Receiver:
    """A partner's receiver interface: keeps what is PUT or PATCHed per URL and answers GETs
    as the spec says (404 for what it lacks). ``get_answers`` overrides its next GET answers."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.get_answers: list[Callable[[httpx.Request], httpx.Response]] = []
        self.lose_next_answer = False
        self.hang = False
        # Where a CDR POSTed to ``url`` is kept (the Location of its answer): by default at
        # ``{url}/{id}``, as Intercarga's and most eMSPs' CDR receivers do.
        self.name_cdr: Callable[[str, str], str] = lambda url, cdr_id: f"{url}/{cdr_id}"

    def pushes(self) -> list[str]:
        return [method for method, _url in self.requests if method != "GET"]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests.append((request.method, url))
        if request.method == "GET":
            if self.get_answers:
                return self.get_answers.pop(0)(request)
            if url not in self.objects:
                return _envelope(2000, http=404)
            return _envelope(1000, self.objects[url])
        headers = {}
        if request.method == "DELETE":
            self.objects.pop(url, None)
        elif request.method in ("PUT", "PATCH"):
            self.objects[url] = {**self.objects.get(url, {}), **json.loads(request.read())}
        elif request.method == "POST" and url == CDRS:
            cdr = json.loads(request.read())
            headers["Location"] = where = self.name_cdr(url, cdr["id"])
            self.objects[where] = cdr
        if self.hang:
            await asyncio.Event().wait()  # holds the push, never answers
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise httpx.ReadTimeout("answer lost", request=request)
        return _envelope(1000, headers=headers)


def _envelope(
    code: int, data: Any = None, *, http: int = 200, headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {"data": data, "status_code": code, "timestamp": "2026-11-24T12:00:00Z"}
    return httpx.Response(http, json=body, headers=headers)


class AsStored:
    """Renders a row as its payload to its path: the request the row stands for."""

    async def render(self, entry: OutboxEntry, _partner: Partner) -> Request:
        return Request(entry.method, entry.path, entry.payload)

    async def fallback(self, *_args: object) -> None:
        return None


def _row(method: str = "PUT", payload: Any = None, url: str = URL) -> OutboxEntry:
    if payload is None and method != "DELETE":
        payload = {"id": "L1", "name": "Plaza", "last_updated": EARLY}
    return OutboxEntry("p1", "locations", method, url, "locations/CO/CPO/L1", "raw", payload)


def _cdr(cdr_id: str, party_id: str = "CPO") -> OutboxEntry:
    """A CDR row: POSTed to the eMSP's CDRs endpoint (its payload the CDR as stored)."""
    payload = {"country_code": "CO", "party_id": party_id, "id": cdr_id, "last_updated": EARLY}
    return OutboxEntry("p1", "cdrs", "POST", CDRS, f"cdrs/CO/{party_id}/{cdr_id}", "cdr", payload)


async def _outbox(engine: AsyncEngine, receiver: Receiver) -> tuple[Outbox, OutboxRepository]:
    await PartnerRepository(engine).create(factories.partner())
    rows = OutboxRepository(engine)
    client = OcpiClient(httpx.MockTransport(receiver))
    outbox = Outbox(
        rows, PartnerRepository(engine), client, AsStored(), policy=RetryPolicy(first_delay=0)
    )
    return outbox, rows


async def _stored(rows: OutboxRepository, entry: OutboxEntry) -> int:
    """Store ``entry``; its id."""
    await rows.enqueue([entry])
    [stored], _total = await rows.entries("p1")
    return stored.id


async def _sent_by_a_node_that_died(rows: OutboxRepository, entry_id: int) -> None:
    """Another node leased the row, sent it, and was killed before writing it down: its lease
    has run out, the row is still pending."""
    now = utc_now()
    taken = await rows.lease_all(
        [entry_id], now - timedelta(seconds=1), now - timedelta(seconds=61)
    )
    assert taken == {entry_id: 0}


async def _state(rows: OutboxRepository) -> OutboxEntry:
    [entry], _total = await rows.entries("p1")
    return entry


async def test_a_row_whose_sender_died_is_not_sent_again_when_the_partner_holds_it(
    engine: AsyncEngine,
) -> None:
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    entry = _row()
    entry_id = await _stored(rows, entry)
    receiver.objects[URL] = dict(entry.payload)  # the dead node's PUT arrived
    await _sent_by_a_node_that_died(rows, entry_id)

    assert await outbox.deliver_next("p1") is not None
    assert receiver.requests == [("GET", URL)]  # asked, not sent
    stored = await _state(rows)
    assert stored.state == SENT and stored.attempts == 1  # the dead node's attempt, counted
    assert outbox.checked_not_resent == 1
    assert await outbox.deliver_next("p1") is None


@pytest.mark.parametrize(
    "theirs", [None, {"id": "L1", "name": "Old", "last_updated": "2026-11-24T11:00:00Z"}]
)
async def test_a_row_in_doubt_is_sent_once_when_the_partner_lacks_it_or_holds_an_older_copy(
    engine: AsyncEngine, theirs: dict[str, Any] | None
) -> None:
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    entry_id = await _stored(rows, _row())
    if theirs is not None:
        receiver.objects[URL] = theirs
    await _sent_by_a_node_that_died(rows, entry_id)  # … whose PUT never arrived

    await outbox.deliver_next("p1")
    assert receiver.requests == [("GET", URL), ("PUT", URL)]
    assert receiver.objects[URL]["name"] == "Plaza"
    assert (await _state(rows)).state == SENT
    assert outbox.checked_not_resent == 0


async def test_a_lost_answer_without_a_crash_is_asked_about_and_not_sent_again(
    engine: AsyncEngine,
) -> None:
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    await _stored(rows, _row("PATCH", {"status": "CHARGING", "last_updated": LATE}))
    receiver.lose_next_answer = True  # the partner stores the PATCH; its answer is lost

    await outbox.deliver_next("p1")
    assert (await _state(rows)).state == PENDING
    await outbox.deliver_next("p1")
    assert receiver.requests == [("PATCH", URL), ("GET", URL)]
    assert (await _state(rows)).state == SENT


async def test_a_check_that_gets_no_answer_is_retried_and_sends_nothing_meanwhile(
    engine: AsyncEngine,
) -> None:
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    entry = _row()
    entry_id = await _stored(rows, entry)
    receiver.objects[URL] = dict(entry.payload)
    await _sent_by_a_node_that_died(rows, entry_id)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    receiver.get_answers = [down, lambda _request: _envelope(3000, http=503)]
    await outbox.deliver_next("p1")
    await outbox.deliver_next("p1")
    stored = await _state(rows)
    assert stored.state == PENDING and stored.attempts == 3
    assert "in-doubt check" in (stored.last_error or "")
    assert receiver.pushes() == []  # nothing was sent while the partner could not be asked
    await outbox.deliver_next("p1")  # it answers again: it holds the row
    assert receiver.pushes() == [] and (await _state(rows)).state == SENT


async def test_a_partner_that_cannot_answer_the_check_is_sent_the_row_again(
    engine: AsyncEngine,
) -> None:
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    entry_id = await _stored(rows, _row())
    await _sent_by_a_node_that_died(rows, entry_id)
    receiver.get_answers = [lambda _request: httpx.Response(405, text="no GET here")]

    await outbox.deliver_next("p1")
    assert receiver.requests == [("GET", URL), ("PUT", URL)]  # at least once, for this partner
    assert (await _state(rows)).state == SENT


async def test_a_post_in_doubt_cannot_be_asked_about_and_is_sent_again(
    engine: AsyncEngine,
) -> None:
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    cdrs = "https://emsp.example/ocpi/emsp/2.2.1/cdrs"
    entry_id = await _stored(rows, _row("POST", {"id": "CDR1", "last_updated": EARLY}, cdrs))
    await _sent_by_a_node_that_died(rows, entry_id)

    await outbox.deliver_next("p1")
    assert receiver.requests == [("POST", cdrs)]
    assert (await _state(rows)).state == SENT


async def test_a_delete_in_doubt_is_not_sent_again_when_the_object_is_gone(
    engine: AsyncEngine,
) -> None:
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    entry_id = await _stored(rows, _row("DELETE"))
    await _sent_by_a_node_that_died(rows, entry_id)

    await outbox.deliver_next("p1")
    assert receiver.requests == [("GET", URL)]
    assert (await _state(rows)).state == SENT


async def test_a_row_never_tried_is_sent_without_asking(engine: AsyncEngine) -> None:
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    await _stored(rows, _row())
    await outbox.deliver_next("p1")
    assert receiver.requests == [("PUT", URL)]


async def test_a_late_failure_never_undoes_a_row_another_sender_settled(
    engine: AsyncEngine,
) -> None:

    rows = OutboxRepository(engine)
    await PartnerRepository(engine).create(factories.partner())
    entry_id = await _stored(rows, _row())
    now = utc_now()
    await rows.settle(now, [Settled(entry_id, SENT)])
    # A sender whose lease ran out meanwhile writes its failure late: the row stays SENT.
    await rows.settle(now, [Settled(entry_id, PENDING, 1, now, "timeout")])
    assert (await _state(rows)).state == SENT


async def test_a_node_killed_mid_push_leaves_the_row_in_doubt_and_the_next_node_asks(
    engine: AsyncEngine,
) -> None:
    """Two nodes on one database: the one sending the partner's lane dies while its PUT waits
    for an answer (the partner holds it). Once its leases run out the other node takes the lane
    over, finds the row in doubt, asks, and sends nothing again."""
    receiver = Receiver()
    await PartnerRepository(engine).create(factories.partner())
    rows = OutboxRepository(engine)
    policy = RetryPolicy(first_delay=0, lease=2.0, poll=0.05)

    def node(name: str) -> Outbox:
        client = OcpiClient(httpx.MockTransport(receiver))
        return Outbox(
            rows,
            PartnerRepository(engine),
            client,
            AsStored(),
            policy=policy,
            lanes=LeaseRepository(engine),
            node=name,
        )

    first, second = node("a"), node("b")
    await _stored(rows, _row())
    receiver.hang = True
    sending = asyncio.create_task(first.deliver_next("p1"))

    async def held() -> bool:
        return URL in receiver.objects

    await until(held)
    sending.cancel()  # killed: nothing written after the PUT left
    with pytest.raises(asyncio.CancelledError):
        await sending
    receiver.hang = False
    assert await second.deliver_next("p1") == policy.poll  # the dead node's lease still holds

    async def settled() -> bool:
        await second.deliver_next("p1")
        return (await _state(rows)).state == SENT

    await until(settled, seconds=10)
    assert receiver.requests == [("PUT", URL), ("GET", URL)]
    assert second.checked_not_resent == 1


async def test_a_sender_whose_lease_ran_short_sends_nothing_and_leaves_the_next_ones_lease(
    engine: AsyncEngine,
) -> None:
    """A sender stalled past most of its lease (a paused process) must not start a request the
    next sender cannot know of; what it writes late never frees the next sender's lease."""
    receiver = Receiver()
    now = utc_now()
    moments = iter([now])  # the row leased now … then the sender stalls 50 s
    await PartnerRepository(engine).create(factories.partner())
    rows = OutboxRepository(engine)
    outbox = Outbox(
        rows,
        PartnerRepository(engine),
        OcpiClient(httpx.MockTransport(receiver)),
        AsStored(),
        policy=RetryPolicy(first_delay=0, lease=60),
        clock=lambda: next(moments, now + timedelta(seconds=50)),
    )
    await _stored(rows, _row())
    await outbox.deliver_next("p1")
    assert receiver.requests == []
    stored = await _state(rows)
    assert stored.state == PENDING and stored.attempts == 1  # in doubt for whoever goes next
    assert "lease of the row ran short" in (stored.last_error or "")

    # Another sender holds the row now; a late write of the first one leaves that lease alone.
    entry_id = stored.id
    later = utc_now()
    assert await rows.lease_all([entry_id], later + timedelta(seconds=60), later) == {entry_id: 1}
    await rows.settle(later, [Settled(entry_id, PENDING, 2, later, "late")], lease=now)
    assert await rows.lease_all([entry_id], later + timedelta(seconds=60), later) == {}


# -- a CDR POST in doubt ----------------------------------------------------------------------
async def _answered(outbox: Outbox, rows: OutboxRepository, entry: OutboxEntry) -> None:
    """Store ``entry`` and send it: the eMSP answers it (with a Location)."""
    await rows.enqueue([entry])
    await outbox.deliver_next("p1")
    [stored], _total = await rows.entries("p1", object_key=entry.object_key)
    assert stored.state == SENT


async def _cdr_state(rows: OutboxRepository, cdr_id: str) -> OutboxEntry:
    [stored], _total = await rows.entries("p1", object_key=f"cdrs/CO/CPO/{cdr_id}")
    return stored


async def test_a_cdr_whose_answer_was_lost_is_asked_about_where_the_emsp_keeps_cdrs(
    engine: AsyncEngine,
) -> None:
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    await _answered(outbox, rows, _cdr("CDR1"))  # Location: …/cdrs/CDR1
    await rows.enqueue([_cdr("CDR2")])
    receiver.lose_next_answer = True  # the eMSP keeps CDR2; its answer is lost

    await outbox.deliver_next("p1")
    assert (await _cdr_state(rows, "CDR2")).state == PENDING
    await outbox.deliver_next("p1")
    assert receiver.requests == [("POST", CDRS), ("POST", CDRS), ("GET", f"{CDRS}/CDR2")]
    assert (await _cdr_state(rows, "CDR2")).state == SENT
    assert outbox.checked_not_resent == 1
    learned = await rows.cdr_location("p1", "CO", "CPO")
    assert learned is not None and learned.cdr_id == "CDR2"


async def test_a_cdr_in_doubt_the_emsp_lacks_is_sent_once(engine: AsyncEngine) -> None:
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    await _answered(outbox, rows, _cdr("CDR1"))
    await rows.enqueue([_cdr("CDR2")])
    await _sent_by_a_node_that_died(rows, (await _cdr_state(rows, "CDR2")).id)  # never arrived

    await outbox.deliver_next("p1")
    assert receiver.requests[1:] == [("GET", f"{CDRS}/CDR2"), ("POST", CDRS)]
    assert receiver.objects[f"{CDRS}/CDR2"]["id"] == "CDR2"
    assert (await _cdr_state(rows, "CDR2")).state == SENT
    assert outbox.checked_not_resent == 0


async def test_a_cdr_in_doubt_before_any_answer_of_the_emsp_is_sent_again(
    engine: AsyncEngine,
) -> None:
    """Nothing tells where the eMSP keeps CDRs yet: the one case left at least once."""
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    await rows.enqueue([_cdr("CDR1")])
    receiver.lose_next_answer = True

    await outbox.deliver_next("p1")
    await outbox.deliver_next("p1")
    assert receiver.requests == [("POST", CDRS), ("POST", CDRS)]
    assert (await _cdr_state(rows, "CDR1")).state == SENT


async def test_a_cdr_in_doubt_at_an_emsp_naming_cdrs_by_its_own_ids_is_sent_again(
    engine: AsyncEngine,
) -> None:
    receiver = Receiver()
    receiver.name_cdr = lambda url, _cdr_id: f"{url}/{len(receiver.objects) + 8842}"
    outbox, rows = await _outbox(engine, receiver)
    await _answered(outbox, rows, _cdr("CDR1"))  # Location: …/cdrs/8842
    await rows.enqueue([_cdr("CDR2")])
    receiver.lose_next_answer = True

    await outbox.deliver_next("p1")
    await outbox.deliver_next("p1")
    assert receiver.requests == [("POST", CDRS)] * 3
    assert (await _cdr_state(rows, "CDR2")).state == SENT


async def test_a_cdr_of_another_cpo_party_is_not_asked_about_at_this_partys_urls(
    engine: AsyncEngine,
) -> None:
    receiver = Receiver()
    outbox, rows = await _outbox(engine, receiver)
    await _answered(outbox, rows, _cdr("CDR1"))
    other = _cdr("CDR2", party_id="OTH")
    await rows.enqueue([other])
    [stored], _total = await rows.entries("p1", object_key=other.object_key)
    await _sent_by_a_node_that_died(rows, stored.id)

    await outbox.deliver_next("p1")
    assert receiver.requests == [("POST", CDRS), ("POST", CDRS)]


async def test_a_node_taking_a_lane_over_asks_about_a_cdr_where_the_dead_node_learned(
    engine: AsyncEngine,
) -> None:
    """Two nodes on one database: the first learns how the eMSP names CDRs, then dies while
    its CDR POST waits for an answer (the eMSP keeps the CDR). The other node takes the lane
    over, asks at the URL the first one's answers taught, and sends nothing again."""
    receiver = Receiver()
    await PartnerRepository(engine).create(factories.partner())
    rows = OutboxRepository(engine)
    policy = RetryPolicy(first_delay=0, lease=2.0, poll=0.05)

    def node(name: str) -> Outbox:
        return Outbox(
            rows,
            PartnerRepository(engine),
            OcpiClient(httpx.MockTransport(receiver)),
            AsStored(),
            policy=policy,
            lanes=LeaseRepository(engine),
            node=name,
        )

    first, second = node("a"), node("b")
    await _answered(first, rows, _cdr("CDR1"))
    await rows.enqueue([_cdr("CDR2")])
    receiver.hang = True
    sending = asyncio.create_task(first.deliver_next("p1"))

    async def held() -> bool:
        return f"{CDRS}/CDR2" in receiver.objects

    await until(held)
    sending.cancel()  # killed: nothing written after the POST left
    with pytest.raises(asyncio.CancelledError):
        await sending
    receiver.hang = False

    async def settled() -> bool:
        await second.deliver_next("p1")
        return (await _cdr_state(rows, "CDR2")).state == SENT

    await until(settled, seconds=10)
    assert receiver.requests == [("POST", CDRS), ("POST", CDRS), ("GET", f"{CDRS}/CDR2")]
    assert second.checked_not_resent == 1
