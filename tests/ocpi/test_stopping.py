"""Stopping a deployment never interrupts a query: no connection is thrown away or left open.

A push in flight runs the partner's handler (in these tests, in the same task, through the
routing transport); the change watcher and the outbox read the store every few hundred ms. A
stop that cancelled them inside a query made SQLAlchemy throw the connection away, and, when
the cancellation came again while it closed (Starlette's middleware cancels over and over), the
close waited for ever: an event loop that could not close (a CI run held to its limit) on
SQLite, a session holding its locks (``DROP SCHEMA`` blocked) on PostgreSQL.

A gate on a deployment's engine holds one query open at a chosen place, so a stop lands inside
it every time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from intercarga import domain
from intercarga.domain._types import utc_now
from intercarga.domain.events import EvseStatusChanged
from intercarga.sim.example import example_network
from tests.ocpi.conftest import Deployment, Hosts, Network, connect, party


class Gate:
    """Holds the first statement ``holds(statement)`` picks until :meth:`open` is called."""

    def __init__(self, holds: Callable[[str], bool]) -> None:
        self._holds = holds
        self.held = asyncio.Event()
        self._released = asyncio.Event()
        self.invalidated: list[BaseException | None] = []

    def open(self) -> None:
        self._released.set()

    def before_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.held.is_set() or not self._holds(statement):
            return
        self.held.set()
        # Runs inside the query, on the querying task: the statement is sent after this wait.
        await_only(asyncio.wait_for(self._released.wait(), timeout=20))

    def on_invalidate(self, _dbapi: Any, _record: Any, error: BaseException | None) -> None:
        self.invalidated.append(error)


@contextmanager
def gated(engine: AsyncEngine, holds: Callable[[str], bool]) -> Iterator[Gate]:
    gate = Gate(holds)
    event.listen(engine.sync_engine, "before_cursor_execute", gate.before_execute)
    event.listen(engine.sync_engine, "invalidate", gate.on_invalidate)
    try:
        yield gate
    finally:
        gate.open()
        event.remove(engine.sync_engine, "before_cursor_execute", gate.before_execute)
        event.remove(engine.sync_engine, "invalidate", gate.on_invalidate)


def _in_task(name: str) -> Callable[[str], bool]:
    def holds(_statement: str) -> bool:
        task = asyncio.current_task()
        return task is not None and task.get_name() == name

    return holds


def _writes_locations(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("INSERT", "UPDATE")) and "locations" in statement


def _other_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]


async def _settled() -> list[asyncio.Task[Any]]:
    """Tasks still alive, once every deployment stopped and the loop had a few turns."""
    for _ in range(20):
        await asyncio.sleep(0.01)
    return _other_tasks()


async def _stop_through(gate: Gate, stop: Callable[[], Any], also: Gate | None = None) -> None:
    """Stop while the gate holds a query; open it a little later; wait for the stop."""
    await asyncio.wait_for(gate.held.wait(), timeout=20)
    stopping = asyncio.create_task(stop())
    await asyncio.sleep(0.2)  # the stop is under way: a cancellation would have landed by now
    gate.open()
    if also is not None:
        also.open()
    await asyncio.wait_for(stopping, timeout=30)


def _location() -> domain.Location:
    return (
        example_network()
        .locations[0]
        .model_copy(update={"country_code": "CO", "party_id": "CPO", "id": "LOC1"})
    )


async def _pair(network: tuple[Network, Hosts]) -> tuple[Deployment, Deployment]:
    make, _hosts = network
    cpo = await make("cpo", [party("CO", "CPO", "CPO", "Carga CPO")])
    emsp = await make("emsp", [party("CO", "EMS", "EMSP", "Movilidad eMSP")])
    await connect(cpo, emsp, "2.2.1")
    return cpo, emsp


async def test_a_deployment_stopped_while_its_push_is_in_the_partners_query_leaves_nothing_open(
    network: tuple[Network, Hosts],
) -> None:
    make, _hosts = network
    cpo, emsp = await _pair(network)
    location = _location()
    # The eMSP stores the pushed Location inside the CPO's outbox lane (one process here).
    with gated(emsp.system.engine, _writes_locations) as gate:
        await cpo.system.store.locations.put(location)
        assert await cpo.roaming.pusher.location_changed(location)
        await _stop_through(gate, lambda: make.stop(cpo))
        await emsp.roaming.stop()
        left = await _settled()
    assert left == [], f"tasks left running after the stop: {left}"
    assert gate.invalidated == [], "a connection was thrown away in the middle of a query"
    assert emsp.system.engine.pool.checkedout() == 0
    # The push the CPO was sending when it stopped was completed, not cut off.
    stored = await emsp.system.store.locations.get("CO", "CPO", "LOC1")
    assert stored.id == "LOC1"


async def test_stopping_while_the_watchers_read_waits_for_their_reads(
    network: tuple[Network, Hosts],
) -> None:
    cpo, emsp = await _pair(network)
    engine = cpo.system.engine
    with (
        gated(engine, _in_task("ocpi-change-watcher")) as changes,
        gated(engine, _in_task("ocpi-outbox")) as outbox,
    ):
        await asyncio.wait_for(changes.held.wait(), timeout=20)
        await _stop_through(outbox, cpo.roaming.stop, also=changes)
        await emsp.roaming.stop()
        left = await _settled()
    assert left == [], f"tasks left running after the stop: {left}"
    assert changes.invalidated == [], "a connection was thrown away in the middle of a query"
    assert engine.pool.checkedout() == 0


async def test_a_busy_deployment_stops_with_every_connection_back_in_the_pool(
    network: tuple[Network, Hosts],
) -> None:
    cpo, emsp = await _pair(network)
    invalidated: list[BaseException | None] = []

    def count(_dbapi: Any, _record: Any, error: BaseException | None) -> None:
        invalidated.append(error)

    engines = (cpo.system.engine, emsp.system.engine)
    for engine in engines:
        event.listen(engine.sync_engine, "invalidate", count)
    location = _location()
    await cpo.system.store.locations.put(location)
    evse = location.evses[0].uid
    # EVSE statuses flow to the eMSP (pushes in flight, the eMSP storing them) while both
    # deployments' watchers read their stores; the CPO stops in the middle of it.
    key = ("CO", "CPO", location.id)
    for n in range(40):
        status = (domain.EVSEStatus.CHARGING, domain.EVSEStatus.AVAILABLE)[n % 2]
        at = utc_now()
        assert await cpo.system.store.locations.set_evse_status(key, evse, status, at)
        await cpo.system.bus.publish(EvseStatusChanged(*key, evse, status, at))
    await asyncio.sleep(0.05)
    try:
        await cpo.roaming.stop()
        await emsp.roaming.stop()
        assert [engine.pool.checkedout() for engine in engines] == [0, 0]
        assert await _settled() == []
        assert invalidated == [], "a connection was thrown away in the middle of a query"
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "invalidate", count)
