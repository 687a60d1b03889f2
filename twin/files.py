"""Atomic file writes, shared by every layer: never a half-written output file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, content: str | bytes, new_file_mode: int | None = None) -> Path:
    """Write `content` to a temporary file beside `path`, fsync it, then rename it over
    `path`. A failure at any point removes the temporary file and leaves an existing
    `path` untouched. The file keeps the mode of the one it replaces; a new file gets
    `new_file_mode`, or the usual umask-based mode (mkstemp alone would make it 0600).
    An OSError names `path`, never the temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        mode = path.stat().st_mode & 0o777
    elif new_file_mode is not None:
        mode = new_file_mode
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None
    try:
        if isinstance(content, bytes):
            stream = os.fdopen(fd, "wb")
        else:
            stream = os.fdopen(fd, "w", encoding="utf-8", newline="")
        with stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
