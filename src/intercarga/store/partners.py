"""Partners: the platforms this deployment roams with, as the OCPI layer registers them.

A partner record holds the state of its credentials registration, the negotiated version, the
roles (parties) it hosts and the endpoints it offers. Of the credentials token the partner
presents to us only a SHA-256 hash is stored (we only verify it); the token we present to the
partner is stored as is, because it has to be sent. The records are
:mod:`intercarga.domain.partner`'s plain values: this module knows no protocol and, like every
repository, writes a partner with its roles and endpoints in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from intercarga.domain._types import utc_now
from intercarga.domain.partner import Partner, PartnerEndpoint, PartnerRole, PartnerState
from intercarga.store import tables
from intercarga.store.repositories import Key, Repository

__all__ = ["PartnerRepository"]


class PartnerRepository(Repository[Partner]):
    table = tables.partners
    key_columns = ("id",)
    kind = "partner"

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

    async def find_by_token_hash(self, token_hash: str) -> Partner | None:
        """The partner presenting the token with this hash, if any."""
        # One connection for the row and its children: this runs for every OCPI request.
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(self.table).where(self.table.c.token_hash == token_hash)
                )
            ).first()
            if row is None:
                return None
            children = await self._read_children(connection, [(row.id,)])
        return self._from_row(row, children.get((row.id,)))

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
        async with self._engine.begin() as connection:
            await connection.execute(
                update(self.table)
                .where(self.table.c.id == partner_id)
                .values(raw_token=raw, last_updated=utc_now())
            )
