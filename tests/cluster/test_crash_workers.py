"""Issue 17's kill -9 scenario, at a size CI affords: three nodes (``serve --workers 3`` on the
real PostgreSQL and NATS), 20 transactions from twelve OCPP 1.6 and 2.0.1 stations, a node killed with
SIGKILL twice while they charge.

:func:`bench.crash.run_crash` drives it (as for one node in ``tests/bench/test_crash.py``): the
killed worker's stations reconnect on the same port to the other workers and replay what they
queued; then, message by message, nothing a node acknowledged is missing, nothing is stored
twice, every session has one CDR, and the eMSP received each CDR.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bench.crash import CrashPlan, run_crash

from tests.conftest import NATS_URL, POSTGRES_URL

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_a_node_killed_under_load_loses_and_doubles_nothing(
    tmp_path: Path, shared: tuple[str, str]
) -> None:
    schema, cluster = shared
    plan = CrashPlan(
        database_url=POSTGRES_URL,
        schema=schema,
        stations_16=6,
        stations_201=6,
        transactions=20,
        kills=2,
        seed=17,
        cluster=(f'nats_url = "{NATS_URL}"', f'name = "{cluster}"', "lease = 3"),
        workers=3,
    )
    result = asyncio.run(run_crash(plan, tmp_path, progress=print))
    print(result.to_dict())
    assert result.problems == []
    assert result.kills == 2  # a node died under load, twice
    # Its stations moved to the other nodes (twelve stations over three nodes: a killed node
    # holding none of them both times is a chance of about 1 in 17,000).
    assert sum(result.moved) >= 1
    assert result.transactions >= 20
    assert result.lost == 0
    assert result.duplicated == 0
    assert result.sessions == result.transactions
    assert result.cdrs_stored == result.sessions == result.cdrs_received
