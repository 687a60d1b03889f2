"""Checks every command runs before its first solve: an output that cannot be written
is refused at once, so a fit or a sweep is never lost to a bad --out at the end."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Command keyword arguments that name files the command will write, and their options.
OUTPUT_ARGUMENTS = {"out": "--out", "plot_path": "--plot", "summary_out": "--summary-out"}


class OutputPathError(ValueError):
    """An output path that cannot be written (message names the option and path)."""


def check_output_path(path: Path, option: str) -> None:
    """Refuse, in one line, an output file that cannot be written: a folder, a file
    without write permission, or a place whose nearest existing folder is not a
    writable folder (the folders named in `path` that do not exist yet are created
    later by the atomic writer, inside that folder)."""
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{option} {path}: cannot write a folder, not a file")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"{option} {path}: cannot write the existing file: permission denied")
    parent = path.absolute().parent
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise OutputPathError(f"{option} {path}: cannot write {parent}: a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"{option} {path}: cannot write folder {parent}: permission denied")


def check_outputs(arguments: Mapping[str, Any]) -> None:
    """check_output_path for every output argument a command was given."""
    for name, option in OUTPUT_ARGUMENTS.items():
        value = arguments.get(name)
        if isinstance(value, (str, os.PathLike)) and str(value) != "-":
            check_output_path(Path(value), option)
