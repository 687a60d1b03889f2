"""Error types of the twin, in one hierarchy.

Every error the twin (and its calibration and experiment layers) raises on purpose is a
`TwinError`, in one of two branches:

* `TwinInputError` (also a `ValueError`): the caller asked for something that cannot be
  done -- a bad design, protocol, data file, recipe, sweep grid. The CLI prints the
  message on one line and exits 2.
* `TwinRuntimeError` (also a `RuntimeError`): a valid request failed while running -- a
  solver that gave up. The CLI prints the message on one line and exits 1.

Messages are meant for a battery engineer and name the *argument* of the Python API
(``np_ratio``, ``storage``); the CLI maps an error's `argument` to its flag.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class TwinError(Exception):
    """Base class for every error the twin raises on purpose.

    Parameters
    ----------
    message
        What went wrong, in one line.
    argument
        The name of the API argument (or design/protocol field) the message is about,
        if any; the CLI uses it to name the matching flag.
    """

    exit_code: int = 1
    """Exit code of the `twin` command when this error ends it."""

    def __init__(self, message: str = "", *, argument: str | None = None) -> None:
        self.argument = argument
        super().__init__(message)


class TwinInputError(TwinError, ValueError):
    """Bad input (a user mistake): the command exits 2."""

    exit_code = 2


class TwinRuntimeError(TwinError, RuntimeError):
    """A valid request that failed while running (solver, storage): the command exits 1."""

    exit_code = 1


class DesignError(TwinInputError):
    """An invalid cell design; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"invalid design: {field}: {message}", argument=field)


class ProtocolError(TwinInputError):
    """An invalid cycling protocol; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"invalid protocol: {field}: {message}", argument=field)


class OptionError(TwinInputError):
    """An unknown model option or option value."""


class CalibrationError(TwinInputError):
    """A calibration that cannot run as asked (message names the problem)."""


class SimulationError(TwinRuntimeError):
    """The solver failed in a way that is not an end of life."""


class InterruptedRun(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM: the run stops, whatever was solving."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


# Signals the CLI's handler received. A signal that lands inside a compiled solver comes
# back as a solver error (CasADi turns the interrupt into one); the places that treat a
# solver error as a failed run check here first, so Ctrl-C is never taken for a failure.
_received_signals: list[int] = []


def note_interrupt(signum: int) -> None:
    """Record a signal the process was asked to stop by."""
    _received_signals.append(signum)


def raise_if_interrupted() -> None:
    """Raise InterruptedRun if the process was asked to stop (see note_interrupt)."""
    if _received_signals:
        raise InterruptedRun(_received_signals[-1])


# Innermost first: whether a signal landing now is only noted (True) or raised (False).
# A library's bookkeeping cut in half by an exception can leave state behind (optuna
# creating a trial or telling its result: the trial stays RUNNING for ever).
_deferral: list[bool] = []


def interrupts_are_deferred() -> bool:
    """True inside `interrupts_deferred()` (and not inside a nested live block): the
    signal handler notes the signal and returns; `raise_if_interrupted` raises it later."""
    return bool(_deferral) and _deferral[-1]


@contextlib.contextmanager
def interrupts_deferred(deferred: bool = True) -> Iterator[None]:
    """Inside the block a signal is only noted, and raised when the block ends; with
    ``deferred=False`` (nested, around the work that may take long) it is raised at once,
    a signal noted before the block included."""
    _deferral.append(deferred)
    try:
        if not deferred:
            raise_if_interrupted()
        yield
    finally:
        _deferral.pop()
    raise_if_interrupted()


def solver_failure_types() -> tuple[type[BaseException], ...]:
    """Exception types that mean "the run failed", not "the request was wrong".

    `TwinRuntimeError` plus PyBaMM's own error types when PyBaMM is loaded (looked up
    in ``sys.modules`` so that asking never imports PyBaMM).
    """
    import sys

    types: list[type[BaseException]] = [TwinRuntimeError]
    pybamm = sys.modules.get("pybamm")
    if pybamm is not None:
        types += [getattr(pybamm, name) for name in _PYBAMM_ERRORS if hasattr(pybamm, name)]
    return tuple(types)


# PyBaMM's exception classes (pybamm.expression_tree.exceptions); none subclasses another.
_PYBAMM_ERRORS = ("SolverError", "ModelError", "DomainError", "GeometryError", "ShapeError",
                  "DiscretisationError", "OptionError")
