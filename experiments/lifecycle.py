"""Ctrl-C and SIGTERM end a command with one line and the shell's exit code
(130 / 143), after the command has kept what it finished."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

import click

RESUME_HINT = "finished work is kept; rerun the same command to resume"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM, raised in the main thread where the command runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupted(signum: int, frame: object) -> None:
    # optuna logs a failed trial's traceback at WARNING: not for an interruption
    logging.getLogger("optuna").setLevel(logging.ERROR)
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` inside the block (main thread only), so
    `finally` clauses and journals run as for Ctrl-C; the old handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def exit_code(err: BaseException) -> int:
    """128 + the signal number, as shells report a process ended by it (SIGINT 130)."""
    return 128 + int(getattr(err, "signum", signal.SIGINT))


def interrupted_exit(err: BaseException, message: str = RESUME_HINT) -> click.exceptions.Exit:
    """Print one line naming the signal and what was kept; the Exit to raise."""
    name = signal.Signals(exit_code(err) - 128).name
    click.echo(f"Error: interrupted ({name}); {message}", err=True)
    return click.exceptions.Exit(exit_code(err))
