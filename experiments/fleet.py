"""Calibrate many cells at once (a whole test campaign): every cell of a table, or a
list of files, each fitted by its own optuna study, in parallel, resumable.

The plain API behind ``twin calibrate DATA... --cell all --out-dir DIR``:

* :func:`fleet_jobs` lists the cells (one per single-cell file; every cell, or the
  named ones, of the anode-free table);
* :func:`calibrate_cell` (a top-level, spawn- and Dask-safe worker) fits one cell
  and returns its summary row and its full result (the JSON of ``twin calibrate
  --format json``); a cell that cannot be fitted becomes a row that says why;
* :func:`run_fleet` runs the cells without a result file yet, on local processes or
  a Dask cluster (:mod:`twin.experiments.engine`), writes ``DIR/<cell>.json``
  atomically as each cell finishes and ``DIR/summary.csv`` (one row per cell) at
  the end. A fleet rerun with the same DIR skips the cells already written; a
  failed cell is tried again. Each cell's study is named after its data and fit
  window, so a cell killed mid-study resumes its trials from the storage.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.errors import TwinInputError, raise_if_interrupted

ALL_CELLS = "all"
SUMMARY_NAME = "summary.csv"
SUMMARY_COLUMNS = ("cell", "data_file", "cell_id", "status", "loss", "trials", "best_trial",
                   "eol_cycle_p10", "eol_cycle_p50", "eol_cycle_p90", "mae_unseen", "study",
                   "mlflow_run_id", "result_file", "elapsed_s", "error")


class FleetError(TwinInputError):
    """A bad fleet request (cell list, output folder); the message says which."""


@dataclass(frozen=True)
class CellJob:
    """One cell to calibrate: a data file and, for a multi-cell table, the cell id."""

    path: Path
    cell_id: str | None = None

    @property
    def name(self) -> str:
        """File-name-safe label: data file stem and cell id."""
        text = self.path.stem + (f"-{self.cell_id}" if self.cell_id else "")
        return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


@dataclass(frozen=True)
class FleetSettings:
    """What every cell of a fleet shares. Paths and URLs are absolute, so a worker
    on another machine or in another folder reads and writes the same places."""

    data_format: str
    recipe: str | None  # recipe file (absolute) or packaged name; None: by data format
    fit_cycles: int | None
    study: Any  # twin.calibration.study.StudySettings (study_name: the prefix)
    tracking_uri: str | None = None  # None: no tracking
    experiment_name: str = "twin-calibration"


def absolute_sqlite(url: str | None) -> str | None:
    """'sqlite:///x.db' -> 'sqlite:////abs/x.db' (workers may run in other folders)."""
    if url is None or not url.startswith("sqlite:///") or url.startswith("sqlite:////"):
        return url
    return "sqlite:///" + str(Path(url[len("sqlite:///"):]).resolve())


def fleet_jobs(paths: Sequence[Path], cells: str | None, data_format: str) -> list[CellJob]:
    """The cells to fit: `cells` None (one cell per file), 'all' (every cell of each
    table) or 'A,B' (those cells of each table). Raises FleetError or DataError."""
    from twin.calibration.data import detect_format, list_anode_free_cells

    wanted = [c.strip() for c in (cells or "").split(",") if c.strip()]
    jobs: list[CellJob] = []
    for path in paths:
        path = Path(path).resolve()
        kind = detect_format(path) if data_format == "auto" else data_format
        if kind != "anode-free-table":
            if wanted:
                raise FleetError(f"--cell {cells}: {path.name} is a single-cell file without cell ids; "
                                 "leave --cell out")
            jobs.append(CellJob(path))
            continue
        known = [c for c in list_anode_free_cells(path) if c]
        if not wanted:
            if len(known) > 1:
                raise FleetError(f"{path.name} holds {len(known)} cells: give --cell all or --cell A,B")
            jobs.extend(CellJob(path, c) for c in known)
        elif wanted == [ALL_CELLS]:
            jobs.extend(CellJob(path, c) for c in known)
        else:
            lookup = {c.lower(): c for c in known}
            missing = [c for c in wanted if c.lower() not in lookup]
            if missing:
                raise FleetError(f"--cell: {', '.join(missing)} not in {path.name}")
            jobs.extend(CellJob(path, lookup[c.lower()]) for c in wanted)
    names = [job.name for job in jobs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FleetError(f"the same cell is listed twice: {', '.join(repeated)}")
    return jobs


def study_name(settings: FleetSettings, job: CellJob) -> str:
    """A cell's study: fixed by the data and the fit window, so a rerun resumes it."""
    prefix = settings.study.study_name or "fleet"
    window = f"-fit{settings.fit_cycles}" if settings.fit_cycles else ""
    return f"{prefix}-{job.name}{window}"


def _row(job: CellJob, status: str, elapsed_s: float, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c: None for c in SUMMARY_COLUMNS}
    row.update(cell=job.name, data_file=str(job.path), cell_id=job.cell_id or "", status=status,
               elapsed_s=round(elapsed_s, 3), error="")
    row.update(values)
    return row


def calibrate_cell(job: CellJob, settings: FleetSettings) -> dict[str, Any]:
    """Worker: fit one cell. Returns {"row": summary row, "result": JSON result or
    None}. A cell whose data, recipe or solves fail is a row with status 'failed'."""
    start = time.perf_counter()
    from twin.calibration.data import read_cycling_data
    from twin.calibration.search_space import load_recipe
    from twin.calibration.study import calibrate, quiet_optuna_logs
    from twin.calibration.tracking import CalibrationTracker
    from twin.calibration.recipes import recipe_path

    try:
        quiet_optuna_logs()
        data = read_cycling_data(job.path, cell_id=job.cell_id, format=settings.data_format)
        recipe = load_recipe(recipe_path(settings.recipe, data.meta.get("format")))
        study = dataclasses.replace(settings.study, study_name=study_name(settings, job))
        tracker = (CalibrationTracker(settings.tracking_uri, settings.experiment_name)
                   if settings.tracking_uri else None)
        result = calibrate(data, recipe, settings.fit_cycles, study, tracker)
    except Exception as err:  # noqa: BLE001 - one bad cell must not stop the fleet
        raise_if_interrupted()  # Ctrl-C inside the solver is not a failed run
        if not type(err).__module__.startswith(("twin", "pybamm", "casadi", "optuna", "click")):
            raise
        message = str(getattr(err, "message", None) or err).strip().splitlines() or [type(err).__name__]
        return {"row": _row(job, "failed", time.perf_counter() - start, error=message[0][:300]), "result": None}
    forecast = result.forecast
    row = _row(job, "ok", time.perf_counter() - start, loss=result.loss, trials=result.trials,
               best_trial=result.best_trial, eol_cycle_p10=forecast.eol_cycle_p10,
               eol_cycle_p50=forecast.eol_cycle_p50, eol_cycle_p90=forecast.eol_cycle_p90,
               mae_unseen=forecast.mae_unseen, study=result.study, mlflow_run_id=result.mlflow_run_id or "",
               result_file=f"{job.name}.json")
    return {"row": row, "result": result.to_dict()}


@dataclass
class FleetResult:
    """One summary row per cell, and how many were reused from an earlier run."""

    rows: list[dict[str, Any]]
    reused: int
    computed: int
    failed: int
    elapsed_s: float
    summary: Path


def _result_row(job: CellJob, path: Path) -> dict[str, Any] | None:
    """The summary row of a cell already written by an earlier run (None if unreadable)."""
    import json

    try:
        result = json.loads(path.read_text())
        forecast = result["forecast"]
        return _row(job, "ok", 0.0, loss=result["loss"], trials=result["trials"],
                    best_trial=result["best_trial"], eol_cycle_p10=forecast.get("eol_cycle_p10"),
                    eol_cycle_p50=forecast.get("eol_cycle_p50"), eol_cycle_p90=forecast.get("eol_cycle_p90"),
                    mae_unseen=forecast.get("mae_unseen"), study=result["study"],
                    mlflow_run_id=result.get("mlflow_run_id") or "", result_file=path.name)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged file: that cell is fitted again


def run_fleet(jobs: Sequence[CellJob], settings: FleetSettings, out_dir: Path, workers: int,
              scheduler: str | None = None, on_start: Callable[[int, int], None] | None = None,
              progress: Callable[[int], None] | None = None) -> FleetResult:
    """Fit every cell without a result in `out_dir`, `workers` cells at a time on this
    machine or on the Dask cluster at `scheduler`; write each result as it arrives
    and the summary table at the end (one row per job, in job order)."""
    import json

    from twin.experiments.engine import map_unordered
    from twin.files import write_atomic

    start = time.perf_counter()
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise FleetError(f"--out-dir {out_dir}: is a file, not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, Any]] = {}
    for job in jobs:
        done = out_dir / f"{job.name}.json"
        row = _result_row(job, done) if done.exists() else None
        if row is not None:
            rows[job.name] = row
    pending = [job for job in jobs if job.name not in rows]
    if on_start is not None:
        on_start(len(rows), len(jobs))
    failed = 0
    for i, answer in map_unordered(calibrate_cell, pending, settings, workers, scheduler):
        job = pending[i]
        if answer["result"] is not None:
            write_atomic(out_dir / f"{job.name}.json", json.dumps(answer["result"], indent=2) + "\n")
        else:
            failed += 1
        rows[job.name] = answer["row"]
        if progress is not None:
            progress(1)
    summary = out_dir / SUMMARY_NAME
    write_atomic(summary, summary_csv([rows[job.name] for job in jobs]))
    return FleetResult(rows=[rows[job.name] for job in jobs], reused=len(jobs) - len(pending),
                       computed=len(pending), failed=failed, elapsed_s=time.perf_counter() - start,
                       summary=summary)


def summary_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The summary table as CSV text (empty cell for a missing value)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(SUMMARY_COLUMNS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


__all__ = ["ALL_CELLS", "CellJob", "FleetSettings", "FleetResult", "FleetError", "fleet_jobs",
           "calibrate_cell", "run_fleet", "absolute_sqlite", "study_name"]
