"""``intercarga demo``: the region starts, roams across borders, and leaves nothing running.

The end-to-end test runs the real command (seven ``intercarga serve`` processes, simulated
stations) with one station per CPO and one charge each, and asserts only what the command prints
and what the operating system shows afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
@pytest.mark.timeout(900)
def test_a_short_demo_roams_in_three_currencies_and_stops_everything(tmp_path: Path) -> None:
    folder = tmp_path / "region"
    result = subprocess.run(
        [
            sys.executable, "-m", "intercarga", "demo", "--folder", str(folder),
            "--stations", "1", "--sessions", "1", "--seed", "7", "--speed", "600", "--json",
        ],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    summary = json.loads(result.stdout)
    assert summary["failures"] == []
    flows = summary["flows"]
    # Each CPO's one station read a card of one eMSP; each CDR reached it once.
    assert {flow["cpo"] for flow in flows} == {"cl-cpo", "co-cpo", "br-cpo"}
    for flow in flows:
        assert flow["cdrs"] == flow["delivered"] == 1, flow
        assert flow["duplicated"] == 0
    currencies = {c for flow in flows for c in flow["currencies"]}
    assert currencies == {"CLP", "COP", "BRL"}
    # The Colombian CPO reaches the regional eMSP only through the hub, which keeps no CDR.
    assert {"cpo": "co-cpo", "emsp": "emsp-andes"}.items() <= next(
        f for f in flows if f["cpo"] == "co-cpo"
    ).items()
    assert summary["parties"]["hub"]["cdrs"] == 0
    # The access point has every CPO as a partner; the eMSPs hold the roaming CDRs.
    assert summary["parties"]["nap"]["partners"] == 3
    assert sum(summary["parties"][e]["cdrs"] for e in ("emsp-andes", "emsp-brasil")) == 3
    assert _processes_under(folder) == [], "a process of the demo outlived it"
