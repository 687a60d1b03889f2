"""The installed namespace and the import-layer contracts agree with the source tree."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PACKAGE_DIR: dict[str, str] = PYPROJECT["tool"]["setuptools"]["package-dir"]


def _source_packages() -> set[str]:
    """Every folder with an __init__.py under the three mapped folders, as installed names."""
    found: set[str] = set()
    for name, folder in PACKAGE_DIR.items():
        root = REPO / folder
        for init in root.rglob("__init__.py"):
            relative = init.parent.relative_to(root)
            if relative.parts and relative.parts[0] in {"calibration", "experiments"} and name == "twin":
                continue  # twin/calibration and twin/experiments are links to the top-level folders
            found.add(".".join((name, *relative.parts)))
    return found


def test_every_source_package_is_installed() -> None:
    assert set(PYPROJECT["tool"]["setuptools"]["packages"]) == _source_packages()


def test_top_level_folders_are_linked_under_the_namespace() -> None:
    for name in ("calibration", "experiments"):
        link = REPO / "twin" / name
        assert link.is_symlink() and link.resolve() == (REPO / name).resolve()
        assert PACKAGE_DIR[f"twin.{name}"] == name


def _contract(name_start: str) -> dict:
    contracts = PYPROJECT["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"].startswith(name_start))


def test_physics_modules_listed_alike_in_every_contract() -> None:
    physics_layer = _contract("Layers")["layers"][-1]
    physics = {f"twin.{m.strip()}" for m in physics_layer.split(":")}
    for start in ("Only calibration imports", "Only experiments imports"):
        sources = set(_contract(start)["source_modules"])
        assert physics <= sources, sorted(physics - sources)
        assert sources - physics <= {"twin.calibration", "twin.experiments"}
