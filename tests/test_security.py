"""Secrets end to end: none reaches a log, and only the tokens we must present are kept readable.

Two real ``intercarga serve`` deployments log at DEBUG, a CPO as text and an eMSP as JSON. They
register from zero with a TOKEN_A; a simulated OCPP 1.6 station connects to the CPO with its
password (HTTP Basic) and charges with a card the eMSP authorizes in real time, and the CDR goes
to the eMSP. So every kind of secret crosses a wire and a store: the admin tokens (one the CPO
makes at first start, one from ``intercarga db admin-token``, one configured at the eMSP), the
station password, and TOKEN_A, TOKEN_B and TOKEN_C of the OCPI credentials handshake.

Then the whole output of both servers is searched for each secret, in each form it travels in
(as is, base64 in ``Authorization: Token …`` and ``Basic …``, hex as OCPP 1.6's
AuthorizationKey). The one allowed appearance is the line ``serve`` prints on purpose at first
start, outside the log, to show the admin token once (README). And each database holds, of the
credentials tokens, only the one its side presents to the partner.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.cli.test_commands import intercarga
from tests.ocpi.processes import PASSWORD, Server, configure
from tests.ocpi.test_serve import CPO_PARTIES, EMSP_PARTIES, _prepare, rfid_charge

pytestmark = pytest.mark.slow

SHOWN_ONCE = "admin API token (shown once, store it now): "
PASSWORD_SHOWN = "dashboard: sign in at / as admin with password (shown once): "


@dataclass
class Flow:
    cpo: Server
    emsp: Server
    first_admin: str  # made by the CPO at first start, shown once
    issued_admin: str  # from `intercarga db admin-token`
    token_a: str  # the CPO's invitation
    token_b: str  # the eMSP's, presented by the CPO
    token_c: str  # the CPO's, presented by the eMSP


def _shown_admin_token(server: Server) -> str:
    for line in server.log.read_text().splitlines():
        if SHOWN_ONCE in line:
            return line.rsplit(" ", 1)[1]
    raise AssertionError("serve showed no admin token at first start")


def _outgoing_token(server: Server) -> str:
    """The credentials token this deployment presents to its one partner, read from its store."""
    with sqlite3.connect(server.folder / "intercarga.db") as database:
        [(token,)] = database.execute("SELECT outgoing_token FROM partners").fetchall()
    assert isinstance(token, str)
    return token


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    folder = tmp_path_factory.mktemp("secrets")
    debug = ['log_level = "DEBUG"']
    cpo = configure(folder / "cpo", CPO_PARTIES, seed=True, admin_token=False, extra=debug)
    emsp = configure(folder / "emsp", EMSP_PARTIES, extra=[*debug, 'log_format = "json"'])
    try:
        cpo.start()
        emsp.start()
        first_admin = _shown_admin_token(cpo)
        issued = intercarga("db", "admin-token", cwd=cpo.folder)
        assert issued.returncode == 0, issued.stderr
        cpo.admin = issued.stdout.strip()
        with httpx.Client(base_url=cpo.base_url, timeout=10) as client:
            shown = client.get(
                "/api/v1/partners", headers={"Authorization": f"Bearer {first_admin}"}
            )
            assert shown.status_code == 200, "the token shown at first start opens the API"
        _prepare(cpo, emsp)
        invited = intercarga("partners", "invite", "--name", "emsp", cwd=cpo.folder)
        assert invited.returncode == 0, invited.stderr
        lines = dict(line.split(":", 1) for line in invited.stdout.strip().splitlines())
        url, token_a = lines["versions URL"].strip(), lines["TOKEN_A"].strip()
        registered = intercarga("partners", "register", "--url", url, "--token", token_a,
                                cwd=emsp.folder)  # fmt: skip
        assert registered.returncode == 0, registered.stderr
        rfid_charge(cpo, emsp)
    finally:
        cpo.stop()
        emsp.stop()
    yield Flow(
        cpo, emsp, first_admin, cpo.admin, token_a, _outgoing_token(cpo), _outgoing_token(emsp)
    )


def _forms(secret: str) -> set[str]:
    """A secret as it is, and as it travels: base64 (OCPI 2.2+ tokens) and hex (AuthorizationKey)."""
    return {secret, base64.b64encode(secret.encode()).decode(), secret.encode().hex()}


def _secrets(flow: Flow) -> dict[str, set[str]]:
    basic = {
        base64.b64encode(f"{station}:{PASSWORD}".encode()).decode()
        for station in ("CO-ICG-0001", "CL-ICG-0001")
    }
    return {
        "the admin token shown at first start": _forms(flow.first_admin),
        "the admin token from `db admin-token`": _forms(flow.issued_admin),
        "the eMSP's configured admin token": _forms(flow.emsp.admin),
        "the station password": _forms(PASSWORD) | basic,
        "TOKEN_A": _forms(flow.token_a),
        "TOKEN_B": _forms(flow.token_b),
        "TOKEN_C": _forms(flow.token_c),
    }


def _shown_password(lines: list[str]) -> str:
    [shown] = [line for line in lines if line.startswith(PASSWORD_SHOWN)]
    return shown.removeprefix(PASSWORD_SHOWN)


def test_no_secret_reaches_either_servers_log(flow: Flow) -> None:
    cpo_lines = flow.cpo.log.read_text().splitlines()
    emsp_lines = flow.emsp.log.read_text().splitlines()
    # The dashboard's first admin password is shown once, like the admin token: not a log record.
    passwords = {"cpo": _shown_password(cpo_lines), "emsp": _shown_password(emsp_lines)}
    cpo_lines = [line for line in cpo_lines if not line.startswith(PASSWORD_SHOWN)]
    emsp_lines = [line for line in emsp_lines if not line.startswith(PASSWORD_SHOWN)]
    # The flow really ran at DEBUG, in both formats, through the handshake and the charge.
    assert any(" DEBUG " in line for line in cpo_lines)
    assert any('"level": "debug"' in line for line in emsp_lines)
    assert all(json.loads(line) for line in emsp_lines)
    # The display of the first admin token is not a log record: no level, no logger, no JSON.
    [shown] = [line for line in cpo_lines if flow.first_admin in line]
    assert shown == SHOWN_ONCE + flow.first_admin
    logged = [line for line in cpo_lines if line != shown] + emsp_lines
    assert len(logged) > 100
    secrets = _secrets(flow)
    for side, password in passwords.items():
        secrets[f"the {side}'s first dashboard password"] = _forms(password)
    found = {
        name: [line for line in logged if any(form in line for form in forms)][:3]
        for name, forms in secrets.items()
    }
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_each_store_keeps_readable_only_the_token_it_presents(flow: Flow) -> None:
    """TOKEN_B is the eMSP's token that the CPO sends, so the CPO must keep it readable; the
    eMSP only verifies it, so it keeps a hash. TOKEN_C the other way round. TOKEN_A, admin
    tokens and station passwords are only ever verified: no store holds them readable."""
    stores = {}
    for server in (flow.cpo, flow.emsp):
        files = sorted(server.folder.glob("intercarga.db*"))
        stores[server.folder.name] = b"".join(path.read_bytes() for path in files)
    assert flow.token_b.encode() in stores["cpo"]
    assert flow.token_c.encode() in stores["emsp"]
    kept = {
        store: sorted(
            name
            for name, forms in _secrets(flow).items()
            if any(form.encode() in content for form in forms)
        )
        for store, content in stores.items()
    }
    assert kept == {"cpo": ["TOKEN_B"], "emsp": ["TOKEN_C"]}
