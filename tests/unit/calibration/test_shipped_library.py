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


def _long_cell(tmp_path: Path, last_cycle: int) -> Path:
    """A per-cycle summary CSV of a slowly fading cell measured to `last_cycle`."""
    rows = [f"{c},{1.6 * np.exp(-0.004 * c):.5f}" for c in range(1, last_cycle + 1)]
    path = tmp_path / "long.csv"
    path.write_text("cycle,discharge_capacity_mAh\n" + "\n".join(rows) + "\n")
    return path


def _calibrate(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twin.experiments.cli", "calibrate", *args, "--no-tracking"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_a_fit_window_past_the_library_is_refused_by_method_library(tmp_path):
    data = str(_long_cell(tmp_path, 300))
    run = _calibrate(tmp_path, data, "--recipe", "anode-free-cu-lfp", "--method", "library")
    assert run.returncode == 2
    assert run.stderr.strip() == ("Error: --method library: the fit window reaches cycle 300, past the library's "
                                  "last cycle 220 (give --fit-cycles <= 220)")


def test_method_library_refuses_optuna_options(tmp_path):
    run = _calibrate(tmp_path, str(SUBSET), "--cell", "AF24", "--method", "library", "--trials", "3")
    assert run.returncode == 2
    assert run.stderr.strip() == ("Error: --method library: --trials, --study, --warm-start, --sampler, --timeout "
                                  "and --storage are options of --method optuna")


def test_the_library_path_reports_the_same_fit_quality_block_as_optuna(tmp_path):
    out = tmp_path / "long.json"
    run = _calibrate(tmp_path, str(_long_cell(tmp_path, 300)), "--recipe", "anode-free-cu-lfp", "--fit-cycles",
                     "100", "--format", "json", "--out", str(out))
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    assert result["method"] == "library-posterior"
    quality = result["fit_quality"]
    assert quality["fit_points"] == 99  # cycles 2..100: formation cycle 1 is not fitted
    assert quality["poor_fit_threshold"] == pytest.approx(3.0 * quality["noise_sd"])
    assert quality["poor_fit"] is (quality["residual_rms"] > quality["poor_fit_threshold"])
    assert isinstance(quality["unidentified_parameters"], list)
    flagged = [n for n in result["notes"] if n.startswith("warning: the data cannot identify")]
    assert bool(flagged) == bool(quality["unidentified_parameters"])
