"""Real servers for the scale-out tests: a Dask scheduler and workers, PostgreSQL and
an MLflow tracking server, each a separate process on 127.0.0.1 and a free port,
stopped by pid when the test ends. A test that needs a server whose program is not
installed is skipped, naming the program."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before listening")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{process.args[0]} did not listen on port {port} within {timeout_s} s")


def child_env(**extra: str) -> dict[str, str]:
    """This environment with the repository first on the path (servers import twin)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra)
    return env


@pytest.fixture(name="child_env")
def child_env_fixture():
    """child_env for tests: the environment a child process of the test gets."""
    return child_env


def stop(process: subprocess.Popen) -> None:
    """End a process this test started, by its pid."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def program(name: str) -> str:
    """A program from this environment's bin folder or the PATH, or a skip naming it."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


@dataclass
class DaskCluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)


@pytest.fixture()
def dask_cluster(tmp_path: Path) -> Iterator[DaskCluster]:
    """`dask scheduler` and two `dask worker` processes (one thread each, no nanny,
    so killing a worker's pid kills that worker for good)."""
    dask = program("dask")
    port = free_port()
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    started: list[subprocess.Popen] = []
    handles = []

    def log(name: str):
        handles.append(open(logs / name, "w"))  # noqa: SIM115 - closed in finally
        return handles[-1]

    try:
        scheduler = subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            env=child_env(), stdout=subprocess.DEVNULL, stderr=log("scheduler.log"))
        started.append(scheduler)
        wait_for_port(port, scheduler)
        address = f"tcp://127.0.0.1:{port}"
        cluster = DaskCluster(address, scheduler)
        for k in range(2):
            worker = subprocess.Popen(
                [dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--name", f"w{k}", "--local-directory", str(tmp_path / f"w{k}")],
                env=child_env(), stdout=subprocess.DEVNULL, stderr=log(f"worker{k}.log"),
                cwd=tmp_path)
            started.append(worker)
            cluster.workers.append(worker)
        from distributed import Client

        with Client(address, timeout=START_TIMEOUT_S, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield cluster
    finally:
        for process in reversed(started):
            stop(process)
        for handle in handles:
            handle.close()
