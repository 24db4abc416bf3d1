"""Roaming records: the OCPI push outbox, OCPI commands, and the client info hubs push.

The outbox is a queue per partner. :meth:`OutboxRepository.enqueue` stores rows (in one
transaction, dropping the pending rows a new one makes stale); a sender takes the partner's head
row (the lowest id still PENDING), leases it so no other node sends it too, and marks it SENT,
retries it later, or gives it up (FAILED). The records are plain data: this module knows no
protocol, decides no routing and never sends anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain._types import utc_now
from intercarga.errors import NotFoundError
from intercarga.store import tables

__all__ = [
    "FAILED",
    "PENDING",
    "SENT",
    "Backlog",
    "ClientInfo",
    "ClientInfoRepository",
    "CommandRecord",
    "CommandRepository",
    "OutboxEntry",
    "OutboxRepository",
]

PENDING = "PENDING"
SENT = "SENT"
FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One request to push to a partner.

    ``path`` is appended to the partner's endpoint for ``module`` (``interface`` side), unless
    ``url`` is set (a command result goes to the response URL the partner gave). ``object_key``
    names what the request is about (``locations/CO/ABC/L1/E1``); with ``replaces`` the pending
    rows of the same partner about that object or one inside it (a key below it) whose kind is
    in ``replaces`` are dropped when this one is stored, because this newer full copy makes them
    stale. The new row goes to the end of the queue: the object's latest state is sent last.
    """

    partner_id: str
    module: str
    method: str
    path: str
    object_key: str
    kind: str
    payload: Any
    interface: str = "RECEIVER"
    url: str | None = None
    version: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    correlation_id: str = ""
    replaces: frozenset[str] = frozenset()
    # Read back from the store:
    id: int = 0
    state: str = PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits for one partner: counts by state, the oldest pending row, the last error."""

    pending: int
    failed: int
    sent: int
    oldest_pending_at: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    last_error: str | None


def _entry(row: Row[Any]) -> OutboxEntry:
    return OutboxEntry(
        partner_id=row.partner_id,
        module=row.module,
        method=row.method,
        path=row.path,
        object_key=row.object_key,
        kind=row.kind,
        payload=row.payload,
        interface=row.interface,
        url=row.url,
        version=row.version,
        headers=dict(row.headers or {}),
        correlation_id=row.correlation_id,
        id=row.id,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


class OutboxRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def enqueue(self, entries: Iterable[OutboxEntry], now: datetime | None = None) -> int:
        """Store ``entries`` in order, in one transaction; how many were stored."""
        table = tables.ocpi_outbox
        at = now or utc_now()
        count = 0
        async with self._engine.begin() as connection:
            for entry in entries:
                if entry.replaces:
                    key = entry.object_key[:160]
                    await connection.execute(
                        delete(table).where(
                            table.c.partner_id == entry.partner_id,
                            or_(
                                table.c.object_key == key,
                                table.c.object_key.startswith(key + "/", autoescape=True),
                            ),
                            table.c.state == PENDING,
                            table.c.kind.in_(sorted(entry.replaces)),
                            # A row on its way out is not stale: it is being sent right now.
                            or_(table.c.leased_until.is_(None), table.c.leased_until < at),
                        )
                    )
                await connection.execute(
                    insert(table).values(
                        partner_id=entry.partner_id,
                        module=entry.module,
                        interface=entry.interface,
                        method=entry.method,
                        path=entry.path,
                        url=entry.url,
                        object_key=entry.object_key[:160],
                        kind=entry.kind,
                        version=entry.version,
                        payload=entry.payload,
                        headers=entry.headers,
                        correlation_id=entry.correlation_id,
                        state=PENDING,
                        attempts=0,
                        next_attempt_at=at,
                        created_at=at,
                    )
                )
                count += 1
        return count

    @staticmethod
    def _head(partner_id: str) -> Any:
        table = tables.ocpi_outbox
        return (
            select(table)
            .where(table.c.partner_id == partner_id, table.c.state == PENDING)
            .order_by(table.c.id)
            .limit(1)
        )

    async def head(self, partner_id: str) -> OutboxEntry | None:
        """The partner's next row to send: the lowest id still pending."""
        async with self._engine.connect() as connection:
            row = (await connection.execute(self._head(partner_id))).first()
        return None if row is None else _entry(row)

    async def lease(self, entry_id: int, until: datetime, now: datetime) -> bool:
        """Take the row for sending until ``until``; False when another sender holds it."""
        table = tables.ocpi_outbox
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(table)
                .where(
                    table.c.id == entry_id,
                    table.c.state == PENDING,
                    or_(table.c.leased_until.is_(None), table.c.leased_until < now),
                )
                .values(leased_until=until)
            )
        return bool(result.rowcount)

    async def sent(self, entry_id: int, at: datetime) -> None:
        await self._finish(entry_id, state=SENT, sent_at=at, last_error=None)

    async def retry(self, entry_id: int, attempts: int, at: datetime, error: str) -> None:
        await self._finish(entry_id, attempts=attempts, next_attempt_at=at, last_error=error[:500])

    async def failed(self, entry_id: int, attempts: int, error: str) -> None:
        await self._finish(entry_id, state=FAILED, attempts=attempts, last_error=error[:500])

    async def _finish(self, entry_id: int, **values: Any) -> None:
        table = tables.ocpi_outbox
        async with self._engine.begin() as connection:
            await connection.execute(
                update(table).where(table.c.id == entry_id).values(leased_until=None, **values)
            )

    async def partners_waiting(self) -> list[str]:
        """Partners with rows still to send."""
        table = tables.ocpi_outbox
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(table.c.partner_id).where(table.c.state == PENDING).distinct()
            )
            return sorted(row.partner_id for row in rows)

    async def backlog(self, partner_id: str) -> Backlog:
        table = tables.ocpi_outbox
        async with self._engine.connect() as connection:
            counts: dict[str, int] = dict(
                (
                    await connection.execute(
                        select(table.c.state, func.count())
                        .where(table.c.partner_id == partner_id)
                        .group_by(table.c.state)
                    )
                ).all()
            )
            head = (await connection.execute(self._head(partner_id))).first()
            last_error = (
                await connection.execute(
                    select(table.c.last_error)
                    .where(table.c.partner_id == partner_id, table.c.last_error.is_not(None))
                    .order_by(table.c.id.desc())
                    .limit(1)
                )
            ).scalar()
        return Backlog(
            pending=int(counts.get(PENDING, 0)),
            failed=int(counts.get(FAILED, 0)),
            sent=int(counts.get(SENT, 0)),
            oldest_pending_at=None if head is None else head.created_at,
            next_attempt_at=None if head is None else head.next_attempt_at,
            attempts=0 if head is None else head.attempts,
            last_error=last_error,
        )

    async def entries(
        self,
        partner_id: str | None = None,
        *,
        state: str | None = None,
        object_key: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[OutboxEntry], int]:
        """A page of rows in sending order, and how many match."""
        table = tables.ocpi_outbox
        conditions = [
            column == value
            for column, value in (
                (table.c.partner_id, partner_id),
                (table.c.state, state),
                (table.c.object_key, object_key),
            )
            if value is not None
        ]
        where = and_(True, *conditions)
        async with self._engine.connect() as connection:
            total = (
                await connection.execute(select(func.count()).select_from(table).where(where))
            ).scalar_one()
            rows = (
                await connection.execute(
                    select(table).where(where).order_by(table.c.id).offset(offset).limit(limit)
                )
            ).all()
        return [_entry(row) for row in rows], int(total)

    async def retry_now(self, partner_id: str, now: datetime, *, failed: bool = False) -> int:
        """Make the partner's pending rows (and, with ``failed``, its failed ones) due now."""
        table = tables.ocpi_outbox
        states = [PENDING, FAILED] if failed else [PENDING]
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(table)
                .where(table.c.partner_id == partner_id, table.c.state.in_(states))
                .values(state=PENDING, next_attempt_at=now)
            )
        return int(result.rowcount)

    async def forget_sent(self, before: datetime) -> int:
        """Delete rows sent before ``before`` (housekeeping); how many."""
        table = tables.ocpi_outbox
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(table).where(table.c.state == SENT, table.c.sent_at < before)
            )
        return int(result.rowcount)


# -- commands ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CommandRecord:
    id: str
    direction: str  # SENT (by one of our eMSP parties) or ROUTED (through our hub)
    partner_id: str | None
    command: str
    country_code: str  # the CPO the command is for
    party_id: str
    request: dict[str, Any]
    response: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    response_url: str | None = None
    created_at: datetime | None = None
    last_updated: datetime | None = None


def _command(row: Row[Any]) -> CommandRecord:
    return CommandRecord(
        **{name: value for name, value in row._mapping.items()},
    )


class CommandRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, record: CommandRecord) -> None:
        now = utc_now()
        values = {
            "id": record.id,
            "direction": record.direction,
            "partner_id": record.partner_id,
            "command": record.command,
            "country_code": record.country_code,
            "party_id": record.party_id,
            "request": record.request,
            "response": record.response,
            "result": record.result,
            "response_url": record.response_url,
            "created_at": record.created_at or now,
            "last_updated": now,
        }
        async with self._engine.begin() as connection:
            await connection.execute(insert(tables.ocpi_commands).values(**values))

    async def get(self, command_id: str) -> CommandRecord:
        table = tables.ocpi_commands
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(table).where(table.c.id == command_id))).first()
        if row is None:
            raise NotFoundError(f"command {command_id} not found")
        return _command(row)

    async def find(self, command_id: str) -> CommandRecord | None:
        try:
            return await self.get(command_id)
        except NotFoundError:
            return None

    async def update(self, command_id: str, **values: Any) -> None:
        """Set ``response`` and/or ``result`` (or the partner) of a stored command."""
        table = tables.ocpi_commands
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(table)
                .where(table.c.id == command_id)
                .values(last_updated=utc_now(), **values)
            )
        if not result.rowcount:
            raise NotFoundError(f"command {command_id} not found")

    async def remove(self, command_id: str) -> bool:
        table = tables.ocpi_commands
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(table).where(table.c.id == command_id))
        return bool(result.rowcount)

    async def recent(self, *, offset: int = 0, limit: int = 50) -> tuple[list[CommandRecord], int]:
        table = tables.ocpi_commands
        async with self._engine.connect() as connection:
            total = (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            rows = (
                await connection.execute(
                    select(table)
                    .order_by(table.c.created_at.desc(), table.c.id)
                    .offset(offset)
                    .limit(limit)
                )
            ).all()
        return [_command(row) for row in rows], int(total)


# -- hub client info -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ClientInfo:
    """A party a hub reaches (``partner_id`` is the hub), and whether it is connected."""

    partner_id: str
    country_code: str
    party_id: str
    role: str
    status: str
    last_updated: datetime


class ClientInfoRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def put(self, info: ClientInfo) -> bool:
        """Create or replace; True when it was created."""
        table = tables.ocpi_client_info
        key = and_(
            table.c.partner_id == info.partner_id,
            table.c.country_code == info.country_code,
            table.c.party_id == info.party_id,
            table.c.role == info.role,
        )
        async with self._engine.begin() as connection:
            deleted = (await connection.execute(delete(table).where(key))).rowcount
            await connection.execute(
                insert(table).values(
                    partner_id=info.partner_id,
                    country_code=info.country_code,
                    party_id=info.party_id,
                    role=info.role,
                    status=info.status,
                    last_updated=info.last_updated,
                )
            )
        return not deleted

    async def all(self, partner_id: str | None = None) -> list[ClientInfo]:
        table = tables.ocpi_client_info
        query = select(table).order_by(
            table.c.partner_id, table.c.country_code, table.c.party_id, table.c.role
        )
        if partner_id is not None:
            query = query.where(table.c.partner_id == partner_id)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [ClientInfo(**dict(row._mapping)) for row in rows]

    async def reachable_through(
        self, country_code: str, party_id: str, roles: Sequence[str] | None = None
    ) -> list[str]:
        """Hubs (partner ids) that said this party is CONNECTED through them."""
        table = tables.ocpi_client_info
        query = select(table.c.partner_id).where(
            table.c.country_code == country_code.upper(),
            table.c.party_id == party_id.upper(),
            table.c.status == "CONNECTED",
        )
        if roles:
            query = query.where(table.c.role.in_(list(roles)))
        async with self._engine.connect() as connection:
            return sorted({row.partner_id for row in await connection.execute(query)})
