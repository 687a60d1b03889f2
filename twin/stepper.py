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

from typing import Any

import numpy as np
import pybamm

from twin.compiled import CyclePoint, LeanUnsupported, StepPlan, step_cycle

__all__ = ["CyclePoint", "LeanUnsupported", "lean_cycle", "step_plans"]


def _input_names(model: pybamm.BaseModel) -> list[str]:
    return sorted(ip.name for ip in model.input_parameters)


def _check_supported(sim: pybamm.Simulation) -> None:
    if not sim.steps_to_built_models:
        raise LeanUnsupported("simulation not built yet (its first solve goes through PyBaMM)")
    if sim._experiment_uses_unified_model or sim.experiment is None or sim.experiment.termination:
        raise LeanUnsupported("only legacy experiment models without termination conditions")


def step_plans(sim: pybamm.Simulation) -> list[StepPlan]:
    """The steps of `sim`'s experiment (one cycle) as the lean stepper drives them: the
    built step models and set-up solvers PyBaMM made at its first solve.

    Raises
    ------
    LeanUnsupported
        When the simulation needs more than the ordinary path (see the module docstring).
    """
    _check_supported(sim)
    plans: list[StepPlan] = []
    previous_model: Any = None
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
        # BaseSolver.step's time grid, from the step's start
        t_eval, t_interp = step.setup_timestepping(solver, step.duration, None)
        t_interp = solver.process_t_interp(t_interp, t_eval=t_eval)
        mapper = None
        if previous_model is not None and previous_model is not model:
            mapper = sim._compiled_model_state_mappers.get((previous_model, model))
            mapper = None if mapper is None else mapper[0]
        events = [e for e in model.events if e.event_type == pybamm.EventType.TERMINATION]
        plans.append(StepPlan(
            model=model, input_names=_input_names(model), t_eval=np.asarray(t_eval, dtype=float),
            t_interp=np.asarray(t_interp), uses_default_duration=bool(step.uses_default_duration),
            n_states=model.len_rhs_and_alg, len_rhs=model.len_rhs, initial_conditions=model.initial_conditions_eval,
            rhs=model.rhs_eval, solver=solver._setup["solver"], rootfn=solver._setup["rootfn_casadi"],
            experiment_events=["[experiment]" in e.name for e in events], mapper=mapper,
            previous_input_names=[] if previous_model is None else _input_names(previous_model),
        ))
        previous_model = model
    return plans


def lean_cycle(sim: pybamm.Simulation, user_inputs: dict[str, float]) -> tuple[CyclePoint, CyclePoint]:
    """Step every step of `sim`'s experiment (one cycle) from the model's initial
    conditions with `user_inputs`; (first point of the first step, end of the last step).

    Raises
    ------
    LeanUnsupported
        When the cycle needs more than the ordinary path (see the module docstring).
    """
    if sim._START_TIME_INPUT != "start time":  # twin.compiled.START_TIME_INPUT
        raise LeanUnsupported("PyBaMM names the step start time input otherwise")
    return step_cycle(step_plans(sim), user_inputs)
