"""Sweeps and fleet calibrations on a real Dask cluster (scheduler and two workers as
separate processes): a worker killed mid-sweep loses and duplicates no row."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.experiments.sweep import journal_path, read_table

pytestmark = pytest.mark.integration

TWIN = [sys.executable, "-m", "twin.experiments.cli"]
NP_RATIOS = [0.0, 0.5, 1.0, 1.5]
AREAL_CAPACITIES = [1.0, 2.0]
CHARGE_RATES = [0.5]
DESIGNS = len(NP_RATIOS) * len(AREAL_CAPACITIES) * len(CHARGE_RATES)
GRID_ARGS = [
    "--np-ratio", ",".join(map(str, NP_RATIOS)),
    "--areal-capacity", ",".join(map(str, AREAL_CAPACITIES)),
    "--charge-rate", ",".join(map(str, CHARGE_RATES)),
    "--max-cycles", "10", "--mode", "full",
    "--set", "Dead lithium fraction at reference current density=0.15",
]


def journal_rows(out: Path) -> int:
    path = journal_path(out)
    return path.read_text().count("\n") if path.exists() else 0


def test_sweep_on_dask_survives_a_killed_worker(dask_cluster, tmp_path, child_env):
    out = tmp_path / "sweep.csv"
    sweep = subprocess.Popen([*TWIN, "sweep", *GRID_ARGS, "--out", str(out)], env=child_env(
        DASK_SCHEDULER_ADDRESS=dask_cluster.address), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while journal_rows(out) < 2 and sweep.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        rows_at_kill = journal_rows(out)
        assert sweep.poll() is None, sweep.communicate()[1]
        assert 2 <= rows_at_kill < DESIGNS
        dask_cluster.workers[0].kill()  # SIGKILL: its running and queued cases go elsewhere
        stdout, stderr = sweep.communicate(timeout=300)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert sweep.returncode == 0, stderr
    assert dask_cluster.workers[0].poll() is not None and dask_cluster.workers[1].poll() is None
    assert f"{DESIGNS} designs ({0} reused, {DESIGNS} computed)" in stderr
    table = read_table(out)
    assert len(table) == DESIGNS and table["design_key"].is_unique
    combos = set(zip(table["np_ratio"], table["areal_capacity_mAh_cm2"], table["charge_rate_C"]))
    assert combos == {(n, q, r) for n in NP_RATIOS for q in AREAL_CAPACITIES for r in CHARGE_RATES}
    assert (table["error"] == "").all()
    assert not journal_path(out).exists()
    # the same designs on this machine's process pool give the same lives
    local = tmp_path / "local.csv"
    result = subprocess.run([*TWIN, "sweep", *GRID_ARGS, "--workers", "1", "--out", str(local)],
                            env=child_env(DASK_SCHEDULER_ADDRESS=""), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    merged = table.merge(read_table(local), on="design_key", suffixes=("", "_local"))
    assert len(merged) == DESIGNS
    assert merged["cycle_life"].astype("Float64").equals(merged["cycle_life_local"].astype("Float64"))
    np.testing.assert_allclose(merged["dead_li_at_eol_mAh_cm2"], merged["dead_li_at_eol_mAh_cm2_local"],
                               rtol=1e-9)


def test_fleet_calibration_on_dask_writes_each_cell_once(dask_cluster, tmp_path, child_env):
    recipe = tmp_path / "tiny.toml"
    recipe.write_text((Path(__file__).parents[1] / "fixtures" / "tiny_calibration_recipe.toml").read_text())
    cycles = np.arange(1, 13)
    files = []
    for name, ce in (("fast_fade", 0.97), ("slow_fade", 0.99)):
        discharge = 1.65 * ce ** (cycles - 1)
        path = tmp_path / f"{name}.csv"
        pd.DataFrame({"cycle": cycles, "discharge_capacity_mAh": discharge,
                      "charge_capacity_mAh": discharge / ce}).to_csv(path, index=False)
        files.append(str(path))
    bad = tmp_path / "one_cycle.csv"
    pd.DataFrame({"cycle": [1], "discharge_capacity_mAh": [1.6]}).to_csv(bad, index=False)
    command = [*TWIN, "calibrate", *files, str(bad), "--recipe", str(recipe), "--trials", "6", "--seed", "1",
               "--storage", f"sqlite:///{tmp_path / 'studies.db'}", "--no-tracking",
               "--out-dir", str(tmp_path / "fits"), "--scheduler", dask_cluster.address]
    result = subprocess.run(command, env=child_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = pd.read_csv(tmp_path / "fits" / "summary.csv", keep_default_na=False)
    assert list(summary["cell"]) == ["fast_fade", "slow_fade", "one_cycle"]
    assert list(summary["status"]) == ["ok", "ok", "failed"]
    assert "cycle" in summary.loc[2, "error"]
    ok = summary.iloc[:2]
    assert (ok["trials"].astype(int) == 6).all()
    # physics: the cell that fades faster reaches end of life first
    life = dict(zip(ok["cell"], ok["eol_cycle_p50"].astype(float)))
    assert life["fast_fade"] < life["slow_fade"]
    assert sorted(p.name for p in (tmp_path / "fits").glob("*.json")) == ["fast_fade.json", "slow_fade.json"]
    # a rerun fits only the failed cell again, on this machine
    again = subprocess.run(command[:-2], env=child_env(DASK_SCHEDULER_ADDRESS=""), capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "2 of 3 cells already fitted" in again.stderr
    assert "(2 reused, 1 fitted, 1 failed)" in again.stderr
