"""Stored runs of the country assessment: one row per run, read back oldest first.

The assessment itself is computed by :mod:`intercarga.assessment`; this module only keeps what a
run found (levels per layer, and the whole assessment as JSON) with its date. It must never
import the assessment, a protocol or a web package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store import tables

__all__ = ["AssessmentRun", "AssessmentRunRepository"]

_T = tables.assessment_runs


@dataclass(frozen=True, slots=True)
class AssessmentRun:
    country_code: str
    assessed_at: datetime
    live_data: bool
    levels: dict[str, float | None]
    assessment: dict[str, Any]


class AssessmentRunRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, run: AssessmentRun) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(_T).values(
                    country_code=run.country_code,
                    assessed_at=run.assessed_at,
                    live_data=run.live_data,
                    levels=run.levels,
                    assessment=run.assessment,
                )
            )

    async def history(self, country_code: str, limit: int = 100) -> list[AssessmentRun]:
        """The newest ``limit`` runs of the country, oldest first."""
        query = (
            select(_T)
            .where(_T.c.country_code == country_code)
            .order_by(_T.c.assessed_at.desc(), _T.c.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            AssessmentRun(
                country_code=row.country_code,
                assessed_at=row.assessed_at,
                live_data=row.live_data,
                levels=dict(row.levels),
                assessment=dict(row.assessment),
            )
            for row in reversed(rows)
        ]
