"""What a calibration checks before it touches a database or a tracking server, and
how its processes and messages stay safe.

* `redact` / `redact_url`: credentials in a URL never reach a message, a log or a tag.
* `check_storage_url` / `check_tracking`: a SQLite file whose folder does not exist or
  is not writable, an empty experiment name, or a tracking server that does not
  answer within a few seconds is refused in one line, before any file is created.
* `sqlite_locked_message`: the one line for a study file another process holds.
* `die_with_parent`: worker processes end when their parent is killed (even -9).
"""

from __future__ import annotations

import os
import re
import signal
import socket
from pathlib import Path
from urllib.parse import urlsplit

from twin.errors import TwinInputError

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"


def resolve_tracking_uri(tracking_uri: str | None = None) -> str:
    """The argument, else $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db."""
    return tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


# How long a tracking server may take to accept a connection [s].
TRACKING_CONNECT_TIMEOUT_S = 3.0
# MLflow's HTTP client: a short timeout and few retries, so a dead server is named
# within seconds (its defaults retry for minutes).
MLFLOW_HTTP_ENVIRONMENT = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "5", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
# user:password@ in any scheme://... URL
_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<secret>[^@\s]*)@")


class SafetyError(TwinInputError):
    """A storage, tracking URI or name refused before any work (message names it)."""


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***."""
    return _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", str(text))


def redact_url(url: str | None) -> str | None:
    """A URL safe to print: 'postgresql://u:secret@h/db' -> 'postgresql://u:***@h/db'."""
    return None if url is None else redact(url)


def sqlite_path(url: str) -> Path | None:
    """The database file of a sqlite:/// URL (None for memory or another database)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def check_sqlite_file(url: str, option: str) -> None:
    """A SQLite URL is usable when its folder exists and is writable: the database is
    created there, never the folders leading to it."""
    path = sqlite_path(url)
    if path is None:
        return
    folder = path.absolute().parent
    if folder.exists() and not folder.is_dir():
        raise SafetyError(f"{option} {redact(url)}: cannot write {folder}: a file, not a folder")
    if not folder.is_dir():
        raise SafetyError(f"{option} {redact(url)}: folder {folder} does not exist (create it first)")
    if path.is_dir():
        raise SafetyError(f"{option} {redact(url)}: {path} is a folder, not a database file")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise SafetyError(f"{option} {redact(url)}: {path} is not writable")


def check_storage_url(url: str | None) -> None:
    """The optuna storage URL, checked before a study opens."""
    if url is not None:
        check_sqlite_file(url, "--storage")


def check_server(url: str, option: str, timeout_s: float = TRACKING_CONNECT_TIMEOUT_S) -> None:
    """An http(s) server must accept a TCP connection within `timeout_s` seconds."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise SafetyError(f"{option} {redact(url)}: no host in the URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise SafetyError(f"{option} {redact(url)}: the port is not a number") from None
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as err:
        reason = (f"did not answer within {timeout_s:g} s" if isinstance(err, TimeoutError)
                  else f"cannot be reached ({err.strerror or err})")
        raise SafetyError(f"{option} {redact(url)}: the tracking server {reason}") from None


def check_tracking(tracking_uri: str, experiment_name: str) -> None:
    """A tracking URI and experiment name MLflow can use, checked before MLflow is
    imported (so nothing is created for a request that fails)."""
    if not experiment_name or not experiment_name.strip():
        raise SafetyError("--experiment-name must not be empty")
    scheme = tracking_uri.split(":", 1)[0].lower() if "://" in tracking_uri else ""
    if scheme == "sqlite":
        check_sqlite_file(tracking_uri, "--tracking-uri")
    elif scheme in ("http", "https"):
        for name, value in MLFLOW_HTTP_ENVIRONMENT.items():
            os.environ.setdefault(name, value)
        check_server(tracking_uri, "--tracking-uri")
    elif scheme in ("", "file"):
        folder = Path(urlsplit(tracking_uri).path if scheme else tracking_uri).absolute().parent
        if not folder.is_dir():
            raise SafetyError(f"--tracking-uri {redact(tracking_uri)}: folder {folder} does not exist")


def check_places(storage: str | None, tracking_uri: str | None, experiment_name: str,
                 tracking: bool = True) -> None:
    """Everything a calibration will write to, checked before any of it is created:
    the study storage and, with `tracking`, the tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db) and experiment."""
    check_storage_url(storage)
    if not tracking:
        return
    check_tracking(resolve_tracking_uri(tracking_uri), experiment_name)


def sqlite_locked_message(url: str, waited_s: float) -> str:
    """One line for a SQLite study file held by another process."""
    path = sqlite_path(url)
    return (f"--storage: study file {path if path is not None else redact(url)} is locked by another process "
            f"(waited {waited_s:g} s); wait for it to finish or use another --storage")


def die_with_parent() -> None:
    """In a worker process: be killed when the parent dies, even by kill -9 (Linux
    PR_SET_PDEATHSIG); exit at once if the parent is already gone. Elsewhere a no-op."""
    import multiprocessing

    parent = multiprocessing.parent_process()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        return
    if parent is not None and os.getppid() != parent.pid:  # the parent died before prctl
        os._exit(1)
