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

`step_plans` reads the steps from the built simulation; the loop itself
(`twin.compiled.step_cycle`) needs no PyBaMM. `compile_cycle` turns the plans, with the
IDAKLU solver groups recorded while PyBaMM set them up (`recording_solver_groups`),
into plain data a process without PyBaMM steps the same cycle from (`twin.compiled`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import casadi
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
        mappers = [(source, mapper[0], _input_names(source))
                   for (source, target), mapper in sim._compiled_model_state_mappers.items() if target is model]
        events = [e for e in model.events if e.event_type == pybamm.EventType.TERMINATION]
        plans.append(StepPlan(
            model=model, input_names=_input_names(model), t_eval=np.asarray(t_eval, dtype=float),
            t_interp=np.asarray(t_interp), uses_default_duration=bool(step.uses_default_duration),
            n_states=model.len_rhs_and_alg, len_rhs=model.len_rhs, initial_conditions=model.initial_conditions_eval,
            rhs=model.rhs_eval, solver=solver._setup["solver"], rootfn=solver._setup["rootfn_casadi"],
            terminate_events=list(model.terminate_events_eval),
            experiment_events=["[experiment]" in e.name for e in events], mappers=mappers,
        ))
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


# --- compiling the lean cycle into a PyBaMM-free artefact (twin.compiled) ---------------


class SolverGroupRecord:
    """The IDAKLU solver groups set up in one thread while recording: per group (by id)
    the group and the arguments it was made from, its casadi functions serialised."""

    def __init__(self) -> None:
        self.texts: dict[int, tuple[Any, str]] = {}
        self.groups: dict[int, tuple[Any, dict[str, Any]]] = {}

    def portable(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.portable(item) for item in value]
        known = self.texts.get(id(value))
        if known is not None and known[0] is value:
            return {"casadi": known[1]}
        return value


class _RecordingIdaklu:
    """`pybammsolvers.idaklu` as PyBaMM's IDAKLU solver calls it; in a thread that is
    recording (`recording_solver_groups`), it notes the serialised casadi functions and
    the arguments each solver group is made from (PyBaMM keeps neither once the group
    exists). Other threads pass straight through."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def generate_function(self, text: str) -> Any:
        function = self._module.generate_function(text)
        record = getattr(_recording, "record", None)
        if record is not None:
            record.texts[id(function)] = (function, text)
        return function

    def create_casadi_solver_group(self, **kwargs: Any) -> Any:
        group = self._module.create_casadi_solver_group(**kwargs)
        record = getattr(_recording, "record", None)
        if record is not None:
            record.groups[id(group)] = (group, {name: record.portable(value) for name, value in kwargs.items()})
        return group


_recording = threading.local()
_install_lock = threading.Lock()


class recording_solver_groups:
    """Within the block, the IDAKLU solver groups PyBaMM sets up in this thread are
    recorded (`compile_cycle` of a simulation built inside it can save them). The
    recording proxy is installed in PyBaMM's IDAKLU module once per process; other
    threads and other times pass straight through it."""

    def __enter__(self) -> SolverGroupRecord:
        from pybamm.solvers import idaklu_solver

        with _install_lock:
            if not isinstance(idaklu_solver.idaklu, _RecordingIdaklu):
                idaklu_solver.idaklu = _RecordingIdaklu(idaklu_solver.idaklu)
        self._previous = getattr(_recording, "record", None)
        _recording.record = SolverGroupRecord()
        return _recording.record

    def __exit__(self, *exc: Any) -> None:
        _recording.record = self._previous


def compile_cycle(sim: pybamm.Simulation, recorder: SolverGroupRecord,
                  end_function: Any) -> dict[str, Any]:
    """The lean cycle of `sim` (set up while `recorder` recorded) as plain data for
    `twin.compiled`: per step model its input names, sizes, serialised casadi functions
    (initial conditions, right-hand side, solver events, end-of-cycle readers made by
    `end_function(model, names, inputs, n_states)`), per solver group the arguments it
    was made from, per step its time grid and state mapper.

    Raises
    ------
    LeanUnsupported
        When the cycle is not one the lean stepper drives, or a solver was set up
        outside the recording.
    """
    from twin.cycle_map import END_OF_CYCLE_VARIABLES, THICKNESS_NAMES

    plans = step_plans(sim)
    models: list[Any] = []
    solvers: list[Any] = []
    model_data: list[dict[str, Any]] = []
    solver_data: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    for plan in plans:
        if not any(plan.model is m for m in models):
            inputs = dict.fromkeys(plan.input_names, 0.0)
            readers = {}
            for label, names in (("end", END_OF_CYCLE_VARIABLES), ("thickness", THICKNESS_NAMES)):
                reader = end_function(plan.model, names, inputs, plan.n_states)
                if reader is None:
                    raise LeanUnsupported(f"an end-of-cycle variable is not a plain expression ({label})")
                readers[label] = reader.serialize()
            models.append(plan.model)
            model_data.append({
                "input_names": list(plan.input_names), "n_states": int(plan.n_states), "len_rhs": int(plan.len_rhs),
                "initial_conditions": plan.initial_conditions.serialize(), "rhs": plan.rhs.serialize(),
                "rootfn": plan.rootfn.serialize(), "experiment_events": list(plan.experiment_events),
                "terminate_events": [event.serialize() for event in plan.terminate_events],
                "readers": readers,
            })
        if not any(plan.solver is s for s in solvers):
            recorded = recorder.groups.get(id(plan.solver))
            if recorded is None or recorded[0] is not plan.solver:
                raise LeanUnsupported("a step solver was set up outside the recording")
            solvers.append(plan.solver)
            solver_data.append(recorded[1])
    for plan in plans:
        steps.append({
            "model": next(i for i, m in enumerate(models) if m is plan.model),
            "solver": next(i for i, s in enumerate(solvers) if s is plan.solver),
            "t_eval": np.array(plan.t_eval), "t_interp": np.array(plan.t_interp),
            "uses_default_duration": plan.uses_default_duration,
            "mappers": [(next(i for i, m in enumerate(models) if m is source), mapper.serialize(), list(names))
                        for source, mapper, names in plan.mappers if any(source is m for m in models)],
        })
    return {"models": model_data, "solvers": solver_data, "steps": steps}


def compile_parameters(values: pybamm.ParameterValues, input_names: Sequence[str],
                       names: Sequence[str]) -> dict[str, Any]:
    """The parameters `names` of `values` (those it has) as one serialised casadi
    function of the parameters `input_names` (made "[input]"): {"function", "inputs",
    "outputs"} for `twin.compiled.CompiledCycler` (an expression such as the initial
    salt, mass times concentration over density, evaluated without PyBaMM)."""
    template = values.copy()
    template.update(dict.fromkeys(input_names, "[input]"))
    p = casadi.MX.sym("p", len(input_names))
    inputs = {name: p[i] for i, name in enumerate(input_names)}
    outputs, found = [], []
    for name in names:
        if name not in template.keys():
            continue
        outputs.append(template.process_symbol(pybamm.Parameter(name)).to_casadi(inputs=inputs))
        found.append(name)
    function = casadi.Function("parameters", [p], [casadi.vertcat(*outputs)])
    return {"function": function.serialize(), "inputs": list(input_names), "outputs": found}
