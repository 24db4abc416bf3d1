"""``intercarga serve --workers 2`` as an operator runs it, on the real PostgreSQL and NATS.

Two worker processes share the HTTP and OCPP ports (SO_REUSEPORT). Sixteen stations connect to
the one OCPP port: the presence bucket shows them held by both workers (``-w0`` and ``-w1``),
a command sent to the one HTTP port reaches every station whichever worker holds it; a
worker killed outright is started again and its stations, connecting again, are reached; and
SIGTERM to the parent stops both workers, closes the stations' sockets, and nothing listens
on the ports any more.
Without ``[cluster] nats_url`` the option is refused in one line (exit 2).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import nats
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from intercarga.sim.processes import Deployment, DeploymentError, OcpiParty, run_cli
from tests.conftest import NATS_URL, POSTGRES_URL
from tests.ocpi.processes import until

STATIONS = [f"WRK-{number:02d}" for number in range(16)]
NODE = "wtest"


def _workers_of(parent: int) -> list[int]:
    """The process ids whose parent is ``parent`` (from /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


def _two_workers(parent: int) -> list[int] | None:
    """The two live workers of ``parent``, or None while there are not two."""
    alive = [pid for pid in _workers_of(parent) if _alive(pid)]
    return alive if len(alive) == 2 else None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def _holders(cluster: str) -> dict[str, str]:
    """Station id → node id, as the cluster's presence bucket holds them."""
    nc = await nats.connect(NATS_URL, connect_timeout=3, allow_reconnect=False)
    try:
        kv = await nc.jetstream().key_value(f"{cluster}_presence")
        holders = {}
        for key in await kv.keys():
            entry = await kv.get(key)
            holders[key] = json.loads(entry.value or b"{}")["node"]
        return holders
    finally:
        await nc.close()


def _boot(stack: ExitStack, node: Deployment, station: str) -> ClientConnection:
    ws = stack.enter_context(
        connect(f"{node.ocpp_url}/{station}", subprotocols=["ocpp1.6"], open_timeout=5)  # type: ignore[list-item]
    )
    boot = {"chargePointVendor": "Test", "chargePointModel": "Worker"}
    ws.send(json.dumps([2, "boot", "BootNotification", boot]))
    answer = json.loads(ws.recv(timeout=10))
    assert answer[0] == 3 and answer[2]["status"] == "Accepted", answer
    return ws


def _listening(port: int) -> bool:
    """Whether anything accepts connections on ``port`` (a bind test would also meet the
    TIME_WAIT of the connections just closed)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_two_workers_serve_stations_and_stop_on_sigterm(
    tmp_path: Path, shared: tuple[str, str]
) -> None:
    schema, cluster = shared
    node = Deployment.create(
        tmp_path / "w",
        [OcpiParty("CO", "ICG", "CPO")],
        database_url=POSTGRES_URL,
        extra=[
            f'database_schema = "{schema}"',
            "[ocpp]",
            'unknown_stations = "accept"',  # registered at boot, no credentials
            "[cluster]",
            f'nats_url = "{NATS_URL}"',
            f'name = "{cluster}"',
            f'node_id = "{NODE}"',
            "lease = 3",
        ],
    )
    pool = ThreadPoolExecutor(2)
    stack = ExitStack()
    try:
        node.start(timeout=120, options=["--workers", "2"])
        assert node.process is not None
        # /healthz answers once worker 0 serves; the parent says when every worker does.
        until(lambda: "all workers serve" in node.log.read_text(), 60)
        parent = node.process.pid
        workers = _workers_of(parent)
        assert len(workers) == 2, workers

        sockets = {station: _boot(stack, node, station) for station in STATIONS}
        holders = asyncio.run(_holders(cluster))
        assert set(holders) == set(STATIONS)
        # The kernel spread the connections: both workers hold stations (16 connections all
        # to one of two listeners would be a chance of 2 in 65,536).
        assert set(holders.values()) == {f"{NODE}-w0", f"{NODE}-w1"}, holders

        # A command at the one HTTP port reaches each station, whichever worker holds it.
        with node.api() as api:
            for station, ws in sockets.items():
                sent = pool.submit(
                    api.post,
                    f"/api/v1/stations/{station}/commands/reset",
                    json={"kind": "Immediate"},
                )
                call = json.loads(ws.recv(timeout=10))
                assert call[2:] == ["Reset", {"type": "Hard"}]
                ws.send(json.dumps([3, call[1], {"status": "Accepted"}]))
                reply = sent.result(timeout=15)
                assert reply.status_code == 200, (station, holders[station], reply.text)

        # A worker killed outright is started again by the parent, under the same node id;
        # its stations connect again (to either worker) and are reached there.
        os.kill(workers[1], signal.SIGKILL)
        until(lambda: "worker 1 exited with code -9; starting it again" in node.log.read_text(), 30)
        until(lambda: node.log.read_text().count("worker started worker=1") == 2, 30)
        workers = until(lambda: _two_workers(parent), 30)
        moved = [station for station, held in holders.items() if held == f"{NODE}-w1"]
        for station in moved:
            with pytest.raises(ConnectionClosed):
                sockets[station].recv(timeout=5)
            sockets[station] = _boot(stack, node, station)
        until(lambda: set(asyncio.run(_holders(cluster))) == set(STATIONS), 30)
        with node.api() as api:
            for station in moved:
                sent = pool.submit(
                    api.post, f"/api/v1/stations/{station}/commands/reset", json={"kind": "OnIdle"}
                )
                call = json.loads(sockets[station].recv(timeout=10))
                assert call[2:] == ["Reset", {"type": "Soft"}]
                sockets[station].send(json.dumps([3, call[1], {"status": "Accepted"}]))
                assert sent.result(timeout=15).status_code == 200

        # SIGTERM to the parent: it stops every worker and ends with 0.
        process = node.process
        node.stop(timeout=60)
        assert process.returncode == 0, node.log.read_text()[-2000:]
        assert not [pid for pid in workers if _alive(pid)]
        for ws in sockets.values():
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=5)
        assert not _listening(node.http_port) and not _listening(node.ocpp_port)
    finally:
        stack.close()
        try:
            node.stop(timeout=60)
        except DeploymentError:
            node.kill()
        pool.shutdown(wait=True, cancel_futures=True)


def test_workers_need_a_cluster(tmp_path: Path) -> None:
    folder = tmp_path / "single"
    Deployment.create(folder, [OcpiParty("CO", "ICG", "CPO")])
    result = run_cli("serve", "--workers", "2", cwd=folder, timeout=30)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "serve --workers: needs cluster.nats_url" in lines[0]
