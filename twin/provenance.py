"""Which code produced a result: twin, PyBaMM and Python versions, and the git commit
when (and only when) the code runs from the twin project's own checkout.

Every JSON output carries :func:`provenance` under a ``provenance`` key, and every
mlflow run tags the same fields. Versions come from package metadata, so asking does
not import PyBaMM.
"""

from __future__ import annotations

import functools
import platform
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

PROJECT_NAME = "twin"
"""The ``[project] name`` in the checkout's pyproject.toml that marks our own repository."""


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def is_project_checkout(toplevel: Path, package_dir: Path) -> bool:
    """True when `toplevel` is this project's repository holding `package_dir` as its
    ``twin/`` folder: its pyproject.toml names the project "twin". A user's repository
    that merely contains an installed copy (a venv inside it) does not qualify."""
    pyproject = toplevel / "pyproject.toml"
    try:
        name = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return name == PROJECT_NAME and package_dir.resolve() == (toplevel / "twin").resolve()


@functools.cache
def git_state() -> dict[str, str]:
    """``{"git_commit": sha, "git_dirty": "true"|"false"}`` from the project's own
    checkout, or ``{}`` when the code does not run from one."""
    package_dir = Path(__file__).resolve().parent
    toplevel = _git(package_dir, "rev-parse", "--show-toplevel")
    if toplevel is None or not is_project_checkout(Path(toplevel), package_dir):
        return {}
    commit = _git(package_dir, "rev-parse", "HEAD")
    if commit is None:
        return {}
    dirty = _git(package_dir, "status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": str(bool(dirty)).lower()}


def provenance() -> dict[str, Any]:
    """Versions of the code behind a result (a dict for JSON): ``twin``, ``pybamm``,
    ``python`` and, from the project's own checkout, ``git_commit`` and ``git_dirty``."""
    return {
        "twin": _version("twin"),
        "pybamm": _version("pybamm"),
        "python": platform.python_version(),
        **git_state(),
    }
