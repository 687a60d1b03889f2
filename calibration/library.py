"""A library of twin simulations over a recipe's search space, for cheap Bayesian fits.

Why a library: cross-validation fits every cell many times (once per fold, per fit
window, with and without a prior). Optuna would re-simulate the twin for every one
of those fits. But for one design and protocol, the twin's normalized retention
curve r(n; theta) depends only on the fitted parameters theta, not on the cell's
data: simulate it once at N space-filling points (a scrambled Sobol sequence in the
unit cube of the search space, log-scaled where the recipe says log), then any
cell's likelihood, any prior and any posterior is a weighted sum over the same N
curves (calibration.posterior). The capacity scale (measured / nominal) is profiled
per cell, as in calibration.objective.

The library is cached on disk (``.npz``) under a key made of the recipe's content,
the design, the horizon, N, the seed and a hash of the twin's physics sources: a
change to any of them simulates a new library, nothing else does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from twin.calibration.search_space import Recipe
from twin.errors import raise_if_interrupted

PHYSICS_DIR = Path(__file__).resolve().parent.parent / "twin"


def physics_hash() -> str:
    """sha256 (16 hex digits) over the twin's physics sources (twin/*.py, recursively,
    without the calibration/experiments links): the library's code version."""
    digest = hashlib.sha256()
    root = PHYSICS_DIR
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] in ("calibration", "experiments"):
            continue
        digest.update(relative.as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def recipe_hash(recipe: Recipe) -> str:
    """sha256 (16 hex digits) of everything in the recipe that shapes the twin's curve."""
    text = json.dumps(recipe.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def unit_to_values(recipe: Recipe, unit: np.ndarray) -> np.ndarray:
    """Points of the unit cube -> parameter values (log-scaled where the spec says so)."""
    out = np.empty_like(unit, dtype=float)
    for j, spec in enumerate(recipe.space.parameters):
        if spec.log:
            low, high = np.log10(spec.low), np.log10(spec.high)
            out[:, j] = 10.0 ** (low + unit[:, j] * (high - low))
        else:
            out[:, j] = spec.low + unit[:, j] * (spec.high - spec.low)
    return out


def to_latent(recipe: Recipe, values: np.ndarray) -> np.ndarray:
    """Parameter values -> the space priors live in: log10 for log-scaled parameters."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    out = values.copy()
    for j, spec in enumerate(recipe.space.parameters):
        if spec.log:
            out[:, j] = np.log10(values[:, j])
    return out


@dataclass
class SimulationLibrary:
    """N twin curves: ``values`` (N x P parameter values, in ``names`` order),
    ``retention`` (N x horizon: simulated capacity / simulated cycle-1 capacity at
    cycles 1..horizon; 0 after the cell could no longer cycle) and the cache key."""

    names: list[str]
    values: np.ndarray
    retention: np.ndarray
    key: str

    @property
    def horizon(self) -> int:
        return int(self.retention.shape[1])

    def at(self, cycles: Sequence[int] | np.ndarray) -> np.ndarray:
        """Retention of every member at `cycles` (N x len(cycles))."""
        index = np.asarray(cycles, dtype=np.int64) - 1
        return self.retention[:, index]


def _simulate_point(args: tuple[Recipe, dict[str, Any], dict[str, float], int]) -> np.ndarray:
    """Retention at cycles 1..horizon of one parameter set (NaN row if the twin fails)."""
    from twin.calibration.forecast import Member, simulate_member
    from twin.calibration.objective import TwinModel
    from twin.cycling import shared_setup

    recipe, design, params, horizon = args
    model = _MODELS.get(id(recipe))
    if model is None:
        model = TwinModel(recipe, design)
        _MODELS.clear()
        _MODELS[id(recipe)] = model
    try:
        # The fitted parameters as solver inputs: every member shares one set-up (and
        # its native code) instead of PyBaMM building the model again per member, which
        # was most of a member's time (the library's build time is in validate-real's
        # report); the shipped-library test re-simulates members through this path.
        with shared_setup(recipe.space.parameter_names):
            curve = simulate_member(model, Member(0, 0.0, params, 1.0), horizon, recipe.fit.eol_fraction, horizon,
                                    mode="auto")
    except Exception:  # noqa: BLE001 - a failed solve leaves this point out, like a penalty trial
        raise_if_interrupted()  # Ctrl-C inside the solver is not a failed run
        return np.full(horizon, np.nan)
    return np.asarray(curve.normalized_capacity[:horizon], dtype=float)


_MODELS: dict[int, Any] = {}


def library_key(recipe: Recipe, design: Mapping[str, Any], horizon: int, size: int, seed: int) -> str:
    text = json.dumps({"recipe": recipe_hash(recipe), "design": dict(design), "horizon": horizon,
                       "size": size, "seed": seed, "physics": physics_hash()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_library(recipe: Recipe, design: Mapping[str, Any], horizon: int, size: int = 512, seed: int = 0,
                  cache_dir: Path | None = None, jobs: int = 1, progress: Any = None) -> SimulationLibrary:
    """Simulate (or load from `cache_dir`) `size` Sobol points of the recipe's space
    to `horizon` cycles. ``size`` should be a power of two (Sobol balance)."""
    from scipy.stats import qmc

    if recipe.space.design_choices:
        raise ValueError("a simulation library needs a fixed design (the recipe has design choices)")
    names = recipe.space.parameter_names
    key = library_key(recipe, design, horizon, size, seed)
    cache = None if cache_dir is None else Path(cache_dir) / f"library-{key}.npz"
    if cache is not None and cache.is_file():
        stored = np.load(cache)
        return SimulationLibrary(names, stored["values"], stored["retention"], key)
    unit = qmc.Sobol(d=len(names), scramble=True, seed=seed).random(size)
    values = unit_to_values(recipe, unit)
    tasks = [(recipe, dict(design), dict(zip(names, map(float, row), strict=True)), horizon) for row in values]
    rows: list[np.ndarray] = []
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for i, row in enumerate(pool.map(_simulate_point, tasks, chunksize=8)):
                rows.append(row)
                if progress is not None:
                    progress(i + 1, size)
    else:
        for i, task in enumerate(tasks):
            rows.append(_simulate_point(task))
            if progress is not None:
                progress(i + 1, size)
    retention = np.vstack(rows)
    ok = np.all(np.isfinite(retention), axis=1)
    library = SimulationLibrary(names, values[ok], retention[ok], key)
    if cache is not None:
        import io

        from twin.files import write_atomic

        # the project's own cache folder (not a user's output path): made here on first use
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, values=library.values, retention=library.retention)
        write_atomic(cache, buffer.getvalue())
    return library


__all__ = ["LIBRARY_SUFFIX", "ShippedLibrary", "curve_fingerprint", "load_shipped_library", "save_shipped_library", "simulate_members", "SimulationLibrary", "build_library", "physics_hash", "recipe_hash", "to_latent", "unit_to_values"]


# --- The library shipped with a recipe (package data: experiments/recipes/NAME.library.npz) ---

LIBRARY_SUFFIX = ".library.npz"
# Library members re-simulated to check the shipped curves against the twin's physics
# (tests/unit/calibration/test_shipped_library.py): a stale library fails CI.
PROBE_MEMBERS = (0, 1)
PROBE_DECIMALS = 6


def curve_fingerprint(retention: np.ndarray) -> str:
    """sha256 (16 hex digits) of the probe members' curves rounded to PROBE_DECIMALS:
    it changes when the twin's curves change (not on an edit that leaves them)."""
    rows = np.round(np.asarray(retention, dtype=float)[list(PROBE_MEMBERS)], PROBE_DECIMALS)
    return hashlib.sha256(np.ascontiguousarray(rows).tobytes()).hexdigest()[:16]


@dataclass
class ShippedLibrary:
    """A library with what it covers: the recipe (by recipe_hash), the design it was
    simulated at and the curve fingerprint that keys it."""

    library: SimulationLibrary
    recipe_hash: str
    design: dict[str, Any]
    seed: int
    fingerprint: str

    def covers(self, recipe: Recipe, design: Mapping[str, Any]) -> bool:
        """True when `recipe` is the one simulated and `design` equals the library's in
        every field but the electrolyte amount (the flooded anode-free twin's curve
        hardly depends on it: validation/real_cells.md checks 13 vs 50 uL)."""
        if recipe_hash(recipe) != self.recipe_hash:
            return False
        keys = (set(design) | set(self.design)) - {"electrolyte_g_per_Ah"}
        return all(design.get(k) == self.design.get(k) for k in keys)


def save_shipped_library(library: SimulationLibrary, recipe: Recipe, design: Mapping[str, Any], seed: int,
                         path: Path) -> Path:
    """Write `library` as package data (atomic .npz with its metadata)."""
    import io

    from twin.files import write_atomic

    fingerprint = curve_fingerprint(library.retention)
    meta = {"names": list(library.names), "recipe_hash": recipe_hash(recipe), "design": dict(design),
            "horizon": library.horizon, "size": int(len(library.values)), "seed": seed, "fingerprint": fingerprint,
            "key": shipped_key(recipe, design, library.horizon, len(library.values), seed, fingerprint)}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, values=library.values, retention=library.retention,
                        meta=np.array(json.dumps(meta, sort_keys=True, default=str)))
    return write_atomic(path, buffer.getvalue())


def shipped_key(recipe: Recipe, design: Mapping[str, Any], horizon: int, size: int, seed: int,
                fingerprint: str) -> str:
    """The shipped library's key: recipe, design, horizon, size, seed and curve fingerprint."""
    text = json.dumps({"recipe": recipe_hash(recipe), "design": dict(design), "horizon": horizon, "size": size,
                       "seed": seed, "fingerprint": fingerprint}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_shipped_library(path: Path) -> ShippedLibrary | None:
    """The library stored at `path` (None when there is none)."""
    if not Path(path).is_file():
        return None
    stored = np.load(path)
    meta = json.loads(str(stored["meta"]))
    library = SimulationLibrary(list(meta["names"]), stored["values"], stored["retention"], str(meta["key"]))
    return ShippedLibrary(library, str(meta["recipe_hash"]), dict(meta["design"]), int(meta["seed"]),
                          str(meta["fingerprint"]))


def simulate_members(recipe: Recipe, design: Mapping[str, Any], library: SimulationLibrary,
                     members: Sequence[int]) -> np.ndarray:
    """Re-simulate library members (rows) to the library's horizon with today's physics."""
    return np.vstack([_simulate_point((recipe, dict(design), dict(zip(library.names, map(float, library.values[i]),
                                                                     strict=True)), library.horizon))
                      for i in members])
