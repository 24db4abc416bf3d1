"""Issue 17: with several access point nodes on one PostgreSQL, one node pulls each CPO.

Two :class:`NapPuller`s (two nodes, each its own HTTP client) share one database and its
leases. Both asked to pull a slow CPO at once: the CPO is read by one of them, and each status
kept once; both running the periodic pull: every periodic pull comes from one node; that node
stopping, the other takes the periodic pulls over at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain.partner import PartnerEndpoint, PartnerRole
from intercarga.ocpi.client import OcpiClient
from intercarga.ocpi.mapping import location_to_ocpi
from intercarga.ocpi.nap import LocationWrites, NapPuller
from intercarga.registry import EvseKey, Registry, load_rules
from intercarga.store import Store, create_engine, upgrade
from intercarga.store.leases import LeaseRepository
from intercarga.store.partners import PartnerRepository
from tests.conftest import POSTGRES_URL
from tests.factories import location, partner

CPO = partner(
    roles=[PartnerRole(country_code="CO", party_id="CPX", role="CPO", name="Example CPO")],
    endpoints=[
        PartnerEndpoint(identifier="locations", role="SENDER", url="https://cpo.example/l"),
        PartnerEndpoint(identifier="tariffs", role="SENDER", url="https://cpo.example/t"),
    ],
)
LOCATION = location(country_code="CO", party_id="CPX")


@pytest.fixture
async def shared(postgres_schema: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(POSTGRES_URL, postgres_schema)
    await upgrade(engine)
    await PartnerRepository(engine).create(CPO)
    try:
        yield engine
    finally:
        await engine.dispose()


class Cpo:
    """The CPO's SENDER endpoints, slow enough that two pulls would overlap; each request
    recorded with the node that made it."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    def client(self, node: str) -> OcpiClient:
        async def answer(request: httpx.Request) -> httpx.Response:
            self.requests.append((node, request.url.path))
            await asyncio.sleep(0.05)
            data = [location_to_ocpi(LOCATION, "2.2.1")] if request.url.path == "/l" else []
            now = datetime.now(UTC).isoformat()
            return httpx.Response(200, json={"status_code": 1000, "timestamp": now, "data": data})

        return OcpiClient(httpx.MockTransport(answer))


def _puller(engine: AsyncEngine, cpo: Cpo, node: str, *, interval: float = 0) -> NapPuller:
    store = Store(engine)
    return NapPuller(
        store,
        Registry(store, load_rules()),
        PartnerRepository(engine),
        cpo.client(node),
        interval=interval,
        nap_party=lambda: ("CO", "UPM"),
        writes=LocationWrites(),
        leases=LeaseRepository(engine),
        node=node,
        lease=10,
    )


async def _until(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.02)


async def test_two_nodes_pulling_at_once_read_the_cpo_once(shared: AsyncEngine) -> None:
    cpo = Cpo()
    a, b = _puller(shared, cpo, "node-a"), _puller(shared, cpo, "node-b")
    read = await asyncio.gather(a.pull_all(full=True), b.pull_all(full=True))
    assert sorted(read) == [0, 1]  # one node read the Location, the other left the CPO alone
    assert len({node for node, _path in cpo.requests}) == 1
    assert sorted(path for _node, path in cpo.requests) == ["/l", "/t"]
    history = await Store(shared).status_history.history(
        EvseKey("CO", "CPX", LOCATION.id, LOCATION.evses[0].uid)
    )
    assert len(history) == 1
    # Done: the lease is let go, and the other node may pull next time.
    assert await b.pull_all() == 1


async def test_one_node_runs_the_periodic_pulls_until_it_stops(shared: AsyncEngine) -> None:
    cpo = Cpo()
    a, b = (
        _puller(shared, cpo, "node-a", interval=0.1),
        _puller(shared, cpo, "node-b", interval=0.1),
    )
    await a.start()
    await b.start()
    try:
        await _until(lambda: len(cpo.requests) >= 8)
        nodes = {node for node, _path in cpo.requests}
        assert len(nodes) == 1
        [first] = nodes
        await (a if first == "node-a" else b).stop()
        seen = len(cpo.requests)
        # The other takes over at once (the stopping node let its lease go), not after it.
        await _until(lambda: len(cpo.requests) >= seen + 4, seconds=3)
        assert {node for node, _path in cpo.requests[seen:]} == {"node-a", "node-b"} - {first}
    finally:
        await a.stop()
        await b.stop()
