"""Storing what partners send when two requests write the same object at once.

A repository's ``put`` replaces an aggregate (delete, then insert, in one transaction). On
PostgreSQL two such transactions for the same key can both find nothing to delete and then
collide on the insert; the loser is a :class:`ConflictError` although nothing is wrong with either
request (a token pushed by an eMSP while the same token comes with a command; a hub's broadcast
and a direct push of one Location). The winner's write is committed by then, so doing the
loser's ``put`` again simply replaces it. This module must never hide any other error.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from intercarga.errors import ConflictError
from intercarga.store.repositories import Repository

__all__ = ["put"]

T = TypeVar("T", bound=BaseModel)


async def put(repository: Repository[Any], item: T) -> bool:
    """``repository.put(item)``, again once when a concurrent write of the same key won."""
    try:
        return await repository.put(item)
    except ConflictError:
        return await repository.put(item)
