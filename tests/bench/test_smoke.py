"""Each benchmark runs at a tiny size and reports numbers, so ``make bench`` never rots.

Nothing here asserts a time or a rate's size: only that every part runs end to end against real
server processes (one ``intercarga serve`` shared by the module, to keep this quick) and reports
figures, and that the report renders them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from bench.bench_pricing import bench_pricing
from bench.common import spread
from bench.connections import run_connections
from bench.crash import CrashResult
from bench.hub_auth import HubAuthResult, run_hub_auth
from bench.nap_ingest import NapIngestResult, run_nap_ingest
from bench.ocpi_pull import run_ocpi_pull
from bench.outbox import run_outbox
from bench.profiles import summarise
from bench.run import REGISTRY_TITLE, PricingResult, Report, Sizes, render, splice
from bench.servers import ServerProcess
from bench.throughput import KindResult, Target, TargetResult, run_throughput

from intercarga.sim.load import LoadKind

pytestmark = pytest.mark.slow

LOCATIONS = 30


@pytest.fixture(scope="module")
def serve() -> Iterator[ServerProcess]:
    """``intercarga serve`` with stations LOAD-0001… registered and the OCPI pull's seed."""
    os.environ["BENCH_LOCATIONS"] = str(LOCATIONS)
    with ServerProcess(
        "serve",
        "--stations",
        "40",
        "--database",
        "sqlite+aiosqlite:///bench.db",
        "--seed",
        "bench.ocpi_pull:seed",
    ) as server:
        yield server


def test_throughput_runs_against_the_ceiling_and_intercarga(serve: ServerProcess) -> None:
    results = run_throughput(
        kinds=(LoadKind.TRANSACTION_EVENT,),
        stations=2,
        runs=1,
        seconds=0.05,
        warmup_messages=10,
        min_messages=10,
        only=("echo", "sqlite"),
        progress=lambda _: None,
        servers={"sqlite": serve},
    )
    assert [result.target.key for result in results] == ["echo", "sqlite"]
    for result in results:
        row = result.kinds[LoadKind.TRANSACTION_EVENT]
        assert row.errors == 0 and not row.failures
        assert row.rate is not None and row.rate.median > 0
        assert row.p99_ms is not None and row.cpu_us_per_message is not None


def test_connections_runs_and_reports_memory_and_latency(serve: ServerProcess) -> None:
    result = run_connections(10, heartbeats_per_station=1, server=serve, first_station=30)
    assert (result.connected, result.booted, result.heartbeats) == (10, 10, 10)
    assert result.rss_peak >= result.rss_before > 0
    assert result.p99_ms is not None and result.ready_s > 0


def test_pricing_reports_rates_and_the_same_total() -> None:
    result = bench_pricing(0.05)
    assert result.pricings_per_second > 0 and result.engine_only_per_second > 0
    assert "14385" in result.total_cost  # the workload's known price, unchanged by speed-ups


def test_ocpi_pull_follows_every_page(serve: ServerProcess) -> None:
    result = run_ocpi_pull(LOCATIONS, runs=1, server=serve)
    assert result.error is None
    assert result.locations == LOCATIONS and result.pages >= 1 and result.bytes > 0
    assert result.ratio is not None


def test_outbox_delivers_every_update_to_the_partner() -> None:
    result = run_outbox(4)
    for measured in (result.one, result.many, result.backlog):
        assert (measured.updates, measured.delivered, measured.failed) == (4, 4, 0)
        assert measured.stored_per_s > 0 and measured.delivered_per_s > 0


def test_nap_ingest_confirms_every_status_patch() -> None:
    result = run_nap_ingest(8, runs=1)
    assert result.error is None, result.error
    assert (result.updates, result.confirmed) == (8, 8)  # every PATCH answered 1000
    assert result.per_second is not None and result.p99_ms is not None


def test_hub_authorization_round_trips_through_three_serve_processes() -> None:
    result = run_hub_auth(3, runs=1)
    assert result.authorizations == 3 and result.refused == 0  # every card was Accepted
    assert result.hub_p50_ms is not None and result.local_p50_ms is not None
    assert result.ratio is not None


def test_profiles_are_summarised_from_collapsed_stacks() -> None:
    profile = summarise(
        "main (a.py:1);handle (src/intercarga/x.py:5);validate (<string>:3) 30\n"
        "main (a.py:1);handle (src/intercarga/x.py:5) 10\n"
        "main (a.py:1);select (selectors.py:9) 99\n"
    )
    assert profile.samples == 40  # waiting in select is idle, not work
    inclusive = dict(profile.top(5))
    assert inclusive["main (a.py)"] == 100.0 and inclusive["handle (intercarga/x.py)"] == 100.0
    assert profile.top(1, own=True) == [("validate (<string>)", 75.0)]


def test_the_report_renders_every_section() -> None:
    report = Report(datetime.now(UTC), Sizes.quick(), "python -m bench.run")
    report.pricing = PricingResult(spread([1.0]), spread([2.0]), "14385")
    report.hub_auth = HubAuthResult(
        6, spread([70.0]), spread([120.0]), spread([1.0]), spread([2.0]), 0
    )
    report.crash = [
        CrashResult("sqlite", kills=4, transactions=100, messages_checked=650, sessions=100,
                    cdrs_stored=100, cdrs_received=100, reconnect_s=[8.2, 9.1])
    ]  # fmt: skip
    text = render(report)
    for heading in ("# Benchmarks", "## Machine", "## 3. Pricing", "## What dominated"):
        assert heading in text
    assert "| Authorize through the hub | 70.0 ms | 120.0 ms |" in text
    assert "| sqlite | 4 | 100 | 650 | 0 | 0 | 100 / 100 | 0 | 8.2, 9.1 s |" in text


def test_the_throughput_section_prints_issue_16_s_targets_beside_the_figures() -> None:
    report = Report(datetime.now(UTC), Sizes.quick(), "python -m bench.run")
    event = LoadKind.TRANSACTION_EVENT
    for key, rate, cpu in (("echo", 10_000.0, 20.0), ("baseline", 500.0, 1_200.0),
                           ("sqlite", 3_500.0, 240.0)):  # fmt: skip
        result = TargetResult(Target(key, key, "serve"))
        result.kinds[event] = KindResult(
            event, rate=spread([rate]), cpu_us_per_message=spread([cpu])
        )
        report.throughput.append(result)
    text = render(report)
    assert "server CPU ≤ 250 µs a message — measured 240 µs: met" in text
    assert "c/a ≥ 0.3 — measured 0.35: met" in text
    assert "c/b ≥ 5 — measured 7.00: met" in text
    report.throughput[2].kinds[event] = KindResult(
        event, rate=spread([1_000.0]), cpu_us_per_message=spread([326.0])
    )
    text = render(report)
    assert "measured 326 µs: **not met**" in text
    assert "c/a ≥ 0.3 — measured 0.10: **not met**" in text
    assert "c/b ≥ 5 — measured 2.00: **not met**" in text


def test_a_partial_run_is_spliced_into_the_document_and_keeps_the_rest() -> None:
    full = Report(datetime.now(UTC), Sizes.quick(), "python -m bench.run")
    full.pricing = PricingResult(spread([1.0]), spread([2.0]), "14385")
    document = render(full)
    part = Report(datetime.now(UTC), Sizes.quick(), "python -m bench.run --only nap --splice")
    part.nap = NapIngestResult(40, 40, spread([25.0]), 30.0, 90.0)
    once = splice(document, part)
    assert once.startswith(document.split("## Machine")[0])  # the full run's header stays
    pricing = document.split("## 3. Pricing")[1].split("\n## ")[0]
    assert pricing in once  # sections this run did not measure are kept as they were
    section = once.split(REGISTRY_TITLE)[1].split("\n## ")[0]
    assert "Measured in a run of its own" in section and "--only nap --splice" in section
    assert "load average when the run started" in section
    assert "| confirmed / sent | 40 / 40 |" in section
    assert once.index(REGISTRY_TITLE) < once.index("## What dominated")
    # Spliced again: replaced, not added twice.
    part.nap = NapIngestResult(40, 39, spread([20.0]), 30.0, 90.0)
    twice = splice(once, part)
    assert twice.count(REGISTRY_TITLE) == 1 and "| confirmed / sent | 39 / 40 |" in twice
