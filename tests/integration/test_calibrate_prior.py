"""`twin calibrate` knows the cell: design options, refused mismatches, --prior (MAP),
fit quality."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.calibration.prior import learn_prior

pytestmark = pytest.mark.integration

TWIN = [sys.executable, "-m", "twin.experiments.cli"]
DEAD_LI = "Dead lithium fraction at reference current density"
RECIPE = (Path(__file__).parents[1] / "fixtures" / "tiny_calibration_recipe.toml").read_text()


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    return subprocess.run([*TWIN, "calibrate", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)


def lfp_time_series(path: Path, cycles: int = 3) -> Path:
    """A cycler log in the LFP window (2.5-3.6 V), 1 mA charge and discharge, ~1 mAh."""
    rows = []
    t = 0.0
    for cycle in range(1, cycles + 1):
        for current, v0, v1, duration in ((0.001, 3.3, 3.6, 3600.0), (-0.001, 3.4, 2.5, 3500.0)):
            for k in range(5):
                rows.append((t + duration * k / 4, v0 + (v1 - v0) * k / 4, current, cycle))
            t += duration + 1.0
    pd.DataFrame(rows, columns=["Test Time / s", "Voltage / V", "Current / A", "Cycle Count / 1"]).to_csv(
        path, index=False)
    return path


def test_lfp_data_fitted_as_the_default_nmc811_cell_are_refused_in_one_line(tmp_path: Path):
    data = lfp_time_series(tmp_path / "lfp.csv")
    result = run(tmp_path, str(data), "--in-memory", "--no-tracking", "--trials", "2")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "Error: lfp.csv: 1 problem: the data charge only to 3.60 V but the NMC811 window 2.8-4.2 V charges to 4.2 V: not a NMC811 "
        "cell as stated (give --cathode or a recipe for this chemistry)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lfp.csv"]


def test_a_coin_cell_stated_as_a_pouch_is_refused_and_design_options_override_the_recipe(tmp_path: Path):
    data = lfp_time_series(tmp_path / "lfp.csv")
    (tmp_path / "tiny.toml").write_text(RECIPE)
    result = run(tmp_path, str(data), "--recipe", "tiny.toml", "--in-memory", "--no-tracking", "--trials", "2",
                 "--electrode-area", "25", "--layers", "10")
    assert result.returncode == 2
    assert "first discharge capacity 0.9724 mAh is 0.0026 x the stated cell's nominal 375 mAh" in result.stderr
    assert result.stderr.count("\n") == 1


def test_prior_and_no_prior_contradict(tmp_path: Path):
    data = lfp_time_series(tmp_path / "lfp.csv")
    (tmp_path / "p.json").write_text("{}")
    result = run(tmp_path, str(data), "--prior", "p.json", "--no-prior", "--in-memory", "--no-tracking")
    assert result.returncode == 2
    assert result.stderr.strip() == "Error: --prior and --no-prior contradict each other; give one"


def test_calibration_with_a_prior_is_map_and_reports_fit_quality(tmp_path: Path):
    (tmp_path / "tiny.toml").write_text(RECIPE)
    cycles = np.arange(1, 13)
    discharge = 1.65 * 0.98 ** (cycles - 1)
    pd.DataFrame({"cycle": cycles, "discharge_capacity_mAh": discharge,
                  "charge_capacity_mAh": discharge / 0.98}).to_csv(tmp_path / "cell.csv", index=False)
    # a prior centred far from what the data say (dead-Li fraction 1e-3 vs ~1e-2)
    values = np.array([[0.8e-3], [1.0e-3], [1.25e-3]])
    learn_prior(values, ["a", "b", "c"], [DEAD_LI], [True], noise_sd=0.01, sd_floor=0.1).save(tmp_path / "p.json")
    common = [str(tmp_path / "cell.csv"), "--recipe", "tiny.toml", "--in-memory", "--no-tracking", "--trials",
              "8", "--seed", "1", "--fit-cycles", "6", "--format", "json"]
    with_prior = run(tmp_path, *common, "--prior", "p.json")
    assert with_prior.returncode == 0, with_prior.stderr
    without = run(tmp_path, *common, "--no-prior")
    assert without.returncode == 0, without.stderr
    a, b = json.loads(with_prior.stdout), json.loads(without.stdout)
    assert a["prior"]["cells"] == 3 and a["prior"]["source"] == "p.json" and b["prior"] is None
    # MAP: the posterior loss exceeds the data-only loss, and the fit is pulled towards the prior
    assert a["fit_quality"]["loss"] >= a["fit_quality"]["fit_loss"]
    assert a["best_params"][DEAD_LI] < b["best_params"][DEAD_LI]
    for block in (a["fit_quality"], b["fit_quality"]):
        assert set(block) >= {"loss", "residual_rms", "noise_sd", "poor_fit", "unidentified_parameters"}
    # the band reaches the last measured cycle at least
    assert a["forecast"]["cycles"][-1]["cycle"] >= 12
