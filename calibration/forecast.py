"""Forecast the rest of a cell's life from a calibration, with an uncertainty band.

Why an ensemble of the best trials (and not posterior sampling): a posterior over
the fitted parameters by MCMC needs thousands of twin simulations (about a second
each), and the likelihood of a fade curve with a handful of measured points is
dominated by model error, not by the cycler's noise, so a formal posterior would
claim a confidence the model does not have. The optimiser has already evaluated the
loss at many parameter sets, concentrated by TPE/CMA-ES around the good region. The
members are the ``ensemble_size`` best trials with distinct parameters (fewer only
when fewer trials succeeded): parameter sets that explain the fitted cycles about
equally well but may diverge after them, which is exactly the uncertainty a user
must see when the data stop early (e.g. passivating SEI versus constant dead-Li
loss after 30 cycles). Members are not cut off at a loss threshold (a cut-off at
``ensemble_loss_ratio`` x the best often left a single member, a band of zero
width); instead each member is weighted: 1 within ``ensemble_loss_ratio`` x the
best loss, (ratio x best / loss)^2 beyond, so a poorer fit widens the band without
moving the median much. Each member is simulated to the end of life; the band is
the weighted 10th-90th percentile across members at every cycle, and the
end-of-life cycle is reported as the weighted P10/P50/P90 of the members'
end-of-life cycles (whole cycles: each quantile is one member's value). With few
members the band is a range of plausible fits, not a calibrated probability; more
trials give more members.

With a population prior (``twin calibrate --prior``, the default of recipes that
ship one) the trials are MAP fits and the band is the posterior's instead: members
weighted by their posterior probability, each widened by the fleet's noise growing
past the last fitted cycle (:func:`posterior_members`, calibration.posterior, where
the method is justified); cross-validated coverage: validation/real_cells.md.
Either way the band runs to the longest member: a member that stops earlier is
continued at its last fade ratio (:func:`extend_curve`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd

from twin.calibration.baseline import fit_geometric_baseline, mean_absolute_error
from twin.calibration.baselines import fit_baselines
from twin.calibration.objective import FitTarget, TwinModel, simulated_retention
from twin.calibration.posterior import mixture_quantiles, predictive_sd
from twin.calibration.prior import PopulationPrior
from twin.errors import SimulationError, TwinError
from twin.simulation import predict_cycle_life

QUANTILES = (0.1, 0.5, 0.9)
# With fast prediction, simulate down to this fraction of the first capacity so the
# curve covers the measured cycles after end of life too.
CURVE_FLOOR_FRACTION = 0.02
# Posterior members weighing less than this fraction of the best one are left out.
POSTERIOR_MIN_WEIGHT = 1e-3


@dataclass(frozen=True)
class Member:
    """One ensemble member: a finished trial and its fitted values."""

    trial_number: int
    loss: float
    params: dict[str, Any]
    capacity_scale: float
    weight: float = 1.0


@dataclass
class MemberCurve:
    """A member's simulated normalized capacity per cycle and its end-of-life cycle."""

    member: Member
    cycles: np.ndarray
    normalized_capacity: np.ndarray
    eol_cycle: int | None
    mode: str


@dataclass
class Forecast:
    """Band (P10/P50/P90 per cycle), end-of-life cycle quantiles and errors."""

    cycles: np.ndarray
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    eol_cycle_p10: int | None
    eol_cycle_p50: int | None
    eol_cycle_p90: int | None
    eol_fraction: float
    members: list[MemberCurve]
    mae_unseen: float | None = None
    baseline_mae_unseen: float | None = None
    unseen_cycles: int = 0
    baseline: dict[str, float] = field(default_factory=dict)
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)

    def at(self, cycles: Sequence[int] | np.ndarray) -> np.ndarray:
        """P50 at the given cycles (NaN outside the forecast)."""
        index = {int(c): i for i, c in enumerate(self.cycles)}
        return np.array([self.p50[index[int(c)]] if int(c) in index else np.nan for c in cycles])

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: end-of-life quantiles, errors and the band per cycle."""
        def number(value: float | None) -> float | None:
            return None if value is None or not math.isfinite(value) else float(value)

        return {
            "eol_fraction": self.eol_fraction,
            "eol_cycle_p10": None if self.eol_cycle_p10 is None else int(self.eol_cycle_p10),
            "eol_cycle_p50": None if self.eol_cycle_p50 is None else int(self.eol_cycle_p50),
            "eol_cycle_p90": None if self.eol_cycle_p90 is None else int(self.eol_cycle_p90),
            "mae_unseen": number(self.mae_unseen),
            "baseline_mae_unseen": number(self.baseline_mae_unseen),
            "unseen_cycles": self.unseen_cycles,
            "members": [{"trial": m.member.trial_number, "loss": m.member.loss, "weight": m.member.weight,
                         "eol_cycle": m.eol_cycle, "mode": m.mode} for m in self.members],
            "baseline": dict(self.baseline),
            "baselines": {k: dict(v) for k, v in self.baselines.items()},
            "cycles": [
                {"cycle": int(c), "p10": float(a), "p50": float(b), "p90": float(d)}
                for c, a, b, d in zip(self.cycles, self.p10, self.p50, self.p90, strict=True)
            ],
        }


def distinct_successful_trials(trials: Sequence[optuna.trial.FrozenTrial],
                               penalty: float) -> list[optuna.trial.FrozenTrial]:
    """Completed trials with a finite loss below `penalty`, best first, one per distinct
    parameter set (a repeated point adds no information to the ensemble)."""
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE and t.value is not None
            and math.isfinite(t.value) and t.value < penalty]
    done.sort(key=lambda t: (t.value, t.number))
    distinct: list[optuna.trial.FrozenTrial] = []
    seen: set[tuple] = set()
    for trial in done:
        key = tuple(sorted((k, round(float(v), 12) if isinstance(v, float) else v) for k, v in trial.params.items()))
        if key not in seen:
            seen.add(key)
            distinct.append(trial)
    return distinct


def select_members(trials: Sequence[optuna.trial.FrozenTrial], size: int, loss_ratio: float,
                   penalty: float) -> list[Member]:
    """The `size` best successful trials with distinct parameters, weighted 1 within
    `loss_ratio` x the best loss and (loss_ratio x best / loss)^2 beyond."""
    done = distinct_successful_trials(trials, penalty)
    if not done:
        return []
    limit = done[0].value * loss_ratio
    members: list[Member] = []
    for trial in done:
        weight = 1.0 if trial.value <= limit else (limit / trial.value) ** 2
        members.append(Member(trial.number, float(trial.value), dict(trial.params),
                              float(trial.user_attrs.get("capacity_scale", 1.0)), weight))
        if len(members) >= size:
            break
    return members


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest value whose cumulative weight reaches `q` of the total (inverted CDF:
    always one of the values; equal weights give numpy's "inverted_cdf")."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / np.sum(weights)
    index = int(np.searchsorted(cumulative, q - 1e-12, side="left"))
    return float(values[order[min(index, len(values) - 1)]])


def eol_cycle(cycles: np.ndarray, retention: np.ndarray, eol_fraction: float) -> int | None:
    """First cycle whose retention (capacity / first cycle's) is below `eol_fraction`."""
    below = np.flatnonzero(retention < eol_fraction)
    return int(cycles[below[0]]) if len(below) else None


def simulate_member(model: TwinModel, member: Member, horizon: int, eol_fraction: float,
                    max_cycles: int, mode: str = "auto") -> MemberCurve:
    """Simulate a member to `horizon` cycles and on to its end of life (<= max_cycles).

    mode "auto" uses the twin's fast prediction (cycle skipping) and
    falls back to every cycle with the full model if it fails.
    """
    design = model.cell_design(member.params)
    overrides = model.overrides(member.params)
    use_fast = mode in ("auto", "fast")
    summary: pd.DataFrame | None = None
    used = "full"
    if use_fast:
        try:
            prediction = predict_cycle_life(
                design, model.protocol, eol_fraction=CURVE_FLOOR_FRACTION, max_cycles=max(horizon, 2),
                cell_model=model.recipe.cell_model, options=model.recipe.options, overrides=overrides,
                mode="fast",
            )
            summary, used = prediction.cycles, "fast"
            retention = simulated_retention(summary, summary["cycle"].to_numpy())
            if eol_cycle(summary["cycle"].to_numpy(), retention, eol_fraction) is None and \
                    prediction.cycle_life is None and max_cycles > horizon:
                prediction = predict_cycle_life(
                    design, model.protocol, eol_fraction=eol_fraction, max_cycles=max_cycles,
                    cell_model=model.recipe.cell_model, options=model.recipe.options,
                    overrides=overrides, mode="fast",
                )
                summary = prediction.cycles
        except (TwinError, RuntimeError, ValueError):
            if mode == "fast":
                raise
            summary = None
    if summary is None:
        def reached(s: pd.DataFrame) -> bool:
            r = simulated_retention(s, s["cycle"].to_numpy())
            return len(s) >= horizon and eol_cycle(s["cycle"].to_numpy(), r, eol_fraction) is not None

        summary = model.run(member.params, max(max_cycles, horizon), stop=reached)
    cycles = np.arange(1, max(horizon, int(summary["cycle"].max()) if len(summary) else horizon) + 1)
    retention = simulated_retention(summary, cycles)
    simulated_to = int(summary["cycle"].max()) if len(summary) else 0
    life = eol_cycle(cycles[:simulated_to], retention[:simulated_to], eol_fraction)
    if life is None and simulated_to < len(cycles):
        life = simulated_to + 1  # the cell could not complete the next cycle
    return MemberCurve(member, cycles, member.capacity_scale * retention, life, used)


def extend_curve(capacity: np.ndarray, length: int) -> np.ndarray:
    """`capacity` (per cycle from cycle 1) continued to `length` cycles.

    A member stops simulating once it has reached its end of life (or the horizon);
    past that the band still needs it, or the band would stop at the shortest
    member. It is continued at its last simulated per-cycle fade ratio (capped at
    1: no capacity gain), the constant-CE extrapolation of its own last cycle; a
    member that could no longer cycle (capacity 0) stays at 0.
    """
    capacity = np.asarray(capacity, dtype=float)
    if len(capacity) >= length:
        return capacity[:length]
    if len(capacity) == 0:
        return np.zeros(length)
    last = capacity[-1]
    ratio = capacity[-1] / capacity[-2] if len(capacity) >= 2 and capacity[-2] > 0 else 1.0
    ratio = float(min(max(ratio, 0.0), 1.0))
    steps = np.arange(1, length - len(capacity) + 1, dtype=float)
    return np.concatenate([capacity, last * ratio ** steps])


def build_forecast(curves: Sequence[MemberCurve], eol_fraction: float, max_cycles: int,
                   band: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, ...]] | None = None,
                   ) -> Forecast:
    """Weighted band across member curves, to the longest member (members that stop
    earlier are continued by :func:`extend_curve`), so the band always reaches the
    end of life of the longest-lived member or the horizon. `band(cycles, stack,
    weights)` replaces the weighted member quantiles (e.g. a posterior mixture with
    a noise model, calibration.posterior)."""
    if not curves:
        raise ValueError("no ensemble member to forecast with")
    longest = max(curves, key=lambda c: len(c.cycles))
    length = len(longest.cycles)
    stack = np.vstack([extend_curve(c.normalized_capacity, length) for c in curves])
    weights = np.array([c.member.weight for c in curves], dtype=float)
    cycles = longest.cycles[:length]
    if band is not None:
        p10, p50, p90 = band(cycles, stack, weights)
    else:
        p10, p50, p90 = (np.array([weighted_quantile(stack[:, j], weights, q) for j in range(length)])
                         for q in QUANTILES)
    e10, e50, e90 = band_eol_quantiles(cycles, p10, p50, p90, eol_fraction, max_cycles)
    if e90 is None and length < max_cycles:
        # the upper band has not crossed yet where the longest member stops: follow the
        # same band (members continued, extend_curve) on to max_cycles for the EOL only
        longer = np.arange(1, max_cycles + 1)
        stack = np.vstack([extend_curve(c.normalized_capacity, max_cycles) for c in curves])
        if band is not None:
            q10, q50, q90 = band(longer, stack, weights)
        else:
            q10, q50, q90 = (np.array([weighted_quantile(stack[:, j], weights, q) for j in range(max_cycles)])
                             for q in QUANTILES)
        e10, e50, e90 = band_eol_quantiles(longer, q10, q50, q90, eol_fraction, max_cycles, float(p50[0]))
    return Forecast(cycles, p10, p50, p90, e10, e50, e90, eol_fraction, list(curves))


def band_eol_quantiles(cycles: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray,
                       eol_fraction: float, max_cycles: int, first_capacity: float | None = None,
                       ) -> tuple[int | None, int | None, int | None]:
    """End-of-life P10/P50/P90 [cycle] from the band itself: the first cycle where the
    band's P10, P50, P90 fall below `eol_fraction` of the P50 at the first cycle
    (`first_capacity` [normalized capacity] when given).

    Why from the band: with monotone fading curves, P(end of life <= n) = P(Q(n) <
    threshold), and the band's P10 at n falls below the threshold exactly when that
    probability exceeds 10 %. So the EOL quantiles carry the same parameter-plus-noise
    uncertainty as the band (never one point when the band has width), not only the
    spread of the ensemble members' own end-of-life cycles. None: not reached by
    `max_cycles` (or within the band)."""
    threshold = eol_fraction * (float(p50[0]) if first_capacity is None else first_capacity)
    out: list[int | None] = []
    for curve in (p10, p50, p90):
        below = np.flatnonzero(np.asarray(curve) < threshold)
        value = int(cycles[below[0]]) if len(below) else None
        out.append(None if value is None or value > max_cycles else value)
    return out[0], out[1], out[2]


def score_unseen(forecast: Forecast, fitted: FitTarget, unseen: FitTarget | None,
                 formation_cycles: int = 0) -> None:
    """MAE of the P50 forecast and of the baselines on the unseen cycles. The baselines
    are fitted to exactly the cycles the twin fits (after `formation_cycles`);
    ``baseline``/``baseline_mae_unseen`` stay the geometric one (the JSON contract),
    ``baselines`` holds every empirical model of calibration.baselines."""
    keep = fitted.cycles > formation_cycles
    cycles, capacity = fitted.cycles[keep], fitted.normalized_capacity[keep]
    try:
        geometric = fit_geometric_baseline(cycles, capacity)
        forecast.baseline = {"first_cycle_capacity": geometric.first_cycle_capacity, "ce": geometric.ce}
    except ValueError:
        geometric = None
    fits = fit_baselines(cycles, capacity)
    forecast.baselines = {name: fit.to_dict() for name, fit in fits.items()}
    if unseen is None or len(unseen.cycles) == 0:
        return
    forecast.unseen_cycles = int(len(unseen.cycles))
    forecast.mae_unseen = mean_absolute_error(forecast.at(unseen.cycles), unseen.normalized_capacity)
    if geometric is not None:
        forecast.baseline_mae_unseen = mean_absolute_error(
            geometric.predict(unseen.cycles), unseen.normalized_capacity)
    for name, fit in fits.items():
        forecast.baselines[name]["mae_unseen"] = mean_absolute_error(fit.predict(unseen.cycles),
                                                                     unseen.normalized_capacity)


def posterior_members(trials: Sequence[optuna.trial.FrozenTrial], size: int, penalty: float, fit_points: int,
                      noise_sd: float) -> list[Member]:
    """Members weighted by their posterior probability under a prior (MAP trials).

    A trial's value is the MAP loss L = sqrt((SSE + sigma^2 d^2) / n) (calibration.
    objective), so its posterior weight relative to the best is
    exp(-n (L^2 - L_best^2) / (2 sigma^2)) (calibration.posterior); members below
    POSTERIOR_MIN_WEIGHT of the best are left out (they cannot move the band)."""
    done = distinct_successful_trials(trials, penalty)
    members: list[Member] = []
    for trial in done:
        weight = math.exp(-fit_points * (trial.value ** 2 - done[0].value ** 2) / (2.0 * noise_sd ** 2))
        if weight < POSTERIOR_MIN_WEIGHT:
            break
        members.append(Member(trial.number, float(trial.value), dict(trial.params),
                              float(trial.user_attrs.get("capacity_scale", 1.0)), weight))
        if len(members) >= size:
            break
    return members


def no_trial_message(trials: Sequence[optuna.trial.FrozenTrial]) -> str:
    """Why no trial can forecast: the most common recorded failure, not a generic line."""
    from collections import Counter

    failures = Counter(str(t.user_attrs.get("failure", "")) for t in trials if t.user_attrs.get("failure"))
    states = Counter(t.state.name.lower() for t in trials)
    if not trials:
        return "no trial ran (the study is empty): nothing to forecast with"
    if failures:
        cause, count = failures.most_common(1)[0]
        others = f"; {len(failures) - 1} other kind(s) of failure" if len(failures) > 1 else ""
        return (f"no trial could run: {count} of {len(trials)} trials failed with {cause}{others} "
                "(check the recipe's design and protocol against the data)")
    summary = ", ".join(f"{n} {state}" for state, n in states.items())
    return f"no trial finished with a usable fit ({summary}): nothing to forecast with"


def forecast_from_trials(model: TwinModel, trials: Sequence[optuna.trial.FrozenTrial], fitted: FitTarget,
                         unseen: FitTarget | None, penalty: float, mode: str = "auto",
                         prior: PopulationPrior | None = None, fit_points: int | None = None,
                         last_fit_cycle: int | None = None) -> Forecast:
    """Select members, simulate them, build the band and score the unseen cycles.

    Without a prior: the weighted ensemble of the best trials (module docstring).
    With a prior (MAP trials): posterior-weighted members and the predictive band of
    calibration.posterior: the mixture of the members' curves with the fleet's noise
    ``prior.noise_sd`` growing by ``prior.discrepancy_per_cycle`` per cycle after the
    last fitted cycle."""
    settings = model.recipe.fit
    if prior is not None:
        # weighted with the fleet's noise, as the band: a fleet prior's smaller likelihood
        # sd (its likelihood scale) would leave one member of a few dozen trials
        members = posterior_members(trials, 2 * settings.ensemble_size, penalty,
                                    fit_points or len(fitted.cycles), prior.noise_sd)
    else:
        members = select_members(trials, settings.ensemble_size, settings.ensemble_loss_ratio, penalty)
    if not members:
        raise SimulationError(no_trial_message(trials))
    horizon = max(fitted.last_cycle, unseen.last_cycle if unseen is not None and len(unseen.cycles) else 0)
    curves = [simulate_member(model, m, horizon, settings.eol_fraction, settings.forecast_max_cycles, mode)
              for m in members]
    band = None
    if prior is not None:
        last = last_fit_cycle or fitted.last_cycle

        def band(cycles: np.ndarray, stack: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, ...]:
            sd = predictive_sd(cycles, last, prior.noise_sd, prior.discrepancy_per_cycle)
            return tuple(mixture_quantiles(stack, weights / weights.sum(), sd))

    forecast = build_forecast(curves, settings.eol_fraction, settings.forecast_max_cycles, band)
    score_unseen(forecast, fitted, unseen, settings.formation_cycles)
    return forecast
