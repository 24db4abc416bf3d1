"""The country dataset: one TOML file per country (data/countries/XX.toml), validated on load.

The format is the shared contract in docs/assessment.md ("Country files"). A file that breaks it
fails loading with one line naming the file, the country and the field (:class:`CountryDataError`).
Unknown facts are simply absent: nothing here fills a gap. This module reads files and must never
write them, reach the network or touch the store.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from intercarga.assessment.framework import Market, choose, framework
from intercarga.errors import InvalidInputError

__all__ = [
    "LAC_COUNTRIES",
    "Confidence",
    "CountryDataError",
    "CountryFile",
    "Fact",
    "FactSource",
    "check_country_code",
    "country_files",
    "load_countries",
    "load_country",
]

# The 33 CELAC members, the region the study covers.
LAC_COUNTRIES = [
    "AG",
    "AR",
    "BS",
    "BB",
    "BZ",
    "BO",
    "BR",
    "CL",
    "CO",
    "CR",
    "CU",
    "DM",
    "DO",
    "EC",
    "SV",
    "GD",
    "GT",
    "GY",
    "HT",
    "HN",
    "JM",
    "MX",
    "NI",
    "PA",
    "PY",
    "PE",
    "KN",
    "LC",
    "VC",
    "SR",
    "TT",
    "UY",
    "VE",
]


class Confidence(StrEnum):
    VERIFIED = "verified"  # the cited document states it
    UNVERIFIED = "unverified"  # reported, the document not checked
    INFERRED = "inferred"  # a reading of the sources, not a statement of them


class CountryDataError(InvalidInputError):
    """A country file breaks the format: names the file, the country and the field."""

    def __init__(self, file: str, country: str, field: str, reason: str) -> None:
        super().__init__(f"{file}: country {country}: {field}: {reason}", field=None)
        self.file = file
        self.country = country
        self.field = field
        self.reason = reason


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactSource(_Data):
    title: str = Field(min_length=1)
    url: str | None = None
    document: str | None = None
    date: date
    confidence: Confidence | None = None

    @model_validator(mode="after")
    def _where(self) -> FactSource:
        if not self.url and not self.document:
            raise ValueError("a source needs a url or a document")
        return self


class Fact(_Data):
    criterion: str
    level: int | None = Field(default=None, ge=0, le=4)
    summary: str = Field(min_length=1)
    as_of: date
    confidence: Confidence
    source: FactSource

    @field_validator("criterion")
    @classmethod
    def _known(cls, value: str) -> str:
        ids = framework().criterion_ids()
        if value not in ids:
            raise ValueError(f"unknown criterion {value!r}; valid: {', '.join(ids)}")
        return value


class CountryFile(_Data):
    code: str = Field(pattern=r"^[A-Z]{2}$")
    name: str = Field(min_length=1)
    market: Market
    market_note: str = ""
    as_of: date
    market_source: FactSource
    # Additive extension (docs/assessment.md): the country's maximum age of a reported EVSE
    # status, e.g. 60 for Colombia's 60-second reporting; the framework's default otherwise.
    status_max_age_seconds: int | None = Field(default=None, gt=0)
    # The distance within which a populated place counts as served by a compatible connector
    # (hardware.inlet_coverage), e.g. shorter for a small island; the framework's default otherwise.
    inlet_distance_km: float | None = Field(default=None, gt=0, le=500)
    facts: list[Fact] = Field(default_factory=list)

    @field_validator("code")
    @classmethod
    def _lac(cls, value: str) -> str:
        if value not in LAC_COUNTRIES:
            raise ValueError(f"{value} is not one of the 33 LAC countries")
        return value

    def facts_for(self, criterion: str) -> list[Fact]:
        return [fact for fact in self.facts if fact.criterion == criterion]


def check_country_code(code: str, known: Iterable[str]) -> str:
    """``code`` upper-cased if it is a country with a file; else one line with the valid codes."""
    return choose("country", code.strip().upper(), sorted(known))


def _data_dir(directory: Path | None) -> Traversable:
    if directory is not None:
        return directory
    return resources.files("intercarga.assessment").joinpath("data/countries")


def country_files(directory: Path | None = None) -> dict[str, Traversable]:
    """The country files found, by the code their name gives (``CO.toml`` → ``CO``)."""
    folder = _data_dir(directory)
    if not folder.is_dir():
        return {}
    return {
        entry.name.removesuffix(".toml"): entry
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    }


def _location(error: ErrorDetails) -> str:
    parts: list[str] = []
    for part in error["loc"]:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts) or "(file)"


def _parse(name: str, entry: Traversable) -> CountryFile:
    stem = name.removesuffix(".toml")
    try:
        raw = tomllib.loads(entry.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CountryDataError(name, stem, "(syntax)", str(error)) from None
    country = str(raw.get("code", stem))
    try:
        parsed = CountryFile.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise CountryDataError(name, country, _location(first), reason) from None
    if parsed.code != stem:
        raise CountryDataError(name, country, "code", f"does not match the file name {name}")
    return parsed


def load_country(code: str, directory: Path | None = None) -> CountryFile:
    """The validated file of ``code``; an unknown code is one line naming the valid ones."""
    files = country_files(directory)
    wanted = check_country_code(code, files)
    return _parse(f"{wanted}.toml", files[wanted])


def load_countries(directory: Path | None = None) -> dict[str, CountryFile]:
    """Every country file, validated, by code (the first broken file stops the load)."""
    return {code: _parse(f"{code}.toml", entry) for code, entry in country_files(directory).items()}
