"""Bearer-token authentication of the admin API.

Either one token comes from the configuration (``INTERCARGA_ADMIN_TOKEN``), or tokens are made by
Intercarga and only their SHA-256 hashes are stored. This module must never log a token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from intercarga.security import hash_token, new_token, tokens_equal
from intercarga.store.admin_tokens import AdminTokenRepository

__all__ = ["AdminAuth", "UnauthorizedError", "require_admin"]


class UnauthorizedError(Exception):
    """No token, or a token this deployment did not issue."""


class AdminAuth:
    def __init__(self, tokens: AdminTokenRepository, configured_token: str | None) -> None:
        self._tokens = tokens
        self._configured = configured_token
        self._known_hashes: set[str] = set()

    async def ensure_token(self) -> str | None:
        """Make the first admin token when none is configured or stored; return it (once)."""
        if self._configured is not None:
            return None
        self._known_hashes = await self._tokens.hashes()
        if self._known_hashes:
            return None
        return await self.issue_token()

    async def issue_token(self, *, revoke_others: bool = False) -> str:
        token = new_token()
        digest = hash_token(token)
        await self._tokens.add(digest, revoke_others=revoke_others)
        if revoke_others:
            self._known_hashes.clear()
        self._known_hashes.add(digest)
        return token

    async def verify(self, token: str) -> bool:
        if self._configured is not None:
            return tokens_equal(token, self._configured)
        digest = hash_token(token)
        if digest in self._known_hashes:
            return True
        # Another node or `intercarga db admin-token` may have issued it since we last looked.
        found = await self._tokens.contains(digest)
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
