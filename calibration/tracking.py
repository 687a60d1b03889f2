"""MLflow tracking of calibrations: one parent run per calibration, one nested run per trial.

Written on ``mlflow.tracking.MlflowClient`` with explicit run ids (no global
"active run"), so it works the same in a CLI, a script or a worker process.
optuna-integration's ``MLflowCallback`` is deprecated; this is the small layer the
twin needs:

* parent run: tags (dataset sha256, data file name, cell, code version, recipe,
  study name and storage), parameters (recipe, fit settings), metrics (best loss,
  forecast errors and end-of-life cycles) and artifacts (best parameters as JSON, a
  PyBaMM-style parameter file, figures);
* nested runs (tag ``mlflow.parentRunId``): one per optuna trial, with the trial's
  parameters, its loss, its intermediate (per-block) losses as a metric history and
  its state.

Tracking URI: the ``tracking_uri`` argument, else ``MLFLOW_TRACKING_URI``, else a
SQLite database in the working directory (``sqlite:///mlflow.db``: MLflow 3 keeps the
plain file store in maintenance mode). ``mlflow ui --backend-store-uri <uri>`` shows
the runs. Artifacts of a local SQLite store go to ``mlartifacts/`` beside the database.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import optuna

from twin.calibration.safety import DEFAULT_TRACKING_URI, redact, resolve_tracking_uri  # noqa: F401 - importable from here as before

DEFAULT_EXPERIMENT = "twin-calibration"
TAG_PREFIX = "twin."
# MLflow keys allow letters, digits, _ - . / space and colon only.
_KEY_FORBIDDEN = re.compile(r"[^\w\-./ :]")
_UNIT = re.compile(r"\s*\[([^\]]*)\]\s*$")


def mlflow_key(name: str) -> str:
    """A twin parameter name as an MLflow key: "Rate [mol.m-2.s-1]" -> "Rate / mol.m-2.s-1"."""
    key = _UNIT.sub(lambda m: f" / {m.group(1)}", name)
    return _KEY_FORBIDDEN.sub("_", key)[:250]


def code_version() -> dict[str, str]:
    """Package version and, when the code runs from the twin project's own checkout
    (not a user's repository holding an installed copy), the commit: see twin.provenance."""
    from twin.provenance import git_state, provenance

    versions = provenance()
    return {"version": versions["twin"], "pybamm": versions["pybamm"], "python": versions["python"],
            **git_state()}


def _artifact_root(tracking_uri: str) -> str | None:
    """For a local SQLite store: an `mlartifacts` folder beside the database file."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    db_path = Path(tracking_uri[len("sqlite:///"):])
    if str(db_path) in ("", ":memory:"):
        return None
    return (db_path.resolve().parent / "mlartifacts").as_uri()


def _quiet_mlflow_logs() -> None:
    # schema migrations of a new database log at INFO on stderr: not the user's business
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # with a tracking server MLflow prints a "View run ... at: URL" line per run on
    # stdout, which would corrupt `--format json` results (the parent run id and the
    # tracking URI are in the result instead)
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


class CalibrationTracker:
    """A parent run and its nested trial runs in one MLflow experiment."""

    def __init__(self, tracking_uri: str | None = None, experiment_name: str = DEFAULT_EXPERIMENT) -> None:
        from mlflow.tracking import MlflowClient

        _quiet_mlflow_logs()  # after the import: mlflow sets its logger up when imported

        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        try:
            self.client = MlflowClient(tracking_uri=self.tracking_uri)
            experiment = self.client.get_experiment_by_name(experiment_name)
            if experiment is None:
                self.experiment_id = self.client.create_experiment(
                    experiment_name, artifact_location=_artifact_root(self.tracking_uri))
            else:
                self.experiment_id = experiment.experiment_id
        except Exception as err:  # noqa: BLE001 - mlflow raises many kinds for a bad URI
            from twin.errors import CalibrationError

            cause = (str(err).strip().splitlines() or [type(err).__name__])[0].strip()
            raise CalibrationError(redact(f"--tracking-uri {self.tracking_uri!r} is not a tracking URI MLflow "
                                          f"can open: {cause}")) from None
        self.experiment_name = experiment_name
        self.run_id: str | None = None
        self.logged_trials: set[int] = set()
        self.study_name = ""

    def start(self, run_name: str, tags: Mapping[str, Any], params: Mapping[str, Any]) -> str:
        """Open the parent run; returns its id."""
        run = self.client.create_run(
            self.experiment_id, run_name=run_name,
            tags={f"{TAG_PREFIX}{k}": str(v) for k, v in tags.items()} | {"twin.kind": "calibration"},
        )
        self.run_id = run.info.run_id
        self.study_name = str(tags.get("study", run_name))
        self.log_params(params)
        self.close_stale_runs()
        self.logged_trials |= self.trials_logged_before()
        return self.run_id

    def _study_runs(self, kind: str, extra: str = "") -> list[Any]:
        """Runs of this experiment of `kind` ("calibration" or "trial") for this study."""
        name = self.study_name.replace("'", "\\'")
        return self.client.search_runs(
            [self.experiment_id], max_results=50_000,
            filter_string=f"tags.`twin.kind` = '{kind}' AND tags.`twin.study` = '{name}'{extra}")

    def close_stale_runs(self) -> int:
        """Parent runs of this study left RUNNING by a killed calibration are marked
        KILLED (a resumed calibration is the proof they will never finish)."""
        stale = [r for r in self._study_runs("calibration", " AND attributes.status = 'RUNNING'")
                 if r.info.run_id != self.run_id]
        for run in stale:
            self.client.set_terminated(run.info.run_id, status="KILLED")
        return len(stale)

    def trials_logged_before(self) -> set[int]:
        """Trial numbers of this study an earlier calibration already logged: a resumed
        calibration does not log them again."""
        return {int(r.data.tags["twin.trial_number"]) for r in self._study_runs("trial")
                if r.data.tags.get("twin.trial_number", "").isdigit()}

    def log_params(self, params: Mapping[str, Any], run_id: str | None = None) -> None:
        from mlflow.entities import Param

        items = [Param(mlflow_key(k), str(v)[:6000]) for k, v in params.items()]
        for start in range(0, len(items), 100):
            self.client.log_batch(run_id or self._run(), params=items[start:start + 100])

    def log_metrics(self, metrics: Mapping[str, float | None], step: int = 0) -> None:
        from mlflow.entities import Metric

        stamp = _now_ms()
        items = [Metric(mlflow_key(k), float(v), stamp, step) for k, v in metrics.items()
                 if v is not None and v == v]
        if items:
            self.client.log_batch(self._run(), metrics=items)

    def log_trial(self, trial: optuna.trial.FrozenTrial, origin: str = "this calibration") -> str | None:
        """One nested run for a finished trial (once per trial number)."""
        if trial.number in self.logged_trials or not trial.state.is_finished():
            return None
        from mlflow.entities import Metric, Param, RunTag

        run = self.client.create_run(
            self.experiment_id, run_name=f"trial-{trial.number}",
            tags={"mlflow.parentRunId": self._run(), "twin.kind": "trial",
                  "twin.trial_number": str(trial.number), "twin.trial_state": trial.state.name,
                  "twin.study": getattr(self, "study_name", ""),
                  "twin.trial_origin": origin},
        )
        stamp = _now_ms()
        params = [Param(mlflow_key(k), repr(v)) for k, v in trial.params.items()]
        metrics = [Metric("loss", float(trial.value), stamp, 0)] if trial.value is not None else []
        metrics += [Metric("partial_loss", float(v), stamp, int(step))
                    for step, v in sorted(trial.intermediate_values.items())]
        tags = [RunTag(f"twin.{k}", str(v)[:5000]) for k, v in trial.user_attrs.items()]
        self.client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=tags)
        status = "FINISHED" if trial.state == optuna.trial.TrialState.COMPLETE else (
            "KILLED" if trial.state == optuna.trial.TrialState.PRUNED else "FAILED")
        self.client.set_terminated(run.info.run_id, status=status)
        self.logged_trials.add(trial.number)
        return run.info.run_id

    def log_trials(self, trials: Iterable[optuna.trial.FrozenTrial], before: set[int] | None = None) -> None:
        """Nested runs for every finished trial not logged yet; trials whose number is in
        `before` ran in an earlier calibration of the same study."""
        for trial in trials:
            origin = "earlier calibration" if before and trial.number in before else "this calibration"
            self.log_trial(trial, origin)

    def callback(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """optuna callback: log each trial as it finishes."""
        self.log_trial(trial)

    def log_text(self, text: str, name: str, artifact_path: str | None = None) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_text(text, encoding="utf-8")
            self.client.log_artifact(self._run(), str(path), artifact_path)

    def log_json(self, obj: Any, name: str, artifact_path: str | None = None) -> None:
        self.log_text(json.dumps(obj, indent=2, allow_nan=False) + "\n", name, artifact_path)

    def log_bytes(self, content: bytes, name: str, artifact_path: str | None = None) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_bytes(content)
            self.client.log_artifact(self._run(), str(path), artifact_path)

    def log_file(self, path: str | Path, artifact_path: str | None = None) -> None:
        self.client.log_artifact(self._run(), str(path), artifact_path)

    def finish(self, status: str = "FINISHED") -> None:
        if self.run_id is not None:
            self.client.set_terminated(self.run_id, status=status)

    def _run(self) -> str:
        if self.run_id is None:
            raise RuntimeError("start() the parent run first")
        return self.run_id


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
