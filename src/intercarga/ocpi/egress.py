"""Where the OCPI client may connect: the guard against request forgery through partner URLs.

Partners choose the URLs this deployment calls: the versions URL in their credentials, the
endpoints their version details list, a command's ``response_url``. Anyone holding a TOKEN_A
could otherwise make us fetch ``http://169.254.169.254/…`` or an admin port on the operator's own
network. :class:`PartnerEgress` is the network transport of the OCPI client, so every call to a
partner goes through it:

- the scheme must be ``https`` (``http`` only with ``[ocpi] allow_http_partner_urls``);
- the host is resolved and *every* address it has must be global: loopback, private, link-local,
  shared, reserved, multicast and unspecified addresses are refused (unless
  ``[ocpi] allow_private_partner_urls``);
- the request then goes to the address that was checked (the ``Host`` header and the TLS server
  name stay the partner's host name), so a second DNS answer cannot change the target;
- addresses that passed the check are kept ``resolved_for`` seconds (10 by default), so a burst
  of pushes to one partner does not resolve its name once per request: within that time a
  request goes to an address that was checked, never to one that was not.

A refusal is an :class:`EgressRefusedError`, an ``httpx.TransportError``: the client reports it
like any other connection that could not be made. This module never reads a response.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

__all__ = ["EgressRefusedError", "PartnerEgress", "Resolver", "refusal"]

Resolver = Callable[[str, int], Coroutine[Any, Any, list[str]]]


class EgressRefusedError(httpx.TransportError):
    """A partner URL this deployment will not call."""


def refusal(address: str) -> str | None:
    """Why ``address`` may not be called without ``allow_private_partner_urls``, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "not a public address"
    return None


async def _resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


class PartnerEgress(httpx.AsyncBaseTransport):
    """The network transport of the OCPI client, with the checks above before each request."""

    def __init__(
        self,
        *,
        allow_http: bool,
        allow_private: bool,
        inner: httpx.AsyncBaseTransport | None = None,
        resolve: Resolver = _resolve,
        resolved_for: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._allow_http = allow_http
        self._allow_private = allow_private
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._resolve = resolve
        self._resolved_for = resolved_for
        self._clock = clock
        # (host, port) -> (when resolved, its addresses, every one checked)
        self._checked: dict[tuple[str, int], tuple[float, str]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        allowed = ("https", "http") if self._allow_http else ("https",)
        if url.scheme not in allowed:
            hint = " (allow_http_partner_urls is off)" if url.scheme == "http" else ""
            raise EgressRefusedError(
                f"refused: {url.scheme}:// partner URLs are not allowed{hint}", request=request
            )
        if self._allow_private:
            return await self._inner.handle_async_request(request)
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await self._checked_address(request, host, port)
        # Connect to the address checked; Host and the TLS name stay the partner's.
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=address),
            headers=request.headers,
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": host},
        )
        return await self._inner.handle_async_request(pinned)

    async def _checked_address(self, request: httpx.Request, host: str, port: int) -> str:
        """The address to call for ``host``: resolved (or kept from a recent resolution) with
        every address it has checked; refused or unresolvable: an error."""
        now = self._clock()
        kept = self._checked.get((host, port))
        if kept is not None and now - kept[0] < self._resolved_for:
            return kept[1]
        try:
            async with asyncio.timeout(_connect_timeout(request)):
                addresses = await self._resolve(host, port)
        except (OSError, TimeoutError, UnicodeError) as error:  # UnicodeError: a bad IDNA name
            raise httpx.ConnectError(f"cannot resolve {host}: {error}", request=request) from None
        if not addresses:
            raise httpx.ConnectError(f"cannot resolve {host}", request=request)
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                self._checked.pop((host, port), None)
                raise EgressRefusedError(
                    f"refused: {host} resolves to {address}, {reason}"
                    " (allow_private_partner_urls is off)",
                    request=request,
                )
        self._checked[(host, port)] = (now, addresses[0])
        return addresses[0]

    async def aclose(self) -> None:
        await self._inner.aclose()


def _connect_timeout(request: httpx.Request) -> float | None:
    timeouts = request.extensions.get("timeout")
    value = timeouts.get("connect") if isinstance(timeouts, dict) else None
    return float(value) if isinstance(value, int | float) else None
