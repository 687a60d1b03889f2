"""Nonparametric population prior: the fleet's own fits, closest electrolytes first.

Why not only the Gaussian of calibration.prior: the four fitted rates of the
anode-free recipe are sloppy (SEI rate, passivation thickness and surface growth
trade off), so a Gaussian over ~40 fits is a wide blob that contains accelerating and
decelerating fades alike; three early points cannot choose between them, and the
forecast falls back on a constant-CE-like curve (measured: no better than the
geometric baseline). The fleet's fits themselves carry more: which combinations
occur, and in which electrolytes.

The prior density of a parameter set theta for a cell c is a kernel mixture over the
training cells j (their full-life fits theta_j, latent: log10 where log-scaled):

    p(theta | c) ~ sum_j a_j(c) N(theta; theta_j, h^2 I),
    a_j(c) = exp(A (same salt concentration(c, j) + same solvent(c, j)))

``h`` [latent units, decades for log parameters] is the kernel width. The affinity A
is large (AFFINITY: a replicate or sibling electrolyte outweighs the rest of the fleet
by e^A): the prior backs off from cells of the same solvent and concentration (the
data file's replicates), to the same solvent or the same concentration, to the whole
fleet when the cell's electrolyte is new. Cross-validation (experiments/validate_cv.py)
measured the back-off saturated: A = 8 and A = 20 forecast the same, A = 4 worse.

``likelihood_scale`` multiplies the noise sd in the likelihood only (calibration.
posterior): below 1 the cell's own points weigh more against the prior. It and ``h``
are tuned per fold on training cells only (calibration.crossval). The band keeps the
fleet's noise ``noise_sd`` and growth ``discrepancy_per_cycle``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import logsumexp

from twin.calibration.prior import PriorError

AFFINITY = 10.0
# What of a cell's metadata makes two electrolytes "the same" for the back-off.
GROUP_KEYS = ("salt_conc_M", "solvent_smiles")


def group_of(meta: Mapping[str, Any]) -> tuple[Any, ...]:
    """The electrolyte descriptors of a cell (None where the data file does not say)."""
    return tuple(meta.get(key) for key in GROUP_KEYS)


@dataclass
class FleetKernelPrior:
    """Kernel mixture over training cells' fitted parameters (module docstring).

    ``points``: N x P latent fits (log10 where ``log``), one row per id of ``cells``;
    ``groups``: each cell's electrolyte descriptors (group_of); ``bandwidth`` h;
    ``noise_sd`` [normalized capacity]; ``discrepancy_per_cycle`` [normalized
    capacity per cycle]; ``likelihood_scale`` (dimensionless)."""

    names: list[str]
    log: list[bool]
    points: np.ndarray
    cells: list[str]
    groups: list[tuple[Any, ...]]
    noise_sd: float
    bandwidth: float = 0.3
    likelihood_scale: float = 1.0
    discrepancy_per_cycle: float = 0.0
    affinity: float = AFFINITY
    covariates: list[str] = field(default_factory=list)  # none: the groups play that role

    def __post_init__(self) -> None:
        self.points = np.atleast_2d(np.asarray(self.points, dtype=float))
        if self.points.shape != (len(self.cells), len(self.names)):
            raise PriorError(f"fleet prior: {self.points.shape[0]} fits for {len(self.cells)} cells")
        if len(set(self.cells)) != len(self.cells):
            raise PriorError("a cell appears twice among the fits a prior is learned from")
        if len(self.groups) != len(self.cells):
            raise PriorError(f"fleet prior: {len(self.groups)} electrolyte groups for {len(self.cells)} cells")
        if not (self.bandwidth > 0 and self.noise_sd > 0 and self.likelihood_scale > 0):
            raise PriorError("fleet prior: bandwidth, noise_sd and likelihood_scale must be > 0")

    def latent(self, values: np.ndarray) -> np.ndarray:
        values = np.atleast_2d(np.asarray(values, dtype=float))
        out = values.copy()
        for j, is_log in enumerate(self.log):
            if is_log:
                out[:, j] = np.log10(np.maximum(values[:, j], 1e-300))
        return out

    def cell_weights(self, meta: Mapping[str, Any]) -> np.ndarray:
        """Normalised weight a_j of each training cell for a cell with this metadata."""
        group = group_of(meta)
        same = np.array([sum(g is not None and g == h for g, h in zip(group, other, strict=True))
                         for other in self.groups], dtype=float)
        log_a = self.affinity * same
        return np.exp(log_a - logsumexp(log_a))

    def log_density(self, values: np.ndarray, meta: Mapping[str, Any]) -> np.ndarray:
        """log p(theta | cell) of each row of `values` (parameter values), up to a constant."""
        z = self.latent(values)
        d2 = np.sum((z[:, None, :] - self.points[None, :, :]) ** 2, axis=2) / self.bandwidth ** 2
        return logsumexp(-0.5 * d2 + np.log(self.cell_weights(meta))[None, :], axis=1)

    def mahalanobis2(self, values: np.ndarray, meta: Mapping[str, Any]) -> np.ndarray:
        """-2 log density: the term calibration.posterior adds to SSE / sigma^2."""
        return -2.0 * self.log_density(values, meta)


def learn_fleet_prior(values: np.ndarray, cells: Sequence[str], metas: Sequence[Mapping[str, Any]],
                      names: Sequence[str], log: Sequence[bool], noise_sd: float, bandwidth: float = 0.3,
                      likelihood_scale: float = 1.0, discrepancy_per_cycle: float = 0.0,
                      affinity: float = AFFINITY) -> FleetKernelPrior:
    """A fleet prior from one fitted parameter set per cell (rows of `values`, in
    ``names`` order) and each cell's metadata (its electrolyte); ``affinity`` 0: the
    electrolyte is ignored (every training cell weighs the same)."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    if values.shape[0] < 3:
        raise PriorError(f"a population prior needs fits of at least 3 cells (got {values.shape[0]})")
    latent = values.copy()
    for j, is_log in enumerate(log):
        if is_log:
            if np.any(values[:, j] <= 0):
                raise PriorError(f"parameter {names[j]!r} is log-scaled but a fit has a value <= 0")
            latent[:, j] = np.log10(values[:, j])
    return FleetKernelPrior(list(names), [bool(g) for g in log], latent, [str(c) for c in cells],
                            [group_of(m) for m in metas], float(noise_sd), float(bandwidth),
                            float(likelihood_scale), float(discrepancy_per_cycle), float(affinity))


__all__ = ["AFFINITY", "FleetKernelPrior", "GROUP_KEYS", "group_of", "learn_fleet_prior"]
