"""The OCPI HTTP client: calls a partner's endpoints and unwraps the envelope.

It takes an :class:`httpx.AsyncBaseTransport`, so tests run two Intercarga parties in one process
(``httpx.ASGITransport`` / ``httpx.MockTransport``) and production uses the default network
transport. Every call sends the credentials token (Base64, or as is for partners that want it
raw), a new ``X-Request-ID`` and the ``X-Correlation-ID`` of the conversation. A call made with
``pipelined=True`` (the outbox's pushes) goes straight to the transport, marked so that
:class:`~intercarga.ocpi.pipeline.PipelinedTransport` may pipeline it with the others to the same
partner; one made with ``alone=True`` (a real-time authorization, a request a hub relays: someone
waits for it) goes straight to the transport too, marked to have a kept-alive connection of its
own. Either way httpx's client and its per-request bookkeeping are skipped, the rest (headers,
envelope, errors) is the same. Failures are typed:
:class:`PartnerUnreachableError` when nothing usable came back, :class:`PartnerRejectedError` when the
partner answered with an HTTP error or a non-success OCPI status. This module decides nothing
about registration or routing; it never stores anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from intercarga.errors import IntercargaError
from intercarga.ocpi.pipeline import ALONE, PIPELINED
from intercarga.ocpi.transport import authorization_header, new_message_ids, parse_json

__all__ = [
    "OcpiClient",
    "PartnerError",
    "PartnerRejectedError",
    "PartnerTimeoutError",
    "PartnerUnreachableError",
    "Reply",
    "is_callable_url",
]

log = logging.getLogger(__name__)

# Following "next" links stops here whatever the partner says: a misbehaving server cannot keep
# a pull going forever.
MAX_PAGES = 10_000
# What httpx's client would add to a request sent without it.
_DEFAULT_HEADERS = {
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",
    "User-Agent": f"python-httpx/{httpx.__version__}",
}


class PartnerError(IntercargaError):
    """A call to a partner did not succeed."""

    def __init__(self, message: str, status_code: int | None = None, http_status: int = 0) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.http_status = http_status


class PartnerUnreachableError(PartnerError):
    """No usable answer: connection refused, timeout, or a body that is not an OCPI envelope."""


class PartnerTimeoutError(PartnerUnreachableError):
    """The partner did not answer in time."""


class PartnerRejectedError(PartnerError):
    """The partner answered, with an HTTP error or an OCPI status outside 1xxx."""

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        http_status: int = 0,
        *,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message, status_code, http_status)
        self.method = method
        self.url = url


@dataclass(frozen=True, slots=True)
class Reply:
    http_status: int
    body: dict[str, Any]
    headers: httpx.Headers

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def status_code(self) -> int | None:
        code = self.body.get("status_code")
        return code if isinstance(code, int) else None


class OcpiClient:
    def __init__(
        self, transport: httpx.AsyncBaseTransport | None = None, *, timeout: float = 15.0
    ) -> None:
        self._transport = transport
        self._timeout = timeout
        self._timeouts = httpx.Timeout(timeout).as_dict()
        # One pool of connections for every call (partners get many small requests in a row):
        # made on first use, in the running event loop (again in another loop).
        self._http: httpx.AsyncClient | None = None
        self._made_in: asyncio.AbstractEventLoop | None = None

    def _pool(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._http is None or self._made_in is not loop:
            self._http = httpx.AsyncClient(transport=self._transport, timeout=self._timeout)
            self._made_in = loop
        return self._http

    async def aclose(self) -> None:
        """Close the pooled connections (the client can still be used: it opens new ones)."""
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    async def call(
        self,
        method: str,
        url: str,
        *,
        token: str,
        raw: bool = False,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        correlation_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        pipelined: bool = False,
        alone: bool = False,
    ) -> Reply:
        """One request; the reply whatever its status, as long as the body is an envelope.

        ``pipelined``: a push, which may share a connection with the others to the partner;
        ``alone``: a call someone waits for, on a connection of its own (never behind another)."""
        target = _callable(url)
        if target is None:
            # Partners hand us URLs; one that is not absolute http(s) is their mistake, not a 500.
            raise PartnerUnreachableError(f"cannot reach {url!r}: not an http(s) URL")
        sent = {
            "Authorization": authorization_header(token, raw=raw),
            **new_message_ids(correlation_id),
            **(headers or {}),
        }
        try:
            if (pipelined or alone) and self._transport is not None:
                lane = ALONE if alone else PIPELINED
                response = await self._send(method, target, sent, json, params, lane)
            else:
                response = await self._pool().request(
                    method, target, headers=sent, json=json, params=params
                )
        except httpx.TimeoutException as error:
            reason = str(error) or type(error).__name__
            raise PartnerTimeoutError(f"no answer in time from {url}: {reason}") from None
        except httpx.HTTPError as error:
            reason = str(error) or type(error).__name__
            raise PartnerUnreachableError(f"cannot reach {url}: {reason}") from None
        log.debug(
            "OCPI %s %s -> %s",
            method,
            url,
            response.status_code,
            extra={"request_id": sent["X-Request-ID"], "correlation_id": sent["X-Correlation-ID"]},
        )
        try:
            body = parse_json(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict) or "status_code" not in body:
            if response.status_code >= 400:
                raise PartnerRejectedError(
                    f"{method} {url} answered HTTP {response.status_code}",
                    http_status=response.status_code,
                    method=method,
                    url=url,
                )
            raise PartnerUnreachableError(f"{method} {url} did not answer with an OCPI envelope")
        return Reply(response.status_code, body, response.headers)

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        json: Any,
        params: Mapping[str, str] | None,
        lane: str,
    ) -> httpx.Response:
        """One request through the transport itself, without httpx's client (no cookies, no
        redirects: the client follows none either); ``lane``: the transport's extension that
        says how it is sent."""
        assert self._transport is not None
        request = httpx.Request(
            method,
            url,
            params=params,
            headers={**_DEFAULT_HEADERS, **headers},
            json=json,
            extensions={"timeout": self._timeouts, lane: True},
        )
        response = await self._transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def call_ok(self, method: str, url: str, **options: Any) -> Reply:
        """Like :meth:`call`, but anything except HTTP 2xx with an OCPI 1xxx is an error."""
        reply = await self.call(method, url, **options)
        code = reply.status_code
        if reply.http_status >= 400 or code is None or not 1000 <= code < 2000:
            message = reply.body.get("status_message") or "no message"
            raise PartnerRejectedError(
                f"{method} {url} answered HTTP {reply.http_status}, OCPI {code}: {message}",
                status_code=code,
                http_status=reply.http_status,
                method=method,
                url=url,
            )
        return reply

    async def call_trying_encodings(
        self, method: str, url: str, *, token: str, **options: Any
    ) -> tuple[Reply, bool]:
        """For a first contact: Base64 first, then the raw token when that is refused (401).

        Returns the reply and whether the raw token was the one that worked.
        """
        try:
            return await self.call_ok(method, url, token=token, raw=False, **options), False
        except PartnerRejectedError as error:
            if error.http_status != 401:
                raise
        return await self.call_ok(method, url, token=token, raw=True, **options), True

    async def pages(
        self,
        url: str,
        *,
        token: str,
        raw: bool = False,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[list[Any]]:
        """Every page of a paginated list, following ``Link: rel="next"`` to the end."""
        next_url: str | None = url
        next_params = params
        for _ in range(MAX_PAGES):
            if next_url is None:
                return
            reply = await self.call_ok(
                "GET", next_url, token=token, raw=raw, params=next_params, headers=headers
            )
            data = reply.data
            yield data if isinstance(data, list) else []
            link = reply.headers.get("link")
            next_url = _next_link(link) if link else None
            next_params = None


def is_callable_url(url: str) -> bool:
    """Whether ``url`` is absolute http(s) with a host: all a partner URL must be to be tried."""
    return _callable(url) is not None


def _callable(url: str) -> httpx.URL | None:
    """``url`` parsed (once: the request is made from it) when it may be tried, else None."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return None
    return parsed if parsed.scheme in ("http", "https") and parsed.host else None


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        target, _, attributes = part.partition(";")
        if 'rel="next"' in attributes.replace(" ", "") or "rel=next" in attributes.replace(" ", ""):
            return target.strip().removeprefix("<").removesuffix(">")
    return None
