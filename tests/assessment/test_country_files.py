"""The country dataset of the interoperability assessment, checked on its own.

Reads src/intercarga/assessment/data/countries/*.toml with tomllib only and holds every file to
the shared format the countries README documents: the 33 CELAC
countries are all present, every criterion and layer id is known, levels are 0..4, confidence and
market are from their enums, every fact names its source (title, date, url or document), no date
lies in the future, and every summary says something. It must never import the assessment
package: the loader is tested on its own branch; this test proves the data without it.
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

COUNTRIES_DIR = (
    Path(__file__).resolve().parents[2] / "src" / "intercarga" / "assessment" / "data" / "countries"
)

# The 33 CELAC members, as the schema lists them.
# fmt: off
LAC_CODES = frozenset({
    "AG", "AR", "BS", "BB", "BZ", "BO", "BR", "CL", "CO", "CR", "CU", "DM", "DO", "EC", "SV", "GD",
    "GT", "GY", "HT", "HN", "JM", "MX", "NI", "PA", "PY", "PE", "KN", "LC", "VC", "SR", "TT", "UY",
    "VE",
})
# fmt: on

LAYERS = frozenset({"hardware", "communication", "information", "service", "business"})

CRITERIA = frozenset(
    {
        "hardware.connector_mandate",
        "hardware.inlet_coverage",
        "hardware.adapters",
        "communication.ocpp",
        "communication.security",
        "information.registry",
        "information.realtime_status",
        "information.published_prices",
        "information.open_data",
        "information.id_scheme",
        "service.roaming",
        "service.adhoc_payment",
        "service.one_credential",
        "service.realtime_authorization",
        "business.who_may_sell",
        "business.tariff_regime",
        "business.regulator_mandate",
        "business.market_configuration",
    }
)

CONFIDENCES = frozenset({"verified", "unverified", "inferred"})
MARKETS = frozenset({"competitive", "regulated_utility", "mixed", "unknown"})

# The big markets the brief asks to cover in depth: most of the 18 criteria filled.
BIG_COUNTRIES = ("AR", "BR", "CL", "CO", "CR", "MX", "PE", "UY")

TOP_KEYS = frozenset({"code", "name", "market", "market_note", "as_of", "market_source", "facts"})
FACT_KEYS = frozenset({"criterion", "level", "summary", "as_of", "confidence", "source"})
SOURCE_KEYS = frozenset({"title", "url", "document", "date"})
MARKET_SOURCE_KEYS = SOURCE_KEYS | {"confidence"}

TODAY = dt.datetime.now(dt.UTC).date()


def _load(code: str) -> dict[str, Any]:
    with (COUNTRIES_DIR / f"{code}.toml").open("rb") as handle:
        return tomllib.load(handle)


def _country_files() -> list[Path]:
    return sorted(COUNTRIES_DIR.glob("*.toml"))


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _date_problems(where: str, field: str, value: object) -> list[str]:
    """A TOML date (not a datetime, not a string) that does not lie in the future."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        return [f"{where}: {field} is not a TOML date"]
    if value > TODAY:
        return [f"{where}: {field} {value} is in the future"]
    return []


def _problems_of_source(where: str, source: object, allowed: frozenset[str]) -> list[str]:
    if not isinstance(source, dict):
        return [f"{where}: missing or not a table"]
    problems = [f"{where}: unknown key {key!r}" for key in sorted(set(source) - allowed)]
    if not _is_text(source.get("title")):
        problems.append(f"{where}: no title")
    problems += _date_problems(where, "date", source.get("date"))
    url = source.get("url")
    if not _is_text(url) and not _is_text(source.get("document")):
        problems.append(f"{where}: neither url nor document")
    if isinstance(url, str) and not url.startswith(("https://", "http://")):
        problems.append(f"{where}: url {url!r} is not an http(s) address")
    return problems


def _problems_of_fact(where: str, fact: object) -> list[str]:
    if not isinstance(fact, dict):
        return [f"{where}: not a table"]
    problems = [f"{where}: unknown key {key!r}" for key in sorted(set(fact) - FACT_KEYS)]
    criterion = fact.get("criterion")
    if criterion not in CRITERIA:
        problems.append(f"{where}: unknown criterion {criterion!r}")
    elif str(criterion).split(".", 1)[0] not in LAYERS:
        problems.append(f"{where}: unknown layer in {criterion!r}")
    if "level" in fact:
        level = fact["level"]
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 4:
            problems.append(f"{where}: level {level!r} is not an int 0..4")
    if not _is_text(fact.get("summary")):
        problems.append(f"{where}: empty summary")
    problems += _date_problems(where, "as_of", fact.get("as_of"))
    if fact.get("confidence") not in CONFIDENCES:
        problems.append(f"{where}: confidence {fact.get('confidence')!r} not in {CONFIDENCES}")
    problems += _problems_of_source(f"{where}.source", fact.get("source"), SOURCE_KEYS)
    return problems


def _problems_of_country(code: str, data: dict[str, Any]) -> list[str]:
    problems = [f"{code}: unknown key {key!r}" for key in sorted(set(data) - TOP_KEYS)]
    if data.get("code") != code:
        problems.append(f"{code}: code is {data.get('code')!r}, not the file name")
    if not _is_text(data.get("name")):
        problems.append(f"{code}: no name")
    market = data.get("market")
    if market not in MARKETS:
        problems.append(f"{code}: market {market!r} not in {MARKETS}")
    if not _is_text(data.get("market_note")):
        problems.append(f"{code}: empty market_note")
    problems += _date_problems(code, "as_of", data.get("as_of"))
    if market != "unknown":
        market_source = data.get("market_source")
        problems += _problems_of_source(f"{code}.market_source", market_source, MARKET_SOURCE_KEYS)
        if isinstance(market_source, dict) and market_source.get("confidence") not in CONFIDENCES:
            problems.append(f"{code}.market_source: confidence not in {CONFIDENCES}")
    facts = data.get("facts", [])
    if not isinstance(facts, list):
        return [*problems, f"{code}: facts is not an array of tables"]
    for index, fact in enumerate(facts):
        problems += _problems_of_fact(f"{code}.facts[{index}]", fact)
    return problems


def test_every_lac_country_has_exactly_one_file() -> None:
    present = {path.stem for path in _country_files()}
    assert present == LAC_CODES, (
        f"missing: {sorted(LAC_CODES - present)}; not LAC: {sorted(present - LAC_CODES)}"
    )


@pytest.mark.parametrize("code", sorted(LAC_CODES))
def test_country_file_follows_the_schema(code: str) -> None:
    assert _problems_of_country(code, _load(code)) == []


@pytest.mark.parametrize("code", sorted(LAC_CODES))
def test_country_facts_are_not_duplicated(code: str) -> None:
    """Two facts with the same criterion and summary are one fact entered twice."""
    facts = _load(code).get("facts", [])
    keys = [(fact["criterion"], fact["summary"]) for fact in facts]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("code", BIG_COUNTRIES)
def test_big_markets_are_covered_in_depth(code: str) -> None:
    """The eight big markets carry at least five facts, in the hardware and business layers."""
    facts = _load(code).get("facts", [])
    layers = {fact["criterion"].split(".", 1)[0] for fact in facts}
    assert len(facts) >= 5, f"{code} has only {len(facts)} facts"
    assert {"hardware", "business"} <= layers, f"{code} covers only {sorted(layers)}"


def test_every_country_states_its_market_configuration() -> None:
    """The business layer is never blank: every country has a known market configuration."""
    unknown = sorted(code for code in LAC_CODES if _load(code)["market"] == "unknown")
    assert unknown == []


# The checker itself must reject what the schema forbids; otherwise a green run proves nothing.
_GOOD: dict[str, Any] = {
    "code": "CO",
    "name": "Colombia",
    "market": "competitive",
    "market_note": "Anyone may sell charging.",
    "as_of": dt.date(2026, 1, 1),
    "market_source": {
        "title": "Resolución 40233 de 2021",
        "document": "Res. MME 40233/2021",
        "date": dt.date(2021, 7, 9),
        "confidence": "verified",
    },
    "facts": [
        {
            "criterion": "service.roaming",
            "level": 3,
            "summary": "OCPI 2.2.1 between CPO and eMSP.",
            "as_of": dt.date(2025, 11, 21),
            "confidence": "verified",
            "source": {
                "title": "Res. 40559",
                "url": "https://x.example",
                "date": dt.date(2025, 11, 21),
            },
        }
    ],
}


_DELETE = object()


def _with(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    data = copy.deepcopy(_GOOD)
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def test_checker_accepts_the_schema_example() -> None:
    assert _problems_of_country("CO", _GOOD) == []


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("facts", 0, "criterion"), "service.teleport", "unknown criterion"),
        (("facts", 0, "level"), 5, "not an int 0..4"),
        (("facts", 0, "level"), True, "not an int 0..4"),
        (("facts", 0, "confidence"), "sure", "confidence"),
        (("facts", 0, "summary"), "  ", "empty summary"),
        (("facts", 0, "as_of"), TODAY + dt.timedelta(days=1), "in the future"),
        (("facts", 0, "source", "url"), _DELETE, "neither url nor document"),
        (("facts", 0, "source", "title"), _DELETE, "no title"),
        (("facts", 0, "source", "date"), "2025-11-21", "not a TOML date"),
        (("market",), "liberal", "market"),
        (("market_source", "confidence"), "maybe", "confidence"),
        (("code",), "CL", "not the file name"),
    ],
)
def test_checker_rejects_what_the_schema_forbids(
    path: tuple[str | int, ...], value: object, complaint: str
) -> None:
    problems = _problems_of_country("CO", _with(path, value))
    assert any(complaint in problem for problem in problems), problems
