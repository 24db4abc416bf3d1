"""``intercarga demo``: the region starts, roams across borders, and leaves nothing running.

The end-to-end test runs the real command (seven ``intercarga serve`` processes, simulated
stations) with one station per CPO and one charge each, and asserts only what the command prints
and what the operating system shows afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from intercarga.ids.contract_id import is_valid_contract_id
from intercarga.sim.processes import environment
from intercarga.sim.region import _contract_id, card_uid, load_plan


def test_the_plan_is_consistent() -> None:
    plan = load_plan()
    keys = [spec.key for spec in plan.deployments]
    assert len(keys) == len(set(keys))
    roles = {spec.parties[0].role for spec in plan.deployments}
    assert roles == {"CPO", "EMSP", "HUB", "NAP"}
    currencies_by_country = {"CL", "CO", "BR"}
    assert {spec.parties[0].country_code for spec in plan.deployments if spec.is_cpo} == (
        currencies_by_country
    )
    for spec in plan.deployments:
        if spec.is_cpo:
            numbers = [n for group in spec.stations for n in group.numbers()]
            assert len(numbers) == len(set(numbers)), spec.key
            # Every station reads a card some eMSP issued.
            assert all(plan.card_owner(spec.key, n) for n in numbers), spec.key


def test_the_drivers_contracts_are_valid_emaids() -> None:
    plan = load_plan()
    party = plan.deployment("emsp-andes").parties[0]
    assert is_valid_contract_id(_contract_id(party, 7))
    assert card_uid(plan.deployment("cl-cpo"), 3) == "DRV-CL-0003"


def _processes_under(folder: Path) -> list[str]:
    """Processes whose working directory is inside ``folder`` (the demo's deployments)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd.startswith(str(folder)):
            found.append(f"{entry.name}: {cwd}")
    return found


@pytest.mark.slow
@pytest.mark.timeout(1300)
def test_a_short_demo_roams_plays_its_incidents_and_stops_everything(tmp_path: Path) -> None:
    folder = tmp_path / "region"
    result = subprocess.run(
        [
            sys.executable, "-m", "intercarga", "demo", "--folder", str(folder),
            "--stations", "1", "--seed", "7", "--speed", "300", "--duration", "60",
            "--outage", "15", "--json",
        ],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )  # fmt: skip
    assert _processes_under(folder) == [], "a process of the demo outlived it"
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    summary = json.loads(result.stdout)
    assert summary["failures"] == []
    flows = {(flow["cpo"], flow["emsp"]): flow for flow in summary["flows"]}
    # Each CPO's one RFID station reads a card of one eMSP: Andean cards in Chile (direct) and
    # Colombia (through the hub), a Brazilian card in Brazil; and the app driver's charge.
    assert set(flows) == {
        ("cl-cpo", "emsp-andes"), ("co-cpo", "emsp-andes"), ("br-cpo", "emsp-brasil"),
        ("br-cpo", "emsp-andes"),
    }  # fmt: skip
    for flow in flows.values():
        # Every roaming CDR at its eMSP exactly once, the outage's included.
        assert flow["cdrs"] >= 1, flow
        assert flow["delivered"] == flow["cdrs"], flow
        assert flow["duplicated"] == 0, flow
    assert {c for flow in flows.values() for c in flow["currencies"]} == {"CLP", "COP", "BRL"}
    parties = summary["parties"]
    assert parties["hub"]["cdrs"] == 0
    assert parties["nap"]["partners"] == 3
    made = sum(flow["cdrs"] for flow in flows.values())
    assert parties["emsp-andes"]["cdrs"] + parties["emsp-brasil"]["cdrs"] == made

    incidents = summary["incidents"]
    # The Brazilian eMSP was down while its drivers charged: their CDRs waited and came once.
    outage = incidents["outage"]
    assert outage["emsp"] == "emsp-brasil"
    assert outage["down_s"] >= 15
    assert outage["waiting_at_return"] >= 1
    # The Chilean station charged on while offline and replayed its queued meter values.
    offline = incidents["offline"]
    assert offline["status"] == "COMPLETED"
    assert offline["covers_s"] >= offline["offline_s"]
    assert offline["largest_gap_s"] < offline["offline_s"]
    # The price change made while an eMSP was down reached both eMSPs.
    assert incidents["tariff"]["reached"] == ["emsp-andes", "emsp-brasil"]
    # The Colombian CPO went quiet; the access point flagged it, and only it.
    silent = incidents["silent"]
    assert silent["flagged"] is True
    assert silent["others_flagged"] == []
    # The app driver's START_SESSION and STOP_SESSION made one CDR, in reais, at the eMSP.
    app = summary["app"]
    assert app["start_command"]["response"] == "ACCEPTED"
    assert app["stop_command"]["response"] == "ACCEPTED"
    assert app["cdrs"] == 1
    assert app["currency"] == ["BRL"]
    # Charges paid at Eletrovia's terminal: priced in reais, the CDR kept by the CPO.
    adhoc = summary["adhoc"]
    assert adhoc["cdrs"] >= 1
    assert adhoc["types"] == ["AD_HOC_USER"]
    assert adhoc["currency"] == ["BRL"]


@pytest.mark.slow
@pytest.mark.timeout(1300)
def test_ctrl_c_during_the_traffic_prints_the_summary_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "region"
    output = tmp_path / "demo.json"
    with output.open("w") as stdout:
        # A session of its own: Ctrl-C in a terminal reaches every process of its group.
        demo = subprocess.Popen(
            [
                sys.executable, "-m", "intercarga", "demo", "--folder", str(folder),
                "--stations", "1", "--duration", "300", "--json",
            ],
            env=environment(),
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 700
        while not list(folder.glob("*/simulate-*.json")):
            assert demo.poll() is None, demo.stderr.read() if demo.stderr else ""
            assert time.monotonic() < deadline, "the traffic did not start"
            time.sleep(1)
        time.sleep(5)
        os.killpg(demo.pid, signal.SIGINT)
        _, errors = demo.communicate(timeout=150)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=10)
    assert "Traceback" not in errors, errors[-3000:]
    summary = json.loads(output.read_text())
    assert {"parties", "flows", "incidents", "failures"} <= set(summary)
    assert demo.returncode in (0, 1)
    assert _processes_under(folder) == [], "a process of the demo outlived Ctrl-C"
