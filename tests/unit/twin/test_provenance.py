"""Provenance: versions in every JSON output; the git commit only from our own checkout."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

from twin.experiments.options import to_json
from twin.provenance import is_project_checkout, provenance


def test_versions_come_from_package_metadata() -> None:
    info = provenance()
    assert info["pybamm"] == metadata.version("pybamm")
    assert info["python"] == platform.python_version()
    assert info["twin"] == metadata.version("twin")


def test_only_the_twin_project_checkout_gives_a_commit(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    (ours / "twin").mkdir(parents=True)
    (ours / "pyproject.toml").write_text('[project]\nname = "twin"\n')
    assert is_project_checkout(ours, ours / "twin")
    # a user's repository with an installed copy inside (e.g. in its venv)
    user = tmp_path / "user"
    installed = user / ".venv" / "lib" / "site-packages" / "twin"
    installed.mkdir(parents=True)
    (user / "pyproject.toml").write_text('[project]\nname = "my-analysis"\n')
    assert not is_project_checkout(user, installed)
    # even a repository named twin does not own a copy installed elsewhere in it
    (user / "pyproject.toml").write_text('[project]\nname = "twin"\n')
    assert not is_project_checkout(user, installed)
    assert not is_project_checkout(tmp_path / "nowhere", installed)


def test_every_json_result_carries_provenance() -> None:
    text = json.loads(to_json({"cycle_life": 412}))
    assert text["cycle_life"] == 412
    assert set(text["provenance"]) >= {"twin", "pybamm", "python"}
    assert json.loads(to_json([1, 2])) == [1, 2]  # lists (tables of rows) stay as they are
