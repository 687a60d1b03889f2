"""The simplest capacity-fade forecast: a constant Coulombic efficiency.

If every cycle keeps the same fraction CE of the capacity it starts with,
capacity is geometric in the cycle number::

    Q_n = Q_1 * CE ** (n - 1)

Any physics-based forecast of the twin has to beat this baseline on unseen cycles
to be worth its cost. Pure numpy; capacity in any unit (mAh, or a normalized
capacity) as long as it is one unit throughout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ArrayLike = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class GeometricFit:
    """Q_n = first_cycle_capacity * ce ** (n - 1), fitted to measured cycles.

    ``first_cycle_capacity``: Q_1 of the fit, in the unit of the fitted capacity.
    ``ce``: capacity retained per cycle [-] (the constant Coulombic efficiency of
    the baseline). ``points``: how many (cycle, capacity) pairs the fit used.
    """

    first_cycle_capacity: float
    ce: float
    points: int

    def predict(self, cycles: ArrayLike) -> np.ndarray:
        """Capacity at each cycle number (same unit as the fitted capacity)."""
        n = np.asarray(cycles, dtype=float)
        return self.first_cycle_capacity * self.ce ** (n - 1.0)

    def cycles_to_fraction(self, fraction: float) -> float:
        """Cycle number (not rounded) at which capacity falls to ``fraction`` * Q_1.

        n = 1 + ln(fraction) / ln(ce); ``inf`` when ce >= 1 (no fade).
        ``fraction`` must be in (0, 1), e.g. 0.8 for the usual end of life.
        """
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction must be in (0, 1) (got {fraction!r})")
        if self.ce >= 1.0:
            return math.inf
        return 1.0 + math.log(fraction) / math.log(self.ce)


def fit_geometric_baseline(cycles: ArrayLike, capacity: ArrayLike) -> GeometricFit:
    """Fit Q_n = Q_1 * CE^(n-1) by linear least squares on log capacity.

    ln Q_n = ln Q_1 + (n - 1) ln CE is a straight line in n, so the fit is a
    closed-form linear regression: unique, no starting guess, no iterations, and
    exact on exact geometric data. Fitting the logarithm weights every cycle by
    its *relative* error, which suits multiplicative fade (each cycle loses a
    fraction of what is left) and keeps the first, large capacities from
    dominating; a least-squares fit on capacity itself would need a nonlinear
    solver and would all but ignore the late, small capacities that carry the
    fade rate.

    ``cycles``: cycle numbers (1-based). ``capacity``: capacity at those cycles,
    any positive unit. Pairs with a NaN, or a capacity <= 0 (no logarithm: a zero
    is a missing measurement in the lab files), are left out. Raises ValueError
    when fewer than two pairs at different cycles remain.
    """
    n = np.asarray(cycles, dtype=float).ravel()
    q = np.asarray(capacity, dtype=float).ravel()
    if n.shape != q.shape:
        raise ValueError(f"cycles and capacity must have one length (got {n.size} and {q.size})")
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(n) & np.isfinite(q) & (q > 0)
    n, q = n[usable], q[usable]
    if n.size < 2 or np.ptp(n) == 0:
        raise ValueError(
            f"a geometric fit needs capacities > 0 at two or more different cycles (got {n.size} usable points)"
        )
    slope, intercept = np.polyfit(n - 1.0, np.log(q), 1)
    return GeometricFit(first_cycle_capacity=float(np.exp(intercept)), ce=float(np.exp(slope)), points=int(n.size))


def mean_absolute_error(a: ArrayLike, b: ArrayLike) -> float:
    """Mean of |a - b| over the positions where neither is NaN; NaN if there are none."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"a and b must have one shape (got {x.shape} and {y.shape})")
    both = ~(np.isnan(x) | np.isnan(y))
    if not both.any():
        return math.nan
    return float(np.mean(np.abs(x[both] - y[both])))


__all__ = ["GeometricFit", "fit_geometric_baseline", "mean_absolute_error"]
