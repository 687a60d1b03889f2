"""Safe output files, shared by every layer: never a half-written output, never a
device, FIFO, socket or folder overwritten, never a folder created unasked.

Rules (documented for users in the README, "Output files"):

* the target must be a regular file or not exist yet; a device (``/dev/null``), FIFO,
  socket or directory is refused with :class:`OutputPathError` (a ``ValueError``: the
  CLI reports it as a usage error, exit 2) and left alone;
* a symlink is written *through*: the regular file it points to is replaced (atomically,
  beside that file) and the link stays a link; a link to anything else, or a dangling
  link, is refused;
* the parent folder must exist: a missing one is an error naming it, never created;
* the content goes to a temporary ``.NAME.<random>.tmp`` beside the target, is fsynced,
  then renamed over it: a run that fails leaves the old file intact; temporary files
  that a killed run left beside the target are removed on the next write.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from pathlib import Path

from twin.errors import TwinError

STALE_TEMPORARY_AGE_S = 3600.0
"""A ``.NAME.*.tmp`` older than this [s] beside a target is a killed run's leftover."""


class OutputPathError(TwinError, ValueError):
    """An output path that must not be written (not a regular file, or no parent folder)."""


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def resolve_output_path(path: str | os.PathLike) -> Path:
    """The regular file a write to `path` will replace (or create), after the checks.

    Follows a symlink to its target. Raises :class:`OutputPathError` for a target that
    is not a regular file, a dangling symlink, a missing parent folder or a place
    without write permission.
    """
    path = Path(path)
    target = path
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.exists():
            raise OutputPathError(f"{path} is a symlink to {target}, which does not exist: refusing to write through it")
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):  # no file yet, or a parent is a file
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        via = f" (symlink {path} points to it)" if target != path else ""
        raise OutputPathError(f"{target} is {_kind(mode)}{via}: refusing to write over it; choose a file path")
    parent = target.parent
    if not parent.is_dir():
        what = "does not exist" if not parent.exists() else "is not a folder"
        raise OutputPathError(f"cannot write {path}: folder {parent} {what} (create it first)")
    if mode is not None and not os.access(target, os.W_OK):
        raise OutputPathError(f"cannot write {path}: the existing file is not writable (permission denied)")
    if not os.access(parent, os.W_OK | os.X_OK):  # the temporary file is made beside the target
        raise OutputPathError(f"cannot write {path}: folder {parent} is not writable (permission denied)")
    return target


def clean_stale_temporaries(target: Path, older_than_s: float = STALE_TEMPORARY_AGE_S) -> list[Path]:
    """Remove ``.NAME.*.tmp`` files beside `target` older than `older_than_s` [s]
    (left by a killed run; a younger one may belong to a run still writing)."""
    removed: list[Path] = []
    now = time.time()
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        with contextlib.suppress(OSError):
            info = leftover.lstat()
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > older_than_s:
                leftover.unlink()
                removed.append(leftover)
    return removed


def write_atomic(path: str | os.PathLike, content: str | bytes, new_file_mode: int | None = None) -> Path:
    """Write `content` to a temporary file beside the target, fsync it, then rename it
    over the target (see the module rules: regular files only, symlinks written
    through, no folders created). A failure at any point removes the temporary file and
    leaves an existing file untouched. The file keeps the mode of the one it replaces; a
    new file gets `new_file_mode`, or the usual umask-based mode. Returns `path`.
    An OSError names `path`, never the temporary file."""
    path = Path(path)
    target = resolve_output_path(path)
    clean_stale_temporaries(target)
    if target.exists():
        mode = target.stat().st_mode & 0o777
    elif new_file_mode is not None:
        mode = new_file_mode
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
