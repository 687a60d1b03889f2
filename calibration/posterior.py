"""Posterior weights over candidate twin curves and the predictive band they give.

The uncertainty method, and why:

* Parameter uncertainty: a weighted ensemble of candidate parameter sets (the
  Sobol points of a simulation library, or optuna's trials), each weighted by its
  posterior probability w_i ~ exp(-SSE_i / (2 sigma^2) - d_i^2 / 2), where SSE_i is
  the sum of squared errors of normalized capacity on the fitted cycles (capacity
  scale profiled), sigma the measurement-and-model noise and d_i^2 the squared
  Mahalanobis distance of the set from the population prior (0 without a prior).
  With a space-filling library this is self-normalised importance sampling from the
  uniform (log-)box the recipe searches; no MCMC chain (thousands of twin solves)
  and no Laplace approximation (the posterior of 3-5 points over 4 parameters is
  far from Gaussian: ridges where SEI rate and passivation trade off).
* Measurement-and-model noise: sigma is not estimated from the cell's own 2-5
  fitted points (a profiled scale plus four parameters leave no residual degrees of
  freedom); it is the residual RMS of full-life fits of the fleet the prior was
  learned from (calibration.prior ``noise_sd``).
* Extrapolation error: the twin's structural error grows with the distance from the
  last fitted cycle, so the predictive standard deviation of each member at cycle n
  is sqrt(sigma^2 + (k (n - n_fit))^2), with k (``discrepancy_per_cycle``) learned on
  training cells only so that their P10-P90 band holds 80 % of their unseen points.

The forecast is the mixture of N(s_i r_i(n), sd(n)^2) over members: P50 is its
median, P10-P90 its 10th-90th percentiles (clipped at 0 capacity).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from twin.calibration.objective import CAPACITY_SCALE_BOUNDS

QUANTILES = (0.1, 0.5, 0.9)
# Members whose weight is below this fraction of the largest are left out of the
# mixture (they cannot move a quantile by a visible amount; keeps the band cheap).
NEGLIGIBLE_WEIGHT = 1e-6


def profiled_sse(retention: np.ndarray, measured: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares capacity scale of each member (rows of `retention`, N x m, at the
    m fitted cycles) and its sum of squared errors against `measured` (m)."""
    denominator = np.einsum("ij,ij->i", retention, retention)
    scale = np.where(denominator > 0, retention @ measured / np.where(denominator > 0, denominator, 1.0), 1.0)
    scale = np.clip(scale, *CAPACITY_SCALE_BOUNDS)
    residual = scale[:, None] * retention - measured[None, :]
    return scale, np.sum(residual ** 2, axis=1)


def posterior_weights(sse: np.ndarray, noise_sd: float, mahalanobis2: np.ndarray | None = None) -> np.ndarray:
    """Normalised weights exp(-SSE/(2 sigma^2) - d^2/2) (see module docstring)."""
    log_w = -np.asarray(sse, dtype=float) / (2.0 * noise_sd ** 2)
    if mahalanobis2 is not None:
        log_w = log_w - 0.5 * np.asarray(mahalanobis2, dtype=float)
    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    log_w -= np.max(log_w)
    w = np.exp(log_w)
    return w / w.sum()


def effective_size(weights: np.ndarray) -> float:
    """Kish effective sample size 1 / sum w^2 of normalised weights."""
    return float(1.0 / np.sum(np.asarray(weights) ** 2))


def predictive_sd(cycles: np.ndarray, last_fit_cycle: int, noise_sd: float,
                  discrepancy_per_cycle: float) -> np.ndarray:
    """sqrt(sigma^2 + (k max(n - n_fit, 0))^2) at each cycle [normalized capacity]."""
    distance = np.maximum(np.asarray(cycles, dtype=float) - last_fit_cycle, 0.0)
    return np.sqrt(noise_sd ** 2 + (discrepancy_per_cycle * distance) ** 2)


def _trim(means: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = weights >= NEGLIGIBLE_WEIGHT * weights.max()
    w = weights[keep]
    return means[keep], w / w.sum()


def mixture_cdf(means: np.ndarray, weights: np.ndarray, sd: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(Y <= y) per column of the mixture (means N x T, sd T, y T)."""
    means, weights = _trim(means, weights)
    return weights @ ndtr((np.asarray(y)[None, :] - means) / np.asarray(sd)[None, :])


def mixture_quantiles(means: np.ndarray, weights: np.ndarray, sd: np.ndarray,
                      quantiles: tuple[float, ...] = QUANTILES, iterations: int = 40) -> np.ndarray:
    """Quantiles (len(quantiles) x T) of the per-column mixture, by bisection (exact
    to (range) / 2^iterations), clipped at 0 (no negative capacity)."""
    means, weights = _trim(np.asarray(means, dtype=float), np.asarray(weights, dtype=float))
    sd = np.asarray(sd, dtype=float)
    out = np.empty((len(quantiles), means.shape[1]))
    for k, q in enumerate(quantiles):
        low = means.min(axis=0) - 6.0 * sd
        high = means.max(axis=0) + 6.0 * sd
        for _ in range(iterations):
            mid = 0.5 * (low + high)
            below = weights @ ndtr((mid[None, :] - means) / sd[None, :]) < q
            low = np.where(below, mid, low)
            high = np.where(below, high, mid)
        out[k] = 0.5 * (low + high)
    return np.clip(out, 0.0, None)


__all__ = ["QUANTILES", "effective_size", "mixture_cdf", "mixture_quantiles", "posterior_weights",
           "predictive_sd", "profiled_sse"]
