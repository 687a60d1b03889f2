"""optuna on a real PostgreSQL server and MLflow on a real tracking server, as users
run them beside a cluster: two calibration workers share one study, a killed
worker's study resumes, and the runs read back from the server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

pytestmark = pytest.mark.integration

TWIN = [sys.executable, "-m", "twin.experiments.cli"]
DEAD_LI = "Dead lithium fraction at reference current density"
RECIPE = (Path(__file__).parents[1] / "fixtures" / "tiny_calibration_recipe.toml").read_text()
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "tiny.toml").write_text(RECIPE)
    cycles = np.arange(1, 13)
    discharge = 1.65 * 0.98 ** (cycles - 1)
    pd.DataFrame({"cycle": cycles, "discharge_capacity_mAh": discharge,
                  "charge_capacity_mAh": discharge / 0.98}).to_csv(tmp_path / "cell.csv", index=False)
    return tmp_path


def command(workdir: Path, storage: str, study: str, trials: int, *extra: str) -> list[str]:
    return [*TWIN, "calibrate", str(workdir / "cell.csv"), "--recipe", str(workdir / "tiny.toml"),
            "--trials", str(trials), "--study", study, "--storage", storage, "--format", "json", *extra]


def all_trials(url: str, study: str) -> list[optuna.trial.FrozenTrial]:
    """The study's trials read from the server, its connections closed afterwards."""
    storage = optuna.storages.RDBStorage(url)
    try:
        return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=True)
    except KeyError:
        return []
    finally:
        storage.engine.dispose()


def finished(url: str, study: str) -> list[optuna.trial.FrozenTrial]:
    return [t for t in all_trials(url, study) if t.state in FINISHED]


def test_two_workers_share_one_postgres_study(postgres_url, workdir, child_env):
    study = f"shared-{uuid.uuid4().hex[:8]}"
    workers = [subprocess.Popen(command(workdir, postgres_url, study, 10, "--seed", str(seed), "--no-tracking"),
                                cwd=workdir, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for seed in (1, 2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
    trials = all_trials(postgres_url, study)
    assert sorted(t.number for t in trials) == list(range(len(trials)))  # none duplicated or missing
    done = [t for t in trials if t.state in FINISHED]
    assert 10 <= len(done) <= 11  # each worker stops at 10 finished (one may be mid-trial then)
    assert not [t for t in trials if t.state in (TrialState.FAIL, TrialState.RUNNING, TrialState.WAITING)]
    assert all(1e-3 <= t.params[DEAD_LI] <= 0.05 for t in done)
    # both workers report the study's best trial as read from the server when each ended:
    # never better than the study's best, and the one that ended last saw all of it
    results = [json.loads(out) for out, _ in outputs]
    assert {r["storage"] for r in results} == {postgres_url}
    best = min(t.value for t in done if t.state == TrialState.COMPLETE)
    assert all(r["loss"] >= best * (1 - 1e-9) for r in results)
    assert min(r["loss"] for r in results) == pytest.approx(best)


def test_killed_worker_study_resumes_on_postgres(postgres_url, workdir, child_env):
    study = f"resume-{uuid.uuid4().hex[:8]}"
    # a target far beyond what runs before the kill: a tiny-recipe trial can take well
    # under the polling interval, and the kill must still land midway
    process = subprocess.Popen(command(workdir, postgres_url, study, 500, "--seed", "1", "--no-tracking"),
                               cwd=workdir, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while len(finished(postgres_url, study)) < 3 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    before = {t.number: t.params for t in finished(postgres_url, study)}
    assert 3 <= len(before) < 500, "the kill must land midway"
    target = len(before) + 4
    again = subprocess.run(command(workdir, postgres_url, study, target, "--seed", "2", "--no-tracking"),
                           cwd=workdir, env=child_env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    after = {t.number: t.params for t in finished(postgres_url, study)}
    assert all(after[n] == params for n, params in before.items())  # nothing finished is lost or re-run
    assert len(after) == target
    assert json.loads(again.stdout)["trials"] == target


def test_runs_appear_on_the_mlflow_server(mlflow_server, workdir, child_env):
    from mlflow.tracking import MlflowClient

    storage = f"sqlite:///{workdir / 'studies.db'}"
    result = subprocess.run(command(workdir, storage, "tracked", 4, "--seed", "1", "--tracking-uri", mlflow_server,
                                    "--experiment-name", "on-server"),
                            cwd=workdir, env=child_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["tracking_uri"] == mlflow_server
    client = MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name("on-server")
    parent = client.get_run(answer["mlflow_run_id"])
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["twin.study"] == "tracked"
    assert parent.data.metrics["best_loss"] == pytest.approx(answer["loss"])
    nested = client.search_runs([experiment.experiment_id],
                                filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted(int(run.data.tags["twin.trial_number"]) for run in nested) == [0, 1, 2, 3]
    # artifacts went through the server into its artifact store, not a local folder
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"best_params.json", "calibration.json"} <= artifacts
    assert list((workdir / "mlflow-server" / "artifacts").rglob("best_params.json"))
    assert not (workdir / "mlruns").exists() and not (workdir / "mlflow.db").exists()
