"""Compiled representative cycles: fast mode in a process that never imports PyBaMM.

Once PyBaMM has built and set up the single-cycle simulation of fast mode
(`twin.fast.RepresentativeCycler`), everything a lean cycle (`twin.stepper`) touches at
run time is a casadi function (initial conditions, right-hand side, the solver's event
function, the state mappers between step models, the end-of-cycle readers), a time grid
or the IDAKLU solver group, itself made by `pybammsolvers.idaklu` from serialised casadi
functions and options. `compile_artefact` (in `twin.stepper`, PyBaMM side) records them;
this module saves them in the twin's cache directory, one artefact per everything the
built model bakes in (see `artefact_key`), and `CompiledCycler` steps the same cycles
from them with `casadi`, `numpy` and `pybammsolvers` only: the same numbers as PyBaMM's
experiment solve, bit for bit (tests).

What the lean path does not support (an event at a step's start, a solver failure, a
model event ending a step) raises `LeanUnsupported`; `CompiledCycler` then solves that
cycle through PyBaMM (imported then, and only then).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import casadi
import numpy as np

from twin.cycle_map import END_OF_CYCLE_VARIABLES, THICKNESS_NAMES, SlowStateCycleMap
from twin.cycle_skipping import CycleResult
from twin.errors import raise_if_interrupted
from twin.files import write_atomic

_IDA_ROOT_RETURN = 2  # IDAKLU's flag: stopped at an event
# Bump when the artefact's layout changes (old files are then misses).
ARTEFACT_FORMAT = 1
ARTEFACT_FOLDER = "compiled"
# PyBaMM's input name for the start time of an experiment step (Simulation._START_TIME_INPUT).
START_TIME_INPUT = "start time"


class LeanUnsupported(Exception):
    """This cycle is not one the lean stepper drives; solve it through PyBaMM."""


@dataclass
class CyclePoint:
    """A state of the cycle: time [s], state vector, the step model it belongs to (a
    PyBaMM model or a `CompiledModel`) and that model's inputs (sorted by name, as PyBaMM
    passes them)."""

    t_s: float
    y: np.ndarray
    model: Any
    inputs: dict[str, float]


@dataclass
class StepPlan:
    """One step of the cycle as the lean stepper drives it.

    model: identity of the step's model (steps of one model share it); input_names: its
    inputs, sorted; t_eval, t_interp: the step's time grid [s] from its start (PyBaMM's
    `setup_timestepping` and `process_t_interp`); uses_default_duration: the step has no
    stated duration; n_states, len_rhs: state sizes; initial_conditions, rhs: casadi
    functions of (t, y, p); solver: the IDAKLU solver group; rootfn: its event function
    (t, y, p); experiment_events: per termination event, whether it is the experiment's;
    mapper: the compiled state mapper from the previous step's model (None: same model,
    or the first step); previous_input_names: the previous model's inputs.
    """

    model: Any
    input_names: list[str]
    t_eval: np.ndarray
    t_interp: np.ndarray
    uses_default_duration: bool
    n_states: int
    len_rhs: int
    initial_conditions: Any
    rhs: Any
    solver: Any
    rootfn: Any
    experiment_events: list[bool]
    mapper: Any | None
    previous_input_names: list[str]


def step_cycle(plans: Sequence[StepPlan], user_inputs: Mapping[str, float]) -> tuple[CyclePoint, CyclePoint]:
    """Step every step of one cycle from the first model's initial conditions with
    `user_inputs`: what `Simulation.solve` and `BaseSolver.step` do for each step (the
    same time shift, state mappers, consistent ydot0 and native IDAKLU call), so the
    same numbers; (first point of the first step, end of the last step).

    Raises
    ------
    LeanUnsupported
        When the cycle needs more than the ordinary path (see `twin.stepper`).
    """
    t_start = 0.0
    previous: CyclePoint | None = None
    first: CyclePoint | None = None
    for plan in plans:
        inputs = dict(user_inputs)
        inputs[START_TIME_INPUT] = t_start
        if any(name not in inputs for name in plan.input_names):
            raise LeanUnsupported("an input of the model has no value")
        model_inputs = {name: inputs[name] for name in plan.input_names}
        p = np.array([float(model_inputs[name]) for name in plan.input_names])
        # BaseSolver.step's time grid: shifted past the previous step's end
        t_eval = t_start + np.asarray(plan.t_eval, dtype=float)
        t_interp = t_start + plan.t_interp
        t0 = t_start if t_start == 0 else float(np.nextafter(t_start, np.inf))
        t_eval[0] = t0
        if t_interp.size > 0 and t_interp[0] == t_start:
            t_interp[0] = t0
        if previous is None:
            y0: Any = plan.initial_conditions(0.0, np.zeros((plan.n_states, 1)), casadi.DM(p))
        elif previous.model is plan.model:
            y0 = previous.y
        else:
            if plan.mapper is None or any(name not in inputs for name in plan.previous_input_names):
                raise LeanUnsupported("no compiled state mapper between the step models")
            y0 = plan.mapper(t0, previous.y, casadi.DM([float(inputs[name]) for name in plan.previous_input_names]))
        y0 = np.asarray(y0.full() if isinstance(y0, casadi.DM) else y0, dtype=float).ravel()
        ydot0 = np.zeros_like(y0)  # IDAKLU: ydot0 = rhs for the differential states, 0 else
        if plan.len_rhs > 0:
            ydot0[:plan.len_rhs] = np.asarray(plan.rhs(t0, y0, casadi.DM(p)).full()).ravel()
        try:
            solution = plan.solver.solve(t_eval, t_interp, y0[None, :], ydot0[None, :], p[None, :],
                                         logger=None, pbar=np.empty((0, 0)))[0]
        except ValueError as err:
            raise LeanUnsupported(f"solver error: {err}") from err
        if solution.flag < 0:
            raise LeanUnsupported("solver failure")
        n_t = solution.t.size
        ys = np.asarray(solution.y).reshape((n_t, plan.n_states))
        if solution.flag == _IDA_ROOT_RETURN:
            if n_t == 1:  # PyBaMM skips or fails such a step
                raise LeanUnsupported("event at the step's initial conditions")
            values = np.asarray(plan.rootfn(float(solution.t[-1]), ys[-1], p)).ravel()
            if not plan.experiment_events[int(np.nanargmin(np.abs(values)))]:
                raise LeanUnsupported("a model event ended the step (infeasible in PyBaMM)")
        elif plan.uses_default_duration:
            raise LeanUnsupported("the step ran to its default duration (infeasible in PyBaMM)")
        if first is None:
            first = CyclePoint(float(solution.t[0]), ys[0], plan.model, model_inputs)
        t_start = float(solution.t[-1])
        previous = CyclePoint(t_start, ys[-1], plan.model, model_inputs)
    if first is None or previous is None:
        raise LeanUnsupported("an experiment without steps")
    return first, previous
