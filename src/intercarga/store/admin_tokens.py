"""The hashes of the admin API tokens Intercarga issued (never the tokens themselves).

Which token is accepted, and when a first one is made, is :mod:`intercarga.web.auth`'s business;
this module only keeps the hashes.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain._types import utc_now
from intercarga.store import tables

__all__ = ["AdminTokenRepository"]


class AdminTokenRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._table = tables.admin_tokens

    async def hashes(self) -> set[str]:
        async with self._engine.begin() as connection:
            rows = (await connection.execute(select(self._table.c.token_hash))).all()
        return {row.token_hash for row in rows}

    async def add(self, token_hash: str, *, revoke_others: bool = False) -> None:
        """Store a new token's hash; with ``revoke_others`` every other hash goes, atomically."""
        async with self._engine.begin() as connection:
            if revoke_others:
                await connection.execute(self._table.delete())
            await connection.execute(
                insert(self._table).values(token_hash=token_hash, created_at=utc_now())
            )

    async def contains(self, token_hash: str) -> bool:
        async with self._engine.connect() as connection:
            query = select(self._table.c.id).where(self._table.c.token_hash == token_hash)
            return (await connection.execute(query)).first() is not None
