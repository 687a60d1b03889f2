"""Cycle a Li-metal cell design with a protocol and report every cycle."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pybamm

from twin.cell_parameters import parameter_values
from twin.dendrite import DendriteRisk, assess_dendrite_risk
from twin.design import CellDesign
from twin.errors import OptionError, SimulationError
from twin.invariants import check_cycles
from twin.model import build_model
from twin.protocol import Protocol
from twin.units import FARADAY_C_PER_MOL, C_PER_M2_PER_MAH_PER_CM2

# One mol/m2 of Li carries this many mAh/cm2.
MAH_CM2_PER_MOL_M2 = FARADAY_C_PER_MOL / C_PER_M2_PER_MAH_PER_CM2
END_OF_LIFE_REASONS = ("capacity_fade", "lithium_depleted", "electrolyte_dry_out", "max_cycles",
                       "dendrite_risk")
# "full": every cycle simulated; "fast": representative cycles, slow states advanced
# across the cycles in between (twin.fast).
PREDICTION_MODES = ("full", "fast")
# A discharge that ends with less active Li than this fraction of the cathode
# capacity was limited by the anode: the Li inventory ran out.
LI_DEPLETED_FRACTION = 0.02
# Below this wetting fraction at end of life, the cell died of dry-out (below the
# severe one even if its Li ran out too).
DRY_OUT_WETTING = 0.95
SEVERE_DRY_OUT_WETTING = 0.5
CHUNK_CYCLES = 25

SUMMARY_COLUMNS = [
    "cycle", "charge_capacity_mAh_cm2", "discharge_capacity_mAh_cm2", "coulombic_efficiency",
    "li_coulombic_efficiency", "active_li_mAh_cm2", "dead_li_mAh_cm2", "sei_li_mAh_cm2",
    "cathode_li_mAh_cm2", "total_li_mAh_cm2", "anode_thickness_um", "swelling_pct",
    "electrolyte_g_per_Ah", "wetting_fraction", "surface_area_factor", "simulated", "checkup",
]


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


def default_solver() -> pybamm.BaseSolver:
    # Tight tolerances: Li conservation is checked to 1e-6 relative.
    return pybamm.IDAKLUSolver(rtol=1e-7, atol=1e-9)


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
    ) -> None:
        self.design, self.protocol, self.cell_model = design, protocol, cell_model
        self.model = cached_model(cell_model, tuple(sorted((options or {}).items())))
        # Protection strategies (names or twin.strategies.Strategy) become parameter
        # overrides; explicit `overrides` win over them.
        self.strategy = None
        if strategies:
            from twin.strategies import full_cell_overrides, prepare

            self.strategy = prepare(strategies)
            overrides = {**full_cell_overrides(self.strategy, design, protocol), **(overrides or {})}
        self.parameter_values = parameter_values(design, protocol, overrides)
        self.chunk_cycles = chunk_cycles
        self._sims: dict[tuple[int, int], pybamm.Simulation] = {}

    def _simulation(self, cycles: int, first_cycle: int = 1) -> pybamm.Simulation:
        # With check-ups, chunks starting at a different phase of the check-up period
        # are different experiments.
        every = self.protocol.checkup_every
        key = (cycles, (first_cycle - 1) % every if every else 0)
        if key not in self._sims:
            self._sims[key] = pybamm.Simulation(
                self.model,
                parameter_values=self.parameter_values,
                experiment=make_experiment(self.protocol, self.design.cathode, cycles, first_cycle),
                solver=default_solver(),
            )
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
                if solution is None:
                    raise SimulationError(f"the solver failed in the first cycles: {err}") from err
                stopped_early, message = True, f"solver failed after cycle {done}: {err}"
                break
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
        stripped = change("Cumulative lithium stripped [mol.m-2]")
        lost = change("Dead lithium [mol.m-2]") + change("Li-metal SEI lithium [mol.m-2]")
        q_Ah_m2 = self.design.areal_capacity_mAh_cm2 * 10.0
        with np.errstate(divide="ignore", invalid="ignore"):
            cell_ce = np.where(plated > 0, stripped / plated, np.nan)
            li_ce = np.where(plated > 0, 1 - lost / plated, np.nan)
        df = pd.DataFrame({
            "cycle": np.arange(1, len(plated) + 1),
            "charge_capacity_mAh_cm2": plated * MAH_CM2_PER_MOL_M2,
            "discharge_capacity_mAh_cm2": stripped * MAH_CM2_PER_MOL_M2,
            "coulombic_efficiency": cell_ce,
            "li_coulombic_efficiency": li_ce,
            "active_li_mAh_cm2": end("Active lithium metal [mol.m-2]") * MAH_CM2_PER_MOL_M2,
            "dead_li_mAh_cm2": end("Dead lithium [mol.m-2]") * MAH_CM2_PER_MOL_M2,
            "sei_li_mAh_cm2": end("Li-metal SEI lithium [mol.m-2]") * MAH_CM2_PER_MOL_M2,
            "cathode_li_mAh_cm2": end("Lithium in positive electrode [mol.m-2]") * MAH_CM2_PER_MOL_M2,
            "total_li_mAh_cm2": end("Total lithium [mol.m-2]") * MAH_CM2_PER_MOL_M2,
            "anode_thickness_um": end("Anode thickness [m]") * 1e6,
            "swelling_pct": end("Swelling [%]"),
            "electrolyte_g_per_Ah": end("Electrolyte mass [kg.m-2]") * 1000.0 / q_Ah_m2,
            "wetting_fraction": end("Electrolyte wetting fraction"),
            "surface_area_factor": end("Li-metal surface area factor"),
            "simulated": True,
        })
        df["checkup"] = [self.protocol.is_checkup(int(k)) for k in df["cycle"]]
        return df[SUMMARY_COLUMNS]

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


@dataclass
class Prediction:
    """Cycle-life forecast of one design."""

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
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def initial_capacity_mAh_cm2(self) -> float:
        return float(self.cycles["discharge_capacity_mAh_cm2"].iloc[0])

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

        cycles = [{k: clean(v) for k, v in row.items()} for row in self.cycles.to_dict(orient="records")]
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

    def cell_summary(self) -> dict[str, float]:
        """The pouch cell: `layers` single-sided unit cells (Cu foil, Li, separator,
        cathode, Al foil) of `electrode_area_cm2` each, stacked in parallel."""
        from twin.cell_parameters import cathode_thickness_m

        d = self.design
        rest_um = (d.copper_foil_um + d.aluminium_foil_um + d.separator_thickness_um
                   + cathode_thickness_m(d, self.protocol) * 1e6)
        area_cm2 = d.electrode_area_cm2 * d.layers
        last = self.cycles.iloc[-1]
        return {
            "nominal_capacity_Ah": d.nominal_capacity_Ah,
            "initial_capacity_Ah": self.initial_capacity_mAh_cm2 * area_cm2 / 1000.0,
            "capacity_at_end_Ah": float(last["discharge_capacity_mAh_cm2"]) * area_cm2 / 1000.0,
            "cathode_thickness_um": cathode_thickness_m(d, self.protocol) * 1e6,
            "stack_thickness_initial_mm": d.layers * (rest_um + d.li_foil_thickness_um) / 1000.0,
            "stack_thickness_end_mm": d.layers * (rest_um + float(last["anode_thickness_um"])) / 1000.0,
        }


def first_cycle_below(summary: pd.DataFrame, eol_fraction: float) -> int | None:
    """First cycle whose discharge capacity is below eol x the first cycle's.
    Check-up cycles (slow, so higher capacity) take no part in the test."""
    if "checkup" in summary.columns:
        summary = summary[~summary["checkup"].astype(bool)]
    q = summary["discharge_capacity_mAh_cm2"].to_numpy()
    if len(q) == 0:
        return None
    below = np.nonzero(q < eol_fraction * q[0])[0]
    return int(summary["cycle"].iloc[below[0]]) if len(below) else None


def end_of_life_reason(row: pd.Series, cathode_capacity_mAh_cm2: float) -> str:
    """Why a cell reached end of life, judged from its state in the end-of-life cycle.

    An anode-limited discharge (no active Li left) is Li depletion unless the cell had
    also lost much of its electrolyte; otherwise a wetting deficit is dry-out, and a
    cathode-limited fade with electrolyte left is capacity fade (resistance growth).
    """
    depleted = row["active_li_mAh_cm2"] < LI_DEPLETED_FRACTION * cathode_capacity_mAh_cm2
    wetting = row["wetting_fraction"]
    if wetting < SEVERE_DRY_OUT_WETTING or (wetting < DRY_OUT_WETTING and not depleted):
        return "electrolyte_dry_out"
    return "lithium_depleted" if depleted else "capacity_fade"


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
    discretisation is not paid again.
    """
    protocol = protocol or Protocol()
    if not 0 < eol_fraction < 1:  # also catches NaN
        raise OptionError(f"eol must lie between 0 and 1, got {eol_fraction}")
    if mode not in PREDICTION_MODES:
        raise OptionError(f"unknown prediction mode {mode!r} (legal values: {', '.join(PREDICTION_MODES)})")
    if protocol.temperature_degC is not None:
        design = replace(design, temperature_degC=protocol.temperature_degC)
    if strategies:
        return _predict_with_strategies(
            design, protocol, strategies, eol_fraction=eol_fraction, max_cycles=max_cycles,
            cell_model=cell_model, options=options, overrides=overrides, keep_time_series=keep_time_series,
            progress=progress, inputs=inputs, mode=mode, stop_on_dendrite_risk=stop_on_dendrite_risk,
            simulator=simulator,
        )
    if mode == "fast":
        from twin.fast import predict_cycle_life_fast

        if keep_time_series:
            raise OptionError("time series are kept in full mode only (mode 'fast' skips cycles)")
        return predict_cycle_life_fast(
            design, protocol, eol_fraction=eol_fraction, max_cycles=max_cycles, cell_model=cell_model,
            options=options, overrides=overrides, progress=progress, inputs=inputs,
            stop_on_dendrite_risk=stop_on_dendrite_risk, cycler=simulator,
        )
    start = time.perf_counter()
    if simulator is None:
        simulator = CellSimulator(design, protocol, cell_model, options, overrides)
    elif (simulator.design, simulator.protocol) != (design, protocol):
        raise SimulationError("the simulator given was set up for another design or protocol")
    risk = dendrite_risk_of(simulator, inputs)
    stop_now = stop_on_dendrite_risk and risk is not None and risk.flag
    run = simulator.run(
        1 if stop_now else max_cycles,
        stop=lambda s: first_cycle_below(s, eol_fraction) is not None,
        keep_time_series=keep_time_series,
        progress=progress,
        inputs=inputs,
    )
    summary = run.summary
    if summary.empty:
        raise SimulationError("the cell did not complete a single cycle: " + run.message)
    life = first_cycle_below(summary, eol_fraction)
    notes = [run.message] if run.message else []
    if stop_now:
        life, reason = 1, "dendrite_risk"
        notes.append(f"dendrite risk: {risk.reason}")
    elif life is None and run.stopped_early:
        # The cell could not finish the next cycle: that cycle delivered ~0 capacity.
        life = int(summary["cycle"].iloc[-1]) + 1
        reason = end_of_life_reason(summary.iloc[-1], design.areal_capacity_mAh_cm2)
    elif life is None:
        reason = "max_cycles"
    else:
        summary = summary[summary["cycle"] <= life].reset_index(drop=True)
        reason = end_of_life_reason(summary.iloc[-1], design.areal_capacity_mAh_cm2)
    check_cycles(summary)  # a reported row that breaks physics is a failure, never a result
    return Prediction(
        design=design, protocol=protocol, cell_model=cell_model, eol_fraction=eol_fraction,
        max_cycles=max_cycles, cycles=summary, cycle_life=life, end_of_life_reason=reason,
        elapsed_s=time.perf_counter() - start, time_series=run.time_series, notes=notes,
        extra={"dendrite_risk": None if risk is None else risk.to_dict()},
    )


def _predict_with_strategies(
    design: CellDesign, protocol: Protocol, strategies: Sequence[Any], *, max_cycles: int,
    overrides: Mapping[str, Any] | None, inputs: Mapping[str, float] | None,
    stop_on_dendrite_risk: bool, **kwargs: Any,
) -> Prediction:
    """`predict_cycle_life` with protection strategies (names or Strategy objects):
    their anchored parameter changes become overrides (explicit `overrides` win) and
    their dendrite threshold scales the Chazalviel assessment (twin.strategies)."""
    from twin.strategies import full_cell_overrides, prepare, scale_dendrite_risk

    combined = prepare(strategies)
    merged = {**full_cell_overrides(combined, design, protocol), **(overrides or {})}
    factor = combined.dendrite_threshold_factor
    risk = None
    if factor != 1.0:
        try:
            risk = scale_dendrite_risk(assess_dendrite_risk(
                design, protocol, parameter_values(design, protocol, merged), inputs=inputs), factor)
        except KeyError:
            risk = None
    stop_now = factor != 1.0 and stop_on_dendrite_risk and risk is not None and risk.flag
    prediction = predict_cycle_life(
        design, protocol, max_cycles=1 if stop_now else max_cycles, overrides=merged, inputs=inputs,
        stop_on_dendrite_risk=stop_on_dendrite_risk and factor == 1.0, **kwargs,
    )
    prediction.max_cycles = max_cycles
    if factor != 1.0:
        prediction.extra["dendrite_risk"] = None if risk is None else risk.to_dict()
    if stop_now:
        prediction.cycles = prediction.cycles.iloc[:1]
        prediction.cycle_life, prediction.end_of_life_reason = 1, "dendrite_risk"
        prediction.notes.append(f"dendrite risk: {risk.reason}")
    prediction.notes.extend(combined.notes)
    prediction.extra["strategies"] = combined.to_dict()
    return prediction


def dendrite_risk_of(simulator: CellSimulator, inputs: Mapping[str, float] | None = None) -> DendriteRisk | None:
    """Chazalviel dendrite risk of the simulator's design and protocol; None when an
    electrolyte parameter is an input without a value."""
    try:
        risk = assess_dendrite_risk(simulator.design, simulator.protocol, simulator.parameter_values,
                                    inputs=inputs)
    except KeyError:
        return None
    strategy = getattr(simulator, "strategy", None)
    if strategy is not None:  # a separator strategy raises the dendrite threshold
        from twin.strategies import scale_dendrite_risk

        risk = scale_dendrite_risk(risk, strategy.dendrite_threshold_factor)
    return risk
