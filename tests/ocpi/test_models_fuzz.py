"""Hypothesis: no body a partner sends makes OCPI parsing or mapping fail other than cleanly.

The spec's own examples are mutated (a value replaced by any JSON value, a field removed, an
unknown field added) and read as a receiver reads them: parsed into the version's model, then
mapped to the domain. Each step either accepts the body or refuses it with the typed error the
edge turns into an OCPI status code — a ``ValidationError`` described in one line, or an
:class:`~intercarga.errors.IntercargaError` — never another exception. ``make fuzz`` runs these
long (``tests/fuzzing.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from intercarga.errors import IntercargaError
from intercarga.ocpi import mapping
from intercarga.ocpi.envelope import describe_validation_error
from intercarga.ocpi.models import dump, parse, v221, v230
from tests.fuzzing import examples

EXAMPLES = Path(__file__).parent.parent / "data" / "ocpi-examples"
PARTY = ("CO", "CPO")


def _to_domain(kind: str) -> Callable[[Any], object]:
    return {
        "cdr": mapping.cdr_to_domain,
        "location": lambda obj: mapping.location_to_domain(obj, PARTY),
        "session": mapping.session_to_domain,
        "tariff": lambda obj: mapping.tariff_to_domain(obj, PARTY),
        "token": lambda obj: mapping.token_to_domain(obj, PARTY),
    }[kind]


def _cases() -> list[tuple[str, str, Any, Any]]:
    """(version, kind, model, example body) of every whole-object example of 2.2.1 and 2.3.0."""
    found = []
    for version, module in (("2.2.1", v221), ("2.3.0", v230)):
        kinds = {
            "cdr_": ("cdr", module.CDR),
            "location_example": ("location", module.Location),
            "session_example": ("session", module.Session),
            "tariff_": ("tariff", module.Tariff),
            "token_example": ("token", module.Token),
        }
        for path in sorted((EXAMPLES / version).glob("*.json")):
            for prefix, (kind, model) in kinds.items():
                if path.name.startswith(prefix):
                    found.append((version, kind, model, json.loads(path.read_text())))
    return found


CASES = _cases()
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=()), max_size=30)
    | st.sampled_from(["2015-06-29T20:39:09Z", "2015-06-29T20:39:09+01:00", "AC_3_PHASE", "kWh"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``value`` that holds a value (the root excluded)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, (dict, list)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            found.append((*prefix, key))
            found.extend(_paths(child, (*prefix, key)))
    return found


def _mutate(body: Any, data: st.DataObject) -> Any:
    body = json.loads(json.dumps(body))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = _paths(body)
        if not paths:
            break
        where = data.draw(st.sampled_from(paths), label="where")
        parent = body
        for key in where[:-1]:
            parent = parent[key]
        how = data.draw(st.sampled_from(["replace", "remove", "add"]), label="how")
        if how == "replace":
            parent[where[-1]] = data.draw(JSON_VALUES, label="value")
        elif how == "remove":
            del parent[where[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(min_size=1, max_size=10), label="field")] = data.draw(
                JSON_VALUES, label="value"
            )
    return body


@settings(
    max_examples=examples(300, 15_000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=st.sampled_from(CASES), data=st.data())
def test_a_mutated_object_is_accepted_or_refused_cleanly(
    case: tuple[str, str, Any, Any], data: st.DataObject
) -> None:
    _version, kind, model, example = case
    body = _mutate(example, data)
    try:
        parsed = parse(model, body)
    except ValidationError as error:
        description = describe_validation_error(error)
        assert description and "\n" not in description
        return
    # Accepted: what we would send back parses again to the same object.
    again = parse(model, json.loads(json.dumps(dump(parsed))))
    assert dump(again) == dump(parsed)
    try:
        _to_domain(kind)(parsed)
    except IntercargaError as error:
        assert str(error) and "\n" not in str(error)


@settings(max_examples=examples(200, 8_000), deadline=None)
@given(case=st.sampled_from(CASES), body=JSON_VALUES)
def test_any_json_value_is_refused_cleanly(case: tuple[str, str, Any, Any], body: Any) -> None:
    _version, _kind, model, _example = case
    try:
        parse(model, body)
    except ValidationError as error:
        assert "\n" not in describe_validation_error(error)


def test_a_field_name_with_a_line_break_is_quoted_in_the_one_line_error() -> None:
    """Found by the first property: the partner's field name broke the status message (and the
    log line) in two."""
    try:
        parse(v221.Token, {"uid\nX-Injected: yes": 1})
    except ValidationError as error:
        description = describe_validation_error(error)
    else:
        raise AssertionError("an empty token was accepted")
    assert "\n" not in description
    assert '"uid\\nX-Injected: yes": unknown field (not in this OCPI version)' in description
