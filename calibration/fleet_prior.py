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

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import logsumexp

from twin.calibration.latent import to_latent
from twin.calibration.prior_errors import PriorError

FLEET_FORMAT = "twin-fleet-prior"
FLEET_VERSION = 1
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
    recipe: str = ""
    recipe_hash: str = ""
    fit_cycles: str = "all"
    source: str = ""

    def __post_init__(self) -> None:
        self.points = np.atleast_2d(np.asarray(self.points, dtype=float))
        if self.points.shape != (len(self.cells), len(self.names)):
            raise PriorError(f"fleet prior: {self.points.shape[0]} fits for {len(self.cells)} cells")
        if len(set(self.cells)) != len(self.cells):
            raise PriorError("a cell appears twice among the fits a prior is learned from")
        if len(self.groups) != len(self.cells):
            raise PriorError(f"fleet prior: {len(self.groups)} electrolyte groups for {len(self.cells)} cells")
        if not np.all(np.isfinite(self.points)):
            raise PriorError("fleet prior: a cell's fitted parameters are not finite numbers")
        scalars = {"bandwidth": self.bandwidth, "noise_sd": self.noise_sd,
                   "likelihood_scale": self.likelihood_scale}
        for name, value in scalars.items():
            if not (math.isfinite(float(value)) and value > 0):
                raise PriorError(f"fleet prior: {name} must be a finite number > 0, got {value}")
        if not (math.isfinite(float(self.discrepancy_per_cycle)) and self.discrepancy_per_cycle >= 0):
            raise PriorError(f"fleet prior: discrepancy_per_cycle must be a finite number >= 0, "
                             f"got {self.discrepancy_per_cycle}")
        if not math.isfinite(float(self.affinity)):
            raise PriorError(f"fleet prior: affinity must be a finite number, got {self.affinity}")

    def without_cell(self, cell_id: str) -> FleetKernelPrior:
        """The prior less its fit of `cell_id` (a cell is never part of its own prior:
        its full-life fit has seen the cycles the forecast is judged on). Unchanged when
        the cell is not among its fits, or is the only one."""
        if cell_id not in self.cells or len(self.cells) < 2:
            return self
        keep = [j for j, cell in enumerate(self.cells) if cell != cell_id]
        return replace(self, points=self.points[keep], cells=[self.cells[j] for j in keep],
                       groups=[self.groups[j] for j in keep])

    def latent(self, values: np.ndarray) -> np.ndarray:
        return to_latent(values, self.log)

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

    def mahalanobis2(self, values: np.ndarray, meta: Mapping[str, Any] | None) -> np.ndarray:
        """-2 log density relative to its highest value at a fleet fit (>= 0, 0 at the
        most likely fleet member): the term calibration.posterior adds to SSE / sigma^2
        and calibration.objective to the MAP loss, as a Gaussian prior's d^2."""
        meta = meta or {}
        peak = float(np.max(self.log_density(self.values_of_points(), meta)))
        return np.maximum(2.0 * (peak - self.log_density(values, meta)), 0.0)

    @property
    def likelihood_sd(self) -> float:
        """The noise sd of the likelihood [normalized capacity]: noise_sd x likelihood_scale."""
        return self.noise_sd * self.likelihood_scale

    def values_of_points(self) -> np.ndarray:
        out = self.points.copy()
        for j, is_log in enumerate(self.log):
            if is_log:
                out[:, j] = 10.0 ** out[:, j]
        return out

    def starting_points(self, meta: Mapping[str, Any], count: int = 8) -> list[dict[str, float]]:
        """The fleet fits of the `count` cells that weigh most for a cell with this
        metadata (its electrolyte's cells first), as parameter dictionaries: where a
        search (optuna, calibration.study) starts, so the MAP fit and the posterior
        members are found among the shapes the fleet has shown."""
        order = np.argsort(-self.cell_weights(meta), kind="stable")[:count]
        values = self.values_of_points()
        return [dict(zip(self.names, map(float, values[i]), strict=True)) for i in order]

    def values_from(self, params: Mapping[str, Any]) -> np.ndarray:
        """A parameter dictionary -> one row in ``names`` order."""
        return np.array([[float(params[name]) for name in self.names]])

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FLEET_FORMAT, "version": FLEET_VERSION,
            "parameters": [{"name": n, "log": bool(g)} for n, g in zip(self.names, self.log, strict=True)],
            "points": self.points.tolist(), "cells": list(self.cells),
            "groups": [dict(zip(GROUP_KEYS, g, strict=True)) for g in self.groups],
            "noise_sd": float(self.noise_sd), "bandwidth": float(self.bandwidth),
            "likelihood_scale": float(self.likelihood_scale),
            "discrepancy_per_cycle": float(self.discrepancy_per_cycle), "affinity": float(self.affinity),
            "recipe": self.recipe, "recipe_hash": self.recipe_hash, "fit_cycles": self.fit_cycles,
        }

    def content_hash(self) -> str:
        """sha256 (hex) of the prior's content (not its file name)."""
        import hashlib

        text = json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def save(self, path: str | Path) -> Path:
        from twin.files import write_atomic

        return write_atomic(path, json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n")

    def summary(self) -> dict[str, Any]:
        """What a calibration's JSON records of the prior it used."""
        return {"source": self.source, "kind": "fleet", "cells": len(self.cells), "noise_sd": self.noise_sd,
                "likelihood_scale": self.likelihood_scale, "bandwidth": self.bandwidth,
                "discrepancy_per_cycle": self.discrepancy_per_cycle, "covariates": list(GROUP_KEYS),
                "recipe": self.recipe}


def fleet_prior_from_dict(document: Mapping[str, Any], where: str = "prior") -> FleetKernelPrior:
    """Check and build a fleet prior from its JSON document; PriorError names the problem."""
    if document.get("version") != FLEET_VERSION:
        raise PriorError(f"{where}: fleet prior format version {document.get('version')!r} is not {FLEET_VERSION}")
    try:
        parameters = document["parameters"]
        return FleetKernelPrior(
            names=[str(p["name"]) for p in parameters], log=[bool(p["log"]) for p in parameters],
            points=document["points"], cells=[str(c) for c in document["cells"]],
            groups=[tuple(g.get(k) for k in GROUP_KEYS) for g in document["groups"]],
            noise_sd=float(document["noise_sd"]), bandwidth=float(document["bandwidth"]),
            likelihood_scale=float(document["likelihood_scale"]),
            discrepancy_per_cycle=float(document.get("discrepancy_per_cycle", 0.0)),
            affinity=float(document.get("affinity", AFFINITY)), recipe=str(document.get("recipe", "")),
            recipe_hash=str(document.get("recipe_hash", "")), fit_cycles=str(document.get("fit_cycles", "all")),
        )
    except PriorError as err:
        raise PriorError(f"{where}: {str(err).removeprefix('fleet prior: ')}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise PriorError(f"{where}: malformed fleet prior ({type(err).__name__}: {err})") from None


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


__all__ = ["AFFINITY", "FLEET_FORMAT", "FleetKernelPrior", "GROUP_KEYS", "fleet_prior_from_dict", "group_of",
           "learn_fleet_prior"]
