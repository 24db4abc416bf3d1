"""Recommendations: each gap of an assessment turned into ordered, concrete steps for the
government, by the country's market configuration, each citing a regional precedent and the
layers it unblocks.

The rules are data (data/recommendations.toml); this module selects and orders them. Pure: it
must never do I/O beyond reading its own package data.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, model_validator

from intercarga.assessment.framework import LAYERS, Market, framework
from intercarga.assessment.scoring import CountryAssessment

__all__ = ["Precedent", "Recommendation", "RecommendationRule", "recommend", "rules"]

# Mixed and unknown markets follow the competitive rules: several operators are possible there.
_RULE_MARKET = {
    Market.COMPETITIVE: Market.COMPETITIVE,
    Market.REGULATED_UTILITY: Market.REGULATED_UTILITY,
    Market.MIXED: Market.COMPETITIVE,
    Market.UNKNOWN: Market.COMPETITIVE,
}


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Precedent(_Data):
    country: str
    title: str
    document: str
    date: date


class RecommendationRule(_Data):
    id: str
    criterion: str
    markets: list[Market] = Field(min_length=1)
    order: int
    action: str
    precedent: str
    unblocks: list[str] = Field(min_length=1)


class _Rules(_Data):
    precedent: dict[str, Precedent]
    rule: list[RecommendationRule]

    @model_validator(mode="after")
    def _consistent(self) -> _Rules:
        ids = framework().criterion_ids()
        for rule in self.rule:
            if rule.criterion not in ids:
                raise ValueError(f"rule {rule.id}: unknown criterion {rule.criterion}")
            if rule.precedent not in self.precedent:
                raise ValueError(f"rule {rule.id}: unknown precedent {rule.precedent}")
            if not set(rule.unblocks) <= set(LAYERS):
                raise ValueError(f"rule {rule.id}: unknown layer in unblocks")
        return self


class Recommendation(BaseModel):
    rank: int
    rule: str
    criterion: str
    current: int | None
    desired: int
    action: str
    precedent: Precedent
    unblocks: list[str]


@cache
def rules() -> _Rules:
    text = resources.files("intercarga.assessment").joinpath("data/recommendations.toml")
    return _Rules.model_validate(tomllib.loads(text.read_text(encoding="utf-8")))


def recommend(assessment: CountryAssessment) -> list[Recommendation]:
    """The steps closing ``assessment``'s gaps, foundations first.

    A criterion with a gap (current below desired) or unknown gets its market's rule; the order
    is the rule's ``order``, then the larger gap first.
    """
    market = _RULE_MARKET[assessment.market]
    table = rules()
    chosen = []
    for layer in assessment.layers:
        for score in layer.criteria:
            if score.current is not None and score.current >= score.desired:
                continue
            for rule in table.rule:
                if rule.criterion == score.criterion and market in rule.markets:
                    gap = score.desired - (score.current or 0)
                    chosen.append((rule.order, -gap, rule, score.current, score.desired))
    chosen.sort(key=lambda item: (item[0], item[1], item[2].id))
    return [
        Recommendation(
            rank=rank,
            rule=rule.id,
            criterion=rule.criterion,
            current=current,
            desired=desired,
            action=rule.action,
            precedent=table.precedent[rule.precedent],
            unblocks=rule.unblocks,
        )
        for rank, (_, _, rule, current, desired) in enumerate(chosen, start=1)
    ]
