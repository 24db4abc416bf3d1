"""The composition root: its objects built in order with what they need (nothing patched in
afterwards); its listeners bound before anything starts, answers sent at once, and not to be
held open by clients that never finish a request."""

from __future__ import annotations

import ast
import asyncio
import base64
import contextlib
import json
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from intercarga.app import System, _expire_transactions, bind
from intercarga.config import Settings
from intercarga.errors import IntercargaError
from intercarga.ocpi.roaming import RoamingOptions
from tests.ocpi.processes import configure


def test_a_connection_to_a_listener_has_nagle_off() -> None:
    """Without TCP_NODELAY a response written in two parts waits for the peer's delayed ACK:
    every request on a kept-alive connection took 44 ms more."""
    listener = bind("HTTP", "127.0.0.1", 0)
    with listener.socket, socket.create_connection(("127.0.0.1", listener.port)):
        listener.socket.setblocking(True)
        accepted, _ = listener.socket.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_a_taken_port_is_one_clear_error() -> None:
    first = bind("OCPP", "127.0.0.1", 0)
    with first.socket, pytest.raises(IntercargaError, match="cannot listen for OCPP on"):
        bind("OCPP", "127.0.0.1", first.port)


STATION = "CO-ICG-0001"  # of the example network, OCPP 1.6
STATION_PASSWORD = "slow-station-password-123"


async def _half_open(port: int, head: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection that starts a request and never finishes it (a slowloris)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    return reader, writer


async def _closed(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError):
        while await reader.read(4096):
            pass


async def test_half_open_requests_are_closed_while_a_station_keeps_charging(
    tmp_path: Path,
) -> None:
    """Issue 12, item 9: a hundred half-open requests on each port of a real ``intercarga serve``
    (default settings) are closed in time, and meanwhile a station's messages and /healthz are
    answered; the log says so in a few lines, not one per socket."""
    server = configure(tmp_path / "cpo", [("CO", "ICG", "CPO")], seed=True)
    server.start()
    half_open: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        with server.api() as api:
            station = api.get(f"/api/v1/stations/{STATION}").json()
            del station["connection"]
            answer = api.put(
                f"/api/v1/stations/{STATION}", json={**station, "password": STATION_PASSWORD}
            )
            assert answer.status_code == 200, answer.text
        credentials = base64.b64encode(f"{STATION}:{STATION_PASSWORD}".encode()).decode()
        async with (
            connect(
                f"{server.ocpp_url}/{STATION}",
                subprotocols=[Subprotocol("ocpp1.6")],
                additional_headers={"Authorization": f"Basic {credentials}"},
            ) as station_link,
            httpx.AsyncClient(base_url=server.base_url, timeout=5) as http,
        ):
            calls = 0

            async def call(action: str, payload: dict[str, Any]) -> dict[str, Any]:
                nonlocal calls
                calls += 1
                await station_link.send(json.dumps([2, str(calls), action, payload]))
                answer = json.loads(await asyncio.wait_for(station_link.recv(), timeout=5))
                assert answer[:2] == [3, str(calls)], answer
                result: dict[str, Any] = answer[2]
                return result

            boot = {"chargePointVendor": "Wallbox", "chargePointModel": "Supernova"}
            assert (await call("BootNotification", boot))["status"] == "Accepted"
            started = await call(
                "StartTransaction",
                {"connectorId": 1, "idTag": "04A10000000001", "meterStart": 0,
                 "timestamp": "2026-12-06T12:00:00Z"},
            )  # fmt: skip
            transaction = started["transactionId"]

            opened = time.monotonic()
            for _ in range(100):
                half_open.append(
                    await _half_open(server.http, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                )
                half_open.append(
                    await _half_open(
                        server.ocpp,
                        b"GET /ocpp/CL-ICG-0001 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n",
                    )
                )
            closing = asyncio.gather(*(_closed(reader) for reader, _ in half_open))
            meter = 0
            while not closing.done():
                assert time.monotonic() - opened < 30, "half-open requests still open after 30 s"
                meter += 100
                value = {"timestamp": "2026-12-06T12:01:00Z",
                         "sampledValue": [{"value": str(meter), "measurand":
                                           "Energy.Active.Import.Register", "unit": "Wh"}]}  # fmt: skip
                await call(
                    "MeterValues",
                    {"connectorId": 1, "transactionId": transaction, "meterValue": [value]},
                )
                assert (await http.get("/healthz")).status_code == 200
                await asyncio.wait({closing}, timeout=0.5)
            await closing
            await call(
                "StopTransaction",
                {"transactionId": transaction, "meterStop": meter + 100,
                 "timestamp": "2026-12-06T12:30:00Z"},
            )  # fmt: skip
            with server.api() as api:
                sessions = api.get("/api/v1/sessions", params={"station": STATION}).json()
            assert [session["status"] for session in sessions["items"]] == ["COMPLETED"]
    finally:
        for _, writer in half_open:
            writer.close()
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log
    # Two hundred sockets, a handful of lines: the first of each burst and its summary.
    about_them = [line for line in log.splitlines() if "127.0.0.1" in line]
    assert any("no complete request head in 10 s" in line for line in about_them), log
    assert any("no WebSocket handshake in 10 s" in line for line in about_them), log
    assert len(about_them) <= 8, about_them


async def test_expiring_silent_transactions_outlives_a_database_error(system: System) -> None:
    """The loop that closes silent transactions runs for the life of the process: a database
    that is away when it looks must not end it for good."""
    async with system.engine.begin() as connection:
        await connection.execute(text("DROP TABLE ocpp_transactions"))
    stopping = asyncio.Event()
    expiry = asyncio.create_task(_expire_transactions(system, stopping))
    try:
        await asyncio.sleep(0.5)
        assert not expiry.done(), expiry.exception()
    finally:
        # Asked to stop, it ends between two looks (never cancelled inside a query).
        stopping.set()
        await asyncio.wait_for(expiry, timeout=10)


# -- the composition root builds in order, and sets nothing afterwards -----------------------------
SOURCE = Path(__file__).parent.parent / "src" / "intercarga"
BUILDERS = [SOURCE / "app.py", SOURCE / "ocpi" / "roaming.py"]
# uvicorn's own stop flags (should_exit asks it to stop, force_exit to stop without waiting for
# requests still running): signals, not collaborators.
NOT_WIRING = {"should_exit", "force_exit"}


def _foreign(node: ast.Attribute) -> bool:
    """Whether attribute ``node`` is another object's (``a.b``, ``self.a.b``), not ``self.b``."""
    return not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))


def _sets_afterwards(node: ast.AST) -> bool:
    if isinstance(node, ast.Assign):
        targets = [t for target in node.targets for t in ast.walk(target)]
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    elif isinstance(node, ast.Call):
        called = node.func
        if isinstance(called, ast.Name):
            return called.id == "setattr"
        return isinstance(called, ast.Attribute) and (
            called.attr == "attach"
            or (
                called.attr in ("append", "extend", "insert")
                and isinstance(called.value, ast.Attribute)
                and _foreign(called.value)
            )
        )
    else:
        return False
    return any(
        isinstance(target, ast.Attribute) and target.attr not in NOT_WIRING and _foreign(target)
        for target in targets
    )


def _set_afterwards(tree: ast.AST) -> list[str]:
    """Where ``tree`` sets or adds to an attribute of an object other than its own (``self``):
    ``x.roaming = …``, ``x.listeners += …``, ``x.listeners.append(…)``, ``x.attach(…)``,
    ``setattr(x, …)``."""
    return [ast.unparse(node) for node in ast.walk(tree) if _sets_afterwards(node)]


def test_the_check_finds_each_kind_of_wiring_after_construction() -> None:
    """The check below is only as good as what it sees: each way of patching a collaborator in."""
    for wiring in (
        "roaming.attach(bus, service)",
        "service.commands.stations = service",
        "self.commands.stations = stations",
        "authorizer.roaming, x = hook, 1",
        "registrar.listeners += [hub.partner_changed]",
        "registrar.listeners.append(puller.partner_changed)",
        "setattr(authorizer, 'roaming', hook)",
    ):
        assert _set_afterwards(ast.parse(wiring)), wiring
    for building in (
        "self.links = links",
        "listeners.append(hub.partner_changed)",
        "server.should_exit = True",
    ):
        assert not _set_afterwards(ast.parse(building)), building


@pytest.mark.parametrize("module", BUILDERS, ids=lambda path: path.name)
def test_the_composition_root_sets_no_collaborator_after_construction(module: Path) -> None:
    """Every object gets what it needs at construction (docs/architecture.md): the builders
    never patch a collaborator into an object they made."""
    assert _set_afterwards(ast.parse(module.read_text(encoding="utf-8"))) == []


async def test_roaming_is_built_in_order_and_its_collaborators_stay_as_built(
    database: tuple[str, str | None],
) -> None:
    """A system opened with roaming: its OCPI commands run on the CSMS's stations and its
    authorizer asks roaming about unknown tokens, all from construction; nothing can be
    swapped in afterwards."""
    url, schema = database
    settings = Settings(database_url=SecretStr(url), database_schema=schema)
    refuse = httpx.MockTransport(lambda request: httpx.Response(503))
    system = await System.open(settings, roaming=RoamingOptions(transport=refuse))
    try:
        roaming = system.roaming
        assert roaming is not None
        assert roaming.commands.stations is system.csms_service
        with pytest.raises(AttributeError):
            roaming.commands.stations = None  # type: ignore[misc]
        with pytest.raises(AttributeError):
            system.csms_service.authorizer.roaming = None  # type: ignore[attr-defined]
        with pytest.raises(AttributeError):
            roaming.registrar.listeners = []  # type: ignore[attr-defined]
    finally:
        await system.close()
