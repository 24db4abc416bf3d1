"""The dependency rules (``[tool.importlinter]`` in pyproject.toml, docs/architecture.md) bite.

``lint-imports`` passes on the real tree; on a copy of the package with one forbidden import
added it fails and names the contract that import breaks. The copy is analysed instead of the
installed package because its ``src`` comes first on ``PYTHONPATH`` (the editable install only
adds the real ``src`` through a ``.pth`` file, which comes later on ``sys.path``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

LAYERS = "Packages import only the layers below them"
PURE = "Pure modules do no I/O: no storage, web, server or network libraries"
ENDPOINT = "OCPI reaches stations through the CSMS, never through the OCPP endpoint module"
SQL = "Only store/ and app.py touch the database libraries"


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(project / "pyproject.toml"), "--no-cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_with(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of the project's package and contracts, ``line`` added at the end of ``module``."""
    project = tmp_path / "project"
    shutil.copytree(
        ROOT / "src" / "intercarga",
        project / "src" / "intercarga",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    target = project / "src" / "intercarga" / module
    target.write_text(target.read_text() + f"\n{line}\n")
    return project


def _broken(output: str) -> set[str]:
    """The names of the contracts on the summary's BROKEN lines."""
    return {line.partition(" BROKEN")[0] for line in output.splitlines() if " BROKEN" in line}


def test_every_package_is_a_regular_package() -> None:
    """A folder without ``__init__.py`` is a namespace package, which the contracts never see."""
    package = ROOT / "src" / "intercarga"
    # Alembic loads the revision scripts by path; they are never imported as a package.
    revisions = package / "store" / "migrations" / "versions"
    folders = {module.parent for module in package.rglob("*.py")} - {revisions}
    assert [str(f) for f in sorted(folders) if not (f / "__init__.py").exists()] == []


def test_the_real_tree_keeps_every_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken", "culprit"),
    [
        pytest.param(
            "domain/money.py",
            "import intercarga.store  # noqa",
            {LAYERS, PURE},
            "intercarga.domain.money -> intercarga.store",
            id="domain-imports-store",
        ),
        pytest.param(
            "billing/engine.py",
            "import httpx  # noqa",
            {PURE},
            "intercarga.billing.engine -> httpx",
            id="billing-imports-httpx",
        ),
        pytest.param(
            "ocpp/rpc.py",
            "from intercarga.ocpp import server  # noqa",
            {PURE},
            "intercarga.ocpp.rpc -> intercarga.ocpp.server",
            id="sans-io-core-imports-endpoint",
        ),
        pytest.param(
            "ocpi/commands.py",
            "from intercarga.ocpp import server  # noqa",
            {ENDPOINT},
            "intercarga.ocpi.commands -> intercarga.ocpp.server",
            id="ocpi-imports-endpoint",
        ),
        pytest.param(
            "web/http.py",
            "import sqlalchemy  # noqa",
            {SQL},
            "intercarga.web.http -> sqlalchemy",
            id="web-imports-sqlalchemy",
        ),
        pytest.param(
            "store/tables.py",
            "import intercarga.csms  # noqa",
            {LAYERS},
            "intercarga.store.tables -> intercarga.csms",
            id="store-imports-csms",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, broken: set[str], culprit: str
) -> None:
    result = _lint_imports(_copy_with(tmp_path, module, line))
    assert result.returncode == 1, result.stdout + result.stderr
    assert _broken(result.stdout) == broken, result.stdout
    assert culprit in result.stdout
