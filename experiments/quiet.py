"""Keep solver and library chatter off the terminal unless ``twin --verbose``.

SUNDIALS (``IDA_BAD_K`` lines from IDAKLU), casadi and other C code print straight to
file descriptor 2; PyBaMM and vendor readers raise Python warnings or print. Without
``--verbose``, for the time of one command:

* file descriptor 2 points to the null device, so native prints vanish, while Python's
  ``sys.stderr`` (progress bars, ``click.echo(err=True)``, error lines) keeps writing to
  the terminal through a duplicate of the original descriptor;
* Python warnings go to the ``py.warnings`` logger, which discards them;
* the ``twin`` loggers (vendor-reader prints are logged there at DEBUG) stay silent.

With ``--verbose`` nothing is hidden and the ``twin`` loggers print DEBUG lines.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable


def configure_output(verbose: bool) -> Callable[[], None]:
    """Apply the rules above; returns the function that undoes them (call it when the
    command ends, so a test runner or an embedding program gets its stderr back)."""
    twin_logger = logging.getLogger("twin")
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        twin_logger.addHandler(handler)
        twin_logger.setLevel(logging.DEBUG)

        def undo_verbose() -> None:
            twin_logger.removeHandler(handler)
            twin_logger.setLevel(logging.NOTSET)

        return undo_verbose

    twin_logger.addHandler(logging.NullHandler())
    twin_logger.propagate = False
    warnings_logger = logging.getLogger("py.warnings")
    warnings_logger.addHandler(logging.NullHandler())
    warnings_logger.propagate = False
    logging.captureWarnings(True)

    old_stderr = sys.stderr
    saved_fd: int | None = None
    try:
        uses_fd2 = old_stderr is not None and old_stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a test runner's in-memory stream
        uses_fd2 = False
    try:
        old_stderr.flush()
        saved_fd = os.dup(2)
        if uses_fd2:
            sys.stderr = os.fdopen(os.dup(saved_fd), "w", buffering=1, encoding=old_stderr.encoding,
                                   errors="backslashreplace")
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
    except OSError:  # no descriptor 2 to redirect (a daemon): nothing to hide
        pass

    def undo() -> None:
        logging.captureWarnings(False)
        twin_logger.propagate = True
        warnings_logger.propagate = True
        if saved_fd is not None:
            if sys.stderr is not old_stderr:
                sys.stderr.flush()
                sys.stderr.close()
                sys.stderr = old_stderr
            os.dup2(saved_fd, 2)
            os.close(saved_fd)

    return undo
