"""Transport rules as pure functions: the Authorization header, pagination, message ids."""

from __future__ import annotations

from typing import Any

import pytest

from intercarga.ocpi.envelope import OcpiError
from intercarga.ocpi.transport import (
    JsonTooDeepError,
    authorization_header,
    page_headers,
    page_request,
    parse_json,
    read_authorization,
)


def test_the_spec_example_token_is_base64_encoded() -> None:
    assert authorization_header("example-token") == "Token ZXhhbXBsZS10b2tlbg=="
    assert authorization_header("example-token", raw=True) == "Token example-token"
    reading = read_authorization("Token ZXhhbXBsZS10b2tlbg==")
    assert reading is not None and reading.decoded == "example-token"
    raw = read_authorization("token 9e80a9c4-28be-11e9")
    assert raw is not None and raw.decoded is None and raw.raw == "9e80a9c4-28be-11e9"
    assert read_authorization("Bearer abc") is None
    assert read_authorization(None) is None


def test_next_link_keeps_filters_and_stops_on_the_last_page() -> None:
    params = {"date_from": "2016-01-01T00:00:00Z", "limit": "2000", "type": "RFID"}
    page = page_request(params)
    assert page.limit == 100
    headers = page_headers("https://x/ocpi/cpo/2.2.1/cdrs", params, page, 100, 250)
    assert headers["X-Total-Count"] == "250" and headers["X-Limit"] == "100"
    assert headers["Link"] == (
        "<https://x/ocpi/cpo/2.2.1/cdrs?offset=100&limit=100&date_from=2016-01-01T00%3A00%3A00Z"
        '&type=RFID>; rel="next"'
    )
    # The key the page ended at goes into the link; an ``after`` the request had does not.
    seeking = page_headers(
        "https://x/l", {**params, "after": "OLD"}, page, 100, 250, last_key="CDR 99"
    )
    assert seeking["Link"].endswith('&type=RFID&after=CDR+99>; rel="next"')
    last = page_request({"offset": "200"})
    assert "Link" not in page_headers("https://x/l", {"offset": "200"}, last, 50, 250)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "x"},
        {"offset": "-5"},
        {"offset": "100000000000"},
        {"date_from": "2016-01-01"},
        {"date_from": "2016-01-02T00:00:00Z", "date_to": "2016-01-01T00:00:00Z"},
    ],
)
def test_bad_or_endless_pagination_is_2001(params: dict[str, str]) -> None:
    with pytest.raises(OcpiError) as caught:
        page_request(params)
    assert caught.value.status_code == 2001


def test_a_body_with_a_lone_surrogate_is_not_json_but_a_surrogate_pair_is() -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        parse_json(b'{"name": "caf\\udce9"}')
    with pytest.raises(ValueError, match="lone surrogate"):
        parse_json(b'[{"\\ud800": 1}]')
    assert parse_json(b'{"name": "\\ud83d\\ude00"}') == {"name": "\U0001f600"}


def _nested(levels: int, inner: str = "1") -> bytes:
    """``levels`` containers, arrays and objects in turn, around ``inner``."""
    text = inner
    for level in range(levels):
        text = f"[{text}]" if level % 2 else f'{{"k":{text}}}'
    return text.encode()


@pytest.mark.parametrize(
    "inner",
    [
        "1",
        '"no brackets"',
        '"]]]]]]]]]]}}}}}}}}}}"',  # closers in a string close nothing
        '"[[[[[[[[[[{{{{{{{{{{"',  # nor do openers open anything
        '"a \\" ]]]]]]]]]] \\\\"',  # escaped quotes and backslashes inside the string
    ],
)
def test_json_nested_32_levels_is_read_and_33_is_too_deep(inner: str) -> None:
    import json

    deepest = _nested(32, inner)
    assert parse_json(deepest) == json.loads(deepest)
    with pytest.raises(ValueError, match="nested deeper than 32 levels"):
        parse_json(_nested(33, inner))
    # Strings that hide brackets cannot make a body deeper than it looks, nor shallower.
    hidden = b'["]",' * 40 + b"[1" + b',"["]' * 40 + b"]"
    with pytest.raises(ValueError, match="nested deeper than 32 levels"):
        parse_json(hidden)


@pytest.mark.parametrize(
    "body",
    [
        b'{"data":[{"id":"A","n":1,"x":1.5,"ok":true,"none":null,"e":"caf\\u00e9 \xc3\xa9"}]}',
        b"123456789012345678901234567890",
        b'{"a":1,"a":2}',
        b" [ ] ",
        b'"\\ud83d\\ude00 \\" \\\\ \\/"',
        b"NaN",  # json.loads takes it: so does parse_json, as before
        "[1]".encode("utf-16-le"),  # likewise a body in UTF-16
    ],
)
def test_a_body_reads_as_json_loads_reads_it(body: bytes) -> None:
    import json
    import math

    value = parse_json(body)
    expected = json.loads(body)
    assert value == expected or (math.isnan(value) and math.isnan(expected))


@pytest.mark.parametrize("body", [b"", b"{", b'{"a":01}', b"[1,]", b'"a\nb"', b"\xff", b"{} x"])
def test_a_body_json_loads_refuses_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError) as caught:
        parse_json(body)
    assert not isinstance(caught.value, JsonTooDeepError)


def test_random_bodies_are_read_and_refused_by_their_true_depth() -> None:
    """Seeded random JSON of every depth around the limit, its strings full of brackets,
    quotes and backslashes: read as json.loads reads it up to 32 levels, refused beyond."""
    import json
    import random

    rng = random.Random(16)
    pieces = ["[", "]", "{", "}", '"', "\\", "a", "é", " "]

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(4)))

    def value(depth: int) -> tuple[Any, int]:
        """A value nesting ``depth`` containers deep on one path, shallow ones beside it."""
        if depth <= 0:
            return rng.choice([text(), 1, 2.5, None, True]), 0
        children = [value(depth - 1)]
        children += [value(min(depth - 1, rng.randrange(2))) for _ in range(rng.randrange(3))]
        rng.shuffle(children)
        deepest = 1 + max(nested for _, nested in children)
        if rng.random() < 0.5:
            return [item for item, _ in children], deepest
        return {text() + str(i): item for i, (item, _) in enumerate(children)}, deepest

    for _ in range(300):
        document, depth = value(rng.randrange(28, 37))
        assert depth in range(28, 37)
        body = json.dumps(document, ensure_ascii=rng.random() < 0.5).encode()
        if depth <= 32:
            assert parse_json(body) == json.loads(body)
        else:
            with pytest.raises(JsonTooDeepError):
                parse_json(body)
