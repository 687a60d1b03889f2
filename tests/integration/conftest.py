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


def postgres_program(name: str) -> str:
    """initdb / postgres from the PATH or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found is None:
        candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        found = str(candidates[-1]) if candidates else None
    if found is None:
        pytest.skip(f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql)")
    return found


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server initialised in a temporary folder, on 127.0.0.1 and a free
    port; run as the 'postgres' user when the tests run as root (initdb refuses root)."""
    import pwd
    import tempfile

    initdb, postgres = postgres_program("initdb"), postgres_program("postgres")
    pytest.importorskip("psycopg", reason="psycopg (the `servers` extra) is not installed")
    user: dict[str, int] = {}
    folder = Path(tempfile.mkdtemp(prefix="twin-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL as")
        user = {"user": account.pw_uid, "group": account.pw_gid}
        os.chown(folder, account.pw_uid, account.pw_gid)
    data = folder / "data"
    server = None
    try:
        subprocess.run([initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
                       check=True, capture_output=True, timeout=120, cwd=folder, **user)
        port = free_port()
        with open(folder / "server.log", "w") as log:
            server = subprocess.Popen(
                [postgres, "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(folder),
                 "-c", "fsync=off", "-c", "max_connections=60"],
                stdout=log, stderr=subprocess.STDOUT, cwd=folder, **user)
        wait_for_port(port, server)
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_S
        while True:  # listening comes before accepting connections
            try:
                psycopg.connect(url).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(2)  # SIGINT: PostgreSQL's fast shutdown (SIGTERM waits for clients)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    """`mlflow server` on 127.0.0.1 and a free port, SQLite backend and artifacts in
    tmp_path; its own process group, so the web workers it starts stop with it."""
    import signal

    mlflow = program("mlflow")
    port = free_port()
    folder = tmp_path / "mlflow-server"
    folder.mkdir()
    with open(folder / "server.log", "w") as log:
        server = subprocess.Popen(
            [mlflow, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
             "--artifacts-destination", str(folder / "artifacts")],
            stdout=log, stderr=subprocess.STDOUT, cwd=folder, env=child_env(), start_new_session=True)
    try:
        wait_for_port(port, server, timeout_s=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # the group this fixture started, by its leader's pid
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=15)
