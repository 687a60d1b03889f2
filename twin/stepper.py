"""A lean cycle: one cycle of a built PyBaMM experiment simulation stepped directly.

`pybamm.Simulation.solve` with an experiment wraps every step's integration in
per-step `Solution` objects, concatenations, summary variables and callbacks. A
fast-mode cycle needs none of them: only the state at the start and at the end of the
cycle. `lean_cycle` repeats what `Simulation.solve` and `BaseSolver.step` do for each
step of the simulation's experiment (PyBaMM 26.10, "legacy" experiment models, IDAKLU
solver) -- the same built per-step models and solvers, the same initial conditions,
state mappers between step models, time shift, consistent ydot0 and native IDAKLU
call -- so its states are the same numbers (checked bit for bit by the tests), and
skips the rest.

It supports only the ordinary path: every step ends at its experiment event (or at the
end of a step with a stated duration). Anything else raises `LeanUnsupported`, and the
caller solves the cycle through `Simulation.solve` instead (same answer, PyBaMM's
handling): a step event already crossed at the start, an event that is not the
experiment's (e.g. the model's voltage limits), a step running to its default duration,
a solver failure; and, before any step runs, a simulation whose step solvers are not
yet set up (its first solve goes through PyBaMM), unified experiment models, experiment
termination conditions or timed steps, sensitivities, output variables or a mass matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import casadi
import numpy as np
import pybamm

_IDA_ROOT_RETURN = 2  # IDAKLU's flag: stopped at an event


class LeanUnsupported(Exception):
    """This cycle is not one the lean stepper drives; solve it through PyBaMM."""


@dataclass
class CyclePoint:
    """A state of the cycle: time [s], state vector, the built model it belongs to and
    that model's inputs (sorted by name, as PyBaMM passes them)."""

    t_s: float
    y: np.ndarray
    model: pybamm.BaseModel
    inputs: dict[str, float]


def _input_names(model: pybamm.BaseModel) -> list[str]:
    return sorted(ip.name for ip in model.input_parameters)


def _check_supported(sim: pybamm.Simulation) -> None:
    if not sim.steps_to_built_models:
        raise LeanUnsupported("simulation not built yet (its first solve goes through PyBaMM)")
    if sim._experiment_uses_unified_model or sim.experiment is None or sim.experiment.termination:
        raise LeanUnsupported("only legacy experiment models without termination conditions")


def lean_cycle(sim: pybamm.Simulation, user_inputs: dict[str, float]) -> tuple[CyclePoint, CyclePoint]:
    """Step every step of `sim`'s experiment (one cycle) from the model's initial
    conditions with `user_inputs`; (first point of the first step, end of the last step).

    Raises
    ------
    LeanUnsupported
        When the cycle needs more than the ordinary path (see the module docstring).
    """
    _check_supported(sim)
    t_start = 0.0
    previous: CyclePoint | None = None
    first: CyclePoint | None = None
    for step in sim.experiment.steps:
        if step.start_time is not None or step.end_time is not None or step.next_start_time is not None:
            raise LeanUnsupported("timed experiment step")
        model = sim._get_built_experiment_model(step)
        solver = sim._get_built_experiment_solver(step)
        built = solver._model_set_up.get(model)
        if (built is None or built["initial conditions"] is not model.concatenated_initial_conditions
                or not isinstance(solver, pybamm.IDAKLUSolver) or solver.output_variables
                or getattr(model, "calculate_sensitivities", []) or not model.uses_stacked_inputs
                or not model.is_standard_form_dae):
            raise LeanUnsupported("step solver not set up for the lean path")
        inputs = dict(user_inputs)
        inputs[sim._START_TIME_INPUT] = t_start
        names = _input_names(model)
        if any(name not in inputs for name in names):
            raise LeanUnsupported("an input of the model has no value")
        model_inputs = {name: inputs[name] for name in names}
        p = np.array([float(model_inputs[name]) for name in names])
        # BaseSolver.step's time grid: shifted past the previous step's end
        t_eval, t_interp = step.setup_timestepping(solver, step.duration, None)
        t_interp = solver.process_t_interp(t_interp, t_eval=t_eval)
        t_eval = t_start + np.asarray(t_eval, dtype=float)
        t_interp = t_start + t_interp
        t0 = t_start if t_start == 0 else float(np.nextafter(t_start, np.inf))
        t_eval[0] = t0
        if t_interp.size > 0 and t_interp[0] == t_start:
            t_interp[0] = t0
        if previous is None:
            y0: Any = model.initial_conditions_eval(0.0, np.zeros((model.len_rhs_and_alg, 1)), casadi.DM(p))
        elif previous.model is model:
            y0 = previous.y
        else:
            mapper = sim._compiled_model_state_mappers.get((previous.model, model))
            previous_names = _input_names(previous.model)
            if mapper is None or any(name not in inputs for name in previous_names):
                raise LeanUnsupported("no compiled state mapper between the step models")
            y0 = mapper[0](t0, previous.y, casadi.DM([float(inputs[name]) for name in previous_names]))
        y0 = np.asarray(y0.full() if isinstance(y0, casadi.DM) else y0, dtype=float).ravel()
        ydot0 = np.zeros_like(y0)  # IDAKLU: ydot0 = rhs for the differential states, 0 else
        if model.len_rhs > 0:
            ydot0[:model.len_rhs] = np.asarray(model.rhs_eval(t0, y0, casadi.DM(p)).full()).ravel()
        try:
            solution = solver._setup["solver"].solve(t_eval, t_interp, y0[None, :], ydot0[None, :], p[None, :],
                                                     logger=None, pbar=np.empty((0, 0)))[0]
        except ValueError as err:
            raise LeanUnsupported(f"solver error: {err}") from err
        if solution.flag < 0:
            raise LeanUnsupported("solver failure")
        n_t = solution.t.size
        ys = np.asarray(solution.y).reshape((n_t, model.len_rhs_and_alg))
        if solution.flag == _IDA_ROOT_RETURN:
            if n_t == 1:  # PyBaMM skips or fails such a step
                raise LeanUnsupported("event at the step's initial conditions")
            values = np.asarray(solver._setup["rootfn_casadi"](float(solution.t[-1]), ys[-1], p)).ravel()
            events = [e for e in model.events if e.event_type == pybamm.EventType.TERMINATION]
            if "[experiment]" not in events[int(np.nanargmin(np.abs(values)))].name:
                raise LeanUnsupported("a model event ended the step (infeasible in PyBaMM)")
        elif step.uses_default_duration:
            raise LeanUnsupported("the step ran to its default duration (infeasible in PyBaMM)")
        if first is None:
            first = CyclePoint(float(solution.t[0]), ys[0], model, model_inputs)
        t_start = float(solution.t[-1])
        previous = CyclePoint(t_start, ys[-1], model, model_inputs)
    if first is None or previous is None:
        raise LeanUnsupported("an experiment without steps")
    return first, previous
