"""Predict the cycle life of a Li-metal cell design: the entry point of the twin.

`predict_cycle_life` walks one path for every request:

1. `twin.scenario.Scenario.build`: design, protocol, strategies and overrides become
   parameter values and a dendrite-risk assessment (the strategies' threshold applied);
2. a run: `twin.cycling.CellSimulator` (mode "full", every cycle simulated) or
   `twin.fast.RepresentativeCycler` (mode "fast", cycle skipping) -- two implementations
   of `run_life`, both returning a `twin.end_of_life.LifeOutcome` whose rows come from
   `twin.cycle_rows`;
3. `twin.end_of_life.judge_end_of_life`: cycle life and its reason, the same rule for both;
4. a typed `Prediction`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.cycle_rows import SUMMARY_COLUMNS  # noqa: F401 - importable from here as before
from twin.cycle_table import CycleTable, column_of, records_of
from twin.dendrite import DendriteRisk, short_dead_li_limit_mAh_cm2
from twin.design import CellDesign
from twin.end_of_life import (  # noqa: F401 - importable from here as before
    DRY_OUT_WETTING, END_OF_LIFE_REASONS, LI_DEPLETED_FRACTION, SEVERE_DRY_OUT_WETTING, end_of_life_reason,
    first_cycle_below, judge_end_of_life,
)
from twin.errors import OptionError, SimulationError
from twin.invariants import check_cycles
from twin.protocol import Protocol
from twin.scenario import Scenario
from twin.units import MAH_CM2_PER_MOL_M2  # noqa: F401 - importable from here as before

# PyBaMM is imported when a cycle is solved through it: a fast-mode prediction whose
# cycle was compiled before (twin.compiled) runs without it. These names stay
# importable from here as before, loaded on first use.
_FROM_PYBAMM_MODULES = {
    **dict.fromkeys(("CHUNK_CYCLES", "CellSimulator", "CycleRun", "cached_model", "cycle_steps", "default_solver",
                     "make_experiment"), "twin.cycling"),
    "RepresentativeCycler": "twin.fast",
}


def __getattr__(name: str) -> Any:
    module = _FROM_PYBAMM_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:
    import pandas as pd

    from twin.cycling import CellSimulator
    from twin.strategies import CombinedStrategy

# "full": every cycle simulated; "fast": representative cycles, slow states advanced
# across the cycles in between (twin.fast).
PREDICTION_MODES = ("full", "fast")


@dataclass
class Prediction:
    """Cycle-life forecast of one design.

    ``cycles`` is given as a DataFrame or a `twin.cycle_table.CycleTable` (a fast run
    from a compiled artefact, which never imports pandas) and always read as a pandas
    DataFrame (converted on first access); `to_dict`, `initial_capacity_mAh_cm2` and
    `cell_summary` read the table while no DataFrame was asked for.
    """

    design: CellDesign
    protocol: Protocol
    cell_model: str
    eol_fraction: float
    max_cycles: int
    cycles: pd.DataFrame
    cycle_life: int | None
    end_of_life_reason: str
    elapsed_s: float
    mode: str = "full"
    time_series: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    # Chazalviel assessment of the CC charge (the strategies' threshold applied); None
    # when an electrolyte parameter was an "[input]" without a value.
    dendrite_risk: DendriteRisk | None = None
    # Full-model cycle solves of a fast run (rejected steps included); None in full mode.
    simulated_cycles: int | None = None
    # The protection strategies, combined and anchored; None: none.
    strategy: CombinedStrategy | None = None
    # The cathode's thickness [m] when known without PyBaMM (a compiled run); None:
    # computed from the design (twin.cell_parameters.cathode_thickness_m) when asked.
    cathode_thickness_m: float | None = None

    @property
    def extra(self) -> dict[str, Any]:
        """The result's JSON fields beyond the cycles, as `to_dict` writes them:
        dendrite_risk, simulated_cycles (fast mode), strategies (when given)."""
        extra: dict[str, Any] = {"dendrite_risk": None if self.dendrite_risk is None else self.dendrite_risk.to_dict()}
        if self.simulated_cycles is not None:
            extra["simulated_cycles"] = self.simulated_cycles
        if self.strategy is not None:
            extra["strategies"] = self.strategy.to_dict()
        return extra

    def _rows(self) -> pd.DataFrame | CycleTable:
        """The cycles as they are held: the DataFrame once there is one, else the table."""
        frame = self.__dict__.get("_cycles_frame")
        return frame if frame is not None else self.__dict__["_cycles_table"]

    def _column(self, name: str) -> np.ndarray:
        """Column `name` of the cycles as numpy, without making a DataFrame."""
        return column_of(self._rows(), name)

    def _records(self) -> list[dict[str, Any]]:
        """Every cycle as column -> value, without making a DataFrame."""
        return records_of(self._rows())

    @property
    def initial_capacity_mAh_cm2(self) -> float:
        return float(self._column("discharge_capacity_mAh_cm2")[0])

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `twin predict --format json`."""
        def clean(value: Any) -> Any:
            if isinstance(value, (np.floating, float)):
                return None if math.isnan(value) else float(value)
            if isinstance(value, (np.integer,)):
                return int(value)
            if isinstance(value, np.bool_):
                return bool(value)
            return value

        cycles = [{k: clean(v) for k, v in row.items()} for row in self._records()]
        result = {
            "cycle_life": self.cycle_life,
            "end_of_life_reason": self.end_of_life_reason,
            "initial_capacity_mAh_cm2": self.initial_capacity_mAh_cm2,
            "mode": self.mode,
            "elapsed_s": round(self.elapsed_s, 3),
            "inputs": {
                "design": self.design.to_dict(),
                "protocol": self.protocol.to_dict(),
                "cell_model": self.cell_model,
                "eol": self.eol_fraction,
                "max_cycles": self.max_cycles,
            },
            "cell": self.cell_summary(),
            "cycles": cycles,
        }
        result.update(self.extra)
        return result

    def _cathode_thickness_m(self) -> float:
        if self.cathode_thickness_m is not None:
            return self.cathode_thickness_m
        from twin.cell_parameters import cathode_thickness_m

        return cathode_thickness_m(self.design, self.protocol)

    def cell_summary(self) -> dict[str, float]:
        """The pouch cell: `layers` single-sided unit cells (Cu foil, Li, separator,
        cathode, Al foil) of `electrode_area_cm2` each, stacked in parallel."""
        d = self.design
        cathode_um = self._cathode_thickness_m() * 1e6
        rest_um = d.copper_foil_um + d.aluminium_foil_um + d.separator_thickness_um + cathode_um
        area_cm2 = d.electrode_area_cm2 * d.layers
        last = {name: self._column(name)[-1] for name in ("discharge_capacity_mAh_cm2", "anode_thickness_um")}
        return {
            "nominal_capacity_Ah": d.nominal_capacity_Ah,
            "initial_capacity_Ah": self.initial_capacity_mAh_cm2 * area_cm2 / 1000.0,
            "capacity_at_end_Ah": float(last["discharge_capacity_mAh_cm2"]) * area_cm2 / 1000.0,
            "cathode_thickness_um": cathode_um,
            "stack_thickness_initial_mm": d.layers * (rest_um + d.li_foil_thickness_um) / 1000.0,
            "stack_thickness_end_mm": d.layers * (rest_um + float(last["anode_thickness_um"])) / 1000.0,
        }



def _get_cycles(self: Prediction) -> pd.DataFrame:
    frame = self.__dict__.get("_cycles_frame")
    if frame is None:  # first access: the table becomes a DataFrame, kept from then on
        frame = self.__dict__["_cycles_frame"] = self.__dict__["_cycles_table"].to_frame()
    return frame


def _set_cycles(self: Prediction, cycles: pd.DataFrame | CycleTable) -> None:
    if isinstance(cycles, CycleTable):
        self.__dict__["_cycles_table"], self.__dict__["_cycles_frame"] = cycles, None
    else:
        self.__dict__["_cycles_table"], self.__dict__["_cycles_frame"] = None, cycles


# The dataclass field `cycles` (a constructor argument) read and written through a
# property: set after the class body, so that it is not taken for the field's default.
Prediction.cycles = property(_get_cycles, _set_cycles, doc="Per-cycle rows (SUMMARY_COLUMNS), a pandas DataFrame.")


def predict_cycle_life(
    design: CellDesign,
    protocol: Protocol | None = None,
    eol_fraction: float = 0.8,
    max_cycles: int = 1000,
    cell_model: str = "spm",
    options: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    keep_time_series: bool = False,
    progress: Callable[[int], None] | None = None,
    inputs: Mapping[str, float] | None = None,
    mode: str = "full",
    stop_on_dendrite_risk: bool = False,
    simulator: CellSimulator | None = None,
    strategies: Sequence[Any] | None = None,
) -> Prediction:
    """Cycle `design` until end of life.

    mode "full" simulates every cycle with the full model; "fast" simulates
    representative cycles and advances the slow degradation states across the cycles
    in between (`twin.fast`). A protocol temperature replaces the design's. With
    `stop_on_dendrite_risk`, a design whose CC charge the Chazalviel model flags ends
    its life at cycle 1 ("dendrite_risk"). `simulator`: an already set-up simulator for
    this design (a `twin.fast.RepresentativeCycler` in fast mode), reused so its
    discretisation is not paid again. `strategies`: protection strategies (preset names
    or `twin.strategies.Strategy`), whose parameter changes come before `overrides`.
    """
    if not 0 < eol_fraction < 1:  # also catches NaN
        raise OptionError(f"eol_fraction must lie between 0 and 1, got {eol_fraction}", argument="eol_fraction")
    if mode not in PREDICTION_MODES:
        raise OptionError(f"unknown prediction mode {mode!r} (legal values: {', '.join(PREDICTION_MODES)})",
                          argument="mode")
    if mode == "fast" and keep_time_series:
        raise OptionError("time series are kept in full mode only (mode 'fast' skips cycles)",
                          argument="keep_time_series")
    scenario = Scenario.build(design, protocol, strategies, overrides, inputs)
    return predict_scenario(scenario, eol_fraction=eol_fraction, max_cycles=max_cycles, cell_model=cell_model,
                            options=options, keep_time_series=keep_time_series, progress=progress, mode=mode,
                            stop_on_dendrite_risk=stop_on_dendrite_risk, simulator=simulator)


def predict_scenario(
    scenario: Scenario,
    *,
    eol_fraction: float = 0.8,
    max_cycles: int = 1000,
    cell_model: str = "spm",
    options: Mapping[str, str] | None = None,
    keep_time_series: bool = False,
    progress: Callable[[int], None] | None = None,
    mode: str = "full",
    stop_on_dendrite_risk: bool = False,
    simulator: CellSimulator | None = None,
) -> Prediction:
    """Cycle life of a scenario (see `predict_cycle_life` for the arguments).

    Fast mode without a simulator given runs from the compiled artefact of the scenario
    when there is one (`twin.compiled`, no PyBaMM import), else through PyBaMM, and
    then compiles the cycle for the next process."""
    start = time.perf_counter()
    key = None
    if mode == "fast" and simulator is None and not _in_shared_setup():
        from twin.compiled import artefact_key

        key = artefact_key(scenario, cell_model, options)
    compiled = _compiled_run(scenario, key, cell_model, options) if key is not None else None
    if compiled is not None:
        simulator, risk, short_limit = compiled.cycler, compiled.dendrite_risk, compiled.short_dead_li_mAh_cm2
    else:
        simulator = _simulator_for(scenario, mode, cell_model, options, simulator, design_inputs=key is not None)
        risk = scenario.dendrite_risk(simulator.parameter_values)
        short_limit = None if risk is None else short_dead_li_limit_mAh_cm2(
            scenario.design, risk, simulator.parameter_values, scenario.inputs)
    stop_now = stop_on_dendrite_risk and risk is not None and risk.flag
    run_cycles = 1 if stop_now else max_cycles
    if compiled is None and key is not None:
        outcome = _run_and_compile(scenario, simulator, key, eol_fraction, run_cycles, progress)
    else:
        outcome = simulator.run_life(eol_fraction, run_cycles, progress=progress,
                                     inputs=scenario.inputs, keep_time_series=keep_time_series)
    verdict = judge_end_of_life(outcome, scenario.design.areal_capacity_mAh_cm2,
                                dendrite_stop=risk.reason if stop_now else None, extra_notes=scenario.notes,
                                short_dead_li_mAh_cm2=short_limit)
    check_cycles(verdict.cycles, f"{mode} mode")  # a reported row that breaks physics is a failure, never a result
    return Prediction(
        design=scenario.design, protocol=scenario.protocol, cell_model=cell_model, eol_fraction=eol_fraction,
        max_cycles=max_cycles, cycles=verdict.cycles, cycle_life=verdict.cycle_life,
        end_of_life_reason=verdict.reason, elapsed_s=time.perf_counter() - start, mode=mode,
        time_series=outcome.time_series, notes=verdict.notes, dendrite_risk=risk,
        simulated_cycles=outcome.simulated_cycles, strategy=scenario.strategy,
        cathode_thickness_m=getattr(simulator, "cathode_thickness_m", None),
    )


def _simulator_for(scenario: Scenario, mode: str, cell_model: str, options: Mapping[str, str] | None,
                   simulator: CellSimulator | None, design_inputs: bool = False) -> CellSimulator:
    """The run of `mode` for the scenario: the one given (checked) or a new one; with
    `design_inputs` (a fast run that is or will be compiled, `twin.compiled`) its model
    takes the areal capacity, N:P and electrolyte amount through inputs."""
    from twin.cycling import CellSimulator
    from twin.fast import RepresentativeCycler

    if simulator is None:
        if mode == "fast":
            if not design_inputs or _in_shared_setup():  # a sweep's shared inputs, if any
                return RepresentativeCycler(scenario.design, scenario.protocol, cell_model, options,
                                            scenario.parameter_overrides, scenario.inputs)
            # One model serves every areal capacity, N:P and electrolyte amount of a
            # cathode and protocol (twin.design_values), in this process and compiled
            from twin.cycling import shared_setup
            from twin.design_values import FAST_DESIGN_INPUTS

            with shared_setup(FAST_DESIGN_INPUTS):
                return RepresentativeCycler(scenario.design, scenario.protocol, cell_model, options,
                                            scenario.parameter_overrides, scenario.inputs)
        return CellSimulator(scenario.design, scenario.protocol, cell_model, options,
                             scenario.parameter_overrides)
    if mode == "fast" and not isinstance(simulator, RepresentativeCycler):
        raise SimulationError("fast mode needs a twin.fast.RepresentativeCycler as its simulator")
    if (simulator.design, simulator.protocol) != (scenario.design, scenario.protocol):
        raise SimulationError("the simulator given was set up for another design or protocol")
    return simulator


def _in_shared_setup() -> bool:
    """Whether a sweep's `twin.cycling.shared_setup` is active (its simulations take
    more inputs than a compiled artefact's: they keep PyBaMM's way)."""
    import sys

    cycling = sys.modules.get("twin.cycling")
    return cycling is not None and bool(cycling._shared_inputs.get())


def _compiled_run(scenario: Scenario, key: str, cell_model: str, options: Mapping[str, str] | None) -> Any:
    """The scenario's compiled run (`twin.compiled.CompiledRun`) from the artefact of
    `key`; None when there is none or it cannot serve the scenario (then PyBaMM's way)."""
    from twin.compiled import NotServed, compiled_run, load_artefact

    artefact = load_artefact(key)
    if artefact is None:
        return None

    def fallback() -> Any:
        return _simulator_for(scenario, "fast", cell_model, options, None, design_inputs=True)

    try:
        return compiled_run(scenario, artefact, fallback)
    except NotServed:
        return None
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError, AttributeError):
        return None  # a damaged or foreign artefact is a miss: PyBaMM's way, then rewritten


def _run_and_compile(scenario: Scenario, simulator: Any, key: str, eol_fraction: float, max_cycles: int,
                     progress: Callable[[int], None] | None) -> Any:
    """The PyBaMM fast run, recording the IDAKLU solvers it sets up; then the compiled
    cycle saved under `key` (when the lean stepper drives it) for the next process."""
    from dataclasses import asdict

    from twin.cell_parameters import cathode_constants, parameter_values
    from twin.compiled import save_artefact
    from twin.cycle_map import SCALAR_PARAMETERS
    from twin.dendrite import electrolyte_transport
    from twin.design_values import design_values
    from twin.fast import _end_function
    from twin.stepper import LeanUnsupported, compile_cycle, compile_parameters, recording_solver_groups

    with recording_solver_groups() as recorder:
        outcome = simulator.run_life(eol_fraction, max_cycles, progress=progress, inputs=scenario.inputs)
    every = simulator.protocol.checkup_every
    cycles = {}
    for name, sim_key in (("regular", (1, 0)), ("checkup", (1, (every - 1) % every if every else None))):
        sim = simulator._sims.get(sim_key)
        if sim is None:
            continue
        try:
            cycles[name] = compile_cycle(getattr(sim, "simulation", sim), recorder, _end_function)
        except LeanUnsupported:
            continue
    regular = simulator._sims.get((1, 0))
    if "regular" not in cycles or regular is None:
        return outcome
    design, protocol = scenario.design, scenario.protocol
    constants = cathode_constants(design.cathode, *protocol.voltage_window(design.cathode))
    own = design_values(design, protocol, constants)
    values = scenario.parameter_values()
    base = parameter_values(design, protocol)
    base_numbers = {name: float(value) for name, value in base.items()
                    if isinstance(value, (int, float)) and not isinstance(value, bool)}
    try:
        c0, diffusivity, t_plus = electrolyte_transport(design, values)
        electrolyte = {"c0": c0, "T_K": design.temperature_degC + 273.15, "diffusivity": diffusivity,
                       "t_plus": t_plus}
    except KeyError:
        electrolyte = None
    save_artefact(key, {
        "cycles": cycles, "design_inputs": sorted(getattr(regular, "inputs", {})),
        "scalars": compile_parameters(values, sorted(own), SCALAR_PARAMETERS),
        "constants": asdict(constants), "base_numbers": base_numbers, "electrolyte": electrolyte,
    })
    return outcome
