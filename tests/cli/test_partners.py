"""``intercarga partners``: two ``intercarga serve`` processes on free ports register from zero.

The CPO operator runs ``partners invite`` and hands the versions URL and TOKEN_A over; the eMSP
operator runs ``partners register``; both servers then know each other. Real processes, real
HTTP on 127.0.0.1, separate SQLite files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_commands import assert_one_line_error, free_port, intercarga
from tests.ocpi.processes import configure


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    cpo = configure(tmp_path / "cpo", [("CO", "CPO", "CPO")])
    emsp = configure(tmp_path / "emsp", [("CO", "EMS", "EMSP")])
    try:
        cpo.start()
        emsp.start()
        yield cpo.folder, emsp.folder
    finally:
        cpo.stop()
        emsp.stop()


def test_a_cpo_and_an_emsp_register_from_zero_over_real_http(
    two_servers: tuple[Path, Path],
) -> None:
    cpo, emsp = two_servers
    invited = intercarga("partners", "invite", "--name", "Movilidad", cwd=cpo)
    assert invited.returncode == 0, invited.stderr
    lines = dict(line.split(":", 1) for line in invited.stdout.strip().splitlines())
    url, token = lines["versions URL"].strip(), lines["TOKEN_A"].strip()
    assert url.endswith("/ocpi/versions")

    registered = intercarga("partners", "register", "--url", url, "--token", token, cwd=emsp)

    assert registered.returncode == 0, registered.stderr
    assert "OCPI 2.3.0: CO-CPO CPO" in registered.stdout
    at_cpo = intercarga("partners", "list", cwd=cpo)
    assert "REGISTERED" in at_cpo.stdout and "CO-EMS EMSP" in at_cpo.stdout
    at_emsp = intercarga("partners", "list", cwd=emsp)
    assert "REGISTERED" in at_emsp.stdout and "CO-CPO CPO" in at_emsp.stdout

    # TOKEN_A is spent: registering again with it is refused by the CPO.
    again = intercarga("partners", "register", "--url", url, "--token", token, cwd=emsp)
    assert_one_line_error(again, "401")

    removed = intercarga("partners", "remove", _first_id(at_emsp.stdout), cwd=emsp)
    assert removed.returncode == 0, removed.stderr
    assert "the partner was told" in removed.stdout
    assert "UNREGISTERED" in intercarga("partners", "list", cwd=cpo).stdout


def _first_id(table: str) -> str:
    for line in table.splitlines():
        for cell in line.replace("│", " ").replace("┃", " ").split():
            if cell.startswith("p") and len(cell) == 12:
                return cell
    raise AssertionError(table)


def test_register_with_nobody_listening_is_one_line(tmp_path: Path) -> None:
    configure(tmp_path / "alone", [("CO", "ICG", "EMSP")])
    result = intercarga(
        "partners",
        "register",
        "--url",
        f"http://127.0.0.1:{free_port()}/ocpi/versions",
        "--token",
        "whatever",
        cwd=tmp_path / "alone",
    )
    assert_one_line_error(result, "cannot reach")
    listed = intercarga("partners", "list", cwd=tmp_path / "alone")
    assert "no partners yet" in listed.stdout


def test_remove_an_unknown_partner_is_one_line(tmp_path: Path) -> None:
    configure(tmp_path / "alone", [("CO", "ICG", "CPO")])
    assert_one_line_error(
        intercarga("partners", "remove", "p00000000000", cwd=tmp_path / "alone"), "not found"
    )
