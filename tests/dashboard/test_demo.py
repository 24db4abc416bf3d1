"""``make run``'s ``intercarga serve --demo``: a new user sees live charging within a minute.

A real process on free ports: within a minute its example stations have charged and a priced CDR
is there, a signed-in browser's live stream carries their events, and SIGTERM still stops the
process promptly while that stream is open.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.cli.test_commands import _environment
from tests.ocpi.processes import configure, until


def _sign_in(base_url: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=10)
    form = client.get("/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = client.post(
        "/sign-in", data={"name": "admin", "password": password, "csrf": csrf.group(1)}
    )
    assert answer.status_code == 303, answer.text
    return client


def test_serve_demo_charges_within_a_minute_and_stops_with_a_stream_open(tmp_path: Path) -> None:
    server = configure(tmp_path / "demo", [("CL", "ICG", "CPO")])
    log = server.log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "intercarga", "serve", "--demo"],
        cwd=server.folder,
        env=_environment(None),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = until(lambda: re.search(r"\(shown once\): (\S+)", server.log.read_text()), 60)
        until(lambda: httpx.get(f"{server.base_url}/healthz", timeout=2).is_success, 30)
        started = time.monotonic()
        events: list[str] = []
        browser = _sign_in(server.base_url, printed.group(1))
        try:

            def listen() -> None:
                try:
                    with browser.stream("GET", "/live", timeout=None) as stream:
                        for line in stream.iter_lines():
                            if line.startswith("event: "):
                                events.append(line.removeprefix("event: "))
                except httpx.HTTPError:
                    pass  # the server closed the stream as it stopped

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            with server.api() as api:
                cdrs = until(lambda: api.get("/api/v1/cdrs").json()["items"], 60)
            assert time.monotonic() - started < 60
            assert {cdr["cdr_location"]["id"] for cdr in cdrs} <= {
                "SCL-PROVIDENCIA", "BOG-USAQUEN", "SAO-PAULISTA"
            }  # fmt: skip
            assert all(float(cdr["total_cost"]["excl_vat"]) > 0 for cdr in cdrs)
            until(lambda: {"evse", "session", "cdr"} <= set(events), 10)
            # A change without the session's CSRF token is refused, even for the admin.
            forged = browser.post("/stations/CL-ICG-0001/commands/reset", data={"kind": "OnIdle"})
            assert forged.status_code == 403
            process.terminate()
            assert process.wait(timeout=20) == 0
            listener.join(timeout=10)
            assert not listener.is_alive()
        finally:
            browser.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        log.close()
    assert "Traceback" not in server.log.read_text()
