"""Ctrl-C and SIGTERM end a command with one line and the shell's exit code
(130 / 143), after the command has kept what it finished."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import click

from twin.errors import InterruptedRun, interrupts_are_deferred, note_interrupt

RESUME_HINT = "finished work is kept; rerun the same command to resume"
# After a signal, the command's own clean-up (journals, trial states, tracking runs) may take
# this long [s]; past it the process ends anyway with the signal's exit code. An exception
# raised from a signal handler can land while a library holds a lock it then waits on again:
# the watchdog turns that hang into an exit.
CLEANUP_LIMIT_S = 30.0
# Once the line is printed nothing is left to keep: a library thread that lost its stop
# signal to the interruption (optuna's trial heartbeat) must not hold the exit up [s].
EXIT_GRACE_S = 5.0
_announced = threading.Event()  # the one "interrupted" line was printed
_received: list[int] = []  # signals our handler turned into Interrupted


class Interrupted(InterruptedRun):
    """Ctrl-C (SIGINT) or SIGTERM, raised in the main thread where the command runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.args = (signal.Signals(signum).name,)


def _force_exit(signum: int) -> None:
    if not _announced.is_set():
        name = signal.Signals(signum).name
        print(f"Error: interrupted ({name}); clean-up took over {CLEANUP_LIMIT_S:g} s, ended without it; "
              "rerun the same command to resume", file=sys.stderr, flush=True)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(128 + signum)


def _raise_interrupted(signum: int, frame: object) -> None:
    # optuna logs a failed trial's traceback at WARNING: not for an interruption
    logging.getLogger("optuna").setLevel(logging.ERROR)
    _received.append(signum)
    note_interrupt(signum)  # a solver that swallows the interrupt is told apart from a failure
    _start_watchdog(CLEANUP_LIMIT_S, signum)
    if interrupts_are_deferred():
        return  # raised where the deferring block lets it (twin.errors.interrupts_deferred)
    raise Interrupted(signum)


def _start_watchdog(seconds: float, signum: int) -> None:
    watchdog = threading.Timer(seconds, _force_exit, args=(signum,))
    watchdog.daemon = True  # a normal exit does not wait for it
    watchdog.start()


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` inside the block (main thread only), so
    `finally` clauses and journals run as for Ctrl-C; the old handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_about_interrupts(previous_hook)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.unraisablehook = previous_hook


def _quiet_about_interrupts(hook: Callable[[Any], object]) -> Callable[[Any], object]:
    """An unraisable-exception hook that drops our interruption: raised inside a
    destructor or weakref callback it cannot propagate, and Python would print its
    traceback; the signal is noted (note_interrupt), so the next check still ends the run."""

    def quiet(unraisable: Any) -> object:
        if isinstance(unraisable.exc_value, InterruptedRun):
            return None
        return hook(unraisable)

    return quiet


def signals_received() -> int:
    """How many SIGINT/SIGTERM our handler has turned into `Interrupted` in this process."""
    return len(_received)


def masked_interrupt(received_before: int) -> Interrupted | None:
    """The interruption behind an error, if a signal arrived since `received_before`
    (`signals_received()` at the command's start): the `Interrupted` raised from the
    handler can land inside a library that then fails on its own way out (optuna's trial
    bookkeeping ends in an UnboundLocalError), masking it."""
    if len(_received) > received_before:
        return Interrupted(_received[-1])
    return None


def exit_code(err: BaseException) -> int:
    """128 + the signal number, as shells report a process ended by it (SIGINT 130)."""
    return 128 + int(getattr(err, "signum", signal.SIGINT))


def interrupted_exit(err: BaseException, message: str = RESUME_HINT) -> click.exceptions.Exit:
    """Print one line naming the signal and what was kept; the Exit to raise."""
    name = signal.Signals(exit_code(err) - 128).name
    click.echo(f"Error: interrupted ({name}); {message}", err=True)
    _announced.set()
    if _received:  # a signal of this process (not an in-process caller's KeyboardInterrupt)
        _start_watchdog(EXIT_GRACE_S, _received[-1])
    return click.exceptions.Exit(exit_code(err))
