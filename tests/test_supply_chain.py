"""The lock files ``make`` installs from, and ``make audit``'s rule for an unreachable service.

A clean clone installs exactly ``requirements.lock`` / ``requirements-dev.lock`` (``make
install``, ``make install-dev``), so they must hold every dependency ``pyproject.toml`` names, at
a version it allows, with hashes: a dependency added to ``pyproject.toml`` without ``make lock``
would be missing from every fresh install and from CI.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.cli.test_commands import free_port

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _pins(lock: Path) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    lines = lock.read_text().splitlines()
    for number, line in enumerate(lines):
        found = PIN.match(line)
        if found:
            name = canonicalize_name(found[1])
            assert name not in pins, f"{lock.name}: {name} pinned twice"
            pins[name] = Version(found[2])
            following = lines[number + 1] if number + 1 < len(lines) else ""
            assert "--hash=sha256:" in following, f"{lock.name}: {name} has no hash"
        else:
            assert not line or line[0] in " #", f"{lock.name}: not a pin: {line!r}"
    return pins


def _declared(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + (
        project["optional-dependencies"][extra] if extra is not None else []
    )
    return [Requirement(text) for text in listed]


@pytest.mark.parametrize(
    ("lock", "extra"), [("requirements.lock", None), ("requirements-dev.lock", "dev")]
)
def test_the_lock_pins_every_dependency_at_a_version_pyproject_allows(
    lock: str, extra: str | None
) -> None:
    pins = _pins(ROOT / lock)
    wrong = {}
    for requirement in _declared(extra):
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            wrong[requirement.name] = f"{requirement.specifier or 'any'}, locked {pinned}"
    assert wrong == {}, "run `make lock` (CONTRIBUTING.md, Dependencies)"


def test_the_dev_lock_has_the_runtime_locks_versions() -> None:
    runtime = _pins(ROOT / "requirements.lock")
    dev = _pins(ROOT / "requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


@pytest.mark.slow
def test_an_unreachable_advisory_service_warns_and_fails_only_when_required(
    tmp_path: Path,
) -> None:
    """No service reachable (every request goes to a closed port): the lock was not checked,
    which CI reports as a warning, or as a failure under INTERCARGA_REQUIRE_AUDIT=1."""
    closed = f"http://127.0.0.1:{free_port()}"
    environment = {
        **os.environ,
        "HTTPS_PROXY": closed,
        "HTTP_PROXY": closed,
        "NO_PROXY": "",
        "XDG_CACHE_HOME": str(tmp_path),  # no cached answer from an earlier run
    }
    command = [sys.executable, str(ROOT / ".ci" / "audit.py"), str(ROOT / "requirements.lock")]
    warned = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    assert warned.returncode == 0, warned.stderr
    [line] = warned.stderr.splitlines()
    assert line.startswith("audit: warning: no advisory service answered")
    assert "NOT checked" in line
    required = subprocess.run(
        command,
        env={**environment, "INTERCARGA_REQUIRE_AUDIT": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert required.returncode == 1
    assert required.stderr.startswith("audit: error: no advisory service answered")
