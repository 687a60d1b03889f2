"""`twin calibrate DATA`: fit the twin to lab cycling data, track it, forecast life."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from twin.experiments.options import InputError, emit, handle_errors, to_json
from twin.experiments.progress import cycle_progress

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"
DEFAULT_RECIPE_BY_FORMAT = {"anode-free-table": "anode-free-cu-lfp"}
DEFAULT_RECIPE = "full-cell"
# Only the anode-free table holds several cells; other formats are one cell per file.
FORMATS_WITH_CELL_IDS = frozenset({"anode-free-table"})
FORMAT_LABELS = {"bdf": "Battery Data Format time-series", "summary": "per-cycle summary",
                 "biologic-mpr": "BioLogic .mpr", "arbin-res": "Arbin .res"}


def recipe_path(name_or_path: str | None, data_format: str | None) -> Path:
    """A recipe file: a path, or a name of experiments/recipes/<name>.toml; by default
    the recipe for the data's format."""
    if name_or_path is None:
        name_or_path = DEFAULT_RECIPE_BY_FORMAT.get(data_format or "", DEFAULT_RECIPE)
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        return path
    packaged = RECIPES_DIR / f"{name_or_path.removesuffix('.toml')}.toml"
    if packaged.exists():
        return packaged
    known = ", ".join(sorted(p.stem for p in RECIPES_DIR.glob("*.toml")))
    raise InputError(f"--recipe: {name_or_path!r} is neither a TOML file nor a recipe name (known: {known})")


def tracking_settings(no_tracking: bool, tracking_uri: str | None, experiment_name: str) -> Any:
    if no_tracking:
        return None
    from twin.calibration.tracking import CalibrationTracker

    return CalibrationTracker(tracking_uri, experiment_name)


@click.command("calibrate")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--cell", "cell_id", default=None, help="Cell of a multi-cell file (e.g. AF46 of cells.csv).")
@click.option("--data-format", type=click.Choice(["auto", "bdf", "summary", "anode-free-table", "biologic-mpr", "arbin-res"]),
              default="auto", show_default=True, help="How to read DATA (vendor files need the galvani package).")
@click.option("--recipe", default=None,
              help="Recipe name (experiments/recipes/NAME.toml) or TOML file; default by data format "
                   "(anode-free table: anode-free-cu-lfp, else full-cell).")
@click.option("--fit-cycles", type=click.IntRange(1, None), default=None,
              help="Fit on cycles 1..N only and forecast the rest (errors on the unseen cycles).")
@click.option("--trials", type=click.IntRange(1, 100_000), default=None,
              help="Finished trials the study should hold (a resumed study runs only the rest); "
                   "default from the recipe.")
@click.option("--timeout", type=click.FloatRange(0, None, min_open=True), default=None,
              help="Stop starting new trials after this many seconds.")
@click.option("--n-jobs", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Worker processes sharing the study.")
@click.option("--seed", type=int, default=None, help="Sampler seed (reproducible trials with --n-jobs 1).")
@click.option("--sampler", type=click.Choice(["tpe", "cmaes", "random"]), default=None,
              help="optuna sampler; default from the recipe (tpe).")
@click.option("--storage", default="sqlite:///twin-studies.db", show_default=True,
              help="optuna storage URL (any database URL; share it to run workers on several machines).")
@click.option("--in-memory", is_flag=True, help="Keep the study in memory (nothing to resume).")
@click.option("--study", "study_name", default=None,
              help="Study name; an existing study of that name resumes. Default: a new unique name.")
@click.option("--warm-start", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON of a previous fit (`--format json` output or best_params.json): its best "
                   "parameters are the first trial.")
@click.option("--tracking-uri", default=None,
              help="MLflow tracking URI; default $MLFLOW_TRACKING_URI or sqlite:///mlflow.db.")
@click.option("--experiment-name", default="twin-calibration", show_default=True,
              help="MLflow experiment.")
@click.option("--no-tracking", is_flag=True, help="Do not log to MLflow.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the result to this file (atomically) instead of stdout.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@handle_errors
def cli(data: Path, cell_id: str | None, data_format: str, recipe: str | None, fit_cycles: int | None,
        trials: int | None, timeout: float | None, n_jobs: int, seed: int | None, sampler: str | None,
        storage: str, in_memory: bool, study_name: str | None, warm_start: Path | None,
        tracking_uri: str | None, experiment_name: str, no_tracking: bool, out: Path | None, fmt: str) -> None:
    """Fit the twin to lab cycling data with optuna and forecast the rest of life.

    DATA: a Battery Data Format CSV, a per-cycle summary CSV or the anode-free table
    (with --cell). The fitted parameters, bounds and design assumptions come from the
    recipe. Every calibration is one MLflow parent run with one nested run per trial;
    the study lives in --storage so `--study NAME` resumes it.
    """
    # Read and check everything before any file (study, tracking) is created.
    from twin.calibration.data import read_cycling_data
    from twin.calibration.search_space import load_recipe
    from twin.calibration.safety import check_places
    from twin.calibration.study import StudySettings, calibrate, check_calibration, load_warm_start, quiet_optuna_logs

    cycle_data = read_cycling_data(data, cell_id=cell_id, format=data_format)
    data_kind = cycle_data.meta.get("format")
    if cell_id is not None and data_kind not in FORMATS_WITH_CELL_IDS:
        raise InputError(f"--cell {cell_id}: {data.name} is a single-cell {FORMAT_LABELS.get(data_kind, 'data')} file without "
                         "cell ids; leave --cell out")
    loaded = load_recipe(recipe_path(recipe, cycle_data.meta.get("format")))
    if fit_cycles is not None and fit_cycles < int(cycle_data.cycle_numbers.min()):
        raise InputError(f"--fit-cycles {fit_cycles}: the data start at cycle {int(cycle_data.cycle_numbers.min())}")
    settings = StudySettings(
        storage=None if in_memory else storage, study_name=study_name, trials=trials, timeout_s=timeout,
        n_jobs=n_jobs, seed=seed, sampler=sampler,
        warm_start=load_warm_start(warm_start) if warm_start is not None else None,
    )
    check_places(settings.storage, tracking_uri, experiment_name, tracking=not no_tracking)  # before any file
    check_calibration(cycle_data, loaded, fit_cycles, settings)  # recipe names, storage URL, study's data
    tracker = tracking_settings(no_tracking, tracking_uri, experiment_name)
    quiet_optuna_logs()  # a progress bar instead of a log line per trial
    total = trials or loaded.fit.trials
    with cycle_progress(total, "trials") as advance:
        result = calibrate(cycle_data, loaded, fit_cycles, settings, tracker,
                           callbacks=[lambda study, trial: advance(1)])
    emit(to_json(result.to_dict()) if fmt == "json" else render_table(result), out)


def _number(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}g}"


def render_table(result: Any) -> str:
    """A summary for people: data, study, loss, parameters, forecast."""
    from twin.calibration.safety import redact_url
    forecast = result.forecast
    data = result.data
    cell = f" cell {data['cell_id']}" if data.get("cell_id") else ""
    window = f"cycles <= {result.fit_cycles}" if result.fit_cycles else "all cycles"
    lines = [
        f"data        {data['source']}{cell} (sha256 {data['sha256'][:12]}), fitted {window} "
        f"({result.fitted_points} points)",
        f"recipe      {result.recipe}: {result.design['cathode']}, {result.design['areal_capacity_mAh_cm2']} "
        f"mAh/cm2, N:P {result.design['np_ratio']}",
        f"study       {result.study} ({result.storage or 'in memory'}): {result.trials} finished trials, "
        f"best #{result.best_trial}",
        f"loss        {_number(result.loss)} (RMS error of normalized capacity"
        f"), capacity scale {_number(result.capacity_scale, 3)}",
    ]
    if result.mlflow_run_id:
        lines.append(f"mlflow      run {result.mlflow_run_id} at {redact_url(result.tracking_uri)}")
    lines.append("best parameters")
    width = max((len(k) for k in result.best_params), default=0)
    lines += [f"  {k:<{width}}  {_number(v, 4) if isinstance(v, float) else v}"
              for k, v in result.best_params.items()]
    eol = f"{forecast.eol_fraction:.0%} of cycle 1"
    lines.append(f"forecast    ensemble of {len(forecast.members)} best trials")
    lines.append(f"  end of life ({eol})  P10 {_number(forecast.eol_cycle_p10)}  "
                 f"P50 {_number(forecast.eol_cycle_p50)}  P90 {_number(forecast.eol_cycle_p90)}")
    if forecast.unseen_cycles:
        lines.append(f"  MAE on {forecast.unseen_cycles} unseen cycles  twin {_number(forecast.mae_unseen, 3)}  "
                     f"geometric baseline {_number(forecast.baseline_mae_unseen, 3)}")
    lines += result.notes
    lines.append("")
    lines.append(f"{'cycle':>7} {'P10':>8} {'P50':>8} {'P90':>8}")
    n = len(forecast.cycles)
    step = max(1, n // 15)
    for i in sorted(set(range(0, n, step)) | {n - 1}):
        lines.append(f"{int(forecast.cycles[i]):>7} {forecast.p10[i]:>8.4f} {forecast.p50[i]:>8.4f} "
                     f"{forecast.p90[i]:>8.4f}")
    return "\n".join(lines) + "\n"
