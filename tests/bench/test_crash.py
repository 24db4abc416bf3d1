"""Crash safety, for real: ``intercarga serve`` killed with SIGKILL under load, and its database
restarted under load.

The first test runs :func:`bench.crash.run_crash` on SQLite and on PostgreSQL (a fresh schema
on the shared server): at least 100 transactions from OCPP 1.6 and 2.0.1 stations, the CPO
killed at seeded random moments and restarted on the same data, the stations replaying their
queues. Then, message by message, nothing the CPO acknowledged is missing, nothing is stored
twice, energies agree, and every CDR is stored once and reached the eMSP.

The second stops a PostgreSQL cluster of our own (never the shared one) while stations charge:
``/healthz`` says degraded, a station's call is answered with a CALLERROR InternalError (not
left hanging), and once the database is back the CPO uses it again without a restart and
stores every message it acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from bench.crash import (
    CrashPlan,
    CrashResult,
    CsmsProcess,
    EmspRecorder,
    PrivatePostgres,
    check,
    prepare,
    run_crash,
    until,
)

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.errors import ErrorCode
from intercarga.sim.clock import SimClock
from intercarga.sim.link import CallRejectedError
from intercarga.sim.station import Acknowledged, SimulatedStation, StationConfig

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


async def test_nothing_acknowledged_is_lost_or_doubled_across_kills(
    database: tuple[str, str | None], tmp_path: Path
) -> None:
    url, schema = database
    # Simulated time at twice the benchmark's pace: the same transactions, meter values and
    # kills, in half the charging time (the run is driven by simulated time, not by waiting).
    plan = CrashPlan(
        database_url=url, schema=schema, transactions=100, kills=4, seed=2026, speed=120.0
    )
    result = await run_crash(plan, tmp_path, progress=print)
    print(result.to_dict())
    assert result.problems == []
    assert result.kills >= 3  # the CPO died under load, not after it
    assert result.transactions >= 100
    assert result.lost == 0
    assert result.duplicated == 0
    assert result.sessions == result.transactions
    assert result.cdrs_stored == result.sessions == result.cdrs_received
    assert result.messages_checked >= 4 * result.transactions


@pytest.fixture
def private_postgres() -> AsyncIterator[PrivatePostgres]:
    reason = PrivatePostgres.missing()
    if reason is not None:
        pytest.skip(reason)
    with PrivatePostgres() as cluster:
        yield cluster  # type: ignore[misc]


async def _health(client: httpx.AsyncClient, cpo: CsmsProcess) -> tuple[int, str]:
    answer = await client.get(f"{cpo.base_url}/healthz")
    return answer.status_code, str(answer.json().get("status"))


async def _until_health(client: httpx.AsyncClient, cpo: CsmsProcess, status: str) -> None:
    deadline = time.monotonic() + 30
    while (await _health(client, cpo))[1] != status:
        assert time.monotonic() < deadline, f"/healthz never said {status}"
        await asyncio.sleep(0.1)


async def test_the_cpo_rides_out_a_database_restart(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    pg = private_postgres
    ids = ["PGR-16-001", "PGR-201-002"]
    emsp = EmspRecorder()
    await emsp.start()
    cpo = CsmsProcess(tmp_path / "cpo", pg.url, None)
    clock = SimClock(60.0)
    journal: list[Acknowledged] = []
    stations = [
        SimulatedStation(
            StationConfig(
                station_id=sid,
                url=cpo.ocpp_url,
                version=version,
                id_tag="CC" + sid.replace("-", "")[-12:],
                meter_interval_s=60,
                heartbeat_s=3600,
                call_timeout=20.0,
                # Retries far enough apart to span the outage: nothing is given up on.
                transaction_retry_s=1200.0,
                register_wh=5000.0,
            ),
            clock,
            journal=journal,
        )
        for sid, version in zip(ids, [OcppVersion.V16, OcppVersion.V201], strict=True)
    ]
    plan = CrashPlan(database_url=pg.url)
    try:
        await prepare(pg.url, None, ids, emsp.url)
        await cpo.start()
        async with httpx.AsyncClient(timeout=15) as client:
            for station in stations:
                await station.power_on(timeout=60)
                await station.plug_in()
                await station.authorize()
                await station.start()
            await asyncio.sleep(2.5)  # a few meter values stored
            pg.crash()
            began = time.monotonic()
            await _until_health(client, cpo, "degraded")
            code, _ = await _health(client, cpo)
            assert code == 503
            # A call that needs the database is refused at once, not left waiting.
            with pytest.raises(CallRejectedError) as refused:
                await asyncio.wait_for(stations[0].authorize(), 20)
            assert refused.value.code is ErrorCode.INTERNAL_ERROR
            assert "database is unavailable" in str(refused.value)
            await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() - began)))
            pg.start()
            await _until_health(client, cpo, "ok")  # no restart of the CPO
            assert cpo.process is not None and cpo.process.poll() is None
            assert await stations[1].authorize() == "Accepted"
            for station in stations:
                await station.charge(minutes=2)
                await station.stop()
                await station.unplug()
            for station in stations:
                assert await station.flush(60), f"{station.station_id} kept {station.queued}"
        await until(lambda: len(emsp.received()) >= len(stations), 30, "the CDRs reach the eMSP")
    finally:
        await asyncio.gather(*(s.shutdown() for s in stations), return_exceptions=True)
        with contextlib.suppress(Exception):
            status = cpo.stop()
        await emsp.stop()
    assert status == 0, cpo.tail()
    result = CrashResult("postgresql")
    await check(plan, journal, emsp, result)
    assert result.problems == []
    assert result.sessions == 2
    assert result.cdrs_stored == result.cdrs_received == 2
    # Meter values sent while the database was away were acknowledged later, and stored.
    assert result.messages_checked >= 8
