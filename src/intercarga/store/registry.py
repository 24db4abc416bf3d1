"""What the national access point keeps besides the objects themselves: every EVSE status change
as reported (the input of reliability and uptime), the refusals counted against a CPO's quality
score, and how far each partner's periodic pull has read.

This module only stores and reads; it must never judge (the rules are in ``registry/``) nor
import a protocol or web package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain import EVSEStatus
from intercarga.store import tables

__all__ = [
    "EvseKey",
    "PullMark",
    "PullMarkRepository",
    "Refusal",
    "RefusalRepository",
    "StatusChange",
    "StatusHistoryRepository",
    "Via",
    "pull_key",
]

Via = Literal["PUSH", "PULL"]


class EvseKey(NamedTuple):
    """One EVSE of one CPO party: ``(country_code, party_id, location_id, evse_uid)``; a plain
    tuple, so pure modules can take it without importing the store."""

    country_code: str
    party_id: str
    location_id: str
    evse_uid: str

    def __str__(self) -> str:
        return f"{self.country_code}-{self.party_id}/{self.location_id}/{self.evse_uid}"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """An EVSE's status as a CPO reported it: effective ``at`` (the object's ``last_updated``),
    from ``source`` (the CPO party, ``CO-ABC``), ``via`` a push or a pull, ``received_at`` here."""

    evse: EvseKey
    at: datetime
    status: EVSEStatus
    source: str
    via: Via
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Refusal:
    """An object a CPO sent that was refused whole: the OCPI status code and its message."""

    country_code: str
    party_id: str
    module: str
    object_id: str
    status_code: int
    message: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PullMark:
    """How far a pull of one module of one CPO party of a partner has read (``module`` is
    :func:`pull_key`'s ``locations:CO-ABC``)."""

    partner_id: str
    module: str
    pulled_at: datetime
    objects: int


def pull_key(module: str, country_code: str, party_id: str) -> str:
    """A pull mark's ``module``: one per module and CPO party (``locations:CO-ABC``)."""
    return f"{module}:{country_code}-{party_id}"


_H = tables.registry_status_history
_R = tables.registry_refusals
_P = tables.registry_pull_marks


def _change(row: Row[Any]) -> StatusChange:
    return StatusChange(
        evse=EvseKey(row.country_code, row.party_id, row.location_id, row.evse_uid),
        at=row.at,
        status=EVSEStatus(row.status),
        source=row.source,
        via=row.via,
        received_at=row.received_at,
    )


class StatusHistoryRepository:
    """Every EVSE status change, append only."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, changes: Sequence[StatusChange]) -> None:
        """Append ``changes`` (one transaction)."""
        if not changes:
            return
        rows = [
            {
                "country_code": c.evse.country_code,
                "party_id": c.evse.party_id,
                "location_id": c.evse.location_id,
                "evse_uid": c.evse.evse_uid,
                "at": c.at,
                "status": c.status.value,
                "source": c.source,
                "via": c.via,
                "received_at": c.received_at,
            }
            for c in changes
        ]
        async with self._engine.begin() as connection:
            await connection.execute(insert(_H), rows)

    async def history(
        self, evse: EvseKey, since: datetime | None = None, until: datetime | None = None
    ) -> list[StatusChange]:
        """The EVSE's changes with ``since <= at < until``, oldest first, preceded by the last
        change before ``since`` (the status the period starts in), when there is one."""
        where = and_(
            _H.c.country_code == evse.country_code,
            _H.c.party_id == evse.party_id,
            _H.c.location_id == evse.location_id,
            _H.c.evse_uid == evse.evse_uid,
        )
        found: list[StatusChange] = []
        async with self._engine.connect() as connection:
            if since is not None:
                before = (
                    await connection.execute(
                        select(_H)
                        .where(where, _H.c.at < since)
                        .order_by(_H.c.at.desc(), _H.c.id.desc())
                        .limit(1)
                    )
                ).first()
                if before is not None:
                    found.append(_change(before))
            query = select(_H).where(where)
            if since is not None:
                query = query.where(_H.c.at >= since)
            if until is not None:
                query = query.where(_H.c.at < until)
            rows = (await connection.execute(query.order_by(_H.c.at, _H.c.id))).all()
        return found + [_change(row) for row in rows]

    async def of_party(
        self, country_code: str, party_id: str, since: datetime, until: datetime
    ) -> dict[EvseKey, list[StatusChange]]:
        """Every EVSE of a CPO party with changes in ``[since, until)``, each preceded by its
        last change before ``since`` — a whole network's input to reliability at once."""
        party = and_(_H.c.country_code == country_code, _H.c.party_id == party_id)
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(_H).where(party, _H.c.at < until).order_by(_H.c.at, _H.c.id)
                )
            ).all()
        result: dict[EvseKey, list[StatusChange]] = {}
        for row in rows:
            change = _change(row)
            kept = result.setdefault(change.evse, [])
            if change.at < since and kept and kept[-1].at < since:
                kept[-1] = change  # only the last change before the period matters
            else:
                kept.append(change)
        return result

    async def last_received(self) -> dict[EvseKey, datetime]:
        """When each EVSE's last report arrived here (the freshness monitor's input)."""
        # max() keeps the column's type, so SQLite's naive values come back timezone-aware.
        return await self._per_evse(func.max(_H.c.received_at))

    async def count_since(self, since: datetime) -> dict[EvseKey, int]:
        """How many changes each EVSE reported from ``since`` on (for the flapping rule)."""
        found = await self._per_evse(func.count(), _H.c.at >= since)
        return {key: int(count) for key, count in found.items()}

    async def _per_evse(self, aggregate: Any, *where: Any) -> dict[EvseKey, Any]:
        evse = (_H.c.country_code, _H.c.party_id, _H.c.location_id, _H.c.evse_uid)
        query = select(*evse, aggregate.label("value")).where(*where).group_by(*evse)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {
            EvseKey(r.country_code, r.party_id, r.location_id, r.evse_uid): r.value for r in rows
        }


class RefusalRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, refusal: Refusal) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(_R),
                [
                    {
                        "country_code": refusal.country_code,
                        "party_id": refusal.party_id,
                        "module": refusal.module,
                        "object_id": refusal.object_id[:64],
                        "status_code": refusal.status_code,
                        "message": refusal.message,
                        "at": refusal.at,
                    }
                ],
            )

    async def list(self, since: datetime | None = None, limit: int = 1000) -> list[Refusal]:
        """Refusals, newest first."""
        query = select(_R).order_by(_R.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(_R.c.at >= since)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            Refusal(
                r.country_code, r.party_id, r.module, r.object_id, r.status_code, r.message, r.at
            )
            for r in rows
        ]


class PullMarkRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, partner_id: str, module: str) -> PullMark | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(_P).where(_P.c.partner_id == partner_id, _P.c.module == module)
                )
            ).first()
        return (
            None
            if row is None
            else PullMark(row.partner_id, row.module, row.pulled_at, row.objects)
        )

    async def put(self, mark: PullMark) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(_P).where(_P.c.partner_id == mark.partner_id, _P.c.module == mark.module)
            )
            await connection.execute(
                insert(_P),
                [
                    {
                        "partner_id": mark.partner_id,
                        "module": mark.module,
                        "pulled_at": mark.pulled_at,
                        "objects": mark.objects,
                    }
                ],
            )
