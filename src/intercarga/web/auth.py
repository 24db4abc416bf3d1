"""Bearer-token authentication of the admin API.

Either one token comes from the configuration (``INTERCARGA_ADMIN_TOKEN``), or tokens are made by
Intercarga and only their SHA-256 hashes are stored. This module must never log a token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain._types import utc_now
from intercarga.security import hash_token, new_token, tokens_equal
from intercarga.store import tables

__all__ = ["AdminAuth", "UnauthorizedError", "require_admin"]


class UnauthorizedError(Exception):
    """No token, or a token this deployment did not issue."""


class AdminAuth:
    def __init__(self, engine: AsyncEngine, configured_token: str | None) -> None:
        self._engine = engine
        self._configured = configured_token
        self._known_hashes: set[str] = set()

    async def ensure_token(self) -> str | None:
        """Make the first admin token when none is configured or stored; return it (once)."""
        if self._configured is not None:
            return None
        async with self._engine.begin() as connection:
            rows = (await connection.execute(select(tables.admin_tokens.c.token_hash))).all()
            self._known_hashes = {row.token_hash for row in rows}
            if self._known_hashes:
                return None
        return await self.issue_token()

    async def issue_token(self, *, revoke_others: bool = False) -> str:
        token = new_token()
        digest = hash_token(token)
        async with self._engine.begin() as connection:
            if revoke_others:
                await connection.execute(tables.admin_tokens.delete())
                self._known_hashes.clear()
            await connection.execute(
                insert(tables.admin_tokens).values(token_hash=digest, created_at=utc_now())
            )
        self._known_hashes.add(digest)
        return token

    async def verify(self, token: str) -> bool:
        if self._configured is not None:
            return tokens_equal(token, self._configured)
        digest = hash_token(token)
        if digest in self._known_hashes:
            return True
        # Another node or `intercarga db admin-token` may have issued it since we last looked.
        async with self._engine.connect() as connection:
            query = select(tables.admin_tokens.c.id).where(
                tables.admin_tokens.c.token_hash == digest
            )
            found = (await connection.execute(query)).first() is not None
        if found:
            self._known_hashes.add(digest)
        return found


_bearer = HTTPBearer(auto_error=False, description="The admin token printed on first start")


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    auth: AdminAuth = request.app.state.admin_auth
    if credentials is None or not await auth.verify(credentials.credentials):
        raise UnauthorizedError()
