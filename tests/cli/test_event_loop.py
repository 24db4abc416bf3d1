"""``intercarga serve`` on either event loop (uvloop's by default, asyncio's own with
``uvloop = false``): the same stations served, the same HTTP answers, the same clean stop."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from pathlib import Path
from queue import Empty, Queue

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from intercarga.cli.eventloop import loop_factory
from tests.cli.test_commands import start_serve

pytestmark = pytest.mark.timeout(120)

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "V"}}


def test_the_loop_is_uvloop_unless_turned_off() -> None:
    factory = loop_factory(True)
    assert factory is not None
    loop = factory()
    try:
        assert type(loop).__module__ == "uvloop"
    finally:
        loop.close()
    assert loop_factory(False) is None


def _log_lines(process: subprocess.Popen[str]) -> Queue[str]:
    """The server's stderr, line by line, read beside the test (so every wait has a timeout)."""
    lines: Queue[str] = Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _serving(lines: Queue[str], seen: list[str]) -> dict[str, str]:
    while True:
        try:
            line = lines.get(timeout=60)
        except Empty:
            pytest.fail("serve did not say it was serving within 60 s:\n" + "".join(seen))
        seen.append(line)
        if line.startswith("{") and json.loads(line)["message"] == "serving":
            found: dict[str, str] = json.loads(line)
            return found


@pytest.mark.parametrize(("setting", "loop"), [("true", "uvloop"), ("false", "asyncio")])
def test_serve_answers_stations_and_stops_cleanly_on_either_loop(
    tmp_path: Path, setting: str, loop: str
) -> None:
    env = {
        "INTERCARGA_LOG_FORMAT": "json",
        "INTERCARGA_UVLOOP": setting,
        "INTERCARGA_OCPP__UNKNOWN_STATIONS": "accept",
    }
    process, http_port, ocpp_port = start_serve(tmp_path, env)
    seen: list[str] = []
    try:
        lines = _log_lines(process)
        assert _serving(lines, seen)["event_loop"] == loop
        assert httpx.get(f"http://127.0.0.1:{http_port}/healthz").json()["status"] == "ok"
        with connect(
            f"ws://127.0.0.1:{ocpp_port}/ocpp/LOOP-0001",
            subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
            open_timeout=20,
        ) as station:
            station.send(json.dumps([2, "b1", "BootNotification", BOOT]))
            answer = json.loads(station.recv(timeout=20))
            assert answer[:2] == [3, "b1"] and answer[2]["status"] == "Accepted"
            station.send(json.dumps([2, "h1", "Heartbeat", {}]))
            assert json.loads(station.recv(timeout=20))[:2] == [3, "h1"]
            # SIGTERM: the station's WebSocket is closed by the node (it may go elsewhere).
            process.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed):
                while True:
                    station.recv(timeout=20)
            assert station.close_code == 1001
        assert process.wait(timeout=30) == 0
        while True:
            try:
                seen.append(lines.get(timeout=5))
            except Empty:
                break
        messages = [json.loads(line)["message"] for line in seen if line.startswith("{")]
        assert "stopped" in messages, "".join(seen)
        assert not any("Traceback" in line for line in seen), "".join(seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
