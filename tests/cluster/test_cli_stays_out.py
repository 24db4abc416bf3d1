"""Only ``intercarga serve`` joins a cluster; every other command stays out of it.

A CLI command reads the same ``intercarga.toml`` as the node beside it, ``node_id`` included.
Had it joined, it would have listened on that node's command subject and claimed presence
under its name for its few seconds. Shown here from outside, with the NATS of the
configuration unreachable: the commands that open the whole system still work (they never
try NATS), while ``serve`` refuses to start without it (one line, exit 2).
"""

from __future__ import annotations

from pathlib import Path

from intercarga.sim.processes import free_port, run_cli, write_config


def _configure(folder: Path) -> None:
    # Nothing listens on this port: any attempt to reach NATS would fail the command.
    write_config(
        folder,
        http_port=free_port(),
        ocpp_port=free_port(),
        admin_token="admin-token-0123456789abcdef",
        parties=[],
        extra=[
            "[cluster]",
            f'nats_url = "nats://127.0.0.1:{free_port()}"',
            'node_id = "csms-1"',
        ],
    )


def test_cli_commands_do_not_join_the_cluster(tmp_path: Path) -> None:
    _configure(tmp_path)
    added = run_cli("users", "add", "ops", "--role", "viewer", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip(), "the new account's password is printed"
    listed = run_cli("users", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["ops", "viewer"]
    assert "NATS" not in added.stderr + listed.stderr


def test_serve_joins_and_needs_nats(tmp_path: Path) -> None:
    _configure(tmp_path)
    served = run_cli("serve", cwd=tmp_path, timeout=60)
    assert served.returncode == 2, served.stderr
    errors = [line for line in served.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, served.stderr
    assert "cluster.nats_url: cannot connect to NATS" in errors[0]
    assert "Traceback" not in served.stderr
