"""`twin calibrate` and `twin simulate` end to end: resume after a kill, two workers on
one SQLite study, bad data files, synthetic datasets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from twin.calibration.data import read_bdf_csv, read_cycle_summary_csv

pytestmark = pytest.mark.integration

TWIN = [sys.executable, "-m", "twin.experiments.cli"]
DEAD_LI = "Dead lithium fraction at reference current density"
# One fitted parameter, a 12-cycle anode-free cell: each trial is a fraction of a second.
RECIPE = (Path(__file__).parents[1] / "fixtures" / "tiny_calibration_recipe.toml").read_text()


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "tiny.toml").write_text(RECIPE)
    # a measured fade: 2 % per cycle, CE 0.98, 12 cycles
    cycles = np.arange(1, 13)
    discharge = 1.65 * 0.98 ** (cycles - 1)
    pd.DataFrame({"cycle": cycles, "discharge_capacity_mAh": discharge,
                  "charge_capacity_mAh": discharge / 0.98}).to_csv(tmp_path / "cell.csv", index=False)
    return tmp_path


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}


def finished(storage: str, study: str) -> list[optuna.trial.FrozenTrial]:
    try:
        loaded = optuna.load_study(study_name=study, storage=storage)
    except KeyError:
        return []
    return loaded.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))


def calibrate_command(tmp_path: Path, study: str, trials: int, *extra: str) -> list[str]:
    return [*TWIN, "calibrate", str(tmp_path / "cell.csv"), "--recipe", str(tmp_path / "tiny.toml"),
            "--trials", str(trials), "--study", study, "--storage", f"sqlite:///{tmp_path / 'studies.db'}",
            "--no-tracking", "--format", "json", *extra]


def test_killed_calibration_resumes_from_its_finished_trials(workdir: Path):
    storage = f"sqlite:///{workdir / 'studies.db'}"
    # a target far beyond what runs before the kill: a tiny-recipe trial can take well
    # under the polling interval, and the kill must still land midway
    process = subprocess.Popen(calibrate_command(workdir, "resume", 500, "--seed", "1"), cwd=workdir,
                               env=env(workdir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while len(finished(storage, "resume")) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = {t.number: t.params for t in finished(storage, "resume")}
    assert 3 <= len(before) < 500, "the kill must land midway"

    target = len(before) + 4
    again = subprocess.run(calibrate_command(workdir, "resume", target, "--seed", "2"), cwd=workdir,
                           env=env(workdir), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    after = {t.number: t.params for t in finished(storage, "resume")}
    # nothing finished before the kill is lost or re-run; the study completes to the target
    assert all(after[n] == params for n, params in before.items())
    assert len(after) == target


def test_two_workers_share_one_sqlite_study(workdir: Path):
    storage = f"sqlite:///{workdir / 'studies.db'}"
    workers = [subprocess.Popen(calibrate_command(workdir, "shared", 12, "--seed", str(seed)), cwd=workdir,
                                env=env(workdir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for seed in (1, 2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials(deepcopy=False)
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(len(trials)))  # no duplicated or missing trial numbers
    done = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert 12 <= len(done) <= 13  # each worker stops at 12 finished (one may be mid-trial then)
    assert not [t for t in trials if t.state in (TrialState.FAIL, TrialState.RUNNING, TrialState.WAITING)]
    for trial in done:
        assert set(trial.params) == {DEAD_LI}
        assert 1e-3 <= trial.params[DEAD_LI] <= 0.05
    complete = [t for t in done if t.state == TrialState.COMPLETE]
    assert study.best_value == min(t.value for t in complete)


def test_bad_data_file_lists_every_problem_and_writes_nothing(tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Test Time / s,Current / A,Cycle Count / 1\n0,0.1,1\n10,,1\n5,-0.1,1\n20,-0.1,1\n")
    out = tmp_path / "result.json"
    result = subprocess.run([*TWIN, "calibrate", str(bad), "--out", str(out)], cwd=tmp_path,
                            env=env(tmp_path), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert message.count("\n") == 0, message  # one line
    assert "Voltage / V" in message  # the missing column
    assert "NaN" in message or "missing value" in message or "empty" in message  # the empty current
    assert "backwards" in message  # time going backwards
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]  # no study, no mlflow db, no output


def test_simulate_writes_a_dataset_that_reads_back(tmp_path: Path):
    out = tmp_path / "synthetic.csv"
    command = [*TWIN, "simulate", "--cathode", "LFP", "--np-ratio", "0", "--areal-capacity", "1.5",
               "--electrolyte-amount", "35", "--electrode-area", "1.13", "--layers", "1", "--rest", "0",
               "--charge-rate", "0.5", "--cycles", "6", "--set", f"{DEAD_LI}=0.02", "--noise", "0.005",
               "--seed", "4", "--out", str(out)]
    first = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    series, summary = read_bdf_csv(out), read_cycle_summary_csv(tmp_path / "synthetic.cycles.csv")
    assert list(summary.cycles["cycle"]) == [1, 2, 3, 4, 5, 6]
    # the summary is the time series reduced to cycles
    assert np.allclose(series.cycles["discharge_capacity_mAh"], summary.cycles["discharge_capacity_mAh"])
    # 2 % dead Li per cycle: capacity falls, CE below 1; 1.5 mAh/cm2 x 1.13 cm2 ~ 1.7 mAh
    q = summary.cycles["discharge_capacity_mAh"].to_numpy()
    assert 1.4 < q[0] < 1.8 and q[-1] < 0.95 * q[0]
    assert (summary.cycles["coulombic_efficiency"] < 1.0).all()
    # same seed, same noise: the files are identical
    copy = tmp_path / "copy.csv"
    second = subprocess.run([*command[:-1], str(copy)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert copy.read_bytes() == out.read_bytes()


def test_a_study_name_cannot_resume_with_other_data_and_cell_needs_a_multi_cell_file(workdir: Path):
    first = subprocess.run(calibrate_command(workdir, "mine", 2, "--fit-cycles", "8", "--seed", "1"),
                           cwd=workdir, env=env(workdir), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert isinstance(json.loads(first.stdout)["forecast"]["eol_cycle_p50"], (int, type(None)))
    storage = f"sqlite:///{workdir / 'studies.db'}"
    assert optuna.load_study(study_name="mine", storage=storage).user_attrs["fit_cycles"] == 8
    cases = [
        (calibrate_command(workdir, "mine", 4, "--fit-cycles", "10"), "was fitted to cell.csv (fit cycles 8"),
        (calibrate_command(workdir, "other", 2, "--cell", "AF46"), "--cell AF46: cell.csv is a single-cell"),
    ]
    for command, fragment in cases:
        result = subprocess.run(command, cwd=workdir, env=env(workdir), capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and fragment in result.stderr, result.stderr
        assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    # the refused resume ran nothing: the study still holds its 2 trials
    assert len(finished(storage, "mine")) == 2


def test_calibrate_csv_has_the_band_beside_the_measured_capacity(workdir: Path):
    from click.testing import CliRunner

    from twin.experiments.cli import main

    result = CliRunner().invoke(main, ["calibrate", str(workdir / "cell.csv"), "--recipe", str(workdir / "tiny.toml"),
                                       "--trials", "3", "--in-memory", "--no-tracking", "--fit-cycles", "8",
                                       "--seed", "0", "--format", "csv", "--out", str(workdir / "fit.csv")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(workdir / "fit.csv")
    assert list(table.columns[:3]) == ["cycle", "measured_normalized_capacity", "fitted"]
    assert {"forecast_p10", "forecast_p50", "forecast_p90"} <= set(table.columns)
    measured = table.dropna(subset=["measured_normalized_capacity"])
    assert measured["cycle"].tolist() == list(range(1, 13))
    assert measured["fitted"].tolist() == [True] * 8 + [False] * 4
    np.testing.assert_allclose(measured["measured_normalized_capacity"], 0.98 ** np.arange(12), rtol=1e-9)
    band = table.dropna(subset=["forecast_p50"])
    assert (band["forecast_p10"] <= band["forecast_p50"] + 1e-12).all()
    assert (band["forecast_p50"] <= band["forecast_p90"] + 1e-12).all()
