"""``make audit``: the locked dependencies checked against known-vulnerability advisories.

pip-audit reads the hashed lock file as it is (no resolution, no install) and asks an advisory
service about each pinned version: OSV first, then PyPI's JSON API when OSV cannot be reached.

* A known vulnerability in a locked version fails (exit 1), each named with its fix: pin a fixed
  version (CONTRIBUTING.md, "Dependencies").
* When no service answers for every package, the locked versions were not checked. That says
  nothing about the code under test, so it is a warning on stderr and exit 0 (CI goes on; the
  next run asks again); ``INTERCARGA_REQUIRE_AUDIT=1`` makes it fail instead. A service that
  answers for only some packages counts as not answering (pip-audit's ``--strict``): a package
  nobody checked is never reported as clean.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SERVICES = ("osv", "pypi")


def audit(lock: Path, service: str) -> tuple[list[dict[str, Any]] | None, str]:
    """The vulnerable pins found through ``service``, or None with why it could not tell."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "audit.json"
        command = [
            sys.executable, "-m", "pip_audit",
            "--requirement", str(lock),
            "--disable-pip",  # the lock is complete and hashed: nothing to resolve
            "--strict",
            "--progress-spinner", "off",
            "--vulnerability-service", service,
            "--timeout", "30",
            "--format", "json",
            "--output", str(report),
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=900)  # noqa: S603
        except subprocess.TimeoutExpired:
            return None, "no answer in 15 minutes"
        if not report.exists():
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            return None, lines[-1] if lines else f"pip-audit exited {done.returncode}"
        dependencies: list[dict[str, Any]] = json.loads(report.read_text())["dependencies"]
        vulnerable = [d for d in dependencies if d.get("vulns")]
        if done.returncode != 0 and not vulnerable:
            return None, f"pip-audit exited {done.returncode}"
        return vulnerable, f"{len(dependencies)} locked packages"


def main(lock: Path) -> int:
    reasons = []
    for service in SERVICES:
        vulnerable, detail = audit(lock, service)
        if vulnerable is None:
            reasons.append(f"{service}: {detail}")
            continue
        if not vulnerable:
            print(f"audit: no known vulnerabilities in {detail} of {lock} ({service})")
            return 0
        for dependency in vulnerable:
            for vulnerability in dependency["vulns"]:
                fixed = ", ".join(vulnerability.get("fix_versions") or []) or "no fixed version"
                print(
                    f"audit: {dependency['name']} {dependency['version']}: "
                    f"{vulnerability['id']} (fixed in {fixed})",
                    file=sys.stderr,
                )
        print(f"audit: known vulnerabilities in {lock}; pin fixed versions", file=sys.stderr)
        return 1
    strict = os.environ.get("INTERCARGA_REQUIRE_AUDIT") == "1"
    print(
        f"audit: {'error' if strict else 'warning'}: no advisory service answered, "
        f"{lock} was NOT checked ({'; '.join(reasons)})",
        file=sys.stderr,
    )
    return 1 if strict else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "requirements-dev.lock")))
