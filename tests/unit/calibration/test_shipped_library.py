"""The anode-free recipe's shipped library of twin curves: current with the physics,
and what `twin calibrate` runs by default is the cross-validated forecast."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from twin.calibration.crossval import Cell, forecast_cell
from twin.calibration.data import read_anode_free_table
from twin.calibration.library import (
    PROBE_MEMBERS, curve_fingerprint, load_shipped_library, recipe_hash, simulate_members,
)
from twin.calibration.objective import design_for_data
from twin.calibration.prior import load_prior
from twin.calibration.recipes import recipe_path
from twin.calibration.search_space import load_recipe

RECIPE = recipe_path("anode-free-cu-lfp")
SUBSET = Path(__file__).parents[2] / "fixtures" / "anode_free_cu_lfp_subset.csv"


@pytest.fixture(scope="module")
def shipped():
    library = load_shipped_library(RECIPE.with_name("anode-free-cu-lfp.library.npz"))
    assert library is not None, "the recipe ships no library: run `make library`"
    return library


def test_the_shipped_library_matches_the_twin_physics_of_today(shipped):
    recipe = load_recipe(RECIPE)
    assert shipped.recipe_hash == recipe_hash(recipe), "recipe changed since `make library`"
    now = simulate_members(recipe, shipped.design, shipped.library, PROBE_MEMBERS)
    stored = shipped.library.retention[list(PROBE_MEMBERS)]
    # a physics change that moves the curves makes the library stale: `make library`
    assert np.max(np.abs(now - stored)) < 1e-6
    assert curve_fingerprint(shipped.library.retention) == shipped.fingerprint


def test_calibrate_runs_the_library_posterior_and_forecasts_as_the_cross_validation(tmp_path, shipped):
    out = tmp_path / "af24.json"
    run = subprocess.run([sys.executable, "-m", "twin.experiments.cli", "calibrate", str(SUBSET), "--cell", "AF24",
                          "--fit-cycles", "30", "--no-tracking", "--format", "json", "--out", str(out)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    assert result["method"] == "library-posterior"
    assert result["trials"] == 0 and result["library"]["key"] == shipped.library.key
    data = read_anode_free_table(SUBSET, "AF24")
    cell = Cell("AF24", np.asarray(data.cycle_numbers), np.asarray(data.normalized_capacity), dict(data.meta))
    prior = load_prior(RECIPE.with_name("anode-free-cu-lfp.prior.json")).without_cell("AF24")
    expected = forecast_cell(shipped.library, cell, 30, 1, prior, prior.noise_sd, prior.discrepancy_per_cycle)
    band = result["forecast"]["cycles"]
    assert [row["cycle"] for row in band] == list(range(1, shipped.library.horizon + 1))
    for key, curve in (("p10", expected.p10), ("p50", expected.p50), ("p90", expected.p90)):
        assert np.allclose([row[key] for row in band], curve, atol=1e-12, rtol=0)


def test_a_design_the_library_does_not_cover_is_refused_by_method_library(tmp_path):
    run = subprocess.run([sys.executable, "-m", "twin.experiments.cli", "calibrate", str(SUBSET), "--cell", "AF24",
                          "--fit-cycles", "30", "--no-tracking", "--method", "library", "--areal-capacity", "3"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip() == ("Error: --method library: --areal-capacity changed the recipe's design, which its "
                                  "library does not cover")
