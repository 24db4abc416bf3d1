"""The assessment's public surface: every exported name exists, every module says what it is for."""

from __future__ import annotations

import importlib
import pkgutil

import intercarga.assessment as package


def test_every_exported_name_exists() -> None:
    assert package.__all__ == sorted(package.__all__, key=lambda n: (not n.isupper(), n))
    for name in package.__all__:
        assert hasattr(package, name), name


def test_every_module_has_a_docstring_and_an_all() -> None:
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"intercarga.assessment.{info.name}")
        assert "must never" in " ".join((module.__doc__ or "").split()), info.name
        assert module.__all__, info.name
