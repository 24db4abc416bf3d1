"""Issue 17's outages under load with several nodes: NATS restarted, PostgreSQL lost for a
while, two ``intercarga serve`` processes charging on through both.

NATS is a ``nats-server`` of the test's own (a free port, JetStream storage in a temporary
folder): it is killed with SIGKILL and started again on the same port and storage. The shared
PostgreSQL server must not be stopped (other tests use it), so the nodes reach it through a TCP
proxy in the test, which drops every connection and refuses new ones for a while, as the
database's loss looks to a node. Meanwhile every node's ``/healthz`` answers 503 naming what is
away, and an admin API request that needs it fails at once with one line (no hang); once it is
back every node is ok again, the stations' transaction messages (refused meanwhile, queued,
retried) are accepted, and :func:`bench.crash.check` finds, message by message, nothing a node
acknowledged lost and nothing stored or pushed twice.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from bench.crash import CrashPlan, CrashResult, NatsServer, PostgresProxy, run_crash

from intercarga.cli.serve import EXIT_WITHIN
from intercarga.config import Settings
from tests.conftest import POSTGRES_URL

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
STOP_TIMEOUT = Settings.model_fields["stop_timeout"].default


async def _run(tmp_path: Path, schema: str, cluster: str) -> CrashResult:
    nats = NatsServer(tmp_path / "nats", NATS_SERVER)
    proxy = PostgresProxy()
    await nats.start()
    await proxy.start()
    try:
        plan = CrashPlan(
            database_url=proxy.url(POSTGRES_URL),
            schema=schema,
            stations_16=3,
            stations_201=3,
            transactions=16,
            kills=2,
            seed=2017,
            cluster=(f'nats_url = "{nats.url}"', f'name = "{cluster}"', "lease = 3"),
            nodes=2,
            disruptions=("nats", "postgres"),
            outage_s=3.0,
            # A message refused while the database is away is tried again after 2 and 4 s
            # (simulated 120 s × the attempts so far at 60×): the outage must end before.
            transaction_retry_s=120.0,
            every_push=True,
            ocpi=("request_timeout = 3",),
        )
        return await run_crash(
            plan, tmp_path, progress=print, outages={"nats": nats, "postgres": proxy}
        )
    finally:
        await proxy.stop()
        nats.stop()


def test_nodes_survive_a_nats_restart_and_the_database_s_loss_under_load(
    tmp_path: Path, shared: tuple[str, str]
) -> None:
    if not Path(NATS_SERVER).exists():
        pytest.skip("no nats-server binary")
    schema, cluster = shared
    result = asyncio.run(_run(tmp_path, schema, cluster))
    print(result.to_dict())
    # A CDR stored just before the database went away gets its outbox row once it is back:
    # the pusher's group is given the CdrCreated event again until its write succeeds.
    assert result.problems == []
    # After both outages each node, SIGTERM'd at the end (its database not answering meanwhile:
    # see CsmsProcess.stop), exited with 0 (checked above) within stop_timeout (10 s) and the
    # few seconds its process then has to end (EXIT_WITHIN), a loaded machine's slack added.
    assert len(result.stop_s) == 2
    assert max(result.stop_s) <= STOP_TIMEOUT + EXIT_WITHIN + 3, result.stop_s
    nats, postgres = result.outages
    # NATS away: every node degraded (naming the cluster) within seconds; a command for a
    # station no node holds fails with one line, not a hang.
    assert nats["degraded_s"] < 5
    assert nats["request_status"] == 409 and nats["request_s"] < 10, nats
    # PostgreSQL away: every node degraded (naming the database); the admin API answers 503.
    assert postgres["degraded_s"] < 5
    assert postgres["request_status"] == 503 and postgres["request_s"] < 10, postgres
    assert "\n" not in postgres["request_detail"]
    # Both back: every node ok within seconds, and nothing acknowledged lost or doubled.
    assert nats["recovered_s"] < 15 and postgres["recovered_s"] < 15
    assert result.transactions >= 16
    assert result.lost == 0  # no acknowledged message lost
    assert result.duplicated == 0
    assert result.sessions == result.transactions
    assert result.cdrs_stored == result.sessions == result.cdrs_received
    # No PUT or PATCH arrives twice (in doubt, it is asked about); a CDR POST in flight may.
    assert result.pushes_repeated == result.posts_resent_in_doubt
