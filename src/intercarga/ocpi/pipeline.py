"""A lean HTTP/1.1 transport: pushes pipelined on one connection per partner, real-time calls
each on a kept-alive connection of its own.

The outbox sends a partner up to a window of rows at once (:mod:`.outbox`). Through httpx each
of them costs a trip through the connection pool's bookkeeping; here they are written one after
the other on one connection without waiting (pipelining, RFC 9112 section 9.3.2) and the answers,
which a server gives in the order of the requests, are read off the same connection and matched
to the requests in that order.

Theory of operation
===================

:class:`ResponseReader` is the protocol without I/O: the method of each request written goes
in (:meth:`~ResponseReader.expect`), bytes read go in (:meth:`~ResponseReader.feed`), whole
answers come out in order: ``Content-Length`` and chunked bodies, no body for ``HEAD``, 1xx, 204
and 304, a body up to the end of the connection when the answer says neither. :func:`request_bytes`
writes a request. :class:`PipelinedTransport` is the thin asyncio adapter: an
:class:`httpx.AsyncBaseTransport`, so the OCPI client, the request-forgery guard
(:mod:`.egress`) and the tests see it as any other transport.

- Only requests that ask for it (the extension ``"pipelined": True``, which the client sets for
  pushes) go this way, over ``http`` or ``https``; everything else, and any request this
  transport cannot write safely (a body of unknown length), goes to the ``fallback`` transport
  (httpx's own), but for real-time calls (below). A slow answer to some other call (a real-time
  authorization) therefore never holds up the pushes behind it.
- A real-time call (the extension ``"alone": True``: an authorization a station waits for, a
  request a hub relays) is never pipelined: a partner answers pipelined requests one after
  another, so one slow answer would hold up every call behind it. It takes an idle connection
  to the partner, or opens one, writes its request, reads the answer and leaves the connection
  idle for the next call (at most ``keep_alive`` idle connections per partner, at most
  ``connections`` in use at once; more wait for one up to the pool timeout). This is the same
  work as httpx's connection pool, without its per-request bookkeeping: about half of the
  client's time in a hub's relay (issue 16). A connection the partner closed while idle is
  never used again; one that fails or times out under a request is closed, and the request
  fails with a transport error, never sent again (the partner may have processed it).
- At most ``depth`` requests are in flight on a connection; more wait for a place (the pool
  timeout).
- An answer that says ``Connection: close`` is the last one: the server must not process the
  requests written after it (RFC 9112 section 9.6), so they are written again on a new
  connection (a server that closes after every answer still answers one each time). Every
  other loss of the connection (closed after k of n answers, an answer that is not HTTP) fails
  the requests still unanswered with a transport error: the partner may have processed them, so
  whether they are sent again is the outbox's decision, never this module's.
- A request not answered within the read timeout fails with :class:`httpx.ReadTimeout`, and
  the connection is closed (the answers behind it can no longer be trusted to come), failing the
  others in flight on it. The timeout counts from the later of the request's writing and the
  last answer on its connection: a partner answers pipelined requests one after another, so
  the 40th request behind a partner taking 0.2 s each is answered after 8 s, the partner
  working all along; only a partner that answers nothing for the read timeout is given up.

This module knows nothing of OCPI; it never retries a request a partner may have processed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from dataclasses import dataclass

import httpx

__all__ = [
    "ALONE",
    "PIPELINED",
    "Answer",
    "PipelinedTransport",
    "ProtocolError",
    "ResponseReader",
    "request_bytes",
]

# The request extensions that ask for this transport's lean paths.
PIPELINED = "pipelined"
ALONE = "alone"

# Bounds on what a partner may send back, so a broken or hostile server cannot fill the memory.
MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024


class ProtocolError(ValueError):
    """The bytes read are not an HTTP/1.1 answer."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer read off a connection; ``closing``: the server closes the connection after it
    (it said ``Connection: close``, or spoke HTTP/1.0 without keep-alive, or its body ran to
    the end of the connection)."""

    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    closing: bool


def request_bytes(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> bytes:
    """One HTTP/1.1 request as written on the wire (``headers`` include ``Host``; a
    ``Content-Length`` is added when there is a body and none is given)."""
    lines = [method + b" " + target + b" HTTP/1.1"]
    lines.extend(name + b": " + value for name, value in headers)
    if body and not any(name.lower() == b"content-length" for name, _ in headers):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# The reader's states: where the next bytes belong.
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _UNTIL_CLOSE = range(7)


class ResponseReader:
    """HTTP/1.1 answers from bytes, in the order of the requests written (no I/O)."""

    def __init__(self, *, max_head: int = MAX_HEAD, max_body: int = MAX_BODY) -> None:
        self._max_head = max_head
        self._max_body = max_body
        self._methods: deque[bytes] = deque()
        self._buffer = bytearray()
        self._state = _HEAD
        self._remaining = 0
        self._body = bytearray()
        self._head: tuple[int, bytes, list[tuple[bytes, bytes]], bool] | None = None

    @property
    def waiting(self) -> int:
        """Requests written and not answered yet."""
        return len(self._methods)

    def expect(self, method: bytes) -> None:
        """A request was written: its answer comes after those of the requests before it."""
        self._methods.append(method.upper())

    def feed(self, data: bytes) -> list[Answer]:
        """The answers ``data`` completes; :class:`ProtocolError` when it is not HTTP/1.1."""
        self._buffer += data
        answers: list[Answer] = []
        while True:
            answer = self._step()
            if answer is None:
                return answers
            answers.append(answer)

    def feed_eof(self) -> list[Answer]:
        """The connection ended: the answer whose body ran to the end, if one did;
        :class:`ProtocolError` when it ended inside an answer."""
        if self._state == _UNTIL_CLOSE:
            self._body += self._buffer
            self._buffer.clear()
            return [self._finish(closing=True)]
        if self._state != _HEAD or self._buffer:
            raise ProtocolError("the connection closed in the middle of an answer")
        return []

    # -- the state machine -------------------------------------------------------------------
    def _step(self) -> Answer | None:
        """Advance by what the buffer holds; an answer when one is complete, else None."""
        while True:
            state = self._state
            if state == _HEAD:
                if not self._read_head():
                    return None
                if self._state == _HEAD:  # an answer without a body, or a 1xx skipped
                    if self._head is not None:
                        return self._finish(closing=self._head[3])
                    continue
            elif state == _LENGTH:
                take = min(self._remaining, len(self._buffer))
                self._body += self._buffer[:take]
                del self._buffer[:take]
                self._remaining -= take
                if self._remaining:
                    return None
                assert self._head is not None
                return self._finish(closing=self._head[3])
            elif state == _CHUNK_SIZE:
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    if len(self._buffer) > 1024:
                        raise ProtocolError("a chunk size line is too long")
                    return None
                text = bytes(self._buffer[:end]).split(b";", 1)[0].strip()
                del self._buffer[: end + 2]
                try:
                    self._remaining = int(text, 16)
                except ValueError:
                    raise ProtocolError(f"a chunk size is not a number: {text!r}") from None
                if self._remaining < 0:
                    raise ProtocolError("a chunk size is negative")
                self._state = _TRAILER if self._remaining == 0 else _CHUNK_DATA
            elif state == _CHUNK_DATA:
                take = min(self._remaining, len(self._buffer))
                self._body += self._buffer[:take]
                del self._buffer[:take]
                self._remaining -= take
                self._check_body()
                if self._remaining:
                    return None
                self._state = _CHUNK_END
            elif state == _CHUNK_END:
                if len(self._buffer) < 2:
                    return None
                if self._buffer[:2] != b"\r\n":
                    raise ProtocolError("a chunk does not end with CRLF")
                del self._buffer[:2]
                self._state = _CHUNK_SIZE
            elif state == _TRAILER:
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    if len(self._buffer) > self._max_head:
                        raise ProtocolError("the trailer is too long")
                    return None
                del self._buffer[: end + 2]
                if end == 0:  # the empty line that ends the trailer
                    assert self._head is not None
                    return self._finish(closing=self._head[3])
            else:  # _UNTIL_CLOSE
                self._body += self._buffer
                self._buffer.clear()
                self._check_body()
                return None

    def _read_head(self) -> bool:
        """Read a status line and headers; False when they are not all in the buffer yet."""
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > self._max_head:
                raise ProtocolError("the answer's head is too long")
            return False
        if not self._methods:
            raise ProtocolError("an answer came to no request")
        lines = bytes(self._buffer[:end]).split(b"\r\n")
        del self._buffer[: end + 4]
        version, _, rest = lines[0].partition(b" ")
        code, _, reason = rest.partition(b" ")
        if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
            raise ProtocolError(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
        status = int(code)
        headers: list[tuple[bytes, bytes]] = []
        length: int | None = None
        chunked = False
        connection = b""
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                raise ProtocolError(f"not a header line: {line[:80]!r}")
            value = value.strip()
            headers.append((name, value))
            lowered = name.lower()
            if lowered == b"content-length":
                if not value.isdigit() or (length is not None and int(value) != length):
                    raise ProtocolError(f"a bad Content-Length: {value[:40]!r}")
                length = int(value)
            elif lowered == b"transfer-encoding":
                chunked = value.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
                if not chunked:
                    raise ProtocolError(f"an unknown Transfer-Encoding: {value[:40]!r}")
            elif lowered == b"connection":
                connection += b"," + value.lower()
        if 100 <= status < 200:
            if status == 101:
                raise ProtocolError("the server switched protocols")
            self._head = None  # an interim answer: the real one follows
            return True
        options = {option.strip() for option in connection.split(b",")}
        closing = b"close" in options or (version == b"HTTP/1.0" and b"keep-alive" not in options)
        method = self._methods[0]
        self._head = (status, reason, headers, closing)
        self._body = bytearray()
        if method == b"HEAD" or status in (204, 304):
            self._state = _HEAD
        elif chunked:
            self._state = _CHUNK_SIZE
        elif length is not None:
            if length > self._max_body:
                raise ProtocolError("the answer's body is too large")
            self._remaining = length
            self._state = _LENGTH
        else:
            self._state = _UNTIL_CLOSE
        return True

    def _check_body(self) -> None:
        if len(self._body) > self._max_body:
            raise ProtocolError("the answer's body is too large")

    def _finish(self, *, closing: bool) -> Answer:
        assert self._head is not None
        status, reason, headers, _ = self._head
        self._methods.popleft()
        answer = Answer(status, reason, headers, bytes(self._body), closing)
        self._head = None
        self._body = bytearray()
        self._state = _HEAD
        return answer


# -- the asyncio adapter ---------------------------------------------------------------------
class _NotProcessedError(Exception):
    """The server closed the connection with an answer before this request's: it must not
    have processed it, so it may be written again on another connection."""


class _Connection(asyncio.Protocol):
    """One connection: requests written in order, answers handed to them in the same order."""

    def __init__(self) -> None:
        self._reader = ResponseReader()
        self._waiting: deque[asyncio.Future[Answer]] = deque()
        self._transport: asyncio.Transport | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self.closed = False  # no new request may be written on it
        self.answered_at = 0.0  # the loop's time of the last answer read on it

    @property
    def in_flight(self) -> int:
        return len(self._waiting)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            answers = self._reader.feed(data)
        except ProtocolError as error:
            self._fail(httpx.RemoteProtocolError(f"the partner's answer is not HTTP: {error}"))
            return
        self._hand_over(answers)

    def eof_received(self) -> bool | None:
        try:
            answers = self._reader.feed_eof()
        except ProtocolError as error:
            self._hand_over([])
            self._fail(httpx.RemoteProtocolError(str(error)))
            return None
        self._hand_over(answers)
        self._fail(httpx.RemoteProtocolError("the partner closed the connection before answering"))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f": {exc}" if exc else ""
        self._fail(httpx.ReadError(f"the connection to the partner was lost{reason}"))
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # used by the transport
    async def send(self, method: bytes, data: bytes) -> asyncio.Future[Answer]:
        """Write one request; the future of its answer."""
        await self._writable.wait()
        if self.closed or self._transport is None:
            raise _NotProcessedError
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._reader.expect(method)
        self._waiting.append(answer)
        self._transport.write(data)
        return answer

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def abort(self, error: Exception) -> None:
        """Give up on the connection (a request timed out): everything on it fails."""
        self._fail(error)

    def _hand_over(self, answers: list[Answer]) -> None:
        if answers:
            self.answered_at = asyncio.get_running_loop().time()
        for answer in answers:
            future = self._waiting.popleft()
            if not future.done():  # a caller that gave up still consumed its place
                future.set_result(answer)
            if answer.closing:
                # The server must not process the requests written after this one.
                self.closed = True
                while self._waiting:
                    later = self._waiting.popleft()
                    if not later.done():
                        later.set_exception(_NotProcessedError())
                self.close()
                return

    def _fail(self, error: Exception) -> None:
        self.closed = True
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)
        if self._transport is not None:
            self._transport.abort()


async def _answered(
    connection: _Connection, answer: asyncio.Future[Answer], timeout: float | None
) -> Answer:
    """``answer`` once read; TimeoutError when the partner answered nothing on ``connection``
    for ``timeout`` since the request was written (answers to earlier requests restart it)."""
    loop = asyncio.get_running_loop()
    written = loop.time()
    while True:
        if timeout is None:
            return await answer
        left = max(written, connection.answered_at) + timeout - loop.time()
        if left <= 0:
            raise TimeoutError
        done, _ = await asyncio.wait((answer,), timeout=left)
        if done:
            return answer.result()


def _timeouts(request: httpx.Request) -> dict[str, float | None]:
    value = request.extensions.get("timeout")
    return value if isinstance(value, dict) else {}


_Origin = tuple[str, str, int, str]  # scheme, host (or address), port, TLS server name


class PipelinedTransport(httpx.AsyncBaseTransport):
    """Pushes pipelined on one connection per partner origin, real-time calls each on a
    connection of its own; the rest through ``fallback``."""

    def __init__(
        self,
        *,
        fallback: httpx.AsyncBaseTransport | None = None,
        depth: int = 64,
        connections: int = 100,
        keep_alive: int = 20,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``depth``: requests in flight on a pipelined connection at most; ``connections``
        and ``keep_alive``: real-time calls in flight to a partner at most, and their idle
        connections kept (httpx's defaults); ``ssl_context``: the trust for ``https``
        partners (httpx's default: the system's and certifi's authorities)."""
        self._fallback = fallback or httpx.AsyncHTTPTransport()
        self._depth = depth
        self._most = connections
        self._keep = keep_alive
        self._ssl = ssl_context
        self._connections: dict[_Origin, _Connection] = {}
        self._opening: dict[_Origin, asyncio.Lock] = {}
        self._places: dict[_Origin, asyncio.Semaphore] = {}
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._alone_places: dict[_Origin, asyncio.Semaphore] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        alone = bool(request.extensions.get(ALONE))
        if not (alone or request.extensions.get(PIPELINED)) or not _writable(request):
            return await self._fallback.handle_async_request(request)
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        server_name = str(request.extensions.get("sni_hostname") or url.host)
        origin: _Origin = (url.scheme, url.host, port, server_name)
        body = await request.aread()
        headers = [
            (name, value)
            for name, value in request.headers.raw
            if name.lower() not in (b"connection", b"transfer-encoding", b"keep-alive")
        ]
        data = request_bytes(request.method.encode(), url.raw_path, headers, body)
        timeouts = _timeouts(request)
        if alone:
            places = self._alone_places.setdefault(origin, asyncio.Semaphore(self._most))
        else:
            places = self._places.setdefault(origin, asyncio.Semaphore(self._depth))
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await places.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no place for the request on the connection") from None
        try:
            if alone:
                answer = await self._alone(origin, request, data, timeouts)
            else:
                answer = await self._exchange(origin, request, data, timeouts)
        finally:
            places.release()
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=httpx.ByteStream(answer.body),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason},
            request=request,
        )

    async def _exchange(
        self,
        origin: _Origin,
        request: httpx.Request,
        data: bytes,
        timeouts: dict[str, float | None],
    ) -> Answer:
        # Again only when the server said it did not process it: each connection it closes so
        # answers at least one request, so ``depth`` + 1 tries always see this one answered.
        for _ in range(self._depth + 1):
            connection = await self._connection(origin, request, timeouts.get("connect"))
            try:
                answer = await connection.send(request.method.encode(), data)
            except _NotProcessedError:
                continue
            try:
                return await _answered(connection, answer, timeouts.get("read"))
            except _NotProcessedError:
                continue
            except TimeoutError:
                # The answers behind this one may never come: give the connection up.
                connection.abort(httpx.ReadTimeout("the connection was given up: a timeout"))
                raise httpx.ReadTimeout(
                    "no answer in time on the pipelined connection", request=request
                ) from None
            except httpx.TransportError as error:
                raise type(error)(str(error), request=request) from None
        raise httpx.RemoteProtocolError(
            "the partner kept closing connections before answering", request=request
        )

    async def _alone(
        self,
        origin: _Origin,
        request: httpx.Request,
        data: bytes,
        timeouts: dict[str, float | None],
    ) -> Answer:
        """A real-time call on a connection of its own: an idle one, or a new one."""
        idle = self._idle.setdefault(origin, [])
        connection = None
        while idle and connection is None:
            connection = idle.pop()  # the most recently used: the least likely to be closed
            if connection.closed:
                connection = None
        if connection is None:
            connection = await self._open(origin, request, timeouts.get("connect"))
        kept = False
        try:
            try:
                answer = await connection.send(request.method.encode(), data)
                answered = await _answered(connection, answer, timeouts.get("read"))
            except _NotProcessedError:
                # Closed as the request was written: whether the partner read it is unknown.
                raise httpx.RemoteProtocolError(
                    "the partner closed the connection", request=request
                ) from None
            except TimeoutError:
                raise httpx.ReadTimeout("no answer in time", request=request) from None
            except httpx.TransportError as error:
                raise type(error)(str(error), request=request) from None
            kept = not answered.closing and not connection.closed and len(idle) < self._keep
            return answered
        finally:
            # A connection left with a request unanswered (a timeout, a caller cancelled) can
            # no longer be trusted: the late answer would go to the next call.
            if kept:
                idle.append(connection)
            else:
                connection.close()

    async def _connection(
        self, origin: _Origin, request: httpx.Request, timeout: float | None
    ) -> _Connection:
        connection = self._connections.get(origin)
        if connection is not None and not connection.closed:
            return connection
        lock = self._opening.setdefault(origin, asyncio.Lock())
        async with lock:
            connection = self._connections.get(origin)
            if connection is not None and not connection.closed:
                return connection
            connection = await self._open(origin, request, timeout)
            self._connections[origin] = connection
            return connection

    async def _open(
        self, origin: _Origin, request: httpx.Request, timeout: float | None
    ) -> _Connection:
        scheme, host, port, server_name = origin
        context = None
        if scheme == "https":
            context = self._ssl or httpx.create_ssl_context()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    _Connection,
                    host,
                    port,
                    ssl=context,
                    server_hostname=server_name if context else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"no connection in time to {host}", request=request
            ) from None
        except (OSError, ssl.SSLError) as error:
            raise httpx.ConnectError(
                f"cannot connect to {host}: {error}", request=request
            ) from None
        return connection

    async def aclose(self) -> None:
        connections, self._connections = list(self._connections.values()), {}
        for idle in self._idle.values():
            connections += idle
        self._idle = {}
        for connection in connections:
            with contextlib.suppress(Exception):
                connection.close()
        await self._fallback.aclose()


def _writable(request: httpx.Request) -> bool:
    """Whether this transport writes ``request`` itself: http(s), a body of known length."""
    if request.url.scheme not in ("http", "https"):
        return False
    if "transfer-encoding" in request.headers:
        return False
    return request.method in ("GET", "HEAD", "DELETE") or "content-length" in request.headers
