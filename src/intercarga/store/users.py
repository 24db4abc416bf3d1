"""The dashboard's operator accounts and their signed-in browser sessions.

Keeps password hashes (scrypt, made by :mod:`intercarga.security`) and the SHA-256 of each session
cookie, never a password or a cookie. Who may do what is the dashboard's business; this module
only stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain._types import utc_now
from intercarga.errors import ConflictError, NotFoundError
from intercarga.store import tables

__all__ = ["SignedIn", "StoredUser", "UserRepository"]


@dataclass(frozen=True)
class StoredUser:
    name: str
    role: str
    password_hash: str


@dataclass(frozen=True)
class SignedIn:
    """A live browser session: whose, and the CSRF token its forms carry."""

    user: StoredUser
    csrf_token: str
    expires_at: datetime


class UserRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._users = tables.dashboard_users
        self._sessions = tables.dashboard_sessions

    async def count(self) -> int:
        async with self._engine.connect() as connection:
            query = select(func.count()).select_from(self._users)
            return int((await connection.execute(query)).scalar_one())

    async def add(self, name: str, role: str, password_hash: str) -> None:
        """A new account; :class:`ConflictError` when the name is taken."""
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    insert(self._users).values(
                        name=name, role=role, password_hash=password_hash, created_at=utc_now()
                    )
                )
        except IntegrityError:
            raise ConflictError(f"user {name} already exists") from None

    async def set_password(self, name: str, password_hash: str) -> None:
        """A new password; every browser signed in as the user is signed out."""
        async with self._engine.begin() as connection:
            changed = await connection.execute(
                update(self._users)
                .where(self._users.c.name == name)
                .values(password_hash=password_hash)
            )
            if not changed.rowcount:
                raise NotFoundError(f"user {name} not found")
            await connection.execute(
                delete(self._sessions).where(self._sessions.c.user_name == name)
            )

    async def find(self, name: str) -> StoredUser | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(select(self._users).where(self._users.c.name == name))
            ).first()
        return None if row is None else StoredUser(row.name, row.role, row.password_hash)

    async def list(self) -> list[StoredUser]:
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(select(self._users).order_by(self._users.c.name))
            ).all()
        return [StoredUser(row.name, row.role, row.password_hash) for row in rows]

    async def open_session(
        self, name: str, token_hash: str, csrf_token: str, expires_at: datetime
    ) -> None:
        async with self._engine.begin() as connection:
            # Expired sessions go whenever someone signs in: nothing else needs to sweep them.
            await connection.execute(
                delete(self._sessions).where(self._sessions.c.expires_at < utc_now())
            )
            await connection.execute(
                insert(self._sessions).values(
                    token_hash=token_hash,
                    user_name=name,
                    csrf_token=csrf_token,
                    expires_at=expires_at,
                )
            )

    async def session(self, token_hash: str) -> SignedIn | None:
        """The unexpired session whose cookie hashes to ``token_hash``."""
        query = (
            select(self._sessions, self._users)
            .join(self._users, self._users.c.name == self._sessions.c.user_name)
            .where(self._sessions.c.token_hash == token_hash)
            .where(self._sessions.c.expires_at > utc_now())
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        user = StoredUser(row.name, row.role, row.password_hash)
        return SignedIn(user, row.csrf_token, row.expires_at)

    async def close_session(self, token_hash: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(self._sessions).where(self._sessions.c.token_hash == token_hash)
            )
