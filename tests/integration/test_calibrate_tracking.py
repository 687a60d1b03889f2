"""MLflow: one parent run per calibration, one nested run per trial, artifacts that
read back through the MLflow client (a SQLite tracking store in tmp_path)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from twin.calibration.data import read_cycle_summary_csv
from twin.calibration.search_space import load_recipe
from twin.calibration.study import StudySettings, calibrate
from twin.calibration.tracking import CalibrationTracker, mlflow_key

DEAD_LI = "Dead lithium fraction at reference current density"
# One fitted parameter, a 12-cycle anode-free cell: each trial is a fraction of a second.
RECIPE = (Path(__file__).parents[1] / "fixtures" / "tiny_calibration_recipe.toml").read_text()

pytestmark = pytest.mark.integration


def test_parent_and_nested_runs_with_artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    (tmp_path / "tiny.toml").write_text(RECIPE)
    cycles = np.arange(1, 11)
    q = 1.65 * 0.975 ** (cycles - 1)
    pd.DataFrame({"cycle": cycles, "discharge_capacity_mAh": q}).to_csv(tmp_path / "cell.csv", index=False)
    data = read_cycle_summary_csv(tmp_path / "cell.csv")
    tracker = CalibrationTracker(uri, "test-experiment")
    result = calibrate(data, load_recipe(tmp_path / "tiny.toml"), fit_cycles=7,
                       settings=StudySettings(storage=f"sqlite:///{tmp_path / 'studies.db'}", study_name="tracked",
                                              trials=5, seed=0),
                       tracker=tracker)

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("test-experiment")
    parent = client.get_run(result.mlflow_run_id)
    assert parent.info.status == "FINISHED"
    tags = parent.data.tags
    assert tags["twin.dataset_sha256"] == data.sha256
    assert tags["twin.data_file"] == "cell.csv"
    assert tags["twin.recipe"] == "tiny.toml"
    assert tags["twin.study"] == "tracked"
    assert tags["twin.code_version"]
    from importlib import metadata
    import platform

    assert tags["twin.pybamm_version"] == metadata.version("pybamm")
    assert tags["twin.python_version"] == platform.python_version()
    # the design the fit used (stated by the recipe here, as the tiny recipe fits no design choice)
    assert float(parent.data.params["design.np_ratio"]) == result.design["np_ratio"]
    assert result.to_dict()["provenance"]["pybamm"] == metadata.version("pybamm")
    assert parent.data.metrics["best_loss"] == pytest.approx(result.loss)
    assert "mae_unseen" in parent.data.metrics and "baseline_mae_unseen" in parent.data.metrics

    nested = client.search_runs([experiment.experiment_id],
                                filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert len(nested) == result.trials == 5
    numbers = sorted(int(run.data.tags["twin.trial_number"]) for run in nested)
    assert numbers == list(range(5))
    for run in nested:
        assert float(run.data.params[mlflow_key(DEAD_LI)]) > 0
        if run.data.tags["twin.trial_state"] == "COMPLETE":
            assert run.data.metrics["loss"] >= result.loss

    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"best_params.json", "calibration.json", "calibrated_parameters.py", "figures"} <= artifacts
    figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert figures == {"figures/fit_vs_data.png", "figures/forecast.png", "figures/optimisation_history.png"}
    folder = Path(client.download_artifacts(parent.info.run_id, "", str(tmp_path / "download")))
    best = json.loads((folder / "best_params.json").read_text())
    assert best["best_params"] == pytest.approx(result.best_params)
    assert (folder / "figures" / "forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the PyBaMM-style parameter file loads and carries the calibrated value
    spec = importlib.util.spec_from_file_location("calibrated", folder / "calibrated_parameters.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    values = module.get_parameter_values()
    assert values[DEAD_LI] == pytest.approx(result.best_params[DEAD_LI])
    assert values["Initial active lithium metal [mol.m-2]"] == 0.0  # anode-free design
    assert "Prada2013" in values["citations"]
