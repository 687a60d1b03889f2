"""The fit: simulate the twin for a set of parameters and score it against the data.

PyBOP-style composition: a :class:`TwinModel` (the simulator, built once per design
with the fitted parameters as ``"[input]"``, so every trial reuses the discretised
model), a cost (:func:`capacity_loss`: root-mean-square error of normalized capacity,
plus the Coulombic efficiency where measured) and :class:`CalibrationObjective`, the
``objective(trial) -> float`` optuna calls. A failed solve scores
:data:`FAILED_SOLVE_LOSS`, never a crash. The simulation runs in blocks of cycles;
after each block the partial loss is reported (``trial.report``) and hopeless trials
are pruned (``trial.should_prune``), so a bad parameter set costs one block.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd

from twin.calibration.data import NORMALIZED_TO_FIRST_CYCLE, CycleData, discharge_voltage_curves
from twin.calibration.prior import PopulationPrior
from twin.calibration.search_space import Recipe, RecipeError, SearchSpace
from twin.design import CellDesign
from twin.errors import raise_if_interrupted
from twin.protocol import Protocol
from twin.simulation import CellSimulator

# A loss no simulated curve can reach (normalized-capacity errors are below ~1.5):
# a failed solve ranks below every successful one without breaking the sampler's model.
FAILED_SOLVE_LOSS = 10.0
# Bounds of the profiled capacity scale: measured capacity at cycle 1 / simulated.
CAPACITY_SCALE_BOUNDS = (0.01, 2.0)
# Per cubic centimetre of electrolyte, in g/Ah arithmetic: uL -> mL.
UL_PER_ML = 1000.0


@dataclass(frozen=True)
class FitTarget:
    """The measured cycles a calibration fits, as arrays.

    ``normalized_capacity``: the data's normalized discharge capacity.
    ``coulombic_efficiency``: NaN where not measured. ``profile_scale``: the data are
    not normalized to their own first cycle (e.g. to a theoretical capacity), so the
    simulated retention is multiplied by a least-squares capacity scale (the
    fraction of the nominal capacity the cell delivers at cycle 1).
    ``voltage_curves``: measured discharge voltage curves by cycle (time-series data
    only, see calibration.data.discharge_voltage_curves), else None.
    """

    cycles: np.ndarray
    normalized_capacity: np.ndarray
    coulombic_efficiency: np.ndarray
    profile_scale: bool
    voltage_curves: Mapping[int, np.ndarray] | None = None

    @classmethod
    def from_cycle_data(cls, data: CycleData) -> FitTarget:
        table = data.cycles
        keep = np.isfinite(table["normalized_capacity"].to_numpy(dtype=float))
        table = table[keep]
        return cls(
            cycles=table["cycle"].to_numpy(dtype=np.int64),
            normalized_capacity=table["normalized_capacity"].to_numpy(dtype=float),
            coulombic_efficiency=table["coulombic_efficiency"].to_numpy(dtype=float),
            profile_scale=data.meta.get("normalization") != NORMALIZED_TO_FIRST_CYCLE,
            voltage_curves=data.voltage_curves,
        )

    @property
    def last_cycle(self) -> int:
        return int(self.cycles.max())

    def after_formation(self, formation_cycles: int) -> FitTarget:
        """The cycles after the first `formation_cycles` (formation is often run at
        another rate, so its capacity is not comparable); the capacity scale is then
        profiled, since the data's normalization anchor is no longer fitted."""
        if formation_cycles <= 0:
            return self
        keep = self.cycles > formation_cycles
        return FitTarget(self.cycles[keep], self.normalized_capacity[keep], self.coulombic_efficiency[keep], True,
                         self.voltage_curves)


def design_for_data(recipe: Recipe, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The recipe's design, with what the data state replacing assumptions.

    The anode-free table gives the electrolyte volume [uL] of each coin cell: with the
    recipe's electrolyte density and the design's capacity that is the design's
    electrolyte amount [g/Ah].
    """
    design = dict(recipe.design)
    volume_uL = (meta or {}).get("electrolyte_uL")
    if isinstance(volume_uL, (int, float)) and math.isfinite(volume_uL) and volume_uL > 0:
        base = CellDesign(**design)
        capacity_Ah = base.nominal_capacity_Ah
        grams = volume_uL / UL_PER_ML * recipe.electrolyte_density_g_per_mL
        design["electrolyte_g_per_Ah"] = round(min(max(grams / capacity_Ah, 0.3), 200.0), 3)
    return design


def check_voltage_cycles(recipe: Recipe, target: FitTarget) -> None:
    """fit.voltage_cycles need measured voltage curves of fitted cycles: else RecipeError."""
    wanted = recipe.fit.voltage_cycles
    if not wanted:
        return
    where = recipe.source or recipe.name
    if target.voltage_curves is None:
        raise RecipeError(f"{where}: fit.voltage_cycles needs a time series with voltages (BDF, .mpr, .res); "
                          "the data are a per-cycle summary without voltage curves")
    missing = [c for c in wanted if c not in target.voltage_curves or c > target.last_cycle]
    if missing:
        raise RecipeError(f"{where}: fit.voltage_cycles {missing} have no measured discharge curve among the "
                          f"fitted cycles (1-{target.last_cycle})")


def check_parameter_names(recipe: Recipe, design: Mapping[str, Any]) -> None:
    """Every fitted ([parameters.*]) and fixed ([overrides]) name is a twin parameter;
    else RecipeError naming the entry and the recipe file, before any trial runs."""
    import difflib

    from twin.cell_parameters import parameter_values

    known = set(parameter_values(CellDesign(**design), Protocol(**recipe.protocol)).keys())
    where = recipe.source or recipe.name
    for table, names in (("parameters", recipe.space.parameter_names), ("overrides", list(recipe.overrides))):
        for name in names:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise RecipeError(f"{where}: {table}.{name!r} is not a parameter of the twin{hint}")


class TwinModel:
    """The twin for one recipe: one built simulator per design, fitted values as inputs."""

    def __init__(self, recipe: Recipe, design: Mapping[str, Any] | None = None,
                 chunk_cycles: int | None = None) -> None:
        self.recipe = recipe
        self.space: SearchSpace = recipe.space
        self.design = dict(recipe.design if design is None else design)
        self.protocol = Protocol(**recipe.protocol)
        self.chunk_cycles = chunk_cycles or recipe.fit.block_cycles
        self._simulators: dict[tuple, CellSimulator] = {}

    def cell_design(self, values: Mapping[str, Any]) -> CellDesign:
        """The design with the trial's design choices applied."""
        design = dict(self.design)
        for choice in self.space.design_choices:
            if choice.field in values:
                design[choice.field] = values[choice.field]
        return CellDesign(**design)

    def simulator(self, values: Mapping[str, Any]) -> CellSimulator:
        """Cached by design: only a new design value costs a new build."""
        design = self.cell_design(values)
        key = tuple(sorted(design.to_dict().items()))
        if key not in self._simulators:
            overrides: dict[str, Any] = dict(self.recipe.overrides)
            overrides.update({name: "[input]" for name in self.space.parameter_names})
            # every trial re-solves it with its own inputs: worth compiling to native code
            self._simulators[key] = CellSimulator(
                design, self.protocol, self.recipe.cell_model, self.recipe.options, overrides,
                chunk_cycles=self.chunk_cycles, compile_functions=True,
            )
        return self._simulators[key]

    def inputs(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Solver inputs: every fitted parameter (defaults for any not given)."""
        inputs = {}
        for spec in self.space.parameters:
            value = values.get(spec.name, spec.default)
            if value is None:
                raise KeyError(f"no value for fitted parameter {spec.name!r}")
            inputs[spec.name] = float(value)
        return inputs

    def run_with_series(self, values: Mapping[str, Any], max_cycles: int,
                        stop: Callable[[pd.DataFrame], bool] | None = None
                        ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Per-cycle summary and time series (cycle, time_s, voltage_V, current_A)."""
        simulator = self.simulator(values)
        run = simulator.run(max_cycles, stop=stop, keep_time_series=True, inputs=self.inputs(values))
        return run.summary, run.time_series

    def run(self, values: Mapping[str, Any], max_cycles: int,
            stop: Callable[[pd.DataFrame], bool] | None = None) -> pd.DataFrame:
        """Per-cycle summary of the twin (see twin.simulation.SUMMARY_COLUMNS)."""
        simulator = self.simulator(values)
        return simulator.run(max_cycles, stop=stop, inputs=self.inputs(values)).summary

    def overrides(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Fixed plus fitted parameter values, for a prediction without inputs."""
        overrides = dict(self.recipe.overrides)
        overrides.update(self.inputs(values))
        return overrides


def simulated_retention(summary: pd.DataFrame, cycles: np.ndarray) -> np.ndarray:
    """Discharge capacity at `cycles` over the simulated first cycle's.

    Cycles past the end of the simulation (the cell could no longer complete a
    cycle: its lithium ran out) deliver nothing: 0.
    """
    q = summary["discharge_capacity_mAh_cm2"].to_numpy(dtype=float)
    if len(q) == 0 or not q[0] > 0:
        return np.zeros(len(cycles))
    index = np.asarray(cycles, dtype=np.int64) - 1
    out = np.zeros(len(index))
    inside = index < len(q)
    out[inside] = q[index[inside]] / q[0]
    return np.clip(out, 0.0, None)


def simulated_ce(summary: pd.DataFrame, cycles: np.ndarray) -> np.ndarray:
    """Simulated CE at `cycles`; NaN past the end of the simulation."""
    ce = summary["coulombic_efficiency"].to_numpy(dtype=float)
    index = np.asarray(cycles, dtype=np.int64) - 1
    out = np.full(len(index), np.nan)
    inside = index < len(ce)
    out[inside] = ce[index[inside]]
    return out


def best_scale(retention: np.ndarray, measured: np.ndarray) -> float:
    """Least-squares scale s minimising sum (s r - y)^2, kept within its bounds."""
    denominator = float(np.dot(retention, retention))
    if denominator <= 0:
        return 1.0
    return float(np.clip(np.dot(retention, measured) / denominator, *CAPACITY_SCALE_BOUNDS))


@dataclass
class Evaluation:
    """One parameter set scored: loss, the scale used and the simulated summary;
    ``voltage_loss`` [V]: the unweighted voltage-curve RMS error (0 when off)."""

    loss: float
    scale: float = 1.0
    summary: pd.DataFrame | None = None
    failure: str = ""
    voltage_loss: float = 0.0
    fit_loss: float | None = None
    prior_distance2: float | None = None


def voltage_curve_loss(series: pd.DataFrame | None, measured: Mapping[int, np.ndarray],
                       cycles: tuple[int, ...]) -> float:
    """RMS error [V] between simulated and measured discharge curves of `cycles`.

    The simulated series is reduced as the synthetic BDF writer and the reader do
    (repeated boundary samples dropped; PyBaMM's discharge-positive current turned to
    BDF's sign). A cycle the twin did not reach delivered nothing: 0 V.
    """
    simulated: dict[int, np.ndarray] = {}
    if series is not None and len(series):
        series = series.drop_duplicates(subset=["time_s"], keep="first")
        simulated = discharge_voltage_curves(
            series["time_s"].to_numpy(dtype=float), series["voltage_V"].to_numpy(dtype=float),
            -series["current_A"].to_numpy(dtype=float), series["cycle"].to_numpy(dtype=np.int64),
        )
    errors = [simulated.get(c, np.zeros_like(measured[c])) - measured[c] for c in cycles]
    return math.sqrt(float(np.mean(np.concatenate(errors) ** 2)))


def capacity_loss(summary: pd.DataFrame, target: FitTarget, ce_weight: float,
                  upto_cycle: int | None = None) -> tuple[float, float]:
    """RMS error of normalized capacity (+ weighted CE error) over the target's cycles
    up to `upto_cycle`; returns (loss, capacity scale)."""
    mask = np.ones(len(target.cycles), dtype=bool) if upto_cycle is None else target.cycles <= upto_cycle
    if not mask.any():
        return 0.0, 1.0
    cycles = target.cycles[mask]
    measured = target.normalized_capacity[mask]
    retention = simulated_retention(summary, cycles)
    scale = best_scale(retention, measured) if target.profile_scale else 1.0
    squared = float(np.mean((scale * retention - measured) ** 2))
    ce_measured = target.coulombic_efficiency[mask]
    has_ce = np.isfinite(ce_measured)
    if ce_weight > 0 and has_ce.any():
        ce_sim = simulated_ce(summary, cycles)[has_ce]
        # past the simulation's end the cell cycles nothing: CE 0
        ce_sim = np.where(np.isfinite(ce_sim), ce_sim, 0.0)
        squared += ce_weight * float(np.mean((ce_sim - ce_measured[has_ce]) ** 2))
    return math.sqrt(squared), scale


class CalibrationObjective:
    """``objective(trial) -> loss`` for optuna, over the cycles of `target`."""

    def __init__(self, model: TwinModel, target: FitTarget, prior: PopulationPrior | None = None,
                 covariates: np.ndarray | None = None) -> None:
        self.model = model
        self.target = target
        self.space = model.space
        self.settings = model.recipe.fit
        self.prior = prior
        self.covariates = covariates
        check_voltage_cycles(model.recipe, target)

    def with_prior(self, values: Mapping[str, Any], loss: float) -> tuple[float, float]:
        """MAP loss sqrt(loss^2 + sigma^2 d^2 / n) and d^2 (squared Mahalanobis distance
        of `values` from the prior mean): n/(2 sigma^2) times its square is the
        negative log posterior (Gaussian noise sigma = prior.noise_sd on n points),
        so minimising it is MAP, and the loss keeps the unit of an RMS error. With
        few fitted points the prior term dominates; with many the cell's own."""
        assert self.prior is not None
        d2 = float(self.prior.mahalanobis2(self.prior.values_from(values), self.covariates)[0])
        n = len(self.target.cycles)
        return math.sqrt(loss ** 2 + self.prior.likelihood_sd ** 2 * d2 / n), d2

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in self.space.parameters:
            values[spec.name] = trial.suggest_float(spec.name, spec.low, spec.high, log=spec.log)
        for choice in self.space.design_choices:
            values[choice.field] = trial.suggest_categorical(choice.field, list(choice.values))
        return values

    def evaluate(self, values: Mapping[str, Any],
                 report: Callable[[int, float], None] | None = None) -> Evaluation:
        """Simulate to the last target cycle; `report(cycle, partial_loss)` after each
        block may raise optuna.TrialPruned. Solver failures become a penalty."""
        target, weight = self.target, self.settings.ce_weight

        # a profiled scale fits any single point exactly: partial losses mean
        # something (and can prune) only from the second covered point on
        needed = 2 if target.profile_scale else 1

        def after_block(summary: pd.DataFrame) -> bool:
            if report is not None and len(summary) < target.last_cycle:
                done = int(summary["cycle"].iloc[-1]) if len(summary) else 0
                if int((target.cycles <= done).sum()) >= needed:
                    report(done, capacity_loss(summary, target, weight, upto_cycle=done)[0])
            return False

        voltage_cycles = self.settings.voltage_cycles
        series: pd.DataFrame | None = None
        try:
            if voltage_cycles:  # the time series costs memory: only when fitted
                summary, series = self.model.run_with_series(values, target.last_cycle, stop=after_block)
            else:
                summary = self.model.run(values, target.last_cycle, stop=after_block)
        except optuna.TrialPruned:
            raise
        except Exception as err:  # noqa: BLE001 - SimulationError, pybamm.SolverError, ...: a penalty
            raise_if_interrupted()  # Ctrl-C inside the solver is not a failed run
            return Evaluation(FAILED_SOLVE_LOSS, failure=f"{type(err).__name__}: {err}"[:500])
        loss, scale = capacity_loss(summary, target, weight)
        voltage_loss = 0.0
        if voltage_cycles and target.voltage_curves is not None:
            voltage_loss = voltage_curve_loss(series, target.voltage_curves, voltage_cycles)
            loss += self.settings.voltage_weight * voltage_loss
        if not math.isfinite(loss):
            return Evaluation(FAILED_SOLVE_LOSS, scale, summary, failure="non-finite loss")
        if self.prior is not None:
            posterior_loss, d2 = self.with_prior(values, loss)
            return Evaluation(posterior_loss, scale, summary, voltage_loss=voltage_loss, fit_loss=loss,
                              prior_distance2=d2)
        return Evaluation(loss, scale, summary, voltage_loss=voltage_loss, fit_loss=loss)

    def __call__(self, trial: optuna.Trial) -> float:
        values = self.suggest(trial)

        def report(cycle: int, partial: float) -> None:
            trial.report(partial, cycle)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at cycle {cycle} (partial loss {partial:.4g})")

        evaluation = self.evaluate(values, report)
        trial.set_user_attr("capacity_scale", evaluation.scale)
        if evaluation.fit_loss is not None:
            trial.set_user_attr("fit_loss", evaluation.fit_loss)
        if evaluation.prior_distance2 is not None:
            trial.set_user_attr("prior_distance2", evaluation.prior_distance2)
        if evaluation.failure:
            trial.set_user_attr("failure", evaluation.failure)
        return evaluation.loss


@dataclass
class ObjectiveSpec:
    """Everything needed to rebuild the objective in another process (picklable)."""

    recipe: Recipe
    design: dict[str, Any]
    target: FitTarget
    prior: PopulationPrior | None = None
    covariates: np.ndarray | None = None

    def build(self) -> CalibrationObjective:
        return CalibrationObjective(TwinModel(self.recipe, self.design), self.target, self.prior, self.covariates)
