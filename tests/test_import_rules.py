"""The dependency rules (``[tool.importlinter]`` in pyproject.toml, docs/architecture.md) bite.

``lint-imports`` passes on the real tree; on a copy of the package with one forbidden import
added it fails and names the contract that import breaks. No module imports itself through
others: the import graph, with imports inside functions and under ``TYPE_CHECKING`` counted,
has no cycle (but the known ones of ``ocpi/``, listed below until the OCPI tiers work removes
them). The copy is analysed instead of the
installed package because its ``src`` comes first on ``PYTHONPATH`` (the editable install only
adds the real ``src`` through a ``.pth`` file, which comes later on ``sys.path``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

LAYERS = "Packages import only the layers below them"
PURE = "Pure modules do no I/O: no storage, web, server or network libraries"
ENDPOINT = "OCPI reaches stations through the CSMS, never through the OCPP endpoint module"
SQL = "Only store/ and app.py touch the database libraries"

# Cycles still allowed, each with what must change to remove it: none (the ocpi tiers work
# removed the last, ocpi/http ↔ hub ↔ modules ↔ service).
KNOWN_CYCLES: list[frozenset[str]] = []


def import_cycles(package: str = "intercarga") -> list[frozenset[str]]:
    """The modules of ``package`` that import one another in a ring (strongly connected
    components of the import graph, imports in functions and under TYPE_CHECKING included)."""
    graph = grimp.build_graph(package, cache_dir=None)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[frozenset[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            ring: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                ring.add(member)
                if member == module:
                    break
            if len(ring) > 1:
                cycles.append(frozenset(ring))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


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


def test_no_module_imports_itself_through_others() -> None:
    cycles = import_cycles()
    unexpected = [sorted(cycle) for cycle in cycles if cycle not in KNOWN_CYCLES]
    assert unexpected == [], "import cycles: " + json.dumps(unexpected, indent=1)
    # The list cannot go stale: a known cycle that is gone must leave it.
    assert [sorted(c) for c in KNOWN_CYCLES if c not in cycles] == []
    for cycle in KNOWN_CYCLES:
        warnings.warn(f"known import cycle, still to remove: {sorted(cycle)}", stacklevel=1)


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    """The same check on a copy of the tree with ``errors`` importing ``domain.money`` (which
    imports ``errors``) inside a function, where a module-level check would not look."""
    project = _copy_with(
        tmp_path,
        "errors.py",
        "def _later() -> None:\n    from intercarga.domain import money  # noqa: F401",
    )
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from tests.test_import_rules import import_cycles; "
            "print(json.dumps([sorted(c) for c in import_cycles()]))",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(project / "src"), str(ROOT)])},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    cycles = [frozenset(cycle) for cycle in json.loads(found.stdout)]
    assert any({"intercarga.errors", "intercarga.domain.money"} <= cycle for cycle in cycles)
