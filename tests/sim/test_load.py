"""The load generator against the test CSMS and against a raw echo server (the ceiling)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from intercarga.domain.station import OcppVersion
from intercarga.sim.link import SimulationError
from intercarga.sim.load import LoadConfig, LoadKind, LoadResult, run_load
from tests.sim.csms import running_csms


@pytest.mark.parametrize(
    ("kind", "version", "action"),
    [
        (LoadKind.HEARTBEAT, OcppVersion.V201, "Heartbeat"),
        (LoadKind.METER_VALUES, OcppVersion.V16, "MeterValues"),
        (LoadKind.TRANSACTION_EVENT, OcppVersion.V201, "TransactionEvent"),
        (LoadKind.TRANSACTION_EVENT, OcppVersion.V21, "TransactionEvent"),
    ],
)
async def test_every_message_is_sent_validated_and_answered(
    kind: LoadKind, version: OcppVersion, action: str
) -> None:
    async with running_csms() as (csms, _, url):
        result = await run_load(LoadConfig(url, kind, stations=4, messages=101, version=version))
    assert (result.connected, result.booted) == (4, 4)
    assert result.answered == 101 and result.errors == 0 and not result.failures
    assert len(result.latencies) == 101 and result.rate > 0
    measured = csms.of(action)
    if kind is LoadKind.TRANSACTION_EVENT:
        updates = [m for m in measured if m["eventType"] == "Updated"]
        assert len(updates) == 101
        assert all(len(m["meterValue"][0]["sampledValue"]) == 10 for m in updates)
        one_station = [m for m in updates if m["transactionInfo"]["transactionId"] == "LOAD-1-tx"]
        assert [m["seqNo"] for m in one_station] == list(range(1, len(one_station) + 1))
    elif kind is LoadKind.METER_VALUES:
        assert len(measured) == 101
        assert all(len(m["meterValue"][0]["sampledValue"]) == 10 for m in measured)
        assert {m["transactionId"] for m in measured} == {1, 2, 3, 4}
        assert len({m["meterValue"][0]["timestamp"] for m in measured}) > 25
    else:
        assert len(measured) == 101
    summary = result.to_dict()
    assert summary["messages"] == {"answered": 101, "errors": 0}
    assert summary["latency_ms"]["p50"] <= summary["latency_ms"]["p99"]


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    sock = socket.create_server(("127.0.0.1", 0))
    async with serve(echo, sock=sock, subprotocols=["ocpp1.6", "ocpp2.0.1"]) as server:  # type: ignore[list-item]
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}/ocpp"
        server.close()


async def test_an_echo_server_counts_as_answering(echo_url: str) -> None:
    for kind in LoadKind:
        result = await run_load(LoadConfig(echo_url, kind, stations=3, messages=30))
        assert result.answered == 30 and result.errors == 0 and not result.failures


async def test_unreachable_stations_are_failures_not_crashes() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await run_load(LoadConfig(f"ws://127.0.0.1:{port}/ocpp", stations=2, messages=10))
    assert result.connected == 0 and result.answered == 0
    assert len(result.failures) == 2


def test_results_of_several_processes_merge() -> None:
    one = LoadResult(
        LoadKind.HEARTBEAT, OcppVersion.V201, 2, 2, 2, 10, 1, [], 0.5, 2.0, [0.001] * 10
    )
    two = LoadResult(
        LoadKind.HEARTBEAT, OcppVersion.V201, 3, 3, 3, 30, 0, [], 0.7, 3.0, [0.003] * 30
    )
    total = LoadResult.merge([one, two])
    assert (total.stations, total.answered, total.errors) == (5, 40, 1)
    assert total.elapsed_s == 3.0 and total.rate == pytest.approx(40 / 3)
    assert total.latency_ms(0.5) == pytest.approx(3.0)


def test_transaction_events_need_a_2x_version() -> None:
    with pytest.raises(SimulationError):
        LoadConfig("ws://x/ocpp", LoadKind.TRANSACTION_EVENT, version=OcppVersion.V16)
