"""Real servers for the scale-out tests (tests/integration/servers.py): a Dask
scheduler and workers, PostgreSQL and an MLflow tracking server, each a separate
process on 127.0.0.1 and a free port, stopped by pid when the test ends. A test that
needs a server whose program is not installed is skipped, naming the program."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _load_servers():
    name = "twin_test_servers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("servers.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


servers = _load_servers()


@pytest.fixture(name="child_env")
def child_env_fixture():
    """servers.child_env: the environment a child process of the test gets."""
    return servers.child_env


@pytest.fixture()
def dask_cluster(tmp_path: Path):
    try:
        with servers.dask_cluster(tmp_path, workers=2) as cluster:
            yield cluster
    except servers.MissingProgram as err:
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def postgres_url():
    try:
        with servers.postgres_server() as url:
            yield url
    except servers.MissingProgram as err:
        pytest.skip(str(err))


@pytest.fixture()
def mlflow_server(tmp_path: Path):
    try:
        with servers.mlflow_server(tmp_path / "mlflow-server") as url:
            yield url
    except servers.MissingProgram as err:
        pytest.skip(str(err))
