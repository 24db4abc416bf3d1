"""``intercarga simulate`` as a user runs it: a real process against a CSMS on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.sim.csms import MiniCsms, running_csms


async def _simulate(*args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERCARGA_")}
    env.update({"NO_COLOR": "1", "COLUMNS": "200"})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intercarga",
        "simulate",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_json_summary_of_a_fleet() -> None:
    async with running_csms() as (csms, _, url):
        code, stdout, stderr = await _simulate(
            "--url", url, "--stations", "3", "--ocpp", "1.6", "--speed", "1200", "--json"
        )
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["ocpp"] == "1.6" and summary["stations"] == 3 and summary["accepted"] == 3
    assert summary["sessions"] == {"started": 3, "completed": 3}
    assert summary["energy_kwh"] > 10  # three half-hour sessions at 11 kW
    messages = summary["messages"]
    assert messages["sent"] == messages["answered"] == len(csms.calls)
    assert messages["errors"] == 0
    assert messages["by_action"]["StartTransaction"] == 3
    assert summary["latency_ms"]["p50"] <= summary["latency_ms"]["p99"]
    assert {c.station_id for c in csms.calls} == {"SIM-0001", "SIM-0002", "SIM-0003"}


async def test_scenario_file_failures_and_exit_codes(tmp_path: Path) -> None:
    scenario = tmp_path / "blocked.yaml"
    scenario.write_text("id_tag: BLOCKED\nsteps: [boot, plug_in, authorize, start]\n")
    async with running_csms(MiniCsms(blocked_tokens=frozenset({"BLOCKED"}))) as (_, _, url):
        code, stdout, _ = await _simulate(
            "--url",
            url,
            "--scenario",
            str(scenario),
            "--speed",
            "1000",
            "--no-live",
            "--id-prefix",
            "CL-",
        )
    assert code == 1
    assert "CL-0001: step 3 (authorize): token answered Blocked" in stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [boot, {charge: {minutes: 0}}]\n")
    code, _, stderr = await _simulate("--scenario", str(bad))
    assert code == 2
    assert "steps.1.charge.minutes" in stderr


async def test_load_mode_prints_rate_and_latency() -> None:
    async with running_csms() as (csms, _, url):
        code, stdout, stderr = await _simulate(
            "--url",
            url,
            "--load",
            "transaction-event",
            "--stations",
            "2",
            "--messages",
            "40",
            "--json",
        )
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["load"] == "transaction-event" and result["ocpp"] == "2.0.1"
    assert result["messages"] == {"answered": 40, "errors": 0}
    assert result["messages_per_s"] > 0 and result["latency_ms"]["p99"] is not None
    assert len(csms.of("TransactionEvent")) == 42  # two Started, forty Updated
