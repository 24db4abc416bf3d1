"""Partners: the platforms this deployment roams with, as the OCPI layer registers them.

A partner record holds the state of its credentials registration, the negotiated version, the
roles (parties) it hosts and the endpoints it offers. Of the credentials token the partner
presents to us only a SHA-256 hash is stored (we only verify it); the token we present to the
partner is stored as is, because it has to be sent. The records are
:mod:`intercarga.domain.partner`'s plain values: this module knows no protocol and, like every
repository, writes a partner with its roles and endpoints in one transaction. A partner is
rewritten in place, never deleted and inserted again: the rows that hang off it by its id (the
outbox's pushes waiting for it, what it said as a hub, its CDR URLs) go only when it is deleted.

Every OCPI request authenticates its caller, and every hop of a push, a hub's route or a
real-time authorization looks at the registered partners, so :meth:`PartnerRepository.current`
keeps the whole list (a handful of rows) in memory: read again at once after any write through a
repository on the same engine in this process (a revoked token or an unregistration stops the
very next request), and at most ``max_age`` seconds old otherwise (a write by another node or by
the CLI's process shows within that bound, one second by default). A read that overlaps a write
is never kept (a generation counter), so a stale copy cannot outlive the write that made it
stale. When the copy is too old, the callers that look at once (every push of a burst of status
changes) share one read of the store instead of each making their own; a write drops that read
too, so no caller after a write is handed what was read before it.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from intercarga.domain._types import utc_now
from intercarga.domain.partner import Partner, PartnerEndpoint, PartnerRole, PartnerState
from intercarga.errors import ConflictError
from intercarga.store import tables
from intercarga.store.repositories import Key, Repository

__all__ = ["PartnerRepository"]

# Seconds a copy of the partners may be old when nothing in this process wrote them.
MAX_AGE = 1.0


@dataclass
class _Copy:
    """The partners as last read, shared by every repository on one engine in this process."""

    generation: int = 0  # one more with every write: a read that overlapped one is not kept
    partners: list[Partner] | None = None
    by_hash: dict[str, Partner] = field(default_factory=dict)
    read_at: float = 0.0
    # The read in progress that callers needing a new copy share (its loop: futures are bound).
    reading: asyncio.Future[list[Partner]] | None = None
    reading_in: asyncio.AbstractEventLoop | None = None


_COPIES: weakref.WeakKeyDictionary[AsyncEngine, _Copy] = weakref.WeakKeyDictionary()


class PartnerRepository(Repository[Partner]):
    table = tables.partners
    key_columns = ("id",)
    kind = "partner"

    def __init__(self, engine: AsyncEngine, *, max_age: float = MAX_AGE) -> None:
        super().__init__(engine)
        self._max_age = max_age
        self._copy = _COPIES.setdefault(engine, _Copy())

    # -- the copy in memory ----------------------------------------------------------------------
    async def current(self, *, fresh: bool = False) -> list[Partner]:
        """Every partner (any state), from the copy while it is fresh (see the module's text);
        with ``fresh``, read from the store now (a caller about to refuse something on the
        strength of the copy: another process may have just written what allows it).

        The same list object is returned until the copy is read again, so callers may key
        what they derive from it on its identity. Treat it as read-only."""
        copy = self._copy
        if (
            not fresh
            and copy.partners is not None
            and time.monotonic() - copy.read_at < self._max_age
        ):
            return copy.partners
        loop = asyncio.get_running_loop()
        reading = copy.reading
        if not fresh and reading is not None and copy.reading_in is loop:
            # Someone is reading the store already: wait for that read (without cancelling it
            # when this caller is cancelled); read anew only if it failed.
            await asyncio.wait({reading})
            if not reading.cancelled() and reading.exception() is None:
                return reading.result()
        generation = copy.generation
        mine: asyncio.Future[list[Partner]] | None = None
        if not fresh:
            mine = copy.reading = loop.create_future()
            copy.reading_in = loop
        try:
            partners = (await self.list(limit=None)).items
        except BaseException:
            if mine is not None:
                mine.cancel()  # those waiting read for themselves
            raise
        finally:
            if mine is not None and copy.reading is mine:
                copy.reading = None
        if copy.generation == generation:
            copy.partners = partners
            copy.by_hash = {p.token_hash: p for p in partners if p.token_hash}
            copy.read_at = time.monotonic()
        if mine is not None:
            mine.set_result(partners)
        return partners

    def forget(self) -> None:
        """Drop the copy: the next look reads the store (after every write through here)."""
        self._copy.generation += 1
        self._copy.partners = None
        self._copy.by_hash = {}
        self._copy.reading = None  # begun before the write: nobody may join it any more

    async def put(self, item: Partner) -> bool:
        """Create or rewrite the partner in place; True when it was created.

        Unlike :meth:`Repository.put` the record is updated, not deleted and inserted again:
        what hangs off a partner by its id with ``ON DELETE CASCADE`` (the pushes waiting for
        it in the outbox, what it said as a hub, the URLs of its CDRs) must outlive a credentials
        update, a version switch or the end of a registration, and goes only with
        :meth:`delete`. Only the roles and endpoints, which the record carries, are rewritten.
        :class:`ConflictError` as for :meth:`Repository.put`; nothing is written then."""
        self.forget()
        try:
            return await self._rewrite(item)
        finally:
            self.forget()

    async def _rewrite(self, item: Partner) -> bool:
        partners, roles, endpoints = self.table, tables.partner_roles, tables.partner_endpoints
        row = self._to_row(item)
        try:
            async with self._engine.begin() as connection:
                updated = (
                    await connection.execute(
                        update(partners).where(partners.c.id == item.id).values(**row)
                    )
                ).rowcount
                if updated:
                    for children in (roles, endpoints):
                        await connection.execute(
                            delete(children).where(children.c.partner_id == item.id)
                        )
                else:
                    await connection.execute(insert(partners).values(**row))
                await self._write_children(connection, item)
        except IntegrityError:
            raise ConflictError(
                f"{self._describe((item.id,))} not stored: a key is taken (written at the same"
                " time, or a part listed twice)"
            ) from None
        return not updated

    async def create(self, item: Partner) -> None:
        self.forget()
        try:
            await super().create(item)
        finally:
            self.forget()

    async def delete(self, *key: str) -> None:
        self.forget()
        try:
            await super().delete(*key)
        finally:
            self.forget()

    def _to_row(self, item: Partner) -> dict[str, Any]:
        row = item.model_dump(exclude={"roles", "endpoints"})
        row["state"] = item.state.value
        return row

    def _from_row(self, row: Row[Any], children: Any) -> Partner:
        roles, endpoints = children or ([], [])
        return Partner.model_validate({**row._mapping, "roles": roles, "endpoints": endpoints})

    async def _write_children(self, connection: AsyncConnection, item: Partner) -> None:
        if item.roles:
            await connection.execute(
                insert(tables.partner_roles),
                [
                    {"partner_id": item.id, "position": index, **role.model_dump()}
                    for index, role in enumerate(item.roles)
                ],
            )
        if item.endpoints:
            await connection.execute(
                insert(tables.partner_endpoints),
                [
                    {
                        "partner_id": item.id,
                        "position": index,
                        "identifier": endpoint.identifier,
                        "role": endpoint.role or "",
                        "url": endpoint.url,
                    }
                    for index, endpoint in enumerate(item.endpoints)
                ],
            )

    async def _read_children(
        self, connection: AsyncConnection, keys: Sequence[Key]
    ) -> Mapping[Key, Any]:
        ids = [key[0] for key in keys]
        roles = tables.partner_roles
        endpoints = tables.partner_endpoints
        result: dict[Key, tuple[list[PartnerRole], list[PartnerEndpoint]]] = {
            (partner_id,): ([], []) for partner_id in ids
        }
        for row in await connection.execute(
            select(roles).where(roles.c.partner_id.in_(ids)).order_by(roles.c.position)
        ):
            result[(row.partner_id,)][0].append(
                PartnerRole(
                    country_code=row.country_code,
                    party_id=row.party_id,
                    role=row.role,
                    name=row.name,
                    website=row.website,
                )
            )
        for row in await connection.execute(
            select(endpoints).where(endpoints.c.partner_id.in_(ids)).order_by(endpoints.c.position)
        ):
            result[(row.partner_id,)][1].append(
                PartnerEndpoint(identifier=row.identifier, role=row.role or None, url=row.url)
            )
        return result

    async def find_by_token_hash(self, token_hash: str, *, fresh: bool = False) -> Partner | None:
        """The partner presenting the token with this hash, if any (from :meth:`current`: this
        runs for every OCPI request; ``fresh``: read from the store now)."""
        partners = await self.current(fresh=fresh)
        if self._copy.partners is partners:
            return self._copy.by_hash.get(token_hash)
        # A write overlapped the read, which was not kept: look in what was read just now.
        return next((p for p in partners if p.token_hash == token_hash), None)

    async def hosting(self, country_code: str, party_id: str) -> list[Partner]:
        """Registered partners that host this party (where to send its objects)."""
        roles = tables.partner_roles
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(roles.c.partner_id)
                    .distinct()
                    .where(
                        roles.c.country_code == country_code.upper(),
                        roles.c.party_id == party_id.upper(),
                    )
                )
            ).all()
        found = [await self.find(row.partner_id) for row in rows]
        return [
            partner
            for partner in found
            if partner is not None and partner.state is PartnerState.REGISTERED
        ]

    async def touch_raw_token(self, partner_id: str, raw: bool) -> None:
        """Remember that the partner sends its token unencoded (found out by trying)."""
        self.forget()
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    update(self.table)
                    .where(self.table.c.id == partner_id)
                    .values(raw_token=raw, last_updated=utc_now())
                )
        finally:
            self.forget()
