"""Issue 17's "done when", with real processes: three ``intercarga serve`` nodes on free ports,
one PostgreSQL schema and one NATS (a cluster name of the test's own), and a station played over
a real WebSocket.

A command sent to node A's admin API reaches the station connected to node C; when the station
moves to node B (node C closes its old socket), a status change it reports there shows in the
live dashboard stream of node A; node B killed (SIGKILL), the station is "offline" at node A at
once, and once it connects to node C again commands at node A reach it there.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from intercarga.sim.processes import Deployment, DeploymentError, OcpiParty
from tests.conftest import NATS_URL, POSTGRES_URL
from tests.ocpi.processes import until

pytestmark = pytest.mark.slow

STATION = "CO-ICG-0001"  # the example network's, on EVSE BOG-USA-1 of BOG-USAQUEN


def _node(folder: Path, schema: str, cluster: str, *, seed: bool) -> Deployment:
    return Deployment.create(
        folder,
        [OcpiParty("CO", "ICG", "CPO")],
        seed=seed,
        database_url=POSTGRES_URL,
        extra=[
            f'database_schema = "{schema}"',
            "[cluster]",
            f'nats_url = "{NATS_URL}"',
            f'name = "{cluster}"',
            "lease = 3",
        ],
    )


def _station(stack: ExitStack, node: Deployment) -> ClientConnection:
    ws = stack.enter_context(
        connect(f"{node.ocpp_url}/{STATION}", subprotocols=["ocpp1.6"], open_timeout=5)  # type: ignore[list-item]
    )
    ws.send(json.dumps([2, "hb", "Heartbeat", {}]))
    assert json.loads(ws.recv(timeout=5))[0] == 3
    return ws


def _reset_reaches(
    pool: ThreadPoolExecutor, node: Deployment, ws: ClientConnection, kind: str, ocpp16: str
) -> None:
    """A reset given to ``node``'s admin API reaches the station on ``ws`` (as 1.6 ``ocpp16``),
    and the station's Accepted comes back as the API's answer."""
    with node.api() as api:
        sent = pool.submit(
            api.post, f"/api/v1/stations/{STATION}/commands/reset", json={"kind": kind}
        )
        call = json.loads(ws.recv(timeout=10))
        assert call[2:] == ["Reset", {"type": ocpp16}]
        ws.send(json.dumps([3, call[1], {"status": "Accepted"}]))
        reply = sent.result(timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.json()["result"]["status"] == "Accepted"


def _follow(
    node: Deployment, password: str, lines: queue.Queue[str], ready: threading.Event
) -> None:
    """Sign in to ``node``'s dashboard and put each line of its live stream in ``lines``."""
    with httpx.Client(base_url=node.base_url, timeout=httpx.Timeout(10, read=60)) as browser:
        form = browser.get("/", headers={"Accept-Language": "en"})
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None, form.text[:500]
        data = {"name": "ops", "password": password, "csrf": csrf.group(1)}
        assert browser.post("/sign-in", data=data).status_code == 303
        with browser.stream("GET", "/live") as stream:
            ready.set()
            for line in stream.iter_lines():
                lines.put(line)


def _next_event(lines: queue.Queue[str], kind: str) -> dict[str, object]:
    """The data of the next ``kind`` event in the stream (10 s at most)."""
    while True:
        line = lines.get(timeout=10)
        if line == f"event: {kind}":
            data: dict[str, object] = json.loads(lines.get(timeout=10).removeprefix("data: "))
            return data


def test_three_nodes_route_commands_and_share_events(
    tmp_path: Path, shared: tuple[str, str]
) -> None:
    schema, cluster = shared
    a = _node(tmp_path / "a", schema, cluster, seed=True)
    b = _node(tmp_path / "b", schema, cluster, seed=False)
    c = _node(tmp_path / "c", schema, cluster, seed=False)
    pool = ThreadPoolExecutor(2)
    following: Future[None] | None = None
    stack = ExitStack()
    try:
        a.start()  # migrates and seeds the shared database first
        b.launch()
        c.launch()
        b.wait_until_up()
        c.wait_until_up()
        with a.api() as api:
            station = api.get(f"/api/v1/stations/{STATION}").json()
            station.pop("connection", None)
            station["security_profile"] = 0  # no password, for this test's plain WebSocket
            assert api.put(f"/api/v1/stations/{STATION}", json=station).status_code == 200
        added = a.cli("users", "add", "ops", "--role", "viewer")
        assert added.returncode == 0, added.stderr
        password = added.stdout.strip()

        # A command given to node A reaches the station connected to node C.
        at_c = _station(stack, c)
        _reset_reaches(pool, a, at_c, "Immediate", "Hard")
        # Node A's station resource shows the connection as node C sees it (a page of stations
        # shows each as node A sees it: not connected here).
        with a.api() as api:
            read = api.get(f"/api/v1/stations/{STATION}").json()["connection"]
            listed = api.get("/api/v1/stations", params={"limit": 100}).json()["items"]
        assert read["connected"] is True and read["ocpp_version"] == "ocpp1.6", read
        assert read["last_message_at"] is not None
        assert next(s for s in listed if s["id"] == STATION)["connection"] == {"connected": False}

        # Node A's live stream shows what the station does at node B.
        lines: queue.Queue[str] = queue.Queue()
        ready = threading.Event()
        following = pool.submit(_follow, a, password, lines, ready)
        assert ready.wait(10)
        at_b = _station(stack, b)
        with pytest.raises(Exception, match="taken over by another node"):
            at_c.recv(timeout=5)  # node C closed the old socket, saying why
        assert _next_event(lines, "station")["connected"] is True
        notification = {"connectorId": 1, "errorCode": "NoError", "status": "Faulted"}
        at_b.send(json.dumps([2, "st", "StatusNotification", notification]))
        assert json.loads(at_b.recv(timeout=5)) == [3, "st", {}]
        shown = _next_event(lines, "evse")
        assert (shown["location"], shown["evse_uid"], shown["status"]) == (
            "CO/ICG/BOG-USAQUEN",
            "BOG-USA-1",
            "OUTOFORDER",
        )

        # Node B is killed outright: its claim outlives it (until the lease runs out), yet a
        # command at node A is "offline" at once, since nobody answers for node B any more.
        b.kill()
        with a.api() as api:
            started = time.monotonic()
            reply = api.post(f"/api/v1/stations/{STATION}/commands/reset", json={})
            assert reply.status_code == 409, reply.text
            assert "is gone" in reply.json()["detail"]
            assert time.monotonic() - started < 2
        # The station connects again, to node C: commands at node A reach it there.
        at_c = _station(stack, c)
        _reset_reaches(pool, a, at_c, "OnIdle", "Soft")

        stack.close()
        # The station has gone: once node C has let its claim go, node A answers 409.
        with a.api() as api:

            def offline() -> bool:
                answer = api.post(f"/api/v1/stations/{STATION}/commands/reset", json={})
                return answer.status_code == 409

            until(offline, 5)
    finally:
        stack.close()
        for node in (a, b, c):
            try:
                node.stop()
            except DeploymentError:
                node.kill()
        if following is not None:
            # The stream ends with node A; what the reading thread met is seen here.
            following.result(timeout=70)
        pool.shutdown(wait=True, cancel_futures=True)
