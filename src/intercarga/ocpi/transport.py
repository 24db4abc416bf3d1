"""OCPI transport rules as pure functions: the Authorization header, pagination, message ids and
routing headers, and the reading of JSON bodies.

Authorization: ``Token <base64(token)>`` since 2.2-d2; many 2.1.1 and 2.2 platforms send the
token unencoded, so reading yields both readings and the caller decides by the partner's switch.
Pagination: ``offset``/``limit``/``date_from``/``date_to`` in, ``Link: <…>; rel="next"`` (keeping
every filter of the request), ``X-Total-Count`` and ``X-Limit`` out; the limit is capped and the
offset bounded so no request can ask for an endless page. Every request carries a new
``X-Request-ID`` and the ``X-Correlation-ID`` of the conversation it belongs to. Bodies, sent
to us or answered to us, are JSON nested at most :data:`MAX_JSON_DEPTH` levels.

Nothing here does I/O; the HTTP layers call these functions.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import msgspec

from intercarga.ocpi.envelope import OcpiError, StatusCode
from intercarga.ocpi.models._types import format_datetime, parse_datetime

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "JsonTooDeepError",
    "PageRequest",
    "TokenReading",
    "authorization_header",
    "message_ids",
    "new_message_ids",
    "page_headers",
    "page_request",
    "parse_json",
    "read_authorization",
]

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
# A bound on offsets, so that a client cannot make the database skip an absurd number of rows.
MAX_OFFSET = 10_000_000
# OCPI objects nest about eight levels (a tariff's restrictions, a CDR's dimensions); far more
# deeply nested JSON made the parser or a later dump raise RecursionError (a 500).
MAX_JSON_DEPTH = 32


# -- JSON bodies ---------------------------------------------------------------------------------
class JsonTooDeepError(ValueError):
    """Valid JSON, nested deeper than :data:`MAX_JSON_DEPTH`."""


def parse_json(raw: bytes | str) -> Any:
    """A JSON body; ``ValueError`` when it is not JSON or holds a string that is not Unicode
    text (a lone surrogate, ``"\\ud800"``: json.loads takes it, PostgreSQL and every encoder
    refuse it later), :class:`JsonTooDeepError` when too deep.

    A body in UTF-8 is read by msgspec's decoder (it refuses lone surrogates itself) and its
    nesting measured on the bytes: about a fifth of the time of ``json.loads`` and a walk of
    every value, which was most of what a pull of a partner's pages cost us. Anything that
    decoder refuses is read again by :func:`json.loads` and walked, so what is accepted, what
    is refused and each refusal's message are the same either way."""
    if isinstance(raw, bytes):
        try:
            value = _DECODER.decode(raw)
        except (msgspec.DecodeError, RecursionError):
            pass  # read again below: json.loads's own reading and messages
        else:
            if _nested_deeper(raw, MAX_JSON_DEPTH):
                raise JsonTooDeepError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            return value
    return _parse_json_walked(raw)


_DECODER = msgspec.json.Decoder()
# A JSON string, escapes included: where a bracket does not open or close anything.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = bytes.maketrans(b"[]{}", b"()()")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"\\')


def _nested_deeper(raw: bytes, levels: int) -> bool:
    """Whether the valid JSON ``raw`` nests arrays and objects more than ``levels`` deep.

    The strings taken out, the brackets left are a balanced sequence; taking every ``()``
    out once lowers its depth by exactly one (each innermost pair is one), so it is gone
    after ``levels`` rounds exactly when it is no deeper than that."""
    # Brackets and quotes only: a string with neither brackets nor escapes in it is left as
    # '""', and when taking every '""' out leaves no quote, each string was such a one (the
    # quotes pair off in order only then), and what is left are the brackets outside them.
    structure = raw.translate(_BRACKETS, _NOT_STRUCTURE)
    shape = structure.replace(b'""', b"")
    if b'"' in shape or b"\\" in shape:
        shape = _STRING.sub(b"", raw).translate(_BRACKETS, _NOT_BRACKETS)
    for _ in range(levels):
        if not shape:
            return False
        shape = shape.replace(b"()", b"")
    return bool(shape)


def _parse_json_walked(raw: bytes | str) -> Any:
    """:func:`parse_json` by ``json.loads`` and a walk of every value."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise JsonTooDeepError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    # Measured without recursion: the parser's own limit is far above what we accept.
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise JsonTooDeepError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                pending.extend((key, depth) for key in item)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
        elif isinstance(item, str) and not item.isascii():
            try:
                item.encode()
            except UnicodeEncodeError:
                raise ValueError("a string holds a lone surrogate: not Unicode text") from None
    return value


# -- Authorization -------------------------------------------------------------------------------
def authorization_header(token: str, *, raw: bool = False) -> str:
    """The header value for ``token``: Base64 of its UTF-8 (or the token itself for ``raw``)."""
    if raw:
        return f"Token {token}"
    return "Token " + base64.b64encode(token.encode()).decode("ascii")


@dataclass(frozen=True, slots=True)
class TokenReading:
    """The two ways to read a header: ``decoded`` (Base64, when it decodes) and ``raw``."""

    decoded: str | None
    raw: str


def read_authorization(header: str | None) -> TokenReading | None:
    """Read ``Authorization: Token …``; None when it is missing or not of that form."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return None
    decoded: str | None
    try:
        text = base64.b64decode(value, validate=True).decode()
        # A decoding that yields control characters was a raw token that happened to be Base64.
        decoded = text if text and all("!" <= char <= "~" for char in text) else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = None
    return TokenReading(decoded=decoded, raw=value)


# -- message ids -------------------------------------------------------------------------------
def new_message_ids(correlation_id: str | None = None) -> dict[str, str]:
    """Headers for a new outgoing request: a new request id, the conversation's correlation id."""
    return {
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": correlation_id or str(uuid.uuid4()),
    }


def message_ids(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers for a response: the request's ids echoed (made up when the peer sent none)."""
    return {
        "X-Request-ID": headers.get("x-request-id") or str(uuid.uuid4()),
        "X-Correlation-ID": headers.get("x-correlation-id") or str(uuid.uuid4()),
    }


# -- pagination --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    date_from: datetime | None = None
    date_to: datetime | None = None
    # Our own parameter in the next-page links we give: the key the previous page ended at.
    after: str | None = None


def _integer(params: Mapping[str, str], name: str, default: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise OcpiError(
            StatusCode.INVALID_OR_MISSING_PARAMETERS, f"{name}: must be a whole number"
        ) from None


def _date(params: Mapping[str, str], name: str) -> datetime | None:
    text = params.get(name)
    if not text:
        return None
    try:
        return parse_datetime(text)
    except ValueError as error:
        raise OcpiError(StatusCode.INVALID_OR_MISSING_PARAMETERS, f"{name}: {error}") from None


def page_request(params: Mapping[str, str], *, max_limit: int = MAX_LIMIT) -> PageRequest:
    """Read the pagination parameters; a limit above ``max_limit`` is lowered to it."""
    offset = _integer(params, "offset", 0)
    limit = _integer(params, "limit", min(DEFAULT_LIMIT, max_limit))
    if not 0 <= offset <= MAX_OFFSET:
        raise OcpiError(
            StatusCode.INVALID_OR_MISSING_PARAMETERS, f"offset: must be 0 to {MAX_OFFSET}"
        )
    if limit < 1:
        raise OcpiError(StatusCode.INVALID_OR_MISSING_PARAMETERS, "limit: must be at least 1")
    date_from, date_to = _date(params, "date_from"), _date(params, "date_to")
    if date_from and date_to and date_to <= date_from:
        raise OcpiError(
            StatusCode.INVALID_OR_MISSING_PARAMETERS, "date_to: must be later than date_from"
        )
    after = params.get("after") or None
    if after is not None and len(after) > 255:
        raise OcpiError(StatusCode.INVALID_OR_MISSING_PARAMETERS, "after: at most 255 characters")
    return PageRequest(offset, min(limit, max_limit), date_from, date_to, after)


def page_headers(
    url: str,
    params: Mapping[str, str],
    page: PageRequest,
    returned: int,
    total: int,
    *,
    last_key: str | None = None,
) -> dict[str, str]:
    """``X-Total-Count``, ``X-Limit`` and, unless this is the last page, ``Link: rel="next"``.

    ``url`` is the request URL without its query; the next link keeps every parameter of the
    request (filters included) with ``offset`` moved on and ``limit`` set to what was served.
    With ``last_key`` (the key of this page's last object, where the list is ordered by it) the
    link also says ``after=`` it, so the next page is a seek, not a count of the rows before
    (:meth:`PageRequest.after`); a client that builds its own ``offset`` URLs is served alike.
    """
    headers = {"X-Total-Count": str(total), "X-Limit": str(page.limit)}
    following = page.offset + returned
    if returned > 0 and following < total:
        skipped = ("offset", "limit", "after")
        query = {key: value for key, value in params.items() if key not in skipped}
        for name, value in (("date_from", page.date_from), ("date_to", page.date_to)):
            if value is not None:
                query[name] = format_datetime(value)
        query = {"offset": str(following), "limit": str(page.limit), **query}
        if last_key is not None:
            query["after"] = last_key
        headers["Link"] = f'<{url}?{urlencode(query)}>; rel="next"'
    return headers
