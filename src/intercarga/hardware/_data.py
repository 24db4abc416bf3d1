"""Loading the hardware data files shipped in the package, and the shared provenance types.

The data files (sources.toml, connectors.toml, vehicles.toml, country_rules.toml) are the
single place where hardware facts live; code never restates a fact. Loading is cached: the files
are read once per process. This module must never write files or reach the network.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Confidence",
    "DataModel",
    "Provenance",
    "Source",
    "load_toml",
    "near_matches",
    "simplify",
    "sources",
]


class DataModel(BaseModel):
    """Base of the catalogue records: immutable, unknown keys refused so typos in data fail."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Confidence(StrEnum):
    DOCUMENTED = "documented"  # the source states it
    INFERRED = "inferred"  # our reading of the source
    UNVERIFIED = "unverified"  # widely reported; no document checked


class Provenance(DataModel):
    source: str
    date: str
    confidence: Confidence


class Source(DataModel):
    key: str
    title: str
    where: str
    date: str
    licence: str | None = None


def load_toml(name: str) -> dict[str, Any]:
    """The parsed data file ``name`` from the package's data folder."""
    text = resources.files("intercarga.hardware").joinpath("data").joinpath(name).read_bytes()
    return tomllib.loads(text.decode("utf-8"))


@cache
def sources() -> dict[str, Source]:
    raw = load_toml("sources.toml")["source"]
    return {key: Source(key=key, **value) for key, value in raw.items()}


def simplify(name: str) -> str:
    """A name folded for matching: case, spaces and punctuation do not count."""
    return re.sub(r"[\s\-_./()]+", "", name.casefold())


def near_matches(name: str, candidates: dict[str, str], limit: int = 5) -> list[str]:
    """Display names whose simplified key is close to ``name`` (difflib), best first.

    ``candidates`` maps simplified key → display name; several keys may share a display name.
    """
    keys = difflib.get_close_matches(simplify(name), list(candidates), n=limit * 3, cutoff=0.5)
    contained = [k for k in candidates if simplify(name) and simplify(name) in k]
    found: list[str] = []
    for key in [*keys, *contained]:
        display = candidates[key]
        if display not in found:
            found.append(display)
    return found[:limit]
