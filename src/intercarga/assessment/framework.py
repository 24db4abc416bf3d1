"""The assessment framework, read from data/framework.toml: layers, criteria, levels, desired
levels per market configuration, measured indicators and sources.

The framework is data written down once; this module only validates and serves it. It must never
do I/O beyond reading its own package data.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from intercarga.errors import InvalidInputError

__all__ = [
    "LAYERS",
    "Criterion",
    "DesiredLevel",
    "DesiredRule",
    "Framework",
    "FrameworkIndicator",
    "Layer",
    "Level",
    "Market",
    "Reference",
    "choose",
    "framework",
    "layer_of",
]

LAYERS = ("hardware", "communication", "information", "service", "business")


class Market(StrEnum):
    """The country's energy market configuration for EV charging (the study's two, plus two)."""

    COMPETITIVE = "competitive"
    REGULATED_UTILITY = "regulated_utility"
    MIXED = "mixed"
    UNKNOWN = "unknown"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Data):
    value: int = Field(ge=0, le=4)
    name: str
    evidence: str


class Criterion(_Data):
    id: str
    question: str
    references: list[str]


class Layer(_Data):
    id: str
    question: str
    criterion: list[Criterion]


class DesiredLevel(_Data):
    level: int = Field(ge=0, le=4)
    why: str
    references: list[str]


class DesiredRule(_Data):
    default: int = Field(ge=0, le=4)
    why: str
    references: list[str]
    criteria: dict[str, DesiredLevel] = Field(default_factory=dict)


class FrameworkIndicator(_Data):
    id: str
    criterion: str
    formula: str
    unit: Literal["share", "count"]
    good: float
    poor: float


class Reference(_Data):
    title: str
    url: str
    date: date


class Defaults(_Data):
    status_max_age_seconds: int = Field(gt=0)
    inlet_distance_km: float = Field(gt=0, le=500)
    authorization_window_days: int = Field(gt=0)


class Framework(_Data):
    title: str
    as_of: date
    level: list[Level] = Field(min_length=5, max_length=5)
    layer: list[Layer]
    desired: dict[Market, DesiredRule]
    indicator: list[FrameworkIndicator]
    defaults: Defaults
    source: dict[str, Reference]

    @model_validator(mode="after")
    def _consistent(self) -> Framework:
        if [layer.id for layer in self.layer] != list(LAYERS):
            raise ValueError(f"layers must be {', '.join(LAYERS)} in that order")
        if set(self.desired) != set(Market):
            raise ValueError("desired levels must cover every market configuration")
        ids = self.criterion_ids()
        cited = [ref for c in self.criteria() for ref in c.references]
        for rule in self.desired.values():
            cited += rule.references
            for key, wanted in rule.criteria.items():
                if key not in ids:
                    raise ValueError(f"desired level for unknown criterion {key}")
                cited += wanted.references
        for indicator in self.indicator:
            if indicator.criterion not in ids:
                raise ValueError(f"indicator {indicator.id} names unknown criterion")
        missing = sorted(set(cited) - set(self.source))
        if missing:
            raise ValueError(f"references without a source: {', '.join(missing)}")
        return self

    def criteria(self) -> list[Criterion]:
        return [criterion for layer in self.layer for criterion in layer.criterion]

    def criterion_ids(self) -> list[str]:
        """Every criterion as ``layer.criterion``, in framework order."""
        return [f"{layer.id}.{c.id}" for layer in self.layer for c in layer.criterion]

    def desired_level(self, market: Market, criterion: str) -> tuple[int, str, list[str]]:
        """The desired level of ``criterion`` under ``market``, why, and its references."""
        rule = self.desired[market]
        specific = rule.criteria.get(criterion)
        if specific is not None:
            return specific.level, specific.why, specific.references
        return rule.default, rule.why, rule.references

    def level_name(self, value: int) -> str:
        return self.level[value].name


def choose(field: str, value: str, valid: Iterable[str]) -> str:
    """``value`` if it is one of ``valid``, else one line naming the field and the valid values
    (the CLI's exit 2, the API's 422)."""
    choices = list(valid)
    if value not in choices:
        raise InvalidInputError(
            f"unknown {field} {value!r}; valid: {', '.join(choices) or '(none)'}", field=field
        )
    return value


def layer_of(criterion: str) -> str:
    return criterion.split(".", 1)[0]


@cache
def framework() -> Framework:
    """The framework shipped in the package (read once per process)."""
    text = resources.files("intercarga.assessment").joinpath("data/framework.toml").read_bytes()
    try:
        return Framework.model_validate(tomllib.loads(text.decode("utf-8")))
    except (ValidationError, tomllib.TOMLDecodeError) as error:
        # A broken framework is a packaging fault; still one line naming the file.
        raise InvalidInputError(f"framework.toml: {error}".splitlines()[0]) from None
