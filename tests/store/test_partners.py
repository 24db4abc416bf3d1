"""Partner records: written with their roles and endpoints, found by token hash and by party,
and the copy in memory every OCPI request authenticates from."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from intercarga.domain.partner import PartnerRole, PartnerState
from intercarga.errors import ConflictError, NotFoundError
from intercarga.security import hash_token
from intercarga.store import Store, create_engine
from intercarga.store.partners import PartnerRepository
from intercarga.store.roaming import ClientInfo, ClientInfoRepository, OutboxEntry, OutboxRepository
from tests.factories import partner


async def test_partner_round_trips_with_roles_and_endpoints_in_order(store: Store) -> None:
    partners = PartnerRepository(store.engine)
    await partners.create(partner())
    read = await partners.get("p1")
    assert read == partner(created_at=read.created_at, last_updated=read.last_updated)
    assert read.endpoint("locations", "RECEIVER") == "https://e/l"
    assert read.endpoint("locations", "SENDER") is None
    assert read.hosts("co", "ems", "EMSP")


async def test_found_by_token_hash_and_by_hosted_party(store: Store) -> None:
    partners = PartnerRepository(store.engine)
    await partners.create(partner())
    await partners.create(
        partner(id="p2", token_hash=hash_token("a"), state=PartnerState.INVITED, roles=[])
    )
    found = await partners.find_by_token_hash(hash_token("token-c"))
    assert found is not None and found.id == "p1"
    assert await partners.find_by_token_hash(hash_token("nope")) is None
    assert [p.id for p in await partners.hosting("CO", "EMS")] == ["p1"]
    assert await partners.hosting("CL", "ICG") == []


async def test_replacing_a_partner_replaces_its_children_and_delete_cascades(store: Store) -> None:
    partners = PartnerRepository(store.engine)
    await partners.create(partner())
    await partners.put(partner(endpoints=[], roles=[]))
    assert (await partners.get("p1")).endpoints == []
    await partners.delete("p1")
    with pytest.raises(NotFoundError):
        await partners.get("p1")


async def test_a_partner_rewritten_keeps_its_outbox_and_what_its_hub_said(store: Store) -> None:
    # A credentials update or version switch rewrites the record: the pushes waiting for the
    # partner and what it said as a hub hang off it and must stay (only a delete drops them).
    partners = PartnerRepository(store.engine)
    outbox, client_info = OutboxRepository(store.engine), ClientInfoRepository(store.engine)
    await partners.create(partner())
    await outbox.enqueue([OutboxEntry("p1", "cdrs", "POST", "", "cdrs/CO/CPO/C1", "raw", {})])
    said = ClientInfo("p1", "CO", "ICG", "CPO", "CONNECTED", datetime(2026, 12, 7, tzinfo=UTC))
    await client_info.put(said)
    assert not await partners.put(partner(token_hash=hash_token("token-c2"), roles=[]))
    assert (await outbox.backlog("p1")).pending == 1
    assert await client_info.all("p1") == [said]
    assert (await partners.get("p1")).roles == []
    await partners.delete("p1")
    assert (await outbox.backlog("p1")).pending == 0
    assert await client_info.all("p1") == []


async def test_a_put_that_breaks_a_key_is_a_conflict_and_changes_nothing(store: Store) -> None:
    # The error a lost insert race meets too: callers (ocpi/storing.py) retry on ConflictError
    # and never see the database library's exceptions.
    partners = PartnerRepository(store.engine)
    await partners.put(partner())
    role = PartnerRole(country_code="CO", party_id="EMS", role="EMSP", name="Twice")
    with pytest.raises(ConflictError, match="p1"):
        await partners.put(partner(name="Changed", roles=[role, role]))
    assert (await partners.get("p1")).name == "Example eMSP"


async def test_a_token_revoked_through_any_repository_here_is_unknown_at_once(
    store: Store,
) -> None:
    # Every OCPI request authenticates from the copy in memory; a write through any repository
    # on the same engine in this process drops it, so the very next request is refused.
    serving, admin = PartnerRepository(store.engine), PartnerRepository(store.engine)
    await admin.create(partner())
    token = hash_token("token-c")
    assert (await serving.find_by_token_hash(token)) is not None  # now held in memory
    await admin.put(partner(token_hash=None, state=PartnerState.UNREGISTERED))
    assert await serving.find_by_token_hash(token) is None
    assert [p.state for p in await serving.current()] == [PartnerState.UNREGISTERED]


async def test_a_write_by_another_node_shows_within_the_copys_age(
    database: tuple[str, str | None],
) -> None:
    url, schema = database
    here, elsewhere = create_engine(url, schema), create_engine(url, schema)
    try:
        serving = PartnerRepository(here, max_age=0.2)
        await PartnerRepository(elsewhere).create(partner())
        token = hash_token("token-c")
        assert (await serving.find_by_token_hash(token)) is not None
        await PartnerRepository(elsewhere).put(partner(token_hash=None))
        deadline = time.monotonic() + 0.2
        while await serving.find_by_token_hash(token) is not None:
            assert time.monotonic() < deadline + 0.1, "still known after the copy's age"
            await asyncio.sleep(0.02)
    finally:
        await here.dispose()
        await elsewhere.dispose()


async def test_a_partner_written_elsewhere_is_found_at_once_when_asked_fresh(
    database: tuple[str, str | None],
) -> None:
    # What authentication does before refusing a token: the CLI invites in its own process.
    url, schema = database
    here, elsewhere = create_engine(url, schema), create_engine(url, schema)
    try:
        serving = PartnerRepository(here, max_age=60.0)
        assert await serving.current() == []
        await PartnerRepository(elsewhere).create(partner())
        found = await serving.find_by_token_hash(hash_token("token-c"), fresh=True)
        assert found is not None and found.id == "p1"
    finally:
        await here.dispose()
        await elsewhere.dispose()


async def test_callers_finding_the_copy_old_at_once_share_one_read(store: Store) -> None:
    # A burst of status changes each asks for the partners when the copy has just grown old:
    # one read of the store serves them all, and a write drops it for those who come after.
    from sqlalchemy import event

    partners = PartnerRepository(store.engine, max_age=0.0)
    await partners.create(partner())
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().startswith("SELECT partners.id"):  # a read of every partner
            reads.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        seen = await asyncio.wait_for(
            asyncio.gather(*(partners.current() for _ in range(20))), timeout=10
        )
        assert len(reads) == 1 and all(found is seen[0] for found in seen)
        assert [p.id for p in seen[0]] == ["p1"]
        await partners.put(partner(name="Renamed"))
        assert [p.name for p in await partners.current()] == ["Renamed"]
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)
