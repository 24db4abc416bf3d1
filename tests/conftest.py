"""Shared fixtures: a migrated store on SQLite and on PostgreSQL, an admin API client, a cluster
name on NATS.

PostgreSQL tests use the server on 127.0.0.1:5432 (database ``test``) in schemas of their own
process (each pytest-xdist worker), dropped at its end, so runs never collide. Databases are
migrated once per process and copied (SQLite) or emptied (PostgreSQL) for each test
(:class:`Migrated`). Cluster tests use the NATS with JetStream on 127.0.0.1:4222; each test gets
its own cluster name (so its own key-value bucket, stream and subjects), whose bucket and stream
are deleted afterwards. When a server does not answer the tests skip with the reason, unless
``INTERCARGA_REQUIRE_SERVICES=1`` (CI), where they fail.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import shutil
import sys
import threading
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.app import System, http_app
from intercarga.config import Settings
from intercarga.store import Store, create_engine, upgrade
from intercarga.store.tables import metadata
from tests import fuzzing  # noqa: F401  (loads the Hypothesis profile: `make fuzz` runs long)

POSTGRES_DSN = os.environ.get(
    "INTERCARGA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
POSTGRES_URL = POSTGRES_DSN.replace("postgresql://", "postgresql+asyncpg://", 1)
NATS_URL = os.environ.get("INTERCARGA_TEST_NATS", "nats://127.0.0.1:4222")
REQUIRE_SERVICES = os.environ.get("INTERCARGA_REQUIRE_SERVICES") == "1"

# A pytest-xdist worker starts with COLUMNS=80 and LINES=24 in its environment; the CLI's Rich
# consoles, built at import, would keep that width for good and ignore the COLUMNS a CLI test
# passes to its run. Without them the consoles read the width at each run, as in a serial run.
for _size in ("COLUMNS", "LINES"):
    os.environ.pop(_size, None)


def service_missing(reason: str) -> None:
    """Skip, or fail when the services are required (CI)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (INTERCARGA_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


async def _postgres_schema() -> str:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        service_missing(f"PostgreSQL at {POSTGRES_DSN} does not answer: {error}")
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await connection.close()
    return schema


# Sessions of this server holding locks in a schema: a test's connection left open.
_LOCK_HOLDERS = """
SELECT DISTINCT l.pid, a.state, left(a.query, 200) AS query
FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE n.nspname = $1 AND l.pid <> pg_backend_pid()
"""


async def _end_lock_holders(connection: asyncpg.Connection, schema: str) -> None:
    """Name in a warning, then end, the sessions holding locks in ``schema``."""
    holders = await connection.fetch(_LOCK_HOLDERS, schema)
    warnings.warn(
        f"schema {schema}: connections still held locks after the test: "
        + "; ".join(f"pid {h['pid']} {h['state']}: {h['query']}" for h in holders),
        stacklevel=1,
    )
    for holder in holders:
        await connection.execute("SELECT pg_terminate_backend($1)", holder["pid"])


async def _in_schema(schema: str, statements: str) -> None:
    """Run ``statements`` that touch ``schema``. A connection a test left open in a transaction
    would make them wait for ever (it once held CI to its time limit): after 10 s its holders
    are named in a warning and ended, and the statements run."""
    connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
    try:
        await connection.execute("SET lock_timeout = '10s'")
        try:
            await connection.execute(statements)
        except asyncpg.LockNotAvailableError:
            await _end_lock_holders(connection, schema)
            await connection.execute(statements)
    finally:
        await connection.close()


async def _drop_schema(schema: str) -> None:
    """Drop a test's schema, even one a forgotten connection holds (:func:`_in_schema`)."""
    await _in_schema(schema, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def _migrate(url: str, schema: str | None) -> None:
    engine = create_engine(url, schema)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


# Migrating a database takes about 0.4 s on SQLite and 1.1 s on PostgreSQL (plus 0.3 s to drop
# the schema); over the 1,000-odd databases the tests ask for it was the biggest single cost of
# `make test`. So each process (each pytest-xdist worker) migrates one SQLite file, and each
# PostgreSQL schema it needs, once; a test gets a copy of the file, or a schema emptied: the same
# state as a fresh migrated database, since no migration stores rows (checked when a schema is
# made). tests/store/test_migrations.py still migrates an empty database of its own.


class Migrated:
    """This process's migrated databases: a SQLite file to copy, PostgreSQL schemas to lend.

    Nothing is made until a test asks, so that SQLite tests run when PostgreSQL is down. A
    schema lent to a test is emptied first and given back when the test ends; the process runs
    one test at a time, so no two tests ever hold the same schema."""

    def __init__(self, folder: Path) -> None:
        self._sqlite = folder / "migrated.db"
        self._free: list[str] = []
        self._made: list[str] = []
        self._emptying: dict[str, str] = {}

    async def sqlite_copy(self, path: Path) -> str:
        """A migrated SQLite file at ``path``; its URL."""
        if not self._sqlite.exists():
            await _migrate(f"sqlite+aiosqlite:///{self._sqlite}", None)
        shutil.copyfile(self._sqlite, path)
        return f"sqlite+aiosqlite:///{path}"

    async def lend_schema(self) -> str:
        """A migrated, empty PostgreSQL schema, the caller's until :meth:`give_back`."""
        while self._free:
            schema = self._free.pop()
            try:
                await _in_schema(schema, self._emptying[schema])
                return schema
            except asyncpg.PostgresError:
                # A test changed the schema itself (tests/test_app.py drops a table to break the
                # store): it is dropped, and another one made.
                self._made.remove(schema)
                await _drop_schema(schema)
        schema = await _postgres_schema()
        self._made.append(schema)
        await _migrate(POSTGRES_URL, schema)
        self._emptying[schema] = await _emptying(schema)
        return schema

    def give_back(self, schema: str) -> None:
        self._free.append(schema)

    async def drop(self) -> None:
        for schema in self._made:
            await _drop_schema(schema)


async def _emptying(schema: str) -> str:
    """The statements that bring a migrated ``schema`` back to its state after the migrations:
    every table empty (children before parents), every sequence at its start."""
    tables = [f'"{schema}"."{table.name}"' for table in reversed(metadata.sorted_tables)]
    counts = " UNION ALL ".join(f"SELECT count(*) FROM {table}" for table in tables)
    connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
    try:
        stored = [row[0] for row in await connection.fetch(counts)]
        assert not any(stored), (
            "a migration stores rows: an emptied schema would not be the fresh database a test "
            "expects (tests/conftest.py, Migrated)"
        )
        sequences = await connection.fetch(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = $1", schema
        )
    finally:
        await connection.close()
    return ";\n".join(
        [f"DELETE FROM {table}" for table in tables]
        + [f'ALTER SEQUENCE "{schema}"."{row[0]}" RESTART' for row in sequences]
    )


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Migrated]:
    made = Migrated(tmp_path_factory.mktemp("migrated"))
    try:
        yield made
    finally:
        asyncio.run(made.drop())


@pytest.fixture
async def postgres_schema() -> AsyncIterator[str]:
    """An empty PostgreSQL schema of its own, dropped after the test."""
    schema = await _postgres_schema()
    try:
        yield schema
    finally:
        await _drop_schema(schema)


async def nats_ready() -> None:
    """Skip (or fail, in CI) unless the NATS at ``NATS_URL`` answers and has JetStream."""
    try:
        nc = await nats.connect(NATS_URL, connect_timeout=3, allow_reconnect=False)
    except Exception as error:
        service_missing(f"NATS at {NATS_URL} does not answer: {error or type(error).__name__}")
    try:
        await nc.jetstream().account_info()
    except Exception as error:
        service_missing(f"NATS at {NATS_URL} has no JetStream: {error}")
    finally:
        await nc.close()


async def drop_cluster(name: str) -> None:
    """Delete the streams of cluster ``name`` (its presence bucket's and its events')."""
    nc = await nats.connect(NATS_URL, connect_timeout=3, allow_reconnect=False)
    try:
        js = nc.jetstream()
        for stream in await js.streams_info():
            if name in stream.config.name:
                await js.delete_stream(stream.config.name)
    finally:
        await nc.close()


@pytest.fixture
async def nats_cluster() -> AsyncIterator[str]:
    """A cluster name of this test's own on the NATS at ``NATS_URL`` (with JetStream); its
    streams are deleted afterwards."""
    await nats_ready()
    name = f"t{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        await drop_cluster(name)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, migrated: Migrated, tmp_path: Path
) -> AsyncIterator[tuple[str, str | None]]:
    """(database URL, schema) of an empty database of each kind, at the newest schema: the
    test's own SQLite file, or a PostgreSQL schema of this process lent to the test."""
    if request.param == "sqlite":
        yield await migrated.sqlite_copy(tmp_path / "intercarga.db"), None
        return
    schema = await migrated.lend_schema()
    try:
        yield POSTGRES_URL, schema
    finally:
        migrated.give_back(schema)


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str | None]]:
    """(database URL, schema) of a database of each kind with no table at all."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'intercarga.db'}", None
        return
    schema = await _postgres_schema()
    try:
        yield POSTGRES_URL, schema
    finally:
        await _drop_schema(schema)


@pytest.fixture
async def engine(database: tuple[str, str | None]) -> AsyncIterator[AsyncEngine]:
    """An engine on :func:`database`, already at the newest schema."""
    url, schema = database
    engine = create_engine(url, schema)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> Store:
    return Store(engine)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No INTERCARGA_* variable from the caller's shell, and a fresh working directory."""
    for key in list(os.environ):
        if key.startswith("INTERCARGA_") and key not in (
            "INTERCARGA_REQUIRE_SERVICES",
            "INTERCARGA_TEST_POSTGRES",
        ):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


ADMIN_TOKEN = "test-admin-token-0123456789"


@pytest.fixture
async def system(database: tuple[str, str | None]) -> AsyncIterator[System]:
    url, schema = database
    settings = Settings(
        database_url=SecretStr(url), database_schema=schema, admin_token=SecretStr(ADMIN_TOKEN)
    )
    system = await System.open(settings, migrate=False)  # the database is migrated already
    try:
        yield system
    finally:
        await system.close()


@pytest.fixture
async def client(system: System) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=http_app(system))
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://intercarga.test", headers=headers
    ) as client:
        yield client


def _dump_asyncio_tasks(test: str) -> None:
    """Print every pending task of each running event loop: where a hung async test waits.

    pytest-timeout's own dump shows only the event loop's select(); this runs just before it.
    Read from another thread, but the loop it reads is the one that stopped moving."""
    loops = [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop)]
    lines = [f"\n--- {test} is still running: pending asyncio tasks ---"]
    for loop in loops:
        if not loop.is_running():
            continue
        for task in list(asyncio.all_tasks(loop)):
            lines.append(f"{task!r}")
            lines.extend(
                f"    {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
                for frame in task.get_stack(limit=12)
            )
    print("\n".join(lines), file=sys.stderr, flush=True)


@pytest.fixture(autouse=True)
def _tasks_dumped_when_hung(request: pytest.FixtureRequest) -> Iterator[None]:
    """Arms the dump of asyncio tasks 30 s before pytest-timeout ends a hung test."""
    marker = request.node.get_closest_marker("timeout")  # a test's own limit comes first
    limit = marker.args[0] if marker and marker.args else request.config.getini("timeout")
    seconds = float(limit) - 30 if limit else 0
    if seconds <= 0:
        yield
        return
    timer = threading.Timer(seconds, _dump_asyncio_tasks, args=(request.node.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


# --- The order the tests run in ---------------------------------------------------------------
# `make test` runs them on two pytest-xdist workers per core with --dist worksteal: each worker is
# handed a contiguous share of the collected tests, and one that runs out takes the second half
# of what is left of another's. A test of a minute or more that falls at the end of a share (the
# process tests are spread through the folders, and tests/test_*.py come last) starts late and
# ends the run alone. So the tests marked `slow` are moved to the head of the shares, dealt out
# in turn: the rest keep their order behind them, and no worker takes a slow test from another's
# head, since stealing takes from the tail.


def _fixture_definitions(item: pytest.Item) -> list[Sequence[pytest.FixtureDef[Any]]]:
    """The definitions of the fixtures ``item`` uses (pytest keeps them on the test function)."""
    info = getattr(item, "_fixtureinfo", None)
    return list(info.name2fixturedefs.values()) if info is not None else []


def _slow_groups(items: list[pytest.Item]) -> list[list[pytest.Item]]:
    """The slow tests in groups that one worker runs: a module's slow tests together when they
    share a server of the module (a fixture of module scope: split, it would start twice),
    each on its own otherwise."""
    by_module: dict[Path, list[pytest.Item]] = {}
    for item in items:
        if item.get_closest_marker("slow") is not None:
            by_module.setdefault(item.path, []).append(item)
    groups: list[list[pytest.Item]] = []
    for slow in by_module.values():
        shared = any(
            definition.scope in ("module", "package")
            for item in slow
            for definitions in _fixture_definitions(item)
            for definition in definitions
        )
        groups.extend([slow] if shared else [[item] for item in slow])
    return groups


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Set in each pytest-xdist worker (which alone collects, the same order in each); a worker
    # no longer knows the --dist mode, but under `load` too slow tests first is the better order.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers < 2:
        return  # one process: the collected order
    groups = sorted(_slow_groups(items), key=len, reverse=True)
    if not groups:
        return
    # Dealt in turn, so that neighbours (a test's parameters, a file's process tests, alike in
    # length) go to different workers.
    dealt: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for index, group in enumerate(groups):
        dealt[index % workers].extend(group)
    slow = {id(item) for share in dealt for item in share}
    rest = iter([item for item in items if id(item) not in slow])
    # The shares as worksteal makes them (xdist/scheduler/worksteal.py, check_schedule): the
    # first worker the first len // workers tests, the next an even part of what remains...
    ordered: list[pytest.Item] = []
    left = len(items)
    for index, share in enumerate(dealt):
        size = left // (workers - index)
        left -= size
        ordered.extend(share)
        ordered.extend(itertools.islice(rest, max(0, size - len(share))))
    ordered.extend(rest)
    assert len(ordered) == len(items)
    items[:] = ordered
