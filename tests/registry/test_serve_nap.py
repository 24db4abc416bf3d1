"""Issue 13's "done when" for the access point, with real processes: a CPO ``serve`` (the example
network's CO-ICG and CL-ICG) and a NAP ``serve`` (CO-UPM) on free ports. The CPO registers with
the NAP from a TOKEN_A (the CLI); the NAP pulls its Locations in full; a simulated OCPP 1.6
station at the CPO changes its EVSE's status 100 times and every change reaches the NAP's status
history within 2 s (the latencies are printed: run with ``-s`` to see p50/p99); once the station
stops, the CPO is flagged silent after its country's window (Colombia's 60 s overridden to 4 s).
"""

from __future__ import annotations

import statistics
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_commands import intercarga
from tests.ocpi.processes import PASSWORD, Server, configure, register, simulate, until

pytestmark = pytest.mark.slow

CHANGES = 100
EVSE = "/api/v1/registry/history/CO/ICG/BOG-USAQUEN/BOG-USA-1"


def _toggling(folder: Path) -> Path:
    """A scenario: boot, then plug in and unplug 50 times, a quarter second apart (at --speed 1
    real seconds): AVAILABLE → CHARGING (OCPP Preparing is OCPI CHARGING) → AVAILABLE, 100
    status changes."""
    steps = ["  - boot", "  - wait: {seconds: 2}"]
    for _ in range(CHANGES // 2 + 2):  # a few more: the boot's report is no change
        steps += [
            "  - plug_in",
            "  - wait: {seconds: 0.25}",
            "  - unplug",
            "  - wait: {seconds: 0.25}",
        ]
    path = folder / "toggling.yaml"
    path.write_text("name: toggling\nsteps:\n" + "\n".join(steps) + "\n")
    return path


def _history(nap: Server) -> list[dict[str, Any]]:
    with nap.api() as api:
        found: list[dict[str, Any]] = api.get(EVSE).json()
    return found


def test_a_cpo_registers_with_a_nap_whose_status_history_keeps_up(tmp_path: Path) -> None:
    cpo = configure(tmp_path / "cpo", [("CO", "ICG", "CPO"), ("CL", "ICG", "CPO")], seed=True)
    nap = configure(
        tmp_path / "nap",
        [("CO", "UPM", "NAP")],
        extra=["[registry]", "pull_interval = 0", "[registry.rules.CO]", "status_window_s = 4"],
    )
    try:
        cpo.start()
        nap.start()
        with cpo.api() as at_cpo:
            station = at_cpo.get("/api/v1/stations/CO-ICG-0001").json()
            station.pop("connection", None)
            station["password"] = PASSWORD
            assert at_cpo.put("/api/v1/stations/CO-ICG-0001", json=station).status_code == 200
        register(nap, cpo)  # the CPO registers with the NAP's TOKEN_A

        # The initial full pull: the NAP holds the CPO's locations without any push.
        def pulled() -> bool:
            with nap.api() as api:
                items = api.get("/api/v1/locations", params={"limit": 50}).json()["items"]
            return {(i["country_code"], i["id"]) for i in items} >= {
                ("CO", "BOG-USAQUEN"),
                ("CL", "SCL-PROVIDENCIA"),
            }

        until(pulled, 30)
        assert [c["via"] for c in _history(nap)] == ["PULL"]

        scenario = _toggling(tmp_path)
        run = simulate(cpo, "CO-ICG-", "1.6", "--scenario", str(scenario), "--speed", "1")
        out, err = run.communicate(timeout=240)
        assert run.returncode == 0, err + out

        def arrived() -> list[dict[str, Any]] | None:
            pushed = [c for c in _history(nap) if c["via"] == "PUSH"]
            return pushed if len(pushed) >= CHANGES else None

        pushed = until(arrived, 60)
        # The station's reports as the CPO pushed them: charging and available by turns.
        assert {c["status"] for c in pushed} == {"CHARGING", "AVAILABLE"}
        statuses = [c["status"] for c in pushed]
        turns = sum(1 for a, b in pairwise(statuses) if a != b)
        assert turns >= CHANGES - 5, statuses
        assert {c["source"] for c in pushed} == {"CO-ICG"}
        # From the CPO's EVSE last_updated (the station's StatusNotification) to the NAP's
        # status history: both processes on one clock.
        latencies = sorted(
            (
                datetime.fromisoformat(c["received_at"]) - datetime.fromisoformat(c["at"])
            ).total_seconds()
            for c in pushed
        )
        p99 = latencies[int(0.99 * (len(latencies) - 1))]
        print(
            f"\nNAP status latency over {len(latencies)} changes: "
            f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {latencies[-1] * 1000:.0f} ms"
        )
        assert latencies[-1] < 2.0, latencies[-5:]

        # The station is gone: after Colombia's (overridden) 4 s the CPO is flagged silent,
        # in the admin API and in the CLI's table; CL-ICG's 60 s window is not over yet.
        def silent() -> list[dict[str, Any]]:
            with nap.api() as api:
                flags: list[dict[str, Any]] = api.get("/api/v1/registry/flags").json()
            return [f for f in flags if f["rule"] == "silent" and f["subject"] == "CO-ICG"]

        until(silent, 30)
        shown = intercarga("registry", "status", cwd=nap.folder, env={"COLUMNS": "250"})
        assert shown.returncode == 0, shown.stderr
        row = next(line for line in shown.stdout.splitlines() if "CO-ICG " in line)
        assert "silent" in row
    finally:
        cpo.stop()
        nap.stop()
