"""Empirical capacity-fade baselines that labs fit to early cycles.

A forecast from the twin is worth its cost only if it beats the curves an engineer
would fit to the same points. Each baseline here is fitted (linear least squares,
closed form, no starting guess) to exactly the cycles the twin fits (formation
cycles left out by the caller) and extrapolated:

* ``geometric``: constant Coulombic efficiency, ln Q = a + b n (calibration.baseline);
* ``linear``: constant loss per cycle, Q = a + b n;
* ``sqrt``: diffusion-limited (SEI-like) fade, Q = a + b sqrt(n);
* ``power``: Q = a n^b (ln Q linear in ln n);
* ``drifting-ce``: a CE that changes linearly with the cycle, ln Q = a + b n + c n^2
  (per-cycle ln CE = b + c (2n + 1)), needs three cycles; the CE is capped at 1 when
  extrapolated (a cell does not gain lithium).

Capacity is any positive unit (normalized here). A fade that extrapolates below zero
is clipped at 0 (no capacity left), never negative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from twin.calibration.baseline import fit_geometric_baseline

ArrayLike = Sequence[float] | np.ndarray
BASELINE_NAMES = ("geometric", "linear", "sqrt", "power", "drifting-ce")


@dataclass(frozen=True)
class EmpiricalFit:
    """A fitted baseline: ``name``, coefficients (model-specific, in the order of the
    module docstring's formula) and the number of fitted points."""

    name: str
    coefficients: tuple[float, ...]
    points: int
    _predict: Callable[[np.ndarray], np.ndarray]

    def predict(self, cycles: ArrayLike) -> np.ndarray:
        """Capacity at each cycle (the fitted unit), clipped at 0."""
        n = np.asarray(cycles, dtype=float)
        return np.clip(self._predict(n), 0.0, None)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "coefficients": [float(c) for c in self.coefficients], "points": self.points}


def _usable(cycles: ArrayLike, capacity: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(cycles, dtype=float).ravel()
    q = np.asarray(capacity, dtype=float).ravel()
    if n.shape != q.shape:
        raise ValueError(f"cycles and capacity must have one length (got {n.size} and {q.size})")
    keep = np.isfinite(n) & np.isfinite(q) & (q > 0) & (n >= 1)
    return n[keep], q[keep]


def _need(name: str, n: np.ndarray, points: int) -> None:
    if np.unique(n).size < points:
        raise ValueError(f"the {name} baseline needs capacities > 0 at {points} or more different cycles "
                         f"(got {np.unique(n).size})")


def fit_linear(cycles: ArrayLike, capacity: ArrayLike) -> EmpiricalFit:
    """Q = a + b n by least squares."""
    n, q = _usable(cycles, capacity)
    _need("linear", n, 2)
    b, a = np.polyfit(n, q, 1)
    return EmpiricalFit("linear", (float(a), float(b)), int(n.size), lambda x: a + b * x)


def fit_sqrt(cycles: ArrayLike, capacity: ArrayLike) -> EmpiricalFit:
    """Q = a + b sqrt(n) by least squares."""
    n, q = _usable(cycles, capacity)
    _need("sqrt", n, 2)
    b, a = np.polyfit(np.sqrt(n), q, 1)
    return EmpiricalFit("sqrt", (float(a), float(b)), int(n.size), lambda x: a + b * np.sqrt(x))


def fit_power(cycles: ArrayLike, capacity: ArrayLike) -> EmpiricalFit:
    """Q = a n^b by least squares on ln Q against ln n."""
    n, q = _usable(cycles, capacity)
    _need("power", n, 2)
    b, ln_a = np.polyfit(np.log(n), np.log(q), 1)
    return EmpiricalFit("power", (float(np.exp(ln_a)), float(b)), int(n.size),
                        lambda x: np.exp(ln_a) * np.power(np.maximum(x, 1.0), b))


def fit_geometric(cycles: ArrayLike, capacity: ArrayLike) -> EmpiricalFit:
    """Q = Q_1 CE^(n-1) (calibration.baseline.fit_geometric_baseline)."""
    n, q = _usable(cycles, capacity)
    _need("geometric", n, 2)
    fit = fit_geometric_baseline(n, q)
    return EmpiricalFit("geometric", (fit.first_cycle_capacity, fit.ce), fit.points, fit.predict)


def fit_drifting_ce(cycles: ArrayLike, capacity: ArrayLike) -> EmpiricalFit:
    """ln Q = a + b n + c n^2 (a CE drifting linearly with n); extrapolated one cycle
    at a time from the last fitted cycle with the per-cycle CE capped at 1."""
    n, q = _usable(cycles, capacity)
    _need("drifting-ce", n, 3)
    c, b, a = np.polyfit(n, np.log(q), 2)
    last = float(n.max())

    def predict(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        inside = a + b * x + c * x * x
        top = int(np.ceil(max(float(x.max(initial=last)), last)))
        steps = np.arange(int(last), top + 1, dtype=float)
        # ln CE of the step k -> k+1, capped at 0 (CE <= 1)
        ln_ce = np.minimum(b + c * (2.0 * steps[:-1] + 1.0), 0.0)
        cumulative = np.concatenate([[a + b * last + c * last * last], a + b * last + c * last * last
                                     + np.cumsum(ln_ce)])
        beyond = np.interp(x, steps, cumulative)
        return np.exp(np.where(x > last, beyond, inside))

    return EmpiricalFit("drifting-ce", (float(a), float(b), float(c)), int(n.size), predict)


FITTERS: dict[str, Callable[[ArrayLike, ArrayLike], EmpiricalFit]] = {
    "geometric": fit_geometric, "linear": fit_linear, "sqrt": fit_sqrt, "power": fit_power,
    "drifting-ce": fit_drifting_ce,
}


def fit_baselines(cycles: ArrayLike, capacity: ArrayLike) -> dict[str, EmpiricalFit]:
    """Every baseline the points allow (drifting-ce needs 3 cycles), by name."""
    out: dict[str, EmpiricalFit] = {}
    for name, fitter in FITTERS.items():
        try:
            out[name] = fitter(cycles, capacity)
        except (ValueError, np.linalg.LinAlgError):
            continue
    return out


__all__ = ["BASELINE_NAMES", "EmpiricalFit", "fit_baselines", "fit_drifting_ce", "fit_geometric", "fit_linear",
           "fit_power", "fit_sqrt"]
