"""Where the billing tests find their copied data, and small readers for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intercarga.billing import CompiledTariff, compile_tariff, read_tariff_terms
from intercarga.billing.documents import load_json

__all__ = ["DATA", "LAC", "ORACLES", "SPEC", "load", "oracle_cases", "tariff_from"]

DATA = Path(__file__).parent.parent / "data"
ORACLES = DATA / "ocpi-tariff-cases"
SPEC = DATA / "ocpi-spec-examples"
LAC = DATA / "lac-tariff-cases"


def load(path: Path) -> Any:
    return load_json(path.read_bytes(), str(path))


def tariff_from(path: Path) -> CompiledTariff:
    return compile_tariff(read_tariff_terms(load(path)))


def oracle_cases() -> list[tuple[Path, Path]]:
    """(tariff.json, cdr*.json) for every oracle CDR."""
    return [(cdr.parent / "tariff.json", cdr) for cdr in sorted(ORACLES.glob("*/cdr*.json"))]
