"""Real services on 127.0.0.1 and free ports, each a separate process stopped by its
pid: a Dask scheduler with workers, PostgreSQL initialised in a temporary folder, an
MLflow tracking server. Context managers used by the tests (through conftest.py) and
by benchmarks/bench_scale.py. A missing program raises MissingProgram naming it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60.0


class MissingProgram(RuntimeError):
    """A server program (or its Python driver) is not installed."""


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


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """End a process this code started, by its pid."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def program(name: str) -> str:
    """A program from this environment's bin folder or the PATH."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise MissingProgram(f"{name} is not installed")
    return found


@dataclass
class DaskCluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int = 2) -> Iterator[DaskCluster]:
    """`dask scheduler` and `workers` `dask worker` processes (one thread each, no
    nanny, so killing a worker's pid kills that worker for good)."""
    dask = program("dask")
    port = free_port()
    logs = Path(folder) / "dask-logs"
    logs.mkdir(parents=True, exist_ok=True)
    started: list[subprocess.Popen] = []
    with contextlib.ExitStack() as files:
        def log(name: str):
            return files.enter_context(open(logs / name, "w"))

        try:
            scheduler = subprocess.Popen(
                [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                env=child_env(), stdout=subprocess.DEVNULL, stderr=log("scheduler.log"))
            started.append(scheduler)
            wait_for_port(port, scheduler)
            cluster = DaskCluster(f"tcp://127.0.0.1:{port}", scheduler)
            for k in range(workers):
                worker = subprocess.Popen(
                    [dask, "worker", cluster.address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                     "--no-dashboard", "--name", f"w{k}", "--local-directory", str(Path(folder) / f"w{k}")],
                    env=child_env(), stdout=subprocess.DEVNULL, stderr=log(f"worker{k}.log"), cwd=folder)
                started.append(worker)
                cluster.workers.append(worker)
            from distributed import Client

            with Client(cluster.address, timeout=START_TIMEOUT_S, set_as_default=False) as client:
                client.wait_for_workers(workers, timeout=START_TIMEOUT_S)
            yield cluster
        finally:
            for process in reversed(started):
                stop(process)


def postgres_program(name: str) -> str:
    """initdb / postgres from the PATH or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found is None:
        candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        found = str(candidates[-1]) if candidates else None
    if found is None:
        raise MissingProgram(f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql)")
    return found


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server initialised in a temporary folder, on 127.0.0.1 and a free
    port; run as the 'postgres' user when run as root (initdb refuses root). Yields
    its URL."""
    import pwd

    initdb, postgres = postgres_program("initdb"), postgres_program("postgres")
    try:
        import psycopg
    except ImportError:
        raise MissingProgram("psycopg (the `servers` extra) is not installed") from None
    user: dict[str, int] = {}
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise MissingProgram("running as root and there is no 'postgres' user to run PostgreSQL as") from None
        user = {"user": account.pw_uid, "group": account.pw_gid}
    folder = Path(tempfile.mkdtemp(prefix="twin-pg-"))
    if user:
        os.chown(folder, user["user"], user["group"])
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
        if server is not None:
            stop(server, signal.SIGINT)  # PostgreSQL's fast shutdown (SIGTERM waits for clients)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def mlflow_server(folder: Path) -> Iterator[str]:
    """`mlflow server` on 127.0.0.1 and a free port, SQLite backend and artifacts in
    `folder`; its own process group, so the web workers it starts stop with it."""
    mlflow = program("mlflow")
    port = free_port()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
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
            os.killpg(server.pid, signal.SIGTERM)  # the group started here, by its leader's pid
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=15)
