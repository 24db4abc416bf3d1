"""Roaming records: the OCPI push outbox, OCPI commands, and the client info hubs push.

The outbox is a queue per partner. :meth:`OutboxRepository.enqueue` stores rows (in one
transaction, dropping the pending rows a new one makes stale); a sender reads the partner's first
rows still PENDING (lowest ids first, :meth:`~OutboxRepository.pending`), leases those it will
send in one statement so no other node sends them too, and settles them in one transaction:
SENT, retried later, or given up (FAILED). A lease that was never settled (its sender died) is
counted as an attempt when the row is leased again, so a row with attempts may have reached the
partner: it is *in doubt* (:mod:`intercarga.ocpi.doubt`). The records are plain data: this
module knows no protocol, decides no routing and never sends anything.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain._types import utc_now
from intercarga.errors import NotFoundError
from intercarga.store import tables
from intercarga.store.batch import Write, WriteBatcher

__all__ = [
    "FAILED",
    "PENDING",
    "SENT",
    "Backlog",
    "CdrLocation",
    "ClientInfo",
    "ClientInfoRepository",
    "CommandRecord",
    "CommandRepository",
    "OutboxEntry",
    "OutboxRepository",
    "Settled",
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


@dataclass(frozen=True, slots=True)
class Settled:
    """What became of one row a sender tried: SENT, PENDING again (retried at
    ``next_attempt_at``) or FAILED, after ``attempts`` attempts."""

    entry_id: int
    state: str
    attempts: int = 0
    next_attempt_at: datetime | None = None
    error: str | None = None
    location: str | None = None  # a CDR POST's: the URL the eMSP holds the CDR at


@dataclass(frozen=True, slots=True)
class CdrLocation:
    """The ``location`` (a URL) an eMSP partner gave CDR ``cdr_id`` of our CPO party
    (``country_code``, ``party_id``) when it answered its POST: how it names CDR URLs."""

    partner_id: str
    country_code: str
    party_id: str
    cdr_id: str
    location: str


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


_INSERT = insert(tables.ocpi_outbox)
# A row's attempts when it is leased: one more when its last lease was never settled (SET reads
# the row as it was before the UPDATE, in PostgreSQL and SQLite alike).
_UNSETTLED_COUNTS = case(
    (tables.ocpi_outbox.c.leased_until.is_(None), tables.ocpi_outbox.c.attempts),
    else_=tables.ocpi_outbox.c.attempts + 1,
)


def _escaped(text: str) -> str:
    """``text`` for a LIKE with ``/`` as the escape character."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _stale_statement(kinds: frozenset[str]) -> Any:
    """The DELETE of a partner's pending rows a new row makes stale, for one set of kinds: its
    identity names its shape for the group commit, so it is built once per set."""
    table = tables.ocpi_outbox
    return delete(table).where(
        table.c.partner_id == bindparam("stale_partner"),
        or_(
            table.c.object_key == bindparam("stale_key"),
            table.c.object_key.like(bindparam("stale_below"), escape="/"),
        ),
        table.c.state == PENDING,
        table.c.kind.in_(sorted(kinds)),
        # A row on its way out is not stale: it is being sent right now.
        or_(table.c.leased_until.is_(None), table.c.leased_until < bindparam("stale_at")),
    )


class OutboxRepository:
    def __init__(self, engine: AsyncEngine, *, writer: WriteBatcher | None = None) -> None:
        """``writer``: the group commit rows are stored through (the store's, so that rows
        stored at the same time as other writes share their commit); else one of its own."""
        self._engine = engine
        self._writer = writer or WriteBatcher(engine)
        self._stale: dict[frozenset[str], Any] = {}

    async def enqueue(self, entries: Iterable[OutboxEntry], now: datetime | None = None) -> int:
        """Store ``entries`` in order, in one transaction; how many were stored.

        Returns once they are committed. Rows stored at the same time by other callers share
        the commit (:mod:`intercarga.store.batch`); a row's stale predecessors stored in that
        same commit may then stay and be sent before it, never after."""
        at = now or utc_now()
        writes: list[Write] = []
        for entry in entries:
            key = entry.object_key[:160]
            if entry.replaces:
                statement = self._stale.get(entry.replaces)
                if statement is None:
                    statement = self._stale[entry.replaces] = _stale_statement(entry.replaces)
                stale = {
                    "stale_partner": entry.partner_id,
                    "stale_key": key,
                    "stale_below": _escaped(key + "/") + "%",
                    "stale_at": at,
                }
                writes.append(Write(statement, [stale]))
            row = {
                "partner_id": entry.partner_id,
                "module": entry.module,
                "interface": entry.interface,
                "method": entry.method,
                "path": entry.path,
                "url": entry.url,
                "object_key": key,
                "kind": entry.kind,
                "version": entry.version,
                "payload": entry.payload,
                "headers": entry.headers,
                "correlation_id": entry.correlation_id,
                "state": PENDING,
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
            }
            writes.append(Write(_INSERT, [row]))
        if writes:
            await self._writer.write(*writes)
        return sum(1 for write in writes if write.statement is _INSERT)

    @staticmethod
    def _head(partner_id: str) -> Any:
        table = tables.ocpi_outbox
        return (
            select(table)
            .where(table.c.partner_id == partner_id, table.c.state == PENDING)
            .order_by(table.c.id)
            .limit(1)
        )

    async def pending(self, partner_id: str, limit: int) -> list[OutboxEntry]:
        """The partner's first ``limit`` rows still pending, in sending order."""
        table = tables.ocpi_outbox
        query = (
            select(table)
            .where(table.c.partner_id == partner_id, table.c.state == PENDING)
            .order_by(table.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_entry(row) for row in rows]

    async def lease_all(
        self, entry_ids: Sequence[int], until: datetime, now: datetime
    ) -> dict[int, int]:
        """Take the rows for sending until ``until``, in one statement: the ids taken (not those
        another sender holds, nor those no longer pending), each with its attempts so far.

        A row still leased (its lease ran out) was taken by a sender that never wrote what
        became of it (it died, or lost the database, or was stopped mid-request): that attempt
        counts, in the same statement, so the row is known to be in doubt (attempts > 0) however
        the senders' clocks and timings fall."""
        if not entry_ids:
            return {}
        table = tables.ocpi_outbox
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(table)
                .where(
                    table.c.id.in_(list(entry_ids)),
                    table.c.state == PENDING,
                    or_(table.c.leased_until.is_(None), table.c.leased_until < now),
                )
                .values(leased_until=until, attempts=_UNSETTLED_COUNTS)
                .returning(table.c.id, table.c.attempts)
            )
            return {int(row.id): int(row.attempts) for row in result}

    async def settle(
        self,
        at: datetime,
        outcomes: Sequence[Settled],
        *,
        lease: datetime | None = None,
        learned: Sequence[CdrLocation] = (),
    ) -> None:
        """Write what became of rows sent together, in one transaction (and the SENT ones in
        one statement), each row's lease let go.

        ``lease``: the lease the sender took them with. A row that is no longer under it (the
        sender's lease ran out and another sender took the row) keeps the other sender's
        lease and state, unless this sender delivered it (SENT is always written).
        ``learned``: the CDR Locations the partners gave in these answers (the last of each
        partner and CPO party is kept), written in the same transaction."""
        if not outcomes:
            return
        table = tables.ocpi_outbox
        sent = [outcome.entry_id for outcome in outcomes if outcome.state == SENT]
        async with self._engine.begin() as connection:
            await self._learn(connection, at, learned)
            if sent:
                await connection.execute(
                    update(table)
                    .where(table.c.id.in_(sent))
                    .values(leased_until=None, state=SENT, sent_at=at, last_error=None)
                )
            for outcome in outcomes:
                if outcome.state == SENT:
                    continue
                values: dict[str, Any] = {
                    "leased_until": None,
                    "state": outcome.state,
                    "attempts": outcome.attempts,
                    "last_error": (outcome.error or "")[:500],
                }
                if outcome.next_attempt_at is not None:
                    values["next_attempt_at"] = outcome.next_attempt_at
                # Only a row still pending: another sender may have taken it over (this one's
                # lease ran out) and sent it meanwhile; SENT is never undone.
                mine = [table.c.id == outcome.entry_id, table.c.state == PENDING]
                if lease is not None:
                    mine.append(table.c.leased_until == lease)
                await connection.execute(update(table).where(*mine).values(**values))

    @staticmethod
    async def _learn(connection: Any, at: datetime, learned: Sequence[CdrLocation]) -> None:
        table = tables.ocpi_cdr_locations
        latest = {
            (item.partner_id, item.country_code, item.party_id): item
            for item in learned
            if len(item.location) <= 512 and len(item.cdr_id) <= 36  # else kept unknown
        }
        for (partner_id, country_code, party_id), item in latest.items():
            await connection.execute(
                delete(table).where(
                    table.c.partner_id == partner_id,
                    table.c.country_code == country_code,
                    table.c.party_id == party_id,
                )
            )
            await connection.execute(
                insert(table).values(
                    partner_id=partner_id,
                    country_code=country_code,
                    party_id=party_id,
                    cdr_id=item.cdr_id,
                    location=item.location,
                    answered_at=at,
                )
            )

    async def cdr_location(
        self, partner_id: str, country_code: str, party_id: str
    ) -> CdrLocation | None:
        """The Location the partner gave the latest CDR of our CPO party it answered."""
        table = tables.ocpi_cdr_locations
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(table).where(
                        table.c.partner_id == partner_id,
                        table.c.country_code == country_code,
                        table.c.party_id == party_id,
                    )
                )
            ).first()
        if row is None:
            return None
        return CdrLocation(partner_id, country_code, party_id, row.cdr_id, row.location)

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
                .values(leased_until=until, attempts=_UNSETTLED_COUNTS)
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
    """What hubs said about the parties they reach.

    :meth:`reachable_through` runs for every real-time authorization and every session pushed,
    so its answers are kept in memory: dropped at once by a write through this repository, at
    most ``max_age`` seconds old otherwise (a write by another node, or a partner deleted with
    its rows)."""

    def __init__(self, engine: AsyncEngine, *, max_age: float = 1.0) -> None:
        self._engine = engine
        self._max_age = max_age
        self._reachable: dict[tuple[str, str, tuple[str, ...] | None], list[str]] = {}
        self._read_at = 0.0
        self._generation = 0

    def _forget(self) -> None:
        self._generation += 1
        self._reachable = {}

    async def put(self, info: ClientInfo) -> bool:
        """Create or replace; True when it was created."""
        self._forget()
        try:
            return await self._put(info)
        finally:
            self._forget()

    async def _put(self, info: ClientInfo) -> bool:
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
        now = time.monotonic()
        if now - self._read_at >= self._max_age:
            self._reachable, self._read_at = {}, now
        key = (country_code.upper(), party_id.upper(), None if roles is None else tuple(roles))
        known = self._reachable.get(key)
        if known is not None:
            return list(known)
        generation = self._generation
        found = await self._reachable_through(country_code, party_id, roles)
        if generation == self._generation:
            self._reachable[key] = found
        return list(found)

    async def _reachable_through(
        self, country_code: str, party_id: str, roles: Sequence[str] | None
    ) -> list[str]:
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
