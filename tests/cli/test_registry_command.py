"""``intercarga registry status`` and ``reliability`` as a regulator runs them, on a database
holding one registered CPO (CO-ABC) with one location and a known status history."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import SecretStr
from typer.testing import CliRunner

from intercarga import domain
from intercarga.app import System
from intercarga.cli import app
from intercarga.config import Settings
from intercarga.domain._types import utc_now
from intercarga.domain.partner import Partner, PartnerRole, PartnerState
from intercarga.registry import EvseKey, StatusChange
from intercarga.sim.example import example_network
from intercarga.store.partners import PartnerRepository

runner = CliRunner()


async def _seed(url: str) -> datetime:
    system = await System.open(Settings(database_url=SecretStr(url)))
    try:
        await PartnerRepository(system.engine).put(
            Partner(
                id="p1",
                name="Carga ABC",
                state=PartnerState.REGISTERED,
                initiated_by="THEM",
                version="2.2.1",
                roles=[PartnerRole(country_code="CO", party_id="ABC", role="CPO", name="ABC")],
            )
        )
        location = example_network().locations[0]
        location = location.model_copy(
            update={
                "country_code": "CO",
                "party_id": "ABC",
                "id": "L1",
                "evses": location.evses[:1],
            }
        )
        await system.store.locations.put(location)
        # The last 10 hours: AVAILABLE, then OUTOFORDER for the last hour (a 24/7 location):
        # UK = 9 h / 10 h = 90 %, below the 99 % threshold.
        now = utc_now().replace(microsecond=0)
        key = EvseKey("CO", "ABC", "L1", location.evses[0].uid)
        await system.store.status_history.record(
            [
                StatusChange(key, now - timedelta(hours=10), domain.EVSEStatus.AVAILABLE, "CO-ABC", "PULL", now - timedelta(hours=10)),
                StatusChange(key, now - timedelta(hours=1), domain.EVSEStatus.OUTOFORDER, "CO-ABC", "PUSH", now - timedelta(hours=1)),
            ]
        )  # fmt: skip
    finally:
        await system.close()
    return now


def test_status_and_reliability_tables(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nap.db'}"
    now = asyncio.run(_seed(url))
    env = {"INTERCARGA_DATABASE_URL": url, "COLUMNS": "200"}
    result = runner.invoke(app, ["registry", "status"], env=env)
    assert result.exit_code == 0, result.output
    # Silent for an hour (Colombia wants 60 s); the tariff the connectors name never came.
    row = next(line for line in result.stdout.splitlines() if "CO-ABC " in line)
    assert "silent" in row and "tariff" in row
    assert "last heard 36" in result.stdout  # 3600 s and the few the command took
    result = runner.invoke(
        app,
        ["registry", "reliability", "--days", "1", "--until", now.strftime("%Y-%m-%dT%H:%M:%S")],
        env=env,
    )
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "CO-ABC" in line)
    # Over the last 24 h: 14 h UNKNOWN (not counted), 9 h AVAILABLE, 1 h OUTOFORDER → 90 %;
    # NEVI counts the 14 h without report as outage too: (24 − 15) / 24 = 37.5 %.
    assert "90.000 %" in row and "37.500 %" in row and "yes" in row
    bad = runner.invoke(app, ["registry", "reliability", "--level", "PLANET"], env=env)
    assert bad.exit_code == 2
    assert "--level PLANET" in bad.stderr and "Traceback" not in bad.output
