"""A cluster node holding stations stops on SIGTERM within ``stop_timeout`` whatever it went
through: here a NATS restart, the database's loss and return, and then a database that no longer
answers (a partition: its connections stay open, nothing comes back) when the SIGTERM comes.

The node (``intercarga serve``) reaches a ``nats-server`` of the test's own and the shared
PostgreSQL through a TCP proxy of the test's (both from :mod:`bench.crash`, run on an event loop
in a thread of their own so that waiting for the node never holds them up). Stopped, the node
closes its stations' WebSockets (they reconnect elsewhere), exits with code 0 and says
"stopped"; it never waits for the database for longer than its stop timeout.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from bench.crash import NatsServer, PostgresProxy
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from intercarga.sim.processes import Deployment, OcpiParty
from tests.conftest import POSTGRES_URL
from tests.ocpi.processes import until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
STATIONS = ("CO-ICG-0001", "BR-ICG-0001")  # the example network's
STOP_TIMEOUT = 6.0  # the node's ``stop_timeout``
# What a loaded 2-CPU machine adds to it: a Python process's own exit, the log's last lines.
SLACK = 4.0

T = TypeVar("T")


class _Loop:
    """An event loop in a thread of its own for the test's NATS server and database proxy."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Any) -> None:
        self.loop.call_soon_threadsafe(function)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture
def loop() -> Iterator[_Loop]:
    running = _Loop()
    try:
        yield running
    finally:
        running.close()


def _status(node: Deployment) -> int:
    try:
        return httpx.get(f"{node.base_url}/healthz", timeout=5).status_code
    except httpx.HTTPError:
        return 0


def test_a_node_holding_stations_stops_in_time_after_outages_and_with_the_database_hung(
    tmp_path: Path, shared: tuple[str, str], loop: _Loop
) -> None:
    if not Path(NATS_SERVER).exists():
        pytest.skip("no nats-server binary")
    schema, cluster = shared
    nats = NatsServer(tmp_path / "nats", NATS_SERVER)
    proxy = PostgresProxy()
    loop.run(nats.start())
    loop.run(proxy.start())
    node = Deployment.create(
        tmp_path / "node",
        [OcpiParty("CO", "ICG", "CPO")],
        seed=True,
        database_url=proxy.url(POSTGRES_URL),
        extra=[
            f'database_schema = "{schema}"',
            f"stop_timeout = {STOP_TIMEOUT}",
            "[cluster]",
            f'nats_url = "{nats.url}"',
            f'name = "{cluster}"',
            "lease = 3",
        ],
    )
    stations: list[ClientConnection] = []
    stack = ExitStack()
    try:
        node.start(timeout=90)
        with node.api() as api:
            for station_id in STATIONS:
                station = api.get(f"/api/v1/stations/{station_id}").json()
                station.pop("connection", None)
                station["security_profile"] = 0  # no password, for this test's plain WebSocket
                answer = api.put(f"/api/v1/stations/{station_id}", json=station)
                assert answer.status_code == 200, answer.text
        for station in STATIONS:
            url = f"{node.ocpp_url}/{station}"
            ws = stack.enter_context(connect(url, subprotocols=["ocpp1.6"], open_timeout=10))  # type: ignore[list-item]
            stations.append(ws)
            ws.send(json.dumps([2, "hb", "Heartbeat", {}]))
            assert json.loads(ws.recv(timeout=10))[0] == 3
        # NATS restarted, then the database lost and back: the node is ok again each time.
        loop.run(nats.cut())
        until(lambda: _status(node) == 503 or None, 20)
        loop.run(nats.restore())
        until(lambda: _status(node) == 200 or None, 30)
        loop.run(proxy.cut())
        until(lambda: _status(node) == 503 or None, 20)
        loop.run(proxy.restore())
        until(lambda: _status(node) == 200 or None, 30)
        # Heartbeats go on (a heartbeat writes the station's last contact in the database).
        for ws in stations:
            ws.send(json.dumps([2, "hb2", "Heartbeat", {}]))
            assert json.loads(ws.recv(timeout=10))[0] == 3
        # The database stops answering; a station's message is now stuck in a write.
        loop.call(proxy.freeze)
        stations[0].send(json.dumps([2, "hb3", "Heartbeat", {}]))
        time.sleep(1)
        assert node.process is not None
        process = node.process
        asked = time.monotonic()
        process.terminate()
        try:
            code = process.wait(STOP_TIMEOUT + SLACK)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - asked
        print(f"stopped {took:.1f} s after SIGTERM (stop_timeout {STOP_TIMEOUT:g} s)")
        assert code == 0, f"still running {took:.1f} s after SIGTERM (code {code})"
        assert took <= STOP_TIMEOUT + SLACK
        log = node.log.read_text(errors="replace")
        # Its clean stop said so (a last line may follow: what a library left was not waited for).
        assert "intercarga.app: stopped" in log.split("intercarga.app: shutting down", 1)[1], log

        # Each station saw its WebSocket closed by the node (it reconnects elsewhere).
        for ws in stations:
            with pytest.raises(ConnectionClosed):
                while True:
                    ws.recv(timeout=5)
            assert ws.close_code == 1001, ws.close_code
    finally:
        stack.close()
        node.kill()
        loop.run(proxy.stop())
        nats.stop()
