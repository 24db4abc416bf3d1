"""The outcomes of real-time authorizations: one row each time the CPO side asked an eMSP.

What the OCPI side saw when it asked (``ocpi.authorize``) is kept here for the assessment's
"real-time authorization success" indicator and for operators. Rows are appended, never changed,
and those older than the retention period are pruned in the same transaction as a new row, at
most once a minute of the records' time (not a second statement for every authorization).
This module only stores and reads; it must never decide what an outcome means.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.store import tables

__all__ = ["AuthorizationOutcome", "AuthorizationRecord", "AuthorizationRepository"]

_T = tables.realtime_authorizations
# Built once: a statement made anew for each record cost a third of the insert (issue 16).
_INSERT = insert(_T)


class AuthorizationOutcome(StrEnum):
    """What came back: the eMSP's AllowedType, or why no verdict came back."""

    ACCEPTED = "accepted"  # ALLOWED
    BLOCKED = "blocked"
    EXPIRED = "expired"
    NO_CREDIT = "no-credit"
    NOT_ALLOWED = "not-allowed"
    UNKNOWN = "unknown"  # the eMSP does not know the token (HTTP 404, OCPI 2004)
    TIMEOUT = "timeout"  # no answer within the OCPI request timeout
    ERROR = "error"  # unreachable, an error status, or an answer that does not parse


@dataclass(frozen=True, slots=True)
class AuthorizationRecord:
    asked_at: datetime
    country_code: str  # the CPO side's (the station's) country
    cpo_party_id: str
    token_party: str | None  # "CC-PID" of the token's issuer, when known
    emsp: str | None  # "CC-PID" of the eMSP asked, or the one that answered through a hub
    partner_id: str
    location_id: str | None
    evse_uid: str | None
    outcome: AuthorizationOutcome
    via_hub: bool
    latency_ms: int


class AuthorizationRepository:
    def __init__(self, engine: AsyncEngine, *, retention: timedelta = timedelta(days=90)) -> None:
        self._engine = engine
        self._retention = retention
        self._pruned_at: datetime | None = None  # the asked_at of the last add that pruned

    async def add(self, record: AuthorizationRecord) -> None:
        """Append ``record``; rows older than the retention period (from its time) go, when
        the last prune was a minute or more before it."""
        last = self._pruned_at
        prune = last is None or not timedelta(0) <= record.asked_at - last < timedelta(minutes=1)
        async with self._engine.begin() as connection:
            await connection.execute(_INSERT, asdict(record))
            if prune:
                await connection.execute(
                    delete(_T).where(_T.c.asked_at < record.asked_at - self._retention)
                )
        if prune:
            self._pruned_at = record.asked_at

    async def of_country(
        self, country_code: str, *, since: datetime | None = None
    ) -> list[AuthorizationRecord]:
        """The country's records (CPO side), oldest first; from ``since`` on when given."""
        query = select(_T).where(_T.c.country_code == country_code)
        if since is not None:
            query = query.where(_T.c.asked_at >= since)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query.order_by(_T.c.asked_at, _T.c.id))).all()
        return [
            AuthorizationRecord(
                **{
                    key: value
                    for key, value in row._mapping.items()
                    if key not in ("id", "outcome")
                },
                outcome=AuthorizationOutcome(row.outcome),
            )
            for row in rows
        ]
