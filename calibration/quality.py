"""How good a calibration is: residual noise, a poor-fit flag, unidentifiable parameters.

``fit_quality`` is the block ``twin calibrate`` adds to its JSON. A parameter is
reported as not identified by the data when the trials that fit the data almost as
well as the best one (fit loss within DELTA_CHI2 / 2 nats of it, i.e. SSE within
DELTA_CHI2 x sigma^2, the likelihood-ratio interval of about 95 % for one parameter)
spread over at least UNIDENTIFIED_SPAN of the parameter's search range (in log10
for log-scaled parameters): the likelihood is flat along it, whatever the prior
or the optimiser then picked. Uses the fit loss without the prior (what the data
alone say).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna

from twin.calibration.prior import PopulationPrior
from twin.calibration.search_space import SearchSpace

# Noise of normalized capacity assumed without a prior (coin-cell fits of a twin
# typically leave 1-2 % RMS).
DEFAULT_NOISE_SD = 0.02
# A fit whose residual RMS exceeds this many noise levels does not describe the cell.
POOR_FIT_RATIO = 3.0
DELTA_CHI2 = 4.0
UNIDENTIFIED_SPAN = 0.5
# Fewer near-best trials than this cannot show a spread.
MIN_NEAR_TRIALS = 3


def _fit_loss(trial: optuna.trial.FrozenTrial) -> float | None:
    if trial.state != optuna.trial.TrialState.COMPLETE or trial.value is None:
        return None
    value = trial.user_attrs.get("fit_loss", trial.value)
    return float(value) if value is not None and math.isfinite(value) else None


def unidentified_parameters(trials: Sequence[optuna.trial.FrozenTrial], space: SearchSpace, fit_points: int,
                            noise_sd: float, penalty: float) -> list[str]:
    """Names of the parameters whose near-best trials span >= UNIDENTIFIED_SPAN of
    their range (see module docstring), and the design choices on which near-best
    trials disagree; [] when too few trials are near the best."""
    scored = [(loss, t) for t in trials if (loss := _fit_loss(t)) is not None and loss < penalty]
    if not scored:
        return []
    best_sse = fit_points * min(loss for loss, _ in scored) ** 2
    near = [t for loss, t in scored if fit_points * loss ** 2 <= best_sse + DELTA_CHI2 * noise_sd ** 2]
    if len(near) < MIN_NEAR_TRIALS:
        return []
    flat = _spread_parameters(space, {spec.name: [float(t.params[spec.name]) for t in near if spec.name in t.params]
                                      for spec in space.parameters})
    for choice in space.design_choices:  # e.g. N:P tried from a list: near-best fits disagree on it
        chosen = {t.params[choice.field] for t in near if choice.field in t.params}
        if len(chosen) >= 2:
            flat.append(choice.field)
    return flat


def unidentified_in_library(values: np.ndarray, names: Sequence[str], sse: np.ndarray, space: SearchSpace,
                            noise_sd: float) -> list[str]:
    """The same rule as unidentified_parameters over a library of simulated curves:
    members whose data SSE is within DELTA_CHI2 noise variances of the best are the
    near-best fits; a parameter they spread over >= UNIDENTIFIED_SPAN of its range
    (in the search space's unit scale) is one the data cannot identify."""
    near = np.flatnonzero(sse <= np.min(sse) + DELTA_CHI2 * noise_sd ** 2)
    if len(near) < MIN_NEAR_TRIALS:
        return []
    return _spread_parameters(space, {name: [float(v) for v in values[near, j]] for j, name in enumerate(names)})


def _spread_parameters(space: SearchSpace, near_values: dict[str, list[float]]) -> list[str]:
    """Parameters whose near-best values span >= UNIDENTIFIED_SPAN of their range (in
    the search space's unit scale), given at least MIN_NEAR_TRIALS values."""
    flat = []
    for spec in space.parameters:
        units = [spec.to_unit(v) for v in near_values.get(spec.name, [])]
        if len(units) >= MIN_NEAR_TRIALS and max(units) - min(units) >= UNIDENTIFIED_SPAN:
            flat.append(spec.name)
    return flat


def fit_quality(trials: Sequence[optuna.trial.FrozenTrial], best: optuna.trial.FrozenTrial, space: SearchSpace,
                fit_points: int, prior: PopulationPrior | None, penalty: float) -> dict[str, Any]:
    """The JSON ``fit_quality`` block: ``loss`` (the optimised value: MAP loss with a
    prior), ``fit_loss`` and ``residual_rms`` (RMS residual of normalized capacity of
    the best trial, without the prior), ``noise_sd`` (the expected noise: the prior's,
    else DEFAULT_NOISE_SD), ``poor_fit`` (residual > POOR_FIT_RATIO x noise),
    ``unidentified_parameters`` and, with a prior, ``prior_distance2``."""
    noise = prior.noise_sd if prior is not None else DEFAULT_NOISE_SD
    fit_loss = _fit_loss(best)
    residual = fit_loss if fit_loss is not None else math.inf
    block: dict[str, Any] = {
        "loss": float(best.value) if best.value is not None else None,
        "fit_loss": fit_loss,
        "residual_rms": fit_loss,
        "noise_sd": noise,
        "poor_fit": bool(not residual <= POOR_FIT_RATIO * noise),
        "poor_fit_threshold": POOR_FIT_RATIO * noise,
        "fit_points": fit_points,
        "unidentified_parameters": unidentified_parameters(trials, space, fit_points, noise, penalty),
    }
    if prior is not None:
        block["prior_distance2"] = best.user_attrs.get("prior_distance2")
    return block


def quality_notes(block: dict[str, Any]) -> list[str]:
    """Warning lines for people (also in the JSON's notes)."""
    notes = []
    if block["poor_fit"]:
        notes.append(f"warning: poor fit: residual RMS {block['residual_rms']:.3g} exceeds "
                     f"{block['poor_fit_threshold']:.3g} ({POOR_FIT_RATIO:g} x the expected noise); the twin "
                     "as configured does not describe these data (check the design options and the recipe)")
    if block["unidentified_parameters"]:
        notes.append("warning: the data cannot identify " + ", ".join(block["unidentified_parameters"])
                     + " (fits almost as good as the best span most of the search range: flat posterior)")
    return notes


__all__ = ["fit_quality", "quality_notes", "unidentified_in_library", "unidentified_parameters"]
