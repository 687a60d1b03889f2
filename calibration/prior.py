"""Population prior over a recipe's fitted parameters, learned from a fleet of fits.

Why a Gaussian on the log-parameters: the fitted rates and fractions of Li-metal
cells spread over decades from cell to cell (the recipe already samples them on a
log scale), and with a few dozen cells a mean and a covariance are all that can be
estimated without over-fitting. The covariance is shrunk towards its diagonal
(``shrinkage``) because SEI rate and reference thickness trade off in a fit and a
sample covariance of ~30 points would make that trade-off look sharper than it is;
each standard deviation is floored at ``sd_floor`` decades so a fleet of near-equal
fits cannot forbid a new cell from differing.

Optionally the mean depends linearly on what the data file says about each cell
(covariates: log10 electrolyte volume, salt concentration, a LiFSI-only flag), fitted
by ridge regression so a covariate that does not help stays near zero.

The prior also carries the fleet's measurement-and-model noise ``noise_sd``
(residual RMS of normalized capacity of the fits it was learned from) and the growth
of the forecast error with the distance from the last fitted cycle,
``discrepancy_per_cycle``: both set how much a cell's own points weigh against the
prior (calibration.posterior) and how wide its forecast band is.

File format (JSON, ``format = "twin-population-prior"``, ``version = 1``):
``parameters`` [{name, log}], ``mean`` (latent: log10 where log), ``covariance``,
``noise_sd``, ``discrepancy_per_cycle``, ``covariates``, ``covariate_center``,
``coefficients`` (covariates x parameters), ``cells`` (ids it was learned from),
``recipe``, ``recipe_hash``, ``fit_cycles``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.calibration.latent import to_latent
from twin.calibration.prior_errors import PriorError

PRIOR_FORMAT = "twin-population-prior"
PRIOR_VERSION = 1
LIFSI = "O=S(=O)(F)[N-]S(=O)(=O)F.[Li+]"
# What the anode-free table says of a cell that can shift its parameters.
KNOWN_COVARIATES = ("log10_electrolyte_uL", "salt_conc_M", "lifsi_only")




def covariates_from_meta(meta: Mapping[str, Any], names: Sequence[str]) -> np.ndarray:
    """The covariate vector of one cell from its data's metadata; NaN where unknown."""
    out = []
    for name in names:
        if name == "log10_electrolyte_uL":
            value = meta.get("electrolyte_uL")
            out.append(math.log10(value) if isinstance(value, (int, float)) and value > 0 else math.nan)
        elif name == "salt_conc_M":
            value = meta.get("salt_conc_M")
            out.append(float(value) if isinstance(value, (int, float)) else math.nan)
        elif name == "lifsi_only":
            salt = meta.get("salt_smiles")
            out.append(math.nan if not isinstance(salt, str) else float(salt.strip() == LIFSI))
        else:
            raise PriorError(f"unknown covariate {name!r} (known: {', '.join(KNOWN_COVARIATES)})")
    return np.asarray(out, dtype=float)


@dataclass
class PopulationPrior:
    """Gaussian prior on latent parameters (log10 where ``log``), see module docstring."""

    names: list[str]
    log: list[bool]
    mean: np.ndarray
    covariance: np.ndarray
    noise_sd: float
    discrepancy_per_cycle: float = 0.0
    covariates: list[str] = field(default_factory=list)
    covariate_center: np.ndarray = field(default_factory=lambda: np.zeros(0))
    coefficients: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    cells: list[str] = field(default_factory=list)
    recipe: str = ""
    recipe_hash: str = ""
    fit_cycles: str = "all"
    source: str = ""

    def __post_init__(self) -> None:
        p = len(self.names)
        self.mean = np.asarray(self.mean, dtype=float).reshape(p)
        self.covariance = np.asarray(self.covariance, dtype=float).reshape(p, p)
        self.covariate_center = np.asarray(self.covariate_center, dtype=float).reshape(len(self.covariates))
        self.coefficients = np.asarray(self.coefficients, dtype=float).reshape(len(self.covariates), p)
        if len(self.log) != p:
            raise PriorError(f"prior: {len(self.log)} log flags for {p} parameters")
        if not (np.all(np.isfinite(self.mean)) and np.all(np.isfinite(self.covariance))):
            raise PriorError("prior: mean and covariance must be finite numbers")
        try:
            self._cholesky = np.linalg.cholesky(self.covariance)
        except np.linalg.LinAlgError:
            raise PriorError("prior: the covariance is not positive definite") from None
        if not (math.isfinite(self.noise_sd) and self.noise_sd > 0):
            raise PriorError(f"prior: noise_sd must be a positive number, got {self.noise_sd}")
        if not (math.isfinite(self.discrepancy_per_cycle) and self.discrepancy_per_cycle >= 0):
            raise PriorError(f"prior: discrepancy_per_cycle must be >= 0, got {self.discrepancy_per_cycle}")

    def latent(self, values: np.ndarray) -> np.ndarray:
        """Parameter values (N x P, in ``names`` order) -> latent (log10 where log)."""
        return to_latent(values, self.log)

    def mean_for(self, covariates: np.ndarray | None = None) -> np.ndarray:
        """Latent mean for a cell with these covariates (the fleet mean when none or
        a covariate is unknown: NaN covariates are read as the fleet's centre)."""
        if not self.covariates or covariates is None:
            return self.mean.copy()
        x = np.asarray(covariates, dtype=float) - self.covariate_center
        x = np.where(np.isfinite(x), x, 0.0)
        return self.mean + x @ self.coefficients

    def mahalanobis2(self, values: np.ndarray, covariates: np.ndarray | None = None) -> np.ndarray:
        """Squared Mahalanobis distance of each row of `values` (parameter values) from
        the prior mean: -2 log prior density up to a constant."""
        z = self.latent(values) - self.mean_for(covariates)
        solved = np.linalg.solve(self._cholesky, z.T)
        return np.sum(solved ** 2, axis=0)

    def values_from(self, params: Mapping[str, Any]) -> np.ndarray:
        """A parameter dictionary -> one row in ``names`` order (KeyError names a missing one)."""
        return np.array([[float(params[name]) for name in self.names]])

    @property
    def likelihood_sd(self) -> float:
        """The noise sd of the likelihood [normalized capacity] (the fleet's noise)."""
        return self.noise_sd

    def sd_latent(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PRIOR_FORMAT, "version": PRIOR_VERSION,
            "parameters": [{"name": n, "log": bool(g)} for n, g in zip(self.names, self.log, strict=True)],
            "mean": self.mean.tolist(), "covariance": self.covariance.tolist(),
            "sd_latent": self.sd_latent().tolist(),
            "noise_sd": float(self.noise_sd), "discrepancy_per_cycle": float(self.discrepancy_per_cycle),
            "covariates": list(self.covariates), "covariate_center": self.covariate_center.tolist(),
            "coefficients": self.coefficients.tolist(), "cells": list(self.cells),
            "recipe": self.recipe, "recipe_hash": self.recipe_hash, "fit_cycles": self.fit_cycles,
        }

    def content_hash(self) -> str:
        """sha256 (hex) of the prior's content (its JSON document, canonical), not its
        file name: a study fitted with one prior is not resumed with another."""
        import hashlib

        text = json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def save(self, path: str | Path) -> Path:
        from twin.files import write_atomic

        return write_atomic(path, json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n")


def prior_from_dict(document: Any, where: str = "prior") -> PopulationPrior:
    """Check and build a prior from its JSON document; PriorError names the problem."""
    if not isinstance(document, dict) or document.get("format") != PRIOR_FORMAT:
        raise PriorError(f"{where}: not a population prior (expected \"format\": \"{PRIOR_FORMAT}\")")
    if document.get("version") != PRIOR_VERSION:
        raise PriorError(f"{where}: prior format version {document.get('version')!r} is not {PRIOR_VERSION}")
    try:
        parameters = document["parameters"]
        prior = PopulationPrior(
            names=[str(p["name"]) for p in parameters], log=[bool(p["log"]) for p in parameters],
            mean=document["mean"], covariance=document["covariance"], noise_sd=float(document["noise_sd"]),
            discrepancy_per_cycle=float(document.get("discrepancy_per_cycle", 0.0)),
            covariates=list(document.get("covariates", [])),
            covariate_center=document.get("covariate_center", []),
            coefficients=document.get("coefficients", []), cells=list(document.get("cells", [])),
            recipe=str(document.get("recipe", "")), recipe_hash=str(document.get("recipe_hash", "")),
            fit_cycles=str(document.get("fit_cycles", "all")),
        )
    except PriorError as err:
        raise PriorError(f"{where}: {str(err).removeprefix('prior: ')}") from None
    except (KeyError, TypeError, ValueError) as err:
        raise PriorError(f"{where}: malformed prior ({type(err).__name__}: {err})") from None
    for name in prior.covariates:
        if name not in KNOWN_COVARIATES:
            raise PriorError(f"{where}: unknown covariate {name!r} (known: {', '.join(KNOWN_COVARIATES)})")
    return prior


def load_prior(path: str | Path) -> PopulationPrior:
    """Read a prior JSON file; PriorError names the file and the problem."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PriorError(f"prior file not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise PriorError(f"prior file {path.name} is not JSON: {err}") from None
    if isinstance(document, dict) and document.get("format") == "twin-fleet-prior":
        from twin.calibration.fleet_prior import fleet_prior_from_dict

        fleet = fleet_prior_from_dict(document, where=f"prior file {path.name}")
        fleet.source = path.name
        return fleet  # type: ignore[return-value]  # the same interface (calibration.fleet_prior)
    prior = prior_from_dict(document, where=f"prior file {path.name}")
    prior.source = path.name
    return prior


def learn_prior(fits: np.ndarray, cells: Sequence[str], names: Sequence[str], log: Sequence[bool],
                noise_sd: float, discrepancy_per_cycle: float = 0.0, covariates: np.ndarray | None = None,
                covariate_names: Sequence[str] = (), shrinkage: float = 0.3, sd_floor: float = 0.15,
                ridge: float = 1.0, **provenance: str) -> PopulationPrior:
    """Learn a prior from one fitted parameter set per cell.

    ``fits``: N x P parameter values (in ``names`` order), one row per cell of
    ``cells`` (ids, kept in the prior as its provenance); ``log``: which parameters
    live on a log scale; ``noise_sd`` [normalized capacity]: residual noise of the
    fits; ``covariates``: N x C values of ``covariate_names`` (rows with NaN are read
    as the fleet's centre). ``shrinkage`` in [0, 1]: weight of the diagonal in the
    covariance; ``sd_floor`` [latent units, decades for log parameters]; ``ridge``:
    penalty of the covariate slopes (per cell, on standardized covariates).
    """
    values = np.atleast_2d(np.asarray(fits, dtype=float))
    if values.shape[0] != len(cells):
        raise PriorError(f"{values.shape[0]} fits for {len(cells)} cell ids")
    if len(set(cells)) != len(cells):
        raise PriorError("a cell appears twice among the fits a prior is learned from")
    if values.shape[0] < 3:
        raise PriorError(f"a population prior needs fits of at least 3 cells (got {values.shape[0]})")
    if values.shape[1] != len(names) or len(log) != len(names):
        raise PriorError(f"fits have {values.shape[1]} columns for {len(names)} parameter names")
    latent = values.copy()
    for j, is_log in enumerate(log):
        if is_log:
            if np.any(values[:, j] <= 0):
                raise PriorError(f"parameter {names[j]!r} is log-scaled but a fit has a value <= 0")
            latent[:, j] = np.log10(values[:, j])
    n, p = latent.shape
    center = np.zeros(0)
    coefficients = np.zeros((0, p))
    residual = latent - latent.mean(axis=0)
    mean = latent.mean(axis=0)
    if covariate_names:
        x = np.asarray(covariates, dtype=float).reshape(n, len(covariate_names))
        center = np.nanmean(x, axis=0)
        xc = np.where(np.isfinite(x), x - center, 0.0)
        scale = xc.std(axis=0)
        scale[scale == 0] = 1.0
        xs = xc / scale
        # ridge on standardized covariates: slopes that do not explain the spread shrink to 0
        gram = xs.T @ xs + ridge * n * np.eye(len(covariate_names))
        slopes = np.linalg.solve(gram, xs.T @ residual)
        coefficients = slopes / scale[:, None]
        residual = residual - xc @ coefficients
    sample = residual.T @ residual / max(n - 1, 1)
    shrunk = (1.0 - shrinkage) * sample + shrinkage * np.diag(np.diag(sample))
    sd = np.sqrt(np.maximum(np.diag(shrunk), 0.0))
    floor = np.maximum(sd, sd_floor)
    # raise small standard deviations to the floor, keeping the correlations
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = shrunk / np.outer(np.where(sd > 0, sd, 1.0), np.where(sd > 0, sd, 1.0))
    correlation = np.where(np.outer(sd > 0, sd > 0), correlation, np.eye(p))
    np.fill_diagonal(correlation, 1.0)
    covariance = correlation * np.outer(floor, floor) + 1e-12 * np.eye(p)
    return PopulationPrior(list(names), [bool(g) for g in log], mean, covariance, float(noise_sd),
                           float(discrepancy_per_cycle), list(covariate_names), center, coefficients,
                           [str(c) for c in cells], **provenance)


__all__ = ["KNOWN_COVARIATES", "PopulationPrior", "PriorError", "covariates_from_meta", "learn_prior",
           "load_prior", "prior_from_dict"]


def prior_covariates(prior: PopulationPrior | None, meta: Mapping[str, Any]) -> Any:
    """The covariates a conditioned prior needs, from a cell's metadata (None otherwise);
    a fleet prior (calibration.fleet_prior) takes the metadata itself."""
    if prior is not None and hasattr(prior, "cell_weights"):
        return dict(meta)
    if prior is None or not prior.covariates:
        return None
    return covariates_from_meta(meta, prior.covariates)


def prior_summary(prior: PopulationPrior | None) -> dict[str, Any] | None:
    """What a calibration's JSON records of the prior it used (None: no prior)."""
    if prior is None:
        return None
    if hasattr(prior, "summary"):
        return prior.summary()
    return {"source": prior.source, "cells": len(prior.cells), "noise_sd": prior.noise_sd,
            "discrepancy_per_cycle": prior.discrepancy_per_cycle, "covariates": list(prior.covariates),
            "recipe": prior.recipe, "parameters": {n: {"mean_latent": float(m), "sd_latent": float(s),
                                                       "log10": bool(g)}
                                                   for n, m, s, g in zip(prior.names, prior.mean, prior.sd_latent(),
                                                                         prior.log, strict=True)}}
