"""Cycling a cell with the full model: the PyBaMM experiment of a protocol and the
simulator that runs it cycle after cycle.

`CellSimulator` is the full run; `twin.fast.RepresentativeCycler` (a subclass) is the
cycle-skipping run. Both answer `run_life` with a `twin.end_of_life.LifeOutcome`, which
`twin.simulation.predict_cycle_life` judges the same way.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pybamm

from twin.cycle_rows import SUMMARY_COLUMNS, cycle_rows
from twin.design import CellDesign
from twin.end_of_life import LifeOutcome, first_cycle_below
from twin.errors import SimulationError, raise_if_interrupted
from twin.model import build_model
from twin.protocol import Protocol
from twin.scenario import Scenario

CHUNK_CYCLES = 25

def cycle_steps(protocol: Protocol, cathode: str, checkup: bool = False) -> tuple[str, ...]:
    """One cycle: CC-CV charge, rest, CC discharge, rest; a check-up cycle runs both
    CC steps at the protocol's slow check-up rate."""
    v_min, v_max = protocol.voltage_window(cathode)
    charge_C = protocol.checkup_rate_C if checkup else protocol.charge_rate_C
    discharge_C = protocol.checkup_rate_C if checkup else protocol.discharge_rate_C
    steps = [
        f"Charge at {charge_C} C until {v_max} V",
        f"Hold at {v_max} V until {protocol.cv_cutoff_C} C",
    ]
    if protocol.rest_after_charge_min > 0:
        steps.append(f"Rest for {protocol.rest_after_charge_min} minutes")
    steps.append(f"Discharge at {discharge_C} C until {v_min} V")
    if protocol.rest_after_discharge_min > 0:
        steps.append(f"Rest for {protocol.rest_after_discharge_min} minutes")
    return tuple(steps)


def make_experiment(protocol: Protocol, cathode: str, cycles: int, first_cycle: int = 1) -> pybamm.Experiment:
    """PyBaMM experiment: cycles `first_cycle` .. `first_cycle + cycles - 1` of the
    protocol, check-up cycles where `protocol.is_checkup` says so."""
    regular = cycle_steps(protocol, cathode)
    checkup = cycle_steps(protocol, cathode, checkup=True) if protocol.checkup_every else regular
    return pybamm.Experiment([
        checkup if protocol.is_checkup(k) else regular for k in range(first_cycle, first_cycle + cycles)
    ])


class _ReusingIDAKLUSolver(pybamm.IDAKLUSolver):
    """IDAKLU that, when a solve of an already set-up model starts afresh (a new
    `Simulation.solve` of the same experiment, as every fast-mode cycle is), evaluates the
    initial-condition function it built at set-up with the new inputs instead of
    re-converting the initial conditions to casadi (~3 ms a solve, a tenth of a
    fast-mode cycle). The initial conditions are the same expression (checked); only
    the inputs in them change."""

    def set_up(self, model: pybamm.BaseModel, inputs: dict | list[dict] | None = None, t_eval: Any = None,
               ics_only: bool = False) -> Any:
        built = self._model_set_up.get(model)
        if (ics_only and built is not None and getattr(model, "initial_conditions_eval", None) is not None
                and built["initial conditions"] is model.concatenated_initial_conditions):
            inputs_list = [inputs] if isinstance(inputs, dict) else list(inputs or [{}])
            self._set_initial_conditions(model, 0.0, inputs_list)
            return None
        if not self._options.get("compile"):
            return super().set_up(model, inputs, t_eval, ics_only)
        with _native_code_folder():
            return super().set_up(model, inputs, t_eval, ics_only)

    def _post_process_solution(self, sol: Any, model: pybamm.BaseModel, integration_time: float,
                               inputs_dict: Any, t_eval: Any) -> Any:
        solution = super()._post_process_solution(sol, model, integration_time, inputs_dict, t_eval)
        if self._options.get("compile"):
            # PyBaMM would compile every variable read from the solution (a compiler run
            # of ~0.3 s each, for a few evaluations): only the integration is compiled.
            for each in solution if isinstance(solution, list) else [solution]:
                each._user_options = {**each._user_options, "compile": False}
                each._options = {**each._options, "compile": False}
        return solution


_native_lock = threading.Lock()


@contextmanager
def _native_code_folder() -> Iterator[None]:
    """PyBaMM's compiled libraries go to the twin's cache (`twin.compiled.native_code_dir`,
    kept across processes and named in the artefacts) unless the user chose a folder
    ($PYBAMM_CASADI_AOT_CACHE): PyBaMM reads that variable when it compiles, so it is set
    for the set-up only (under a lock: threads of one process share the environment)."""
    from twin.compiled import PYBAMM_NATIVE_CACHE_ENV, native_code_dir

    if os.environ.get(PYBAMM_NATIVE_CACHE_ENV):
        yield
        return
    with _native_lock:
        folder = native_code_dir()
        folder.mkdir(parents=True, exist_ok=True)
        os.environ[PYBAMM_NATIVE_CACHE_ENV] = str(folder)
        try:
            yield
        finally:
            os.environ.pop(PYBAMM_NATIVE_CACHE_ENV, None)


def default_solver(compile_functions: bool = False) -> pybamm.BaseSolver:
    """The twin's IDAKLU solver; with `compile_functions` (a simulation solved many
    times) its casadi functions are compiled to native code where a C compiler is
    available (`twin.compiled.compiling_enabled`)."""
    from twin.compiled import compiling_enabled

    options = {"compile": True} if compile_functions and compiling_enabled() else None
    # Tight tolerances: Li conservation is checked to 1e-6 relative.
    return _ReusingIDAKLUSolver(rtol=1e-7, atol=1e-9, options=options)


@dataclass
class CycleRun:
    """What a run of cycles produced."""

    summary: pd.DataFrame
    time_series: pd.DataFrame | None
    stopped_early: bool
    message: str = ""


@lru_cache(maxsize=16)
def cached_model(cell_model: str, options: tuple[tuple[str, str], ...]) -> pybamm.BaseModel:
    """Built models are reused: building takes seconds, Simulation never mutates them."""
    return build_model(cell_model, dict(options))


# --- set-up shared between designs (sweep workers) -------------------------------------
#
# A PyBaMM simulation is discretised and its solver set up once per set of parameter
# *values*. Inside `shared_setup(names)`, the parameters named are handed to PyBaMM as
# "[input]" values instead, so every design, strategy and override that differs only in
# them is solved by one simulation, built once per process. Inputs are not free: PyBaMM
# no longer folds those constants, and each solver step passes them in, so a solve costs
# more (about 1-2 % per input, measured): sharing pays where set-up dominates (fast
# mode, many designs), which is why single predictions keep their own simulation.

# Parameters PyBaMM refuses as inputs of an experiment (it sets them per step); a
# design that changes them gets its own simulation.
EXPERIMENT_CONTROLLED = frozenset({
    "Current function [A]", "Voltage function [V]", "Power function [W]", "Resistance function [Ohm]",
    "Initial temperature [K]", "Ambient temperature [K]",
})
# Simulations kept per process (each holds a discretised model and a set-up solver).
SHARED_SIMULATIONS_KEPT = 16

_shared_inputs: ContextVar[frozenset[str]] = ContextVar("twin_shared_inputs", default=frozenset())
# One cache per thread: a simulation is never solved by two threads at once (a Dask
# worker with several threads runs several designs at a time).
_local = threading.local()


def _shared_simulations() -> OrderedDict[tuple, tuple[pybamm.Simulation, Any]]:
    if not hasattr(_local, "simulations"):
        _local.simulations = OrderedDict()
    return _local.simulations


@contextmanager
def shared_setup(input_parameters: Iterable[str]) -> Iterator[None]:
    """Within the block, simulators pass the parameters named as PyBaMM inputs and take
    their simulation from a per-process (per-thread) cache, so designs that differ only in those
    parameters share one discretisation and solver set-up.

    Parameters
    ----------
    input_parameters
        PyBaMM parameter names (e.g. `twin.scenario.shared_input_parameters`). Those PyBaMM cannot
        take as inputs in an experiment (`EXPERIMENT_CONTROLLED`) or that are not
        numbers stay fixed values, part of the cache key.
    """
    token = _shared_inputs.set(frozenset(input_parameters))
    try:
        yield
    finally:
        _shared_inputs.reset(token)


def shared_simulations_held() -> int:
    """How many shared simulations this thread holds (each built once)."""
    return len(_shared_simulations())


def clear_shared_simulations() -> None:
    """Forget every shared simulation of this thread (frees their memory)."""
    _shared_simulations().clear()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def split_inputs(values: pybamm.ParameterValues, names: Collection[str]
                 ) -> tuple[pybamm.ParameterValues, dict[str, float]]:
    """(template, inputs): `values` with each named numeric parameter replaced by
    "[input]", and those parameters' values."""
    inputs = {name: float(values[name]) for name in names
              if name in values.keys() and name not in EXPERIMENT_CONTROLLED and _is_number(values[name])}
    if not inputs:
        return values, {}
    template = values.copy()
    template.update(dict.fromkeys(inputs, "[input]"))
    return template, inputs


def _signature(values: pybamm.ParameterValues) -> tuple:
    """Hashable identity of parameter values: numbers and text by value, anything else
    (material laws, data) by object identity (the cache entry keeps the object alive)."""
    items = []
    for name, value in values.items():
        if _is_number(value) or isinstance(value, str):
            items.append((name, value))
        elif isinstance(value, pybamm.InputParameter):  # "[input]", stored as a symbol
            items.append((name, "[input]"))
        else:
            items.append((name, "id", id(value)))
    return tuple(sorted(items, key=lambda item: item[0]))


def _submesh_types(model: pybamm.BaseModel, template: pybamm.ParameterValues) -> dict[str, Any]:
    """The model's submeshes, symbolic (scaled at solve time) on each domain whose
    extent is an input (a thickness that follows the design)."""
    geometry = model.default_geometry
    template.process_geometry(geometry)
    types = dict(model.default_submesh_types)
    for domain, limits in geometry.items():
        symbols = [bound for spatial in limits.values() if isinstance(spatial, dict) for bound in spatial.values()]
        has_input = any(isinstance(bound, pybamm.Symbol) and bound.has_symbol_of_classes(pybamm.InputParameter)
                        for bound in symbols)
        if has_input and types.get(domain) is pybamm.Uniform1DSubMesh:
            types[domain] = pybamm.SymbolicUniform1DSubMesh
    return types


def shared_simulation(model_key: tuple, model: pybamm.BaseModel, template: pybamm.ParameterValues,
                      experiment_key: tuple, experiment: Callable[[], pybamm.Experiment]) -> pybamm.Simulation:
    """This thread's simulation of `model` with parameter values `template` and the
    experiment `experiment_key` stands for: built on first use, then reused."""
    from twin.compiled import compiling_enabled

    cache = _shared_simulations()
    key = (model_key, experiment_key, _signature(template), compiling_enabled())
    entry = cache.get(key)
    if entry is None:
        # solved for many designs: worth compiling to native code
        simulation = pybamm.Simulation(model, parameter_values=template, experiment=experiment(),
                                       solver=default_solver(compile_functions=True),
                                       submesh_types=_submesh_types(model, template))
        entry = (simulation, template)  # the template keeps the laws its key names by id alive
        cache[key] = entry
        while len(cache) > SHARED_SIMULATIONS_KEPT:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return entry[0]


class _WithInputs:
    """A shared simulation solved with this design's input values (added to those the
    caller passes, which win)."""

    def __init__(self, simulation: pybamm.Simulation, inputs: Mapping[str, float]) -> None:
        self.simulation, self.inputs = simulation, dict(inputs)

    def solve(self, *args: Any, inputs: Mapping[str, float] | Sequence[Mapping[str, float]] | None = None,
              **kwargs: Any) -> Any:
        if isinstance(inputs, Sequence):  # several input sets solved at once
            return self.simulation.solve(*args, inputs=[{**self.inputs, **each} for each in inputs], **kwargs)
        return self.simulation.solve(*args, inputs={**self.inputs, **(inputs or {})}, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.simulation, name)



class CellSimulator:
    """A design, protocol and model built once, then cycled in chunks on demand."""

    def __init__(
        self,
        design: CellDesign,
        protocol: Protocol,
        cell_model: str = "spm",
        options: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
        chunk_cycles: int = CHUNK_CYCLES,
        strategies: Sequence[Any] | None = None,
        compile_functions: bool = False,
    ) -> None:
        self.design, self.protocol, self.cell_model = design, protocol, cell_model
        self.options_key = tuple(sorted((options or {}).items()))
        self.model = cached_model(cell_model, self.options_key)
        # Protection strategies (names or twin.strategies.Strategy) become parameter
        # overrides; explicit `overrides` win over them (twin.scenario).
        strategy = None
        if strategies:
            from twin.strategies import prepare

            strategy = prepare(strategies)
        self.scenario = Scenario(design, protocol, strategy, dict(overrides or {}))
        self.strategy = strategy
        self.parameter_values = self.scenario.parameter_values()
        self.chunk_cycles = chunk_cycles
        # solved many times (a calibration's trials): compile to native code (default_solver)
        self.compile_functions = compile_functions
        self._sims: dict[tuple[int, int], Any] = {}
        # Inside `shared_setup`: the simulation is the process's shared one for these
        # values with the shared parameters as inputs (see `shared_simulation`).
        self.shared_inputs = _shared_inputs.get()

    def _simulation(self, cycles: int, first_cycle: int = 1) -> pybamm.Simulation:
        # With check-ups, chunks starting at a different phase of the check-up period
        # are different experiments.
        every = self.protocol.checkup_every
        key = (cycles, (first_cycle - 1) % every if every else 0)
        if key not in self._sims:
            def experiment() -> pybamm.Experiment:
                return make_experiment(self.protocol, self.design.cathode, cycles, first_cycle)

            if self.shared_inputs:
                template, inputs = split_inputs(self.parameter_values, self.shared_inputs)
                experiment_key = (
                    cycle_steps(self.protocol, self.design.cathode),
                    cycle_steps(self.protocol, self.design.cathode, checkup=True),
                    tuple(self.protocol.is_checkup(k) for k in range(first_cycle, first_cycle + cycles)),
                )
                simulation = shared_simulation((self.cell_model, self.options_key), self.model, template,
                                               experiment_key, experiment)
                self._sims[key] = _WithInputs(simulation, inputs)
            else:
                self._sims[key] = pybamm.Simulation(self.model, parameter_values=self.parameter_values,
                                                    experiment=experiment(),
                                                    solver=default_solver(self.compile_functions))
        return self._sims[key]

    def run(
        self,
        max_cycles: int,
        stop: Callable[[pd.DataFrame], bool] | None = None,
        keep_time_series: bool = False,
        progress: Callable[[int], None] | None = None,
        inputs: Mapping[str, float] | None = None,
    ) -> CycleRun:
        """Cycle until `max_cycles`, until `stop(summary)` is true after a chunk, or until
        the cell can no longer complete a cycle (then `stopped_early`)."""
        solution = None
        done = 0
        stopped_early = False
        message = ""
        while done < max_cycles:
            n = min(self.chunk_cycles, max_cycles - done)
            sim = self._simulation(n, done + 1)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    new = sim.solve(
                        starting_solution=solution,
                        save_at_cycles=None if keep_time_series else 10**9,
                        calc_esoh=False,
                        inputs=dict(inputs or {}),
                    )
            except pybamm.SolverError as err:
                raise_if_interrupted()  # Ctrl-C inside the solver is not a failed run
                if solution is None:
                    raise SimulationError(f"the solver failed in the first cycles: {err}") from err
                stopped_early, message = True, f"solver failed after cycle {done}: {err}"
                break
            raise_if_interrupted()  # PyBaMM ends an experiment quietly when its solver fails, Ctrl-C included
            cycles_now = len(new.summary_variables.cycles) if new.summary_variables.cycles else 0
            solution = new
            if progress is not None:
                progress(cycles_now - done)
            if cycles_now < done + n:
                stopped_early = True
                message = f"the cell could not complete cycle {cycles_now + 1}"
                done = cycles_now
                break
            done = cycles_now
            if stop is not None and stop(self._summary(solution)):
                break
        if solution is None:
            raise SimulationError("no cycle was simulated")
        summary = self._summary(solution)
        if stopped_early and len(summary):
            # the last, unfinished cycle is not a cycle
            last = summary.iloc[-1]
            if last["discharge_capacity_mAh_cm2"] <= 0:
                summary = summary.iloc[:-1]
        series = self._time_series(solution) if keep_time_series else None
        return CycleRun(summary, series, stopped_early, message)

    def _summary(self, solution: pybamm.Solution) -> pd.DataFrame:
        sv = solution.summary_variables

        def end(name: str) -> np.ndarray:
            return np.asarray(sv[name], dtype=float)

        def change(name: str) -> np.ndarray:
            return np.asarray(sv["Change in " + name[0].lower() + name[1:]], dtype=float)

        plated = change("Cumulative lithium plated [mol.m-2]")
        df = pd.DataFrame({"cycle": np.arange(1, len(plated) + 1), **cycle_rows(
            areal_capacity_mAh_cm2=self.design.areal_capacity_mAh_cm2,
            plated_mol_m2=plated,
            stripped_mol_m2=change("Cumulative lithium stripped [mol.m-2]"),
            lost_mol_m2=change("Dead lithium [mol.m-2]") + change("Li-metal SEI lithium [mol.m-2]"),
            active_li_mol_m2=end("Active lithium metal [mol.m-2]"),
            dead_li_mol_m2=end("Dead lithium [mol.m-2]"),
            sei_li_mol_m2=end("Li-metal SEI lithium [mol.m-2]"),
            cathode_li_mol_m2=end("Lithium in positive electrode [mol.m-2]"),
            total_li_mol_m2=end("Total lithium [mol.m-2]"),
            anode_thickness_m=end("Anode thickness [m]"),
            swelling_pct=end("Swelling [%]"),
            electrolyte_kg_m2=end("Electrolyte mass [kg.m-2]"),
            wetting_fraction=end("Electrolyte wetting fraction"),
            surface_area_factor=end("Li-metal surface area factor"),
        ), "simulated": True})
        df["checkup"] = [self.protocol.is_checkup(int(k)) for k in df["cycle"]]
        return df[SUMMARY_COLUMNS]

    def run_life(self, eol_fraction: float, max_cycles: int, *, progress: Callable[[int], None] | None = None,
                 inputs: Mapping[str, float] | None = None, keep_time_series: bool = False) -> LifeOutcome:
        """The full run: every cycle simulated, until the first below `eol_fraction` x the
        first capacity, a cycle the cell cannot complete, or `max_cycles`."""
        run = self.run(max_cycles, stop=lambda s: first_cycle_below(s, eol_fraction) is not None,
                       keep_time_series=keep_time_series, progress=progress, inputs=inputs)
        summary = run.summary
        if summary.empty:
            raise SimulationError("the cell did not complete a single cycle: " + run.message)
        # A run that stopped early could not finish the next cycle (it delivered ~0).
        failed = int(summary["cycle"].iloc[-1]) + 1 if run.stopped_early else None
        return LifeOutcome(cycles=summary, below_cycle=first_cycle_below(summary, eol_fraction),
                           failed_cycle=failed, notes=[run.message] if run.message else [],
                           time_series=run.time_series)

    def _time_series(self, solution: pybamm.Solution) -> pd.DataFrame:
        frames = []
        for k, cycle in enumerate(solution.cycles, start=1):
            if cycle is None:
                continue
            frames.append(pd.DataFrame({
                "cycle": k,
                "time_s": cycle["Time [s]"].entries,
                "voltage_V": cycle["Voltage [V]"].entries,
                "current_A": cycle["Current [A]"].entries,
                "active_li_mol_m2": cycle["Active lithium metal [mol.m-2]"].entries,
                "anode_thickness_um": cycle["Anode thickness [m]"].entries * 1e6,
            }))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

