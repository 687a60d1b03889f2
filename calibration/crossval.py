"""Cross-validation by cell of the twin's forecast against empirical baselines.

Every eligible cell is forecast by a model that never saw it (leave-one-cell-out):

1. each cell of the dataset is fitted once over its whole life without a prior
   (the best curve of a shared simulation library, calibration.library), which is
   what a lab knows of cells it has finished cycling;
2. per fold, everything learned from data is learned from the training cells only:
   the population prior (calibration.prior.learn_prior receives the training cells'
   fits and ids, never the test cell's), the noise level (pooled residual RMS of the
   training fits) and the growth of the forecast error with the distance from the
   fitted cycles (``discrepancy_per_cycle``, tuned by an inner leave-one-out over the
   training cells so their P10-P90 band holds 80 % of their unseen points);
3. the test cell is fitted on its cycles after formation up to ``fit_cycles`` (MAP
   and posterior weights over the library, calibration.posterior) and forecast; the
   baselines (calibration.baselines) are fitted to the same cycles.

Scores on the unseen cycles: MAE of the P50 (each baseline: of its curve), P10-P90
coverage, and the end-of-life cycle error where the data reach end of life after
the fitted cycles. End of life here is the data's: capacity below ``eol_fraction``
of the first fitted (post-formation) measurement, the same threshold for every model
(not scored for cells below MIN_EOL_CAPACITY there);
the measured end of life is known only to the 10-cycle spacing of the data, so an
error is the distance from the predicted cycle to that interval (0 inside it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from twin.calibration.baselines import fit_baselines
from twin.calibration.fleet_prior import AFFINITY, FleetKernelPrior, learn_fleet_prior
from twin.calibration.library import SimulationLibrary
from twin.calibration.posterior import (
    effective_size, mixture_cdf, mixture_quantiles, posterior_weights, predictive_sd, profiled_sse,
)
from twin.calibration.prior import PopulationPrior, covariates_from_meta, learn_prior

# Target of the inner tuning: the P10-P90 band should hold 80 % of unseen points.
TARGET_COVERAGE = 0.8
DISCREPANCY_GRID = tuple(float(k) for k in np.concatenate([[0.0], np.geomspace(2e-5, 1e-2, 40)]))
MIN_UNSEEN_POINTS = 3
MIN_FIT_POINTS = 2
# A cell delivering less than this normalized capacity at its first fitted cycle has
# no life to speak of: 80 % of almost nothing is noise, so its end of life is not scored.
MIN_EOL_CAPACITY = 0.05


@dataclass(frozen=True)
class Cell:
    """One cell's measurements (all cycles, formation included) and metadata."""

    cell_id: str
    cycles: np.ndarray
    capacity: np.ndarray
    meta: Mapping[str, Any] = field(default_factory=dict)

    def fitted(self, fit_cycles: int | None, formation_cycles: int) -> tuple[np.ndarray, np.ndarray]:
        """Cycles after formation up to `fit_cycles` (None: all) and their capacities."""
        keep = self.cycles > formation_cycles
        if fit_cycles is not None:
            keep &= self.cycles <= fit_cycles
        return self.cycles[keep], self.capacity[keep]

    def unseen(self, fit_cycles: int) -> tuple[np.ndarray, np.ndarray]:
        keep = self.cycles > fit_cycles
        return self.cycles[keep], self.capacity[keep]

    def eligible(self, fit_cycles: int, formation_cycles: int) -> bool:
        return (len(self.fitted(fit_cycles, formation_cycles)[0]) >= MIN_FIT_POINTS
                and len(self.unseen(fit_cycles)[0]) >= MIN_UNSEEN_POINTS)


@dataclass(frozen=True)
class FleetFit:
    """A cell's no-prior fit over its whole life: best library member, its parameter
    values, capacity scale and residual RMS [normalized capacity]."""

    cell_id: str
    index: int
    values: np.ndarray
    scale: float
    rms: float


def fleet_fit(library: SimulationLibrary, cell: Cell, formation_cycles: int) -> FleetFit:
    """Least-squares (no prior) fit of the whole post-formation life of `cell`."""
    cycles, capacity = cell.fitted(None, formation_cycles)
    cycles, capacity = cycles[cycles <= library.horizon], capacity[cycles <= library.horizon]
    scale, sse = profiled_sse(library.at(cycles), capacity)
    best = int(np.argmin(sse))
    return FleetFit(cell.cell_id, best, library.values[best].copy(), float(scale[best]),
                    float(math.sqrt(sse[best] / len(cycles))))


def pooled_noise(fits: Sequence[FleetFit]) -> float:
    """Root of the mean squared residual over the given fits (equal weight per cell)."""
    return float(math.sqrt(np.mean([f.rms ** 2 for f in fits])))


Learner = Callable[..., PopulationPrior]


def prior_from_fits(fits: Sequence[FleetFit], library: SimulationLibrary, log: Sequence[bool],
                    covariate_names: Sequence[str] = (), metas: Mapping[str, Mapping[str, Any]] | None = None,
                    learn: Learner = learn_prior, discrepancy_per_cycle: float = 0.0) -> PopulationPrior:
    """A prior learned from exactly these fits (and only their cells' metadata)."""
    ids = [f.cell_id for f in fits]
    covariates = None
    if covariate_names:
        covariates = np.vstack([covariates_from_meta((metas or {}).get(i, {}), covariate_names) for i in ids])
    return learn(np.vstack([f.values for f in fits]), ids, library.names, log, pooled_noise(fits),
                 discrepancy_per_cycle, covariates, covariate_names)


@dataclass
class CellForecast:
    """Posterior forecast of one cell: band at cycles 1..horizon and fit diagnostics."""

    cycles: np.ndarray
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    weights: np.ndarray
    scale: np.ndarray
    last_fit_cycle: int
    sd: np.ndarray

    @property
    def effective_members(self) -> float:
        return effective_size(self.weights)

    def at(self, cycles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        index = np.asarray(cycles, dtype=np.int64) - 1
        return self.p10[index], self.p50[index], self.p90[index]


AnyPrior = PopulationPrior | FleetKernelPrior


def _mixture(library: SimulationLibrary, cell: Cell, fit_cycles: int, formation_cycles: int,
             prior: AnyPrior | None, noise_sd: float) -> tuple[np.ndarray, np.ndarray, int]:
    cycles, capacity = cell.fitted(fit_cycles, formation_cycles)
    scale, sse = profiled_sse(library.at(cycles), capacity)
    d2 = None
    likelihood_sd = noise_sd
    if isinstance(prior, FleetKernelPrior):
        d2 = prior.mahalanobis2(library.values, cell.meta)
        likelihood_sd = noise_sd * prior.likelihood_scale
    elif prior is not None:
        covariates = covariates_from_meta(cell.meta, prior.covariates) if prior.covariates else None
        d2 = prior.mahalanobis2(library.values, covariates)
    return posterior_weights(sse, likelihood_sd, d2), scale, int(cycles.max())


def forecast_cell(library: SimulationLibrary, cell: Cell, fit_cycles: int, formation_cycles: int,
                  prior: AnyPrior | None, noise_sd: float, discrepancy_per_cycle: float) -> CellForecast:
    """Posterior-weighted mixture forecast of `cell` from its cycles <= fit_cycles."""
    weights, scale, last = _mixture(library, cell, fit_cycles, formation_cycles, prior, noise_sd)
    cycles = np.arange(1, library.horizon + 1)
    means = scale[:, None] * library.retention
    sd = predictive_sd(cycles, last, noise_sd, discrepancy_per_cycle)
    p10, p50, p90 = mixture_quantiles(means, weights, sd)
    return CellForecast(cycles, p10, p50, p90, weights, scale, last, sd)


def coverage_of(library: SimulationLibrary, cell: Cell, fit_cycles: int, formation_cycles: int,
                prior: AnyPrior | None, noise_sd: float, grid: Sequence[float]) -> np.ndarray:
    """For each discrepancy value of `grid`: whether each unseen point of `cell` lies
    within the P10-P90 band (len(grid) x unseen points, booleans)."""
    weights, scale, last = _mixture(library, cell, fit_cycles, formation_cycles, prior, noise_sd)
    cycles, capacity = cell.unseen(fit_cycles)
    inside = cycles <= library.horizon
    cycles, capacity = cycles[inside], capacity[inside]
    means = scale[:, None] * library.at(cycles)
    out = np.empty((len(grid), len(cycles)), dtype=bool)
    for g, k in enumerate(grid):
        cdf = mixture_cdf(means, weights, predictive_sd(cycles, last, noise_sd, k), capacity)
        out[g] = (cdf >= 0.1) & (cdf <= 0.9)
    return out


def tune_discrepancy(library: SimulationLibrary, cells: Sequence[Cell], fits: Mapping[str, FleetFit],
                     fit_cycles: int, formation_cycles: int, log: Sequence[bool], use_prior: bool,
                     covariate_names: Sequence[str] = (), learn: Learner = learn_prior,
                     grid: Sequence[float] = DISCREPANCY_GRID,
                     builder: Callable[[Sequence[FleetFit]], AnyPrior] | None = None) -> float:
    """Smallest k of `grid` whose inner leave-one-out P10-P90 coverage over `cells`
    (all training cells of a fold) reaches TARGET_COVERAGE (else the largest k).
    `builder` (the fits of the other cells -> a prior) replaces the Gaussian prior."""
    hits = []
    metas = {c.cell_id: c.meta for c in cells}
    for cell in cells:
        if not cell.eligible(fit_cycles, formation_cycles):
            continue
        others = [fits[c.cell_id] for c in cells if c.cell_id != cell.cell_id]
        noise = pooled_noise(others)
        if builder is not None:
            prior = builder(others)
        else:
            prior = prior_from_fits(others, library, log, covariate_names, metas, learn) if use_prior else None
        hits.append(coverage_of(library, cell, fit_cycles, formation_cycles, prior, noise, grid))
    if not hits:
        return float(grid[-1])
    coverage = np.concatenate(hits, axis=1).mean(axis=1)
    reached = np.flatnonzero(coverage >= TARGET_COVERAGE)
    return float(grid[reached[0]]) if len(reached) else float(grid[-1])


def eol_interval(cycles: np.ndarray, capacity: np.ndarray, threshold: float) -> tuple[int, int] | None:
    """(last measured cycle at or above, first measured cycle below) `threshold`; None
    when the data never fall below it."""
    below = np.flatnonzero(capacity < threshold)
    if not len(below):
        return None
    i = int(below[0])
    return (int(cycles[i - 1]) if i > 0 else 0), int(cycles[i])


def predicted_eol(cycles: np.ndarray, curve: np.ndarray, threshold: float) -> int | None:
    below = np.flatnonzero(curve < threshold)
    return int(cycles[below[0]]) if len(below) else None


def eol_error(predicted: int | None, interval: tuple[int, int], horizon: int) -> float:
    """Cycles from the predicted end of life to the measured interval (0 inside); a
    prediction that never reaches end of life counts as at the horizon."""
    value = horizon if predicted is None else predicted
    low, high = interval
    return float(max(low + 1 - value, value - high, 0))


def score_cell(cell: Cell, forecast: CellForecast, fit_cycles: int, formation_cycles: int,
               eol_fraction: float, horizon: int) -> dict[str, Any]:
    """The twin's and every baseline's scores on the unseen cycles of `cell`."""
    fit_n, fit_q = cell.fitted(fit_cycles, formation_cycles)
    unseen_n, unseen_q = cell.unseen(fit_cycles)
    inside = unseen_n <= horizon
    unseen_n, unseen_q = unseen_n[inside], unseen_q[inside]
    p10, p50, p90 = forecast.at(unseen_n)
    threshold = eol_fraction * float(fit_q[0])
    interval = eol_interval(cell.cycles[cell.cycles > formation_cycles], cell.capacity[cell.cycles > formation_cycles],
                            threshold)
    scored_eol = interval is not None and interval[1] > fit_cycles and float(fit_q[0]) >= MIN_EOL_CAPACITY
    grid = np.arange(1, horizon + 1)
    row: dict[str, Any] = {
        "cell_id": cell.cell_id, "fit_points": int(len(fit_n)), "unseen_points": int(len(unseen_n)),
        "last_cycle": int(cell.cycles.max()), "mae": {}, "eol_error": {},
        "coverage": float(np.mean((unseen_q >= p10) & (unseen_q <= p90))),
        "covered_points": int(np.sum((unseen_q >= p10) & (unseen_q <= p90))),
        "effective_members": forecast.effective_members,
        "measured_eol_interval": list(interval) if scored_eol else None,
    }
    row["mae"]["twin"] = float(np.mean(np.abs(p50 - unseen_q)))
    if scored_eol:
        row["eol_error"]["twin"] = eol_error(predicted_eol(grid, forecast.p50, threshold), interval, horizon)
    for name, fit in fit_baselines(fit_n, fit_q).items():
        row["mae"][name] = float(np.mean(np.abs(fit.predict(unseen_n) - unseen_q)))
        if scored_eol:
            row["eol_error"][name] = eol_error(predicted_eol(grid, fit.predict(grid), threshold), interval, horizon)
    return row


@dataclass(frozen=True)
class Variant:
    """A twin method: with or without a prior, with or without covariates; ``kind``
    "gaussian" (calibration.prior) or "fleet" (calibration.fleet_prior, its kernel
    width and likelihood scale tuned per fold over ``fleet_grid``)."""

    name: str
    use_prior: bool
    covariates: tuple[str, ...] = ()
    kind: str = "gaussian"
    fleet_grid: tuple[tuple[float, float], ...] = ()
    fleet_affinity: float = AFFINITY
    # when not empty, the affinity is chosen per fold among these (inner leave-one-out)
    fleet_affinities: tuple[float, ...] = ()


# (kernel width [latent units], likelihood scale): tuned per fold on training cells.
FLEET_GRID = tuple((h, s) for h in (0.3, 0.6) for s in (0.1, 0.2, 0.5))
# Affinity A of the electrolyte back-off, tuned per fold with the grid above: 0 (the
# electrolyte ignored), a mild back-off and the saturated one (fleet_prior.AFFINITY).
FLEET_AFFINITIES = (0.0, 3.0, AFFINITY)

VARIANTS = (Variant("twin-fleet", True, kind="fleet", fleet_grid=FLEET_GRID, fleet_affinities=FLEET_AFFINITIES),
            Variant("twin-fleet-no-covariates", True, kind="fleet", fleet_grid=FLEET_GRID, fleet_affinity=0.0),
            Variant("twin", True), Variant("twin-no-prior", False),
            Variant("twin-prior-covariates", True, ("log10_electrolyte_uL", "salt_conc_M", "lifsi_only")))
HEADLINE_VARIANT = "twin-fleet"


FleetLearner = Callable[..., FleetKernelPrior]


def fleet_prior_from_fits(fits: Sequence[FleetFit], library: SimulationLibrary, log: Sequence[bool],
                          metas: Mapping[str, Mapping[str, Any]], bandwidth: float, likelihood_scale: float,
                          discrepancy_per_cycle: float = 0.0, learn: FleetLearner = learn_fleet_prior,
                          affinity: float = AFFINITY) -> FleetKernelPrior:
    """A fleet prior learned from exactly these fits and their cells' metadata."""
    ids = [f.cell_id for f in fits]
    return learn(np.vstack([f.values for f in fits]), ids, [metas.get(i, {}) for i in ids], library.names, log,
                 pooled_noise(fits), bandwidth, likelihood_scale, discrepancy_per_cycle, affinity)


def fleet_errors(library: SimulationLibrary, cells: Sequence[Cell], fits: Mapping[str, FleetFit], fit_cycles: int,
                 formation_cycles: int, log: Sequence[bool], grid: Sequence[tuple[float, float, float]],
                 learn: FleetLearner = learn_fleet_prior) -> np.ndarray:
    """Inner leave-one-out error of each (kernel width, likelihood scale, affinity) of
    `grid`: the sum over the eligible cells of `cells` (the training cells of a fold)
    of the MAE of their P50 on their unseen cycles, each inner forecast's prior
    learned without its cell."""
    metas = {c.cell_id: c.meta for c in cells}
    errors = np.zeros(len(grid))
    for cell in cells:
        if not cell.eligible(fit_cycles, formation_cycles):
            continue
        others = [fits[c.cell_id] for c in cells if c.cell_id != cell.cell_id]
        noise = pooled_noise(others)
        cycles, capacity = cell.unseen(fit_cycles)
        inside = cycles <= library.horizon
        cycles, capacity = cycles[inside], capacity[inside]
        for g, (bandwidth, scale, affinity) in enumerate(grid):
            prior = fleet_prior_from_fits(others, library, log, metas, bandwidth, scale, learn=learn,
                                          affinity=affinity)
            weights, fitted_scale, last = _mixture(library, cell, fit_cycles, formation_cycles, prior, noise)
            means = fitted_scale[:, None] * library.at(cycles)
            p50 = mixture_quantiles(means, weights, predictive_sd(cycles, last, noise, 0.0), (0.5,))[0]
            errors[g] += float(np.mean(np.abs(p50 - capacity)))
    return errors


def tune_fleet_settings(library: SimulationLibrary, cells: Sequence[Cell], fits: Mapping[str, FleetFit],
                        fit_cycles: int, formation_cycles: int, log: Sequence[bool],
                        grid: Sequence[tuple[float, float]], affinities: Sequence[float] = (AFFINITY,),
                        learn: FleetLearner = learn_fleet_prior) -> tuple[float, float, float]:
    """The (kernel width, likelihood scale, affinity) of `grid` x `affinities` whose
    inner leave-one-out P50 has the lowest mean MAE on the unseen cycles of `cells`
    (fleet_errors; ties: the first in grid order, affinities outermost)."""
    full = [(h, s, a) for a in affinities for h, s in grid]
    best = full[int(np.argmin(fleet_errors(library, cells, fits, fit_cycles, formation_cycles, log, full, learn)))]
    return float(best[0]), float(best[1]), float(best[2])


def cross_validate(library: SimulationLibrary, cells: Sequence[Cell], fits: Mapping[str, FleetFit],
                   fit_cycles: int, formation_cycles: int, log: Sequence[bool], eol_fraction: float,
                   variant: Variant, learn: Learner = learn_prior,
                   learn_fleet: FleetLearner = learn_fleet_prior) -> list[dict[str, Any]]:
    """Leave-one-cell-out over the cells eligible at `fit_cycles`; the rows of score_cell
    plus the fold's learned settings. Training cells are every other cell of `cells`
    (eligible or not: a finished cell teaches the prior whatever its early points)."""
    rows = []
    for test in cells:
        if not test.eligible(fit_cycles, formation_cycles):
            continue
        training = [c for c in cells if c.cell_id != test.cell_id]
        training_fits = [fits[c.cell_id] for c in training]
        assert all(f.cell_id != test.cell_id for f in training_fits)
        metas = {c.cell_id: c.meta for c in training}
        noise = pooled_noise(training_fits)
        settings: dict[str, Any] = {}
        if variant.kind == "fleet":
            bandwidth, scale, affinity = tune_fleet_settings(
                library, training, fits, fit_cycles, formation_cycles, log, variant.fleet_grid,
                variant.fleet_affinities or (variant.fleet_affinity,), learn_fleet)

            def builder(others: Sequence[FleetFit]) -> FleetKernelPrior:
                return fleet_prior_from_fits(others, library, log, metas, bandwidth, scale, learn=learn_fleet,
                                             affinity=affinity)

            k = tune_discrepancy(library, training, fits, fit_cycles, formation_cycles, log, True, builder=builder)
            prior = fleet_prior_from_fits(training_fits, library, log, metas, bandwidth, scale, k, learn_fleet,
                                          affinity)
            if test.cell_id in prior.cells:
                raise AssertionError(f"cell {test.cell_id} leaked into its own prior")
            settings = {"bandwidth": bandwidth, "likelihood_scale": scale, "affinity": affinity}
            forecast = forecast_cell(library, test, fit_cycles, formation_cycles, prior, noise, k)
            row = score_cell(test, forecast, fit_cycles, formation_cycles, eol_fraction, library.horizon)
            row.update({"noise_sd": noise, "discrepancy_per_cycle": k, "fleet": settings,
                        "band": {"p10": forecast.p10.tolist(), "p50": forecast.p50.tolist(),
                                 "p90": forecast.p90.tolist()}})
            rows.append(row)
            continue
        k = tune_discrepancy(library, training, fits, fit_cycles, formation_cycles, log, variant.use_prior,
                             variant.covariates, learn)
        prior = None
        if variant.use_prior:
            prior = prior_from_fits(training_fits, library, log, variant.covariates, metas, learn, k)
            if test.cell_id in prior.cells:
                raise AssertionError(f"cell {test.cell_id} leaked into its own prior")
        forecast = forecast_cell(library, test, fit_cycles, formation_cycles, prior, noise, k)
        row = score_cell(test, forecast, fit_cycles, formation_cycles, eol_fraction, library.horizon)
        row.update({"noise_sd": noise, "discrepancy_per_cycle": k,
                    "band": {"p10": forecast.p10.tolist(), "p50": forecast.p50.tolist(),
                             "p90": forecast.p90.tolist()}})
        rows.append(row)
    return rows


__all__ = ["Cell", "CellForecast", "FLEET_AFFINITIES", "FLEET_GRID", "FleetFit", "HEADLINE_VARIANT", "VARIANTS",
           "Variant", "cross_validate", "fleet_errors", "fleet_fit", "fleet_prior_from_fits", "forecast_cell",
           "pooled_noise", "prior_from_fits", "score_cell", "tune_discrepancy", "tune_fleet_settings"]
