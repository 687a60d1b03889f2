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
import platform
import shutil
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
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
ARTEFACT_FORMAT = 2
ARTEFACT_FOLDER = "compiled"
# PyBaMM's input name for the start time of an experiment step (Simulation._START_TIME_INPUT).
START_TIME_INPUT = "start time"


# Native code. PyBaMM's IDAKLU solver can compile the casadi functions it integrates
# (right-hand side, Jacobian, events) to C through the system compiler and load them as a
# shared library (its "compile" option, `pybamm.codegen.compilation`): a fast-mode run
# then solves several times faster than in casadi's virtual machine (`make bench`,
# benchmarks/results.md "Native code vs casadi's virtual machine"), for the compiler's
# time, paid once per machine (the libraries are cached on disk). The twin compiles only the
# simulations it solves many times (`twin.cycling.shared_simulation`: sweeps and the
# design-input model of fast mode, recorded in the artefacts below).
COMPILE_ENV = "TWIN_COMPILE"  # "0": never compile (casadi's virtual machine only)
C_COMPILER = "gcc"  # what pybamm.codegen.compilation calls
NATIVE_FOLDER = "native"
# PyBaMM's variable naming the folder of its compiled libraries.
PYBAMM_NATIVE_CACHE_ENV = "PYBAMM_CASADI_AOT_CACHE"


def compiling_enabled() -> bool:
    """Whether simulations solved many times are compiled to native code: a C
    compiler is on the PATH and $TWIN_COMPILE is not "0"."""
    return os.environ.get(COMPILE_ENV, "1").strip() != "0" and shutil.which(C_COMPILER) is not None


@lru_cache(maxsize=1)
def machine_tag() -> str:
    """A short hash of the CPU's kind: PyBaMM compiles for the machine it runs on
    (-march=native), so a library built on one CPU may not load or run on another
    sharing the cache (a cluster's shared home folder). Read once per process (the
    CPU does not change; /proc/cpuinfo is long on a many-core machine)."""
    parts = [platform.system(), platform.machine()]
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            wanted = ("model name", "flags", "cpu family", "model\t")
            parts += sorted({line.strip() for line in info if line.startswith(wanted)})
    except OSError:
        parts.append(platform.processor())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def native_code_dir() -> Path:
    """Where the compiled libraries live: the twin's cache directory, folder
    `native/<machine_tag>` (an artefact names its libraries by their path there)."""
    from twin.anchoring import cache_dir

    return cache_dir() / NATIVE_FOLDER / machine_tag()


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
    (t, y, p); terminate_events: the model's termination events, casadi functions of
    (t, y, p); experiment_events: per termination event, whether it is the experiment's;
    mappers: (source model, compiled state mapper into this step's model, the source
    model's input names) for every model a previous step may have ended in.
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
    terminate_events: list[Any]
    experiment_events: list[bool]
    mappers: list[tuple[Any, Any, list[str]]]


def _check_skipped_at_start(plan: StepPlan, t0: float, y: np.ndarray, p: np.ndarray) -> None:
    """Check that PyBaMM skips a step whose solve stopped at an event at its start: its
    IDAKLU solver then evaluates every termination event at the initialised state and
    fails the step if one is <= 0; the experiment skips the step (an empty solution)
    when one of those is the experiment's. The cycle goes on from the state before it
    (or, for the cycle's first step, from the next step model's own initial conditions,
    at time 0: what PyBaMM's step does after an empty solution).

    Raises
    ------
    LeanUnsupported
        Every other case (no event <= 0, only model events): PyBaMM's handling is not
        repeated here.
    """
    values = np.array([np.asarray(event(t0, y, p)).item() for event in plan.terminate_events])
    if values.size == 0 or values.min() > 0:
        raise LeanUnsupported("event at the step's initial conditions")
    if not any(plan.experiment_events[i] for i in np.where(values <= 0)[0]):
        raise LeanUnsupported("event at the step's initial conditions")


def step_cycle(plans: Sequence[StepPlan], user_inputs: Mapping[str, float],
               skip_infeasible_steps: bool = False) -> tuple[CyclePoint, CyclePoint]:
    """Step every step of one cycle from the first model's initial conditions with
    `user_inputs`: what `Simulation.solve` and `BaseSolver.step` do for each step (the
    same time shift, state mappers, consistent ydot0 and native IDAKLU call), so the
    same numbers; (first point of the first step, end of the last step).

    With `skip_infeasible_steps`, a step whose experiment event is crossed at its start
    is skipped as PyBaMM skips it (`_check_skipped_at_start`; a compiled run, which would
    otherwise import PyBaMM for it); without, it raises LeanUnsupported (the PyBaMM
    cycler solves such a cycle through `Simulation.solve`).

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
            found = [(mapper, names) for source, mapper, names in plan.mappers if source is previous.model]
            if not found or any(name not in inputs for name in found[0][1]):
                raise LeanUnsupported("no compiled state mapper between the step models")
            mapper, names = found[0]
            y0 = mapper(t0, previous.y, casadi.DM([float(inputs[name]) for name in names]))
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
            if n_t == 1:  # an event at the step's start (after IDAKLU's initialisation)
                if not skip_infeasible_steps:
                    raise LeanUnsupported("event at the step's initial conditions")
                _check_skipped_at_start(plan, float(t_eval[0]), ys[-1], p)
                continue  # as PyBaMM: the state and time carry over to the next step
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


# --- artefacts -----------------------------------------------------------------------


@dataclass
class CompiledModel:
    """A step model rebuilt from an artefact: its inputs (sorted) and end-of-cycle readers."""

    input_names: list[str]
    readers: dict[str, casadi.Function]

    def values(self, label: str, names: Sequence[str], point: CyclePoint) -> dict[str, float]:
        """The last entry of each variable `names` (reader `label`) at `point`."""
        p = np.array([float(point.inputs[name]) for name in self.input_names])
        return dict(zip(names, np.asarray(self.readers[label](point.t_s, point.y, p)).ravel().tolist()))


def _generate(value: Any, idaklu: Any) -> Any:
    if isinstance(value, list):
        return [_generate(item, idaklu) for item in value]
    if isinstance(value, dict) and set(value) == {"casadi"}:
        return idaklu.generate_function(value["casadi"])
    return value


def rebuild_plans(cycle: Mapping[str, Any]) -> list[StepPlan]:
    """The step plans of a compiled cycle (`twin.stepper.compile_cycle`): casadi
    functions deserialised, solver groups made again by `pybammsolvers.idaklu`."""
    from pybammsolvers import idaklu

    models = []
    for data in cycle["models"]:
        readers = {label: casadi.Function.deserialize(text) for label, text in data["readers"].items()}
        models.append((CompiledModel(list(data["input_names"]), readers), data,
                       casadi.Function.deserialize(data["initial_conditions"]),
                       casadi.Function.deserialize(data["rhs"]), casadi.Function.deserialize(data["rootfn"]),
                       [casadi.Function.deserialize(text) for text in data["terminate_events"]]))
    solvers = [idaklu.create_casadi_solver_group(**{name: _generate(value, idaklu) for name, value in kwargs.items()})
               for kwargs in cycle["solvers"]]
    plans = []
    for step in cycle["steps"]:
        model, data, initial, rhs, rootfn, terminate = models[step["model"]]
        plans.append(StepPlan(
            model=model, input_names=model.input_names, t_eval=np.asarray(step["t_eval"], dtype=float),
            t_interp=np.asarray(step["t_interp"]), uses_default_duration=bool(step["uses_default_duration"]),
            n_states=int(data["n_states"]), len_rhs=int(data["len_rhs"]), initial_conditions=initial, rhs=rhs,
            solver=solvers[step["solver"]], rootfn=rootfn, terminate_events=terminate,
            experiment_events=list(data["experiment_events"]),
            mappers=[(models[source][0], casadi.Function.deserialize(text), list(names))
                     for source, text, names in step["mappers"]],
        ))
    return plans


def _jsonable(value: Any) -> Any:
    """`value` for the key's JSON, or TypeError when it cannot be told apart by value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda item: str(item[0]))}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    raise TypeError(f"not a plain value: {type(value).__name__}")


def artefact_key(scenario: Any, cell_model: str, options: Mapping[str, str] | None) -> str | None:
    """Hash of everything the compiled cycle bakes in: the source fingerprint of the
    physics code and PyBaMM's version (`twin.anchoring._source_fingerprint`, so a code
    change misses), the solver packages' versions, the model and its options, the
    design fields the model does not take as inputs (`twin.design_values.INPUT_DESIGN_FIELDS`:
    one artefact serves every areal capacity, N:P and electrolyte amount), protocol,
    combined strategy (with its anchored loss factors). None when the scenario has
    explicit overrides or inputs (a calibration's fitted parameters, which vary from run
    to run: each would be an artefact of its own): those runs keep PyBaMM's way."""
    from importlib import metadata

    from twin.anchoring import _source_fingerprint
    from twin.design_values import INPUT_DESIGN_FIELDS

    if scenario.inputs or scenario.overrides:
        return None
    baked_design = {name: value for name, value in scenario.design.to_dict().items()
                    if name not in INPUT_DESIGN_FIELDS}

    versions = {}
    for package in ("casadi", "pybammsolvers", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    native = machine_tag() if compiling_enabled() else None  # its libraries are this CPU's
    try:
        material = _jsonable({
            "format": ARTEFACT_FORMAT, "sources": _source_fingerprint(), "versions": versions, "native": native,
            "cell_model": cell_model, "options": dict(options or {}),
            "design": baked_design, "protocol": scenario.protocol.to_dict(),
            "strategy": None if scenario.strategy is None else scenario.strategy.to_dict(),
            "overrides": dict(scenario.overrides),
        })
    except TypeError:
        return None
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def artefact_path(key: str) -> Path:
    """Where the artefact of `key` lives: the twin's cache directory
    (`twin.anchoring.cache_dir`, $TWIN_CACHE_DIR), folder `compiled`."""
    from twin.anchoring import cache_dir

    return cache_dir() / ARTEFACT_FOLDER / f"{key}.pkl"


def save_artefact(key: str, artefact: Mapping[str, Any]) -> bool:
    """Write the artefact atomically (temporary file + rename: concurrent writers of
    the same key leave one whole file); False when the cache is not writable."""
    path = artefact_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, pickle.dumps({**artefact, "key": key, "format": ARTEFACT_FORMAT},
                                        protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        return False
    return True


def load_artefact(key: str) -> dict[str, Any] | None:
    """The artefact of `key`, or None: missing, unreadable, corrupt or another key's."""
    path = artefact_path(key)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        artefact = pickle.loads(data)  # our own cache file, written by save_artefact
    except Exception:  # a torn or foreign file is a miss, never a crash
        return None
    if not isinstance(artefact, dict) or artefact.get("key") != key or artefact.get("format") != ARTEFACT_FORMAT:
        return None
    return artefact


# --- the cycler ----------------------------------------------------------------------


class CompiledCycler(SlowStateCycleMap):
    """Fast mode's cycle map stepped from a compiled artefact, without PyBaMM, for any
    design the artefact serves (its areal capacity, N:P and electrolyte amount become
    the model's inputs and the slow states' initial values here, in plain Python).

    A cycle the lean path does not support, and a check-up cycle that was not compiled,
    is solved by a `twin.fast.RepresentativeCycler` made (PyBaMM imported) on first need
    by `fallback()`.
    """

    def __init__(self, design: Any, protocol: Any, artefact: Mapping[str, Any], numbers: Mapping[str, float],
                 fallback: Callable[[], Any]) -> None:
        self.design, self.protocol = design, protocol
        self.user_inputs = {}
        self.shared_inputs = {name: float(numbers[name]) for name in artefact["design_inputs"]}
        scalars = artefact["scalars"]
        function = casadi.Function.deserialize(scalars["function"])
        values = np.asarray(function(np.array([float(numbers[name]) for name in scalars["inputs"]]))).ravel()
        by_name = dict(zip(scalars["outputs"], values.tolist()))
        self._set_scalars(lambda name: by_name[name])
        self.initial_anode_thickness_m = None
        self.initial_stack_thickness_m = None
        self.cathode_thickness_m: float | None = None
        self.plans = {name: rebuild_plans(cycle) for name, cycle in artefact["cycles"].items()}
        self._fallback_factory = fallback
        self._fallback: Any = None
        self.fallback_cycles = 0  # cycles PyBaMM solved

    def fallback(self) -> Any:
        """The PyBaMM cycler of the same scenario (made on first need)."""
        if self._fallback is None:
            self._fallback = self._fallback_factory()
        return self._fallback

    def cycle(self, state: np.ndarray, checkup: bool = False) -> CycleResult | None:
        """Simulate one cycle (a check-up cycle if `checkup`) from `state`; None when the
        cell cannot complete it."""
        plans = self.plans.get("checkup" if checkup else "regular")
        if plans is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    first, last = step_cycle(plans, {**self.shared_inputs, **self.state_inputs(state)},
                                             skip_infeasible_steps=True)
            except LeanUnsupported:
                raise_if_interrupted()
            else:
                raise_if_interrupted()
                if self._needs_initial_thickness(state):
                    self._note_initial_thickness(first.model.values("thickness", THICKNESS_NAMES, first))
                end = last.model.values("end", END_OF_CYCLE_VARIABLES, last)
                return self._result(state, end, checkup, last.t_s - first.t_s)
        # PyBaMM's way: the same cycle map, the thickness reference handed over
        cycler = self.fallback()
        cycler.initial_anode_thickness_m = self.initial_anode_thickness_m
        cycler.initial_stack_thickness_m = self.initial_stack_thickness_m
        self.fallback_cycles += 1
        result = cycler.cycle(state, checkup)
        if self.initial_anode_thickness_m is None and cycler.initial_anode_thickness_m is not None:
            self.initial_anode_thickness_m = cycler.initial_anode_thickness_m
            self.initial_stack_thickness_m = cycler.initial_stack_thickness_m
        return result


class NotServed(Exception):
    """The artefact cannot serve this scenario (run it PyBaMM's way)."""


def scenario_numbers(scenario: Any, artefact: Mapping[str, Any]) -> dict[str, float]:
    """The numeric parameter values of the scenario: the artefact's cathode set, the
    design's values (`twin.design_values.design_values`), then the strategies' and the
    explicit overrides, as `twin.cell_parameters.parameter_values` sets them.

    Raises
    ------
    DesignError, StrategyError
        As `parameter_values` and the strategies raise them for this design.
    """
    from twin.design_values import CathodeConstants, design_values, validate_override

    numbers = {**artefact["base_numbers"],
               **design_values(scenario.design, scenario.protocol, CathodeConstants(**artefact["constants"]))}
    overrides: dict[str, float] = {}
    if scenario.strategy is not None:
        overrides.update(scenario.strategy.parameter_values(numbers))
    overrides.update(scenario.overrides)
    for name, value in overrides.items():
        if name not in numbers:
            raise NotServed(f"override of {name!r}, not a number of the artefact's parameter set")
        validate_override(name, value)
    numbers.update(overrides)
    return numbers


@dataclass
class CompiledRun:
    """What a fast-mode prediction needs, from an artefact: the cycler, the dendrite
    risk (None: not assessed), the dead Li that shorts [mAh/cm2] and the cathode
    thickness [m]."""

    cycler: CompiledCycler
    dendrite_risk: Any
    short_dead_li_mAh_cm2: float | None
    cathode_thickness_m: float


def compiled_run(scenario: Any, artefact: Mapping[str, Any], fallback: Callable[[], Any]) -> CompiledRun:
    """The compiled run of `scenario` from its artefact.

    Raises
    ------
    NotServed
        When the artefact's stored electrolyte transport does not apply (another salt
        concentration or temperature).
    """
    from twin.dendrite import design_dendrite_risk, short_dead_li_from
    from twin.design_values import CathodeConstants, rated_cathode_thickness_m
    from twin.parameters.li_metal import LithiumMetalParameters as P

    design, protocol = scenario.design, scenario.protocol
    numbers = scenario_numbers(scenario, artefact)
    cycler = CompiledCycler(design, protocol, artefact, numbers, fallback)
    cycler.cathode_thickness_m = rated_cathode_thickness_m(design, CathodeConstants(**artefact["constants"]))
    electrolyte = artefact["electrolyte"]
    risk = short = None
    if electrolyte is not None:
        c0 = float(numbers["Initial concentration in electrolyte [mol.m-3]"])
        if (c0, design.temperature_degC + 273.15) != (electrolyte["c0"], electrolyte["T_K"]):
            raise NotServed("the electrolyte's transport was compiled at another concentration or temperature")
        risk = design_dendrite_risk(design, protocol, c0, electrolyte["diffusivity"], electrolyte["t_plus"],
                                    float(numbers["Separator thickness [m]"]))
        risk = risk.with_threshold_factor(scenario.dendrite_threshold_factor)
        short = short_dead_li_from(design, risk, float(numbers[P.dead_li_layer_porosity]),
                                   float(numbers[P.li_partial_molar_volume]))
    return CompiledRun(cycler, risk, short, cycler.cathode_thickness_m)
