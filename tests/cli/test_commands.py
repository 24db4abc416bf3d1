"""The ``intercarga`` command as a user runs it: real processes, real exit codes, real output."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from intercarga.sim.processes import environment, free_port, run_cli
from tests.conftest import POSTGRES_URL


def intercarga(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env=env, timeout=timeout)


def python(code: str, *, cwd: Path) -> str:
    """What ``code`` prints, run by this interpreter in a process of its own."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_help_and_version(tmp_path: Path) -> None:
    result = intercarga("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "db", "config"):
        assert command in result.stdout
    assert intercarga("--version", cwd=tmp_path).stdout.strip() == "intercarga 0.1.0"


def test_help_lists_every_command_and_a_command_loads_only_its_own_modules(
    tmp_path: Path,
) -> None:
    # `intercarga ids --help` in a process of its own: a command's module is imported when it
    # runs, so a quick command (or `serve`, `simulate`) does not pay for the whole system first.
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from intercarga.cli import COMMANDS, app\n"
        "assert CliRunner().invoke(app, ['ids', '--help']).exit_code == 0\n"
        "heavy = ('intercarga.app', 'intercarga.sim.region', 'intercarga.assessment', 'shapely')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "print(' '.join(COMMANDS))\n"
    )
    loaded, names = python(probe, cwd=tmp_path).splitlines()
    assert loaded == "[]"
    listed = intercarga("--help", cwd=tmp_path, env={"COLUMNS": "200"}).stdout
    for name in names.split():
        assert f" {name} " in listed, name


def test_serve_loads_no_report_renderer_no_migration_tool_and_no_cluster_client(
    tmp_path: Path,
) -> None:
    # What `intercarga serve` imports before it serves, in a process of its own: the assessment's
    # charts and templates load at the first report, Alembic only when a database is behind
    # the head, NATS only on a node of a cluster (CONTRIBUTING.md, "The suite's time").
    probe = (
        "import sys\n"
        "import intercarga.app, intercarga.cli.serve, intercarga.web.api.assessment\n"
        "heavy = ('pygal', 'alembic', 'mako', 'nats', 'intercarga.cluster')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    assert python(probe, cwd=tmp_path).strip() == "[]"


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    env = {
        "INTERCARGA_DATABASE_URL": "postgresql+asyncpg://ic:s3cret@db:5432/ic",
        "INTERCARGA_ADMIN_TOKEN": "topsecret",
    }
    (tmp_path / "intercarga.toml").write_text("http_port = 8123\n")
    result = intercarga("config", "show", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert '"http_port": 8123' in result.stdout
    assert "ic:********@db:5432" in result.stdout
    assert "s3cret" not in result.stdout and "topsecret" not in result.stdout


def test_bad_configuration_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "intercarga.toml").write_text('http_port = "x"\n')
    assert_one_line_error(intercarga("config", "show", cwd=tmp_path), "http_port", "valid integer")
    assert_one_line_error(
        intercarga("--config", "nowhere.toml", "config", "show", cwd=tmp_path),
        "cannot read nowhere.toml",
    )


def test_db_upgrade_creates_a_missing_sqlite_file(tmp_path: Path) -> None:
    env = {"INTERCARGA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/new.db"}
    result = intercarga("db", "upgrade", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "migrated from empty to revision" in result.stdout
    assert (tmp_path / "data" / "new.db").exists()
    again = intercarga("db", "upgrade", cwd=tmp_path, env=env)
    assert "already at revision" in again.stdout
    status = intercarga("db", "status", cwd=tmp_path, env=env)
    assert "up to date" in status.stdout


def test_unreachable_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {"INTERCARGA_DATABASE_URL": "postgresql+asyncpg://user:pw@127.0.0.1:1/none"}
    result = intercarga("db", "upgrade", cwd=tmp_path, env=env)
    assert_one_line_error(result, "database unreachable")
    assert ":pw@" not in result.stderr


def test_wrong_database_name_on_postgres_is_one_line(tmp_path: Path) -> None:
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database_here"
    result = intercarga("db", "upgrade", cwd=tmp_path, env={"INTERCARGA_DATABASE_URL": url})
    assert_one_line_error(result, "database unreachable", "no_such_database_here")


def start_serve(
    cwd: Path, env: dict[str, str] | None, *, stdout: bool = False
) -> tuple[subprocess.Popen[str], int, int]:
    """`intercarga serve --seed` on free ports; stderr (and stdout if asked) piped."""
    http_port, ocpp_port = free_port(), free_port()
    command = [sys.executable, "-m", "intercarga", "serve", "--seed"]
    command += ["--http-port", str(http_port), "--ocpp-port", str(ocpp_port)]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=environment(env),
        stdout=subprocess.PIPE if stdout else None,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, http_port, ocpp_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    process, http_port, _ = start_serve(tmp_path, {"INTERCARGA_LOG_FORMAT": "json"}, stdout=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
    try:
        yield process, http_port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_answers_shows_the_seeded_network_and_stops_cleanly(
    server: tuple[subprocess.Popen[str], int],
) -> None:
    process, http_port = server
    base = f"http://127.0.0.1:{http_port}"
    assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
    assert httpx.get(f"{base}/api/v1/locations").status_code == 401
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("{")]
    assert lines, stderr
    # The first start's admin token is shown on the console, beside the JSON log but not in it.
    [shown] = [line for line in stderr.splitlines() if "admin API token" in line]
    token = shown.rsplit(" ", 1)[1]
    assert not shown.startswith("{") and not any(token in line for line in lines)
    notice = next(line for line in lines if "admin token was made" in line)
    assert '"level": "warning"' in notice
    assert any('"message": "stopped"' in line for line in lines)


def test_printed_admin_token_opens_the_api(tmp_path: Path) -> None:
    process, http_port, _ = start_serve(tmp_path, None)
    try:
        assert process.stderr is not None
        token = ""
        for line in process.stderr:
            if "admin API token" in line:
                token = line.rsplit(" ", 1)[1].strip()
            if "serving" in line:
                break
        assert token
        answer = httpx.get(
            f"http://127.0.0.1:{http_port}/api/v1/locations",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200
        assert answer.json()["total"] == 3
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    assert process.returncode == 0
    # A second start prints no new token: only its hash was stored, and it still works.
    second = intercarga("db", "admin-token", cwd=tmp_path)
    assert second.returncode == 0 and len(second.stdout.strip()) >= 40


def test_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = intercarga(
            "serve", "--http-port", str(port), "--ocpp-port", str(free_port()), cwd=tmp_path
        )
    assert_one_line_error(
        result, f"cannot listen for HTTP on 127.0.0.1:{port}", "address already in use"
    )


def test_compat_finds_the_location_in_the_database(tmp_path: Path) -> None:
    assert intercarga("db", "seed", cwd=tmp_path).returncode == 0
    result = intercarga(
        "compat",
        "--vehicle",
        "BYD Dolphin",
        "--market",
        "CL",
        "--location",
        "CL/ICG/SCL-PROVIDENCIA",
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert '"can_charge": true' in result.stdout
    missing = intercarga(
        "compat", "--vehicle", "BYD Dolphin", "--market", "CL", "--location", "NOPE", cwd=tmp_path
    )
    assert_one_line_error(missing, "location NOPE not found")


def test_an_error_line_shows_square_brackets_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    """The one error line is text, not Rich markup: a TOML table name like ``[cluster]`` shows."""
    from intercarga.cli._common import fail

    exit_ = fail("needs [cluster] nats_url and [bold]x[/bold]")
    assert exit_.exit_code == 2
    assert "needs [cluster] nats_url and [bold]x[/bold]" in capsys.readouterr().err
