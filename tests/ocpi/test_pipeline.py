"""The lean HTTP/1.1 transport of pushes: answers read from bytes, and requests pipelined to a
real server on a free port that answers as each test says."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from intercarga.ocpi.client import OcpiClient, PartnerRejectedError, PartnerTimeoutError
from intercarga.ocpi.outbox import Failure, classify
from intercarga.ocpi.pipeline import (
    PIPELINED,
    PipelinedTransport,
    ProtocolError,
    ResponseReader,
    request_bytes,
)
from tests import pki

OK = b'{"status_code":1000,"timestamp":"2026-12-07T00:00:00Z"}'


def _answer(status: int = 200, body: bytes = OK, *extra: bytes) -> bytes:
    head = [f"HTTP/1.1 {status} X".encode(), b"Content-Type: application/json", *extra]
    head.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(head) + b"\r\n\r\n" + body


# -- the reader, bytes in ------------------------------------------------------------------------
def test_answers_come_out_in_order_whatever_the_bytes_are_cut_into() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    wire = _answer(200, b"first") + chunked + b"HTTP/1.1 204 No Content\r\n\r\n" + _answer(500)
    for size in (1, 2, 7, len(wire)):
        reader = ResponseReader()
        for method in (b"PATCH", b"GET", b"DELETE", b"PUT"):
            reader.expect(method)
        answers = []
        for start in range(0, len(wire), size):
            answers += reader.feed(wire[start : start + size])
        assert [(a.status, a.body) for a in answers] == [
            (200, b"first"),
            (200, b"Wikipedia"),
            (204, b""),
            (500, OK),
        ]
        assert reader.waiting == 0 and not any(a.closing for a in answers)


def test_head_and_interim_answers_have_no_body_and_close_is_noticed() -> None:
    reader = ResponseReader()
    reader.expect(b"HEAD")
    reader.expect(b"GET")
    wire = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi"
    )
    answers = reader.feed(wire)
    assert [(a.status, a.body, a.closing) for a in answers] == [
        (200, b"", False),
        (200, b"hi", True),
    ]


def test_a_body_up_to_the_end_of_the_connection_and_an_answer_cut_short() -> None:
    reader = ResponseReader()
    reader.expect(b"GET")
    assert reader.feed(b"HTTP/1.0 200 OK\r\n\r\nall of it") == []
    [answer] = reader.feed_eof()
    assert answer.body == b"all of it" and answer.closing
    cut = ResponseReader()
    cut.expect(b"GET")
    cut.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
    with pytest.raises(ProtocolError, match="middle of an answer"):
        cut.feed_eof()


@pytest.mark.parametrize(
    "wire",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\n no colon\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ],
)
def test_what_is_not_http_is_a_protocol_error(wire: bytes) -> None:
    reader = ResponseReader()
    reader.expect(b"GET")
    with pytest.raises(ProtocolError):
        reader.feed(wire)


def test_an_answer_to_no_request_and_a_huge_head_are_refused() -> None:
    with pytest.raises(ProtocolError, match="no request"):
        ResponseReader().feed(_answer())
    reader = ResponseReader(max_head=100)
    reader.expect(b"GET")
    with pytest.raises(ProtocolError, match="too long"):
        reader.feed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 200)


def test_a_request_is_written_with_its_length() -> None:
    wire = request_bytes(b"PATCH", b"/l/1?a=b", [(b"Host", b"partner")], b"{}")
    assert wire == b"PATCH /l/1?a=b HTTP/1.1\r\nHost: partner\r\nContent-Length: 2\r\n\r\n{}"


# -- the transport, over a real connection -------------------------------------------------------
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _request(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    """The next request's target and body (``IncompleteReadError`` at the end)."""
    head = await reader.readuntil(b"\r\n\r\n")
    target = head.split(b" ", 2)[1].decode()
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return target, await reader.readexactly(length)


class Partner:
    """A server on a free port: each connection handled by ``handler``; what it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.received: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def serving(self, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=tls)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        finally:
            server.close()
            for writer in self._writers:
                writer.close()
            tasks = [task for task in self._tasks if task is not asyncio.current_task()]
            if tasks:
                await asyncio.wait(tasks, timeout=5)
            await asyncio.wait_for(server.wait_closed(), timeout=5)


def _push(url: str, path: str, timeout: float = 5.0, **extensions: str) -> httpx.Request:
    return httpx.Request(
        "PATCH",
        url + path,
        json={"status": "AVAILABLE"},
        extensions={
            PIPELINED: True,
            "timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout},
            **extensions,
        },
    )


async def _send(transport: PipelinedTransport, request: httpx.Request) -> httpx.Response:
    response = await transport.handle_async_request(request)
    await response.aread()
    return response


async def test_pipelined_answers_are_matched_to_their_requests_in_order() -> None:
    count = 12

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Every request is read before the first is answered: they were pipelined.
        targets = [(await _request(reader))[0] for _ in range(count)]
        partner.received += targets
        for target in targets:
            writer.write(_answer(200, json.dumps({"status_code": 1000, "data": target}).encode()))
        await writer.drain()
        await reader.read()

    partner = Partner(handler)
    async with partner.serving() as url:
        transport = PipelinedTransport()
        try:
            responses = await asyncio.wait_for(
                asyncio.gather(*(_send(transport, _push(url, f"/e/{i}")) for i in range(count))),
                timeout=10,
            )
        finally:
            await transport.aclose()
    assert [r.json()["data"] for r in responses] == [f"/e/{i}" for i in range(count)]
    assert partner.connections == 1 and len(partner.received) == count


async def test_a_connection_closed_after_k_of_n_answers_fails_the_rest_unsent_again() -> None:
    count, answered = 6, 2

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(count):
            partner.received.append((await _request(reader))[0])
        for _ in range(answered):
            writer.write(_answer())
        await writer.drain()
        writer.transport.abort()  # gone, without a word, after k answers

    partner = Partner(handler)
    async with partner.serving() as url:
        transport = PipelinedTransport()
        try:
            outcomes = await asyncio.wait_for(
                asyncio.gather(
                    *(_send(transport, _push(url, f"/e/{i}")) for i in range(count)),
                    return_exceptions=True,
                ),
                timeout=10,
            )
        finally:
            await transport.aclose()
    assert [o.status_code for o in outcomes[:answered] if isinstance(o, httpx.Response)] == [
        200
    ] * answered
    assert all(isinstance(o, httpx.TransportError) for o in outcomes[answered:])
    # The partner may have processed the unanswered ones: whether to send them again is the
    # outbox's decision, so the transport did not.
    assert sorted(partner.received) == sorted(f"/e/{i}" for i in range(count))


async def test_requests_after_a_connection_close_answer_go_again_on_a_new_connection() -> None:
    count = 5

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = partner.connections == 1
        target, _ = await _request(reader)
        partner.received.append(target)
        if first:  # answers one request and says it closes: the others are not processed
            writer.write(_answer(200, OK, b"Connection: close"))
            await writer.drain()
            return
        writer.write(_answer())
        while True:
            target, _ = await _request(reader)
            partner.received.append(target)
            writer.write(_answer())

    partner = Partner(handler)
    async with partner.serving() as url:
        transport = PipelinedTransport()
        try:
            responses = await asyncio.wait_for(
                asyncio.gather(*(_send(transport, _push(url, f"/e/{i}")) for i in range(count))),
                timeout=10,
            )
        finally:
            await transport.aclose()
    assert [r.status_code for r in responses] == [200] * count
    assert sorted(partner.received) == sorted(f"/e/{i}" for i in range(count))  # each once
    assert partner.connections == 2


async def test_a_slow_partner_is_waited_for_up_to_the_timeout_then_given_up() -> None:
    delays = iter([0.2, 5.0])

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            target, _ = await _request(reader)
            partner.received.append(target)
            await asyncio.sleep(next(delays, 0.0))
            writer.write(_answer())

    partner = Partner(handler)
    async with partner.serving() as url:
        transport = PipelinedTransport()
        try:
            slow = await _send(transport, _push(url, "/slow", timeout=2.0))
            assert slow.status_code == 200
            with pytest.raises(httpx.ReadTimeout):
                await _send(transport, _push(url, "/too-slow", timeout=0.3))
            # The connection was given up; the next push gets a new one.
            again = await _send(transport, _push(url, "/again", timeout=2.0))
        finally:
            await transport.aclose()
    assert again.status_code == 200 and partner.connections == 2


async def test_a_partner_working_through_the_pipeline_is_not_timed_out() -> None:
    # A partner answers pipelined requests one after another: the last of 12 taking 0.1 s
    # each is answered after 1.2 s, past its read timeout (0.5 s) counted from its writing,
    # while the partner was answering all along. Only no answer for 0.5 s is a timeout.
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            target, _ = await _request(reader)
            partner.received.append(target)
            await asyncio.sleep(0.1)
            writer.write(_answer())

    partner = Partner(handler)
    async with partner.serving() as url:
        transport = PipelinedTransport()
        try:
            responses = await asyncio.wait_for(
                asyncio.gather(
                    *(_send(transport, _push(url, f"/e/{i}", timeout=0.5)) for i in range(12))
                ),
                timeout=10,
            )
        finally:
            await transport.aclose()
    assert [r.status_code for r in responses] == [200] * 12
    assert partner.received == [f"/e/{i}" for i in range(12)] and partner.connections == 1


async def test_no_place_on_the_connection_in_time_is_a_pool_timeout() -> None:
    release = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        await asyncio.wait_for(release.wait(), timeout=5)
        writer.write(_answer())
        await reader.read()

    partner = Partner(handler)
    async with partner.serving() as url:
        transport = PipelinedTransport(depth=1)
        try:
            first = asyncio.create_task(_send(transport, _push(url, "/first")))
            await asyncio.sleep(0.1)
            with pytest.raises(httpx.PoolTimeout):
                await _send(transport, _push(url, "/second", timeout=0.2))
            release.set()
            assert (await asyncio.wait_for(first, timeout=5)).status_code == 200
        finally:
            await transport.aclose()


async def test_http_errors_and_ocpi_envelopes_reach_the_client_as_with_httpx() -> None:
    answers = [
        _answer(200, b'{"status_code":2001,"status_message":"bad"}'),
        _answer(404, b"not found"),
        _answer(503, b"<html>busy</html>"),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(OK):x}\r\n".encode()
        + OK
        + b"\r\n0\r\n\r\n",
    ]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            headers = await reader.readuntil(b"\r\n\r\n")
            assert b"Authorization: Token " in headers
            length = int(headers.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            writer.write(answer)
        await reader.read()

    partner = Partner(handler)
    async with partner.serving() as url:
        fallback = httpx.MockTransport(lambda _: httpx.Response(500))
        client = OcpiClient(PipelinedTransport(fallback=fallback), timeout=5)
        try:
            errors = []
            for _ in range(3):
                with pytest.raises(PartnerRejectedError) as caught:
                    await client.call_ok("PATCH", url + "/e", token="t", json={}, pipelined=True)
                errors.append(caught.value)
            reply = await client.call_ok("PATCH", url + "/e", token="t", json={}, pipelined=True)
        finally:
            await client.aclose()
            await fallback.aclose()
    assert [(e.http_status, e.status_code) for e in errors] == [
        (200, 2001),
        (404, None),
        (503, None),
    ]
    assert [classify(e) for e in errors] == [Failure.REFUSED, Failure.REFUSED, Failure.TRANSIENT]
    assert reply.status_code == 1000


async def test_a_partner_not_answering_in_time_is_a_timeout_for_the_outbox() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        await reader.read()  # never answers

    partner = Partner(handler)
    async with partner.serving() as url:
        client = OcpiClient(PipelinedTransport(), timeout=0.3)
        try:
            with pytest.raises(PartnerTimeoutError) as caught:
                await client.call_ok("PATCH", url + "/e", token="t", json={}, pipelined=True)
        finally:
            await client.aclose()
    assert classify(caught.value) is Failure.TRANSIENT


async def test_calls_that_are_not_pushes_go_through_the_fallback() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"status_code": 1000, "data": []})

    client = OcpiClient(PipelinedTransport(fallback=httpx.MockTransport(answer)), timeout=5)
    try:
        reply = await client.call_ok("GET", "http://partner.test/versions", token="t")
    finally:
        await client.aclose()
    assert reply.data == [] and seen == ["/versions"]


async def test_a_partner_that_cannot_be_reached_is_a_connect_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    transport = PipelinedTransport()
    try:
        with pytest.raises(httpx.ConnectError):
            await _send(transport, _push(f"http://127.0.0.1:{port}", "/e"))
    finally:
        await transport.aclose()


async def test_pushes_to_an_https_partner_are_pipelined_over_tls_to_its_checked_name(
    tmp_path: Path,
) -> None:
    ca_key, server_key = pki.new_key(), pki.new_key()
    ca = pki.certificate("Test CA", ca_key, None, ca=True)
    server = pki.certificate("localhost", server_key, (ca.subject, ca_key), ca=False)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(pki.write_pem(tmp_path / "server.pem", server, server_key))
    trusted = ssl.create_default_context(cafile=pki.write_pem(tmp_path / "ca.pem", ca))

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            target, _ = await _request(reader)
            partner.received.append(target)
            writer.write(_answer())

    partner = Partner(handler)
    async with partner.serving(served) as url:
        transport = PipelinedTransport(ssl_context=trusted)
        try:
            # As the request-forgery guard sends it: to the checked address, the name for TLS.
            responses = await asyncio.wait_for(
                asyncio.gather(
                    *(
                        _send(transport, _push(url, f"/e/{i}", sni_hostname="localhost"))
                        for i in range(4)
                    )
                ),
                timeout=10,
            )
            with pytest.raises(httpx.ConnectError, match="certificate"):
                await _send(transport, _push(url, "/e", sni_hostname="partner.example"))
        finally:
            await transport.aclose()
    assert [r.status_code for r in responses] == [200] * 4
    assert len(partner.received) == 4


async def test_a_partner_that_closes_after_every_answer_still_gets_each_push_once() -> None:
    count = 5

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target, _ = await _request(reader)
        partner.received.append(target)
        writer.write(_answer(200, OK, b"Connection: close"))
        await writer.drain()

    partner = Partner(handler)
    async with partner.serving() as url:
        transport = PipelinedTransport()
        try:
            responses = await asyncio.wait_for(
                asyncio.gather(*(_send(transport, _push(url, f"/e/{i}")) for i in range(count))),
                timeout=10,
            )
        finally:
            await transport.aclose()
    assert [r.status_code for r in responses] == [200] * count
    assert sorted(partner.received) == sorted(f"/e/{i}" for i in range(count))
    assert partner.connections == count


async def test_a_caller_that_gives_up_does_not_shift_the_answers_of_the_others() -> None:
    first_read = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            target, _ = await _request(reader)
            partner.received.append(target)
            first_read.set()
            await asyncio.sleep(0.2 if target == "/gives-up" else 0)
            writer.write(_answer(200, json.dumps({"status_code": 1000, "data": target}).encode()))

    partner = Partner(handler)
    async with partner.serving() as url:
        transport = PipelinedTransport()
        try:
            giving_up = asyncio.create_task(_send(transport, _push(url, "/gives-up")))
            await asyncio.wait_for(first_read.wait(), timeout=5)
            staying = asyncio.create_task(_send(transport, _push(url, "/stays")))
            await asyncio.sleep(0.05)
            giving_up.cancel()
            answer = await asyncio.wait_for(staying, timeout=5)
            with pytest.raises(asyncio.CancelledError):
                await giving_up
        finally:
            await transport.aclose()
    assert answer.json()["data"] == "/stays" and partner.connections == 1


# -- real-time calls: a connection each, kept alive --------------------------------------------
async def test_real_time_calls_at_once_each_have_a_connection_and_later_ones_reuse_them() -> None:
    arrived = asyncio.Event()
    waiting = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal waiting
        while True:
            target, _ = await _request(reader)
            partner.received.append(target)
            waiting += 1
            if waiting == 3:
                arrived.set()
            # Each answer waits until the three calls are in: none queued behind another.
            await asyncio.wait_for(arrived.wait(), timeout=5)
            writer.write(_answer(200, json.dumps({"status_code": 1000, "data": target}).encode()))

    partner = Partner(handler)
    async with partner.serving() as url:
        client = OcpiClient(PipelinedTransport(), timeout=5)
        try:
            at_once = await asyncio.wait_for(
                asyncio.gather(
                    *(
                        client.call_ok("POST", f"{url}/t/{i}/authorize", token="t", alone=True)
                        for i in range(3)
                    )
                ),
                timeout=10,
            )
            after = [
                await client.call_ok("POST", f"{url}/t/again/authorize", token="t", alone=True)
                for _ in range(4)
            ]
        finally:
            await client.aclose()
    assert [r.data for r in at_once] == [f"/t/{i}/authorize" for i in range(3)]
    assert [r.data for r in after] == ["/t/again/authorize"] * 4
    assert partner.connections == 3  # the calls after used the idle connections


async def test_a_connection_the_partner_closed_while_idle_is_not_used_again() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target, _ = await _request(reader)
        partner.received.append(target)
        writer.write(_answer())
        await writer.drain()
        writer.close()  # as a server does when a kept-alive connection is idle too long

    partner = Partner(handler)
    async with partner.serving() as url:
        client = OcpiClient(PipelinedTransport(), timeout=5)
        try:
            replies = []
            for name in ("first", "second"):
                replies.append(await client.call_ok("POST", f"{url}/{name}", token="t", alone=True))
                await asyncio.sleep(0.2)  # the close reaches the client
        finally:
            await client.aclose()
    assert [r.status_code for r in replies] == [1000, 1000]
    assert partner.received == ["/first", "/second"] and partner.connections == 2


async def test_a_real_time_call_not_answered_in_time_gives_its_connection_up() -> None:
    delays = iter([5.0, 0.0])

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            target, _ = await _request(reader)
            partner.received.append(target)
            await asyncio.sleep(next(delays, 0.0))
            writer.write(_answer(200, json.dumps({"status_code": 1000, "data": target}).encode()))

    partner = Partner(handler)
    async with partner.serving() as url:
        client = OcpiClient(PipelinedTransport(), timeout=0.3)
        try:
            with pytest.raises(PartnerTimeoutError):
                await client.call_ok("POST", f"{url}/slow", token="t", alone=True)
            # A new connection: the late answer to the slow call can never be taken for this one.
            reply = await client.call_ok("POST", f"{url}/next", token="t", alone=True)
        finally:
            await client.aclose()
    assert reply.data == "/next" and partner.connections == 2
    assert partner.received == ["/slow", "/next"]  # nothing sent twice
