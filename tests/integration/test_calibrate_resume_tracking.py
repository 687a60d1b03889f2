"""A resumed calibration: earlier trials are not logged to MLflow again, and a parent
run a killed calibration left RUNNING is marked KILLED."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from twin.calibration.data import read_cycle_summary_csv
from twin.calibration.search_space import load_recipe
from twin.calibration.study import StudySettings, calibrate
from twin.calibration.tracking import CalibrationTracker

RECIPE = Path(__file__).parents[1] / "fixtures" / "tiny_calibration_recipe.toml"

pytestmark = pytest.mark.integration


def test_a_resumed_calibration_logs_each_trial_once_and_closes_a_killed_run(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cycles = np.arange(1, 11)
    pd.DataFrame({"cycle": cycles, "discharge_capacity_mAh": 1.65 * 0.975 ** (cycles - 1)}).to_csv(
        tmp_path / "cell.csv", index=False)
    data = read_cycle_summary_csv(tmp_path / "cell.csv")
    recipe = load_recipe(RECIPE)
    storage = f"sqlite:///{tmp_path / 'studies.db'}"

    def run(trials: int) -> str:
        settings = StudySettings(storage=storage, study_name="resumed", trials=trials, seed=0)
        return calibrate(data, recipe, fit_cycles=7, settings=settings,
                         tracker=CalibrationTracker(uri, "resume"), figures=False).mlflow_run_id

    first = run(3)
    client = MlflowClient(uri)
    client.set_terminated(first, status="RUNNING")  # as a kill -9 leaves it
    second = run(5)

    experiment = client.get_experiment_by_name("resume")
    trials = client.search_runs([experiment.experiment_id], filter_string="tags.`twin.kind` = 'trial'")
    numbers = sorted(int(r.data.tags["twin.trial_number"]) for r in trials)
    assert numbers == [0, 1, 2, 3, 4]  # each trial once, across both calibrations
    assert {r.data.tags["mlflow.parentRunId"] for r in trials if int(r.data.tags["twin.trial_number"]) >= 3} \
        == {second}
    assert client.get_run(first).info.status == "KILLED"
    assert client.get_run(second).info.status == "FINISHED"
