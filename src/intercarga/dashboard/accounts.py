"""Operator accounts of the dashboard: roles, sign-in, browser sessions and their CSRF tokens.

Passwords are kept as scrypt hashes, session cookies as SHA-256 hashes (a cookie is 256 random
bits, like an admin token). The first start makes an ``admin`` account and returns its password
once, for the console. This module must never log or store a password or a cookie.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from enum import StrEnum

from intercarga.domain._types import utc_now
from intercarga.errors import InvalidInputError
from intercarga.security import (
    hash_password,
    hash_token,
    new_token,
    unmatchable_hash,
    verify_password,
)
from intercarga.store.users import SignedIn, UserRepository

__all__ = ["Accounts", "Role", "SignedIn"]

_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")
# A hash to check a password against when the name is unknown: the answer takes as long as for
# a known name, so timing does not tell which names exist. No password matches it, and making it
# costs no scrypt (every process that serves the dashboard imports this module).
_DUMMY_HASH = unmatchable_hash()


class Role(StrEnum):
    ADMIN = "admin"  # everything
    OPERATOR = "operator"  # sees everything and sends commands to stations
    VIEWER = "viewer"  # sees everything, changes nothing

    @property
    def may_operate(self) -> bool:
        return self is not Role.VIEWER


def _checked_name(name: str) -> str:
    name = name.strip().lower()
    if not 1 <= len(name) <= 64 or not set(name) <= _NAME_CHARACTERS:
        raise InvalidInputError("1 to 64 of a-z, 0-9, '.', '_', '-', '@'", "name")
    return name


class Accounts:
    def __init__(self, users: UserRepository, *, session_hours: float = 12) -> None:
        self._users = users
        self._lifetime = timedelta(hours=session_hours)

    async def ensure_admin(self) -> str | None:
        """Make the ``admin`` account when there is no account at all; return its password."""
        if await self._users.count():
            return None
        return await self.add("admin", Role.ADMIN)

    async def add(self, name: str, role: Role, password: str | None = None) -> str:
        """A new account; its password (made here when none is given) is returned."""
        name = _checked_name(name)
        if password is not None and len(password) < 12:
            raise InvalidInputError("at least 12 characters", "password")
        password = password or new_token()[:24]
        hashed = await asyncio.to_thread(hash_password, password)
        await self._users.add(name, role.value, hashed)
        return password

    async def sign_in(self, name: str, password: str) -> tuple[str, SignedIn] | None:
        """A new session cookie and its session, or None for a wrong name or password."""
        user = await self._users.find(name.strip().lower())
        stored = _DUMMY_HASH if user is None else user.password_hash
        matches = await asyncio.to_thread(verify_password, password, stored)
        if user is None or not matches:
            return None
        cookie = new_token()
        csrf = secrets.token_urlsafe(24)
        expires = utc_now() + self._lifetime
        await self._users.open_session(user.name, hash_token(cookie), csrf, expires)
        return cookie, SignedIn(user, csrf, expires)

    async def signed_in(self, cookie: str | None) -> SignedIn | None:
        if not cookie:
            return None
        return await self._users.session(hash_token(cookie))

    async def sign_out(self, cookie: str) -> None:
        await self._users.close_session(hash_token(cookie))
