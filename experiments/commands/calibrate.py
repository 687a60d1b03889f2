"""`twin calibrate DATA`: fit the twin to lab cycling data, track it, forecast life."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from twin.experiments.calibrate_options import apply_cell_options, cell_options, resolve_prior
from twin.experiments.options import OUTPUT_PATH, InputError, emit, handle_errors, to_json
from twin.experiments.progress import cycle_progress

# Only the anode-free table holds several cells; other formats are one cell per file.
FORMATS_WITH_CELL_IDS = frozenset({"anode-free-table"})
FORMAT_LABELS = {"bdf": "Battery Data Format time-series", "summary": "per-cycle summary",
                 "biologic-mpr": "BioLogic .mpr", "arbin-res": "Arbin .res"}


def recipe_path(name_or_path: str | None, data_format: str | None) -> Path:
    """--recipe value -> a recipe file (twin.calibration.recipes): a path, or a name of
    experiments/recipes/<name>.toml; by default the recipe for the data's format."""
    from twin.calibration.recipes import RecipeError, recipe_path as library_recipe_path

    try:
        return library_recipe_path(name_or_path, data_format)
    except RecipeError as err:
        raise InputError(f"--recipe: {err}") from None


def tracking_settings(no_tracking: bool, tracking_uri: str | None, experiment_name: str) -> Any:
    if no_tracking:
        return None
    from twin.calibration.tracking import CalibrationTracker

    return CalibrationTracker(tracking_uri, experiment_name)


@click.command("calibrate")
@click.argument("data", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--cell", "cell_id", default=None,
              help="Cell of a multi-cell file (e.g. AF46 of cells.csv); 'all' or 'A,B' fits each "
                   "(then --out-dir is needed).")
@click.option("--data-format", type=click.Choice(["auto", "bdf", "summary", "anode-free-table", "biologic-mpr", "arbin-res",
                                                      "maccor-txt", "neware-csv", "neware-nda"]),
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
              help="Worker processes sharing the study (many cells: cells fitted at a time).")
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
@click.option("--out", type=OUTPUT_PATH, default=None,
              help="Write the result to this file (atomically) instead of stdout.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="Output format (csv: the forecast band per cycle beside the measured capacity).")
@cell_options
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Many cells (several DATA files, --cell all or A,B): one DIR/<cell>.json per cell "
                   "and DIR/summary.csv; a rerun skips the cells already written.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Many cells: Dask scheduler (tcp://HOST:PORT) to fit them on a cluster; default "
                   "$DASK_SCHEDULER_ADDRESS, else --n-jobs cells at a time on this machine.")
@click.option("--method", type=click.Choice(["auto", "library", "optuna"]), default="auto", show_default=True,
              help="auto: the cross-validated library posterior (the recipe's shipped library of twin curves "
                   "and fleet prior) when the recipe ships one covering the cell's design and no optuna option "
                   "(--trials, --study, --warm-start, --sampler, --timeout, --storage) is given; else optuna (MAP with the prior).")
@handle_errors
def cli(data: tuple[Path, ...], cell_id: str | None, data_format: str, recipe: str | None, fit_cycles: int | None,
        trials: int | None, timeout: float | None, n_jobs: int, seed: int | None, sampler: str | None,
        storage: str, in_memory: bool, study_name: str | None, warm_start: Path | None,
        tracking_uri: str | None, experiment_name: str, no_tracking: bool, out: Path | None, fmt: str,
        protocol_file: str | None = None, prior_file: Path | None = None, no_prior: bool = False,
        out_dir: Path | None = None, scheduler: str | None = None, method: str = "auto",
        **design_values: Any) -> None:
    """Fit the twin to lab cycling data with optuna and forecast the rest of life.

    DATA: a Battery Data Format CSV, a per-cycle summary CSV or the anode-free table
    (with --cell). The fitted parameters, bounds and design assumptions come from the
    recipe. Every calibration is one MLflow parent run with one nested run per trial;
    the study lives in --storage so `--study NAME` resumes it.
    """
    if len(data) > 1 or out_dir is not None or (cell_id or "").strip().lower() == "all" or "," in (cell_id or ""):
        if method == "library":
            # the campaign path fits each cell with optuna; running optuna for hours unasked would be worse
            raise InputError("--method library: calibrating several cells at once runs optuna only; "
                             "calibrate one cell at a time (--cell ID) for the library posterior")
        return calibrate_fleet(data, cell_id, data_format, recipe, fit_cycles, trials, timeout, n_jobs, seed,
                               sampler, storage, in_memory, study_name, tracking_uri, experiment_name,
                               no_tracking, out_dir, scheduler, out, warm_start)
    data = data[0]
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
    recipe_file = recipe_path(recipe, cycle_data.meta.get("format"))
    loaded, changed = apply_cell_options(load_recipe(recipe_file), design_values, protocol_file)
    if design_values.get("electrolyte_amount") is not None:
        cycle_data.meta.pop("electrolyte_uL", None)  # the stated amount wins over the data's volume
    prior, prior_note = resolve_prior(prior_file, no_prior, recipe_file, loaded, changed)
    if fit_cycles is not None and fit_cycles < int(cycle_data.cycle_numbers.min()):
        raise InputError(f"--fit-cycles {fit_cycles}: the data start at cycle {int(cycle_data.cycle_numbers.min())}")
    settings = StudySettings(
        storage=None if in_memory else storage, study_name=study_name, trials=trials, timeout_s=timeout,
        n_jobs=n_jobs, seed=seed, sampler=sampler,
        warm_start=load_warm_start(warm_start) if warm_start is not None else None,
    )
    shipped = library_for(method, recipe_file, loaded, cycle_data, prior, changed,
                          optuna_asked(trials, study_name, warm_start, sampler, timeout, storage), fit_cycles)
    check_places(None if shipped else settings.storage, tracking_uri, experiment_name, tracking=not no_tracking)
    if shipped is not None:
        from twin.calibration.study import calibrate_with_library

        tracker = tracking_settings(no_tracking, tracking_uri, experiment_name)
        result = calibrate_with_library(cycle_data, loaded, fit_cycles, shipped, prior, tracker)
        return _emit_result(result, prior_note, fmt, cycle_data, out)
    check_calibration(cycle_data, loaded, fit_cycles, settings, prior)  # recipe names, storage URL, study's data
    tracker = tracking_settings(no_tracking, tracking_uri, experiment_name)
    quiet_optuna_logs()  # a progress bar instead of a log line per trial
    total = trials or loaded.fit.trials
    with cycle_progress(total, "trials") as advance:
        result = calibrate(cycle_data, loaded, fit_cycles, settings, tracker,
                           callbacks=[lambda study, trial: advance(1)], prior=prior)
    _emit_result(result, prior_note, fmt, cycle_data, out)


def optuna_asked(trials: int | None, study_name: str | None, warm_start: Path | None, sampler: str | None,
                 timeout: float | None, storage: str) -> bool:
    """An option only optuna uses was given (then --method auto runs optuna)."""
    from twin.calibration.study import DEFAULT_STORAGE

    return (any(v is not None for v in (trials, study_name, warm_start, sampler, timeout))
            or storage != DEFAULT_STORAGE)


def library_for(method: str, recipe_file: Path, recipe: Any, cycle_data: Any, prior: Any, changed: list[str],
                optuna_asked: bool, fit_cycles: int | None = None) -> Any:
    """The recipe's shipped library when the library path runs (see --method), else None."""
    from twin.calibration.library import LIBRARY_SUFFIX, load_shipped_library
    from twin.calibration.objective import design_for_data

    if method == "library" and optuna_asked:
        # silently ignoring --trials and the like would hide that no optuna study ran
        raise InputError("--method library: --trials, --study, --warm-start, --sampler, --timeout and "
                         "--storage are options of --method optuna")
    if method == "optuna" or (method == "auto" and optuna_asked):
        return None
    shipped = load_shipped_library(recipe_file.with_name(recipe_file.stem + LIBRARY_SUFFIX))
    reason = None
    if shipped is None:
        reason = f"recipe {recipe.name} ships no library of twin curves"
    elif changed:
        reason = f"{', '.join(changed)} changed the recipe's design, which its library does not cover"
    elif not shipped.covers(recipe, design_for_data(recipe, cycle_data.meta)):
        reason = f"the library of recipe {recipe.name} was simulated for another recipe or design"
    elif not hasattr(prior, "likelihood_sd"):
        reason = "the library posterior needs a fleet prior (the recipe's, or --prior with a fleet prior)"
    elif (last := _last_fitted_cycle(cycle_data, fit_cycles)) > shipped.library.horizon:
        # the library's curves end at its horizon: a fit window past it cannot be scored
        reason = (f"the fit window reaches cycle {last}, past the library's last cycle "
                  f"{shipped.library.horizon} (give --fit-cycles <= {shipped.library.horizon})")
    if reason is None:
        return shipped
    if method == "library":
        raise InputError(f"--method library: {reason}")
    return None


def _last_fitted_cycle(cycle_data: Any, fit_cycles: int | None) -> int:
    """The last measured cycle inside the fit window (all measured cycles without --fit-cycles)."""
    cycles = [int(c) for c in cycle_data.cycle_numbers if fit_cycles is None or c <= fit_cycles]
    return max(cycles, default=0)


def _emit_result(result: Any, prior_note: str | None, fmt: str, cycle_data: Any, out: Path | None) -> None:
    if prior_note:
        result.notes.append(prior_note)
    for note in result.notes:
        if note.startswith("warning:"):
            click.echo(note, err=True)
    if fmt == "csv":
        emit(render_csv(result, cycle_data), out)
    else:
        emit(to_json(result.to_dict()) if fmt == "json" else render_table(result), out)


def render_csv(result: Any, cycle_data: Any) -> str:
    """One row per cycle: ``cycle``, ``measured_normalized_capacity`` (empty where not
    measured), ``fitted`` (the cycle was in the fit window), the forecast band
    ``forecast_p10``/``forecast_p50``/``forecast_p90`` [-, normalized capacity]."""
    import pandas as pd

    forecast = result.forecast
    band = pd.DataFrame({"cycle": forecast.cycles.astype(int), "forecast_p10": forecast.p10,
                         "forecast_p50": forecast.p50, "forecast_p90": forecast.p90})
    measured = pd.DataFrame({"cycle": cycle_data.cycle_numbers.astype(int),
                             "measured_normalized_capacity": cycle_data.normalized_capacity})
    table = measured.merge(band, on="cycle", how="outer").sort_values("cycle")
    last_fitted = result.fit_cycles if result.fit_cycles is not None else int(cycle_data.cycle_numbers.max())
    table.insert(2, "fitted", (table["cycle"] <= last_fitted) & table["measured_normalized_capacity"].notna())
    return table.to_csv(index=False)


def calibrate_fleet(data: tuple[Path, ...], cells: str | None, data_format: str, recipe: str | None,
                    fit_cycles: int | None, trials: int | None, timeout: float | None, n_jobs: int,
                    seed: int | None, sampler: str | None, storage: str, in_memory: bool, study_name: str | None,
                    tracking_uri: str | None, experiment_name: str, no_tracking: bool, out_dir: Path | None,
                    scheduler: str | None, out: Path | None, warm_start: Path | None) -> None:
    """Many cells: each fitted by its own study (twin.experiments.fleet), in parallel."""
    if out_dir is None:
        raise InputError("several cells to fit: give --out-dir DIR for one result file per cell")
    if in_memory:
        raise InputError("--in-memory: a fleet keeps each cell's study in --storage so it can resume")
    if out is not None or warm_start is not None:
        raise InputError(f"{'--out' if out is not None else '--warm-start'}: fits one cell; with several "
                         "cells the results go to --out-dir")
    from twin.calibration.study import StudySettings
    from twin.calibration.tracking import resolve_tracking_uri
    from twin.experiments.commands.sweep import resolve_scheduler
    from twin.experiments.fleet import FleetSettings, absolute_sqlite, fleet_jobs, run_fleet

    address = resolve_scheduler(scheduler)
    jobs = fleet_jobs(data, cells, data_format)
    if recipe is not None:
        recipe = str(recipe_path(recipe, None).resolve())  # a bad name fails here, once
    settings = FleetSettings(
        data_format=data_format, recipe=recipe, fit_cycles=fit_cycles,
        study=StudySettings(storage=absolute_sqlite(storage), study_name=study_name, trials=trials,
                            timeout_s=timeout, n_jobs=1, seed=seed, sampler=sampler),
        tracking_uri=None if no_tracking else absolute_sqlite(resolve_tracking_uri(tracking_uri)),
        experiment_name=experiment_name)

    with cycle_progress(len(jobs), "cells") as advance:
        def on_start(done: int, total: int) -> None:
            click.echo(f"{done} of {total} cells already fitted in {out_dir}; {total - done} to fit"
                       if done else f"{total} cells to fit", err=True)
            advance(done)

        result = run_fleet(jobs, settings, out_dir, n_jobs, address, on_start=on_start, progress=advance)
    click.echo(f"wrote {result.summary}: {len(result.rows)} cells ({result.reused} reused, {result.computed} "
               f"fitted, {result.failed} failed) in {result.elapsed_s:.1f} s", err=True)
    for row in result.rows:
        life = row["eol_cycle_p50"]
        shown = f"loss {_number(row['loss'])}  end of life P50 {_number(life)}" if row["status"] == "ok" \
            else f"failed: {row['error']}"
        click.echo(f"{row['cell']:<24} {shown}")


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
    ]
    if result.method == "library-posterior":
        # no optuna study ran: the fit is the posterior over the recipe's library of twin curves
        lines += [
            f"method      library posterior over {result.library['size']} twin curves (library "
            f"{result.library['key']}), {result.library['effective_members']:.1f} effective members, most "
            f"probable #{result.library['map_member']}; no optuna trials (--method optuna to run them)",
            f"loss        {_number(result.loss)} (RMS error of normalized capacity of that member, data only), "
            f"capacity scale {_number(result.capacity_scale, 3)}",
        ]
    else:
        lines += [
            f"study       {result.study} ({result.storage or 'in memory'}): {result.trials} finished trials, "
            f"best #{result.best_trial}",
            f"loss        {_number(result.loss)} (RMS error of normalized capacity"
            f"{', with the prior term: MAP' if result.prior else ''}), capacity scale "
            f"{_number(result.capacity_scale, 3)}"
            + (f", data-only RMS {_number(result.fit_quality.get('fit_loss'))}" if result.prior else ""),
        ]
    if result.mlflow_run_id:
        lines.append(f"mlflow      run {result.mlflow_run_id} at {redact_url(result.tracking_uri)}")
    lines.append("best parameters")
    width = max((len(k) for k in result.best_params), default=0)
    lines += [f"  {k:<{width}}  {_number(v, 4) if isinstance(v, float) else v}"
              for k, v in result.best_params.items()]
    eol = f"{forecast.eol_fraction:.0%} of cycle 1"
    lines.append(f"forecast    ensemble of {len(forecast.members)} "
                 f"{'posterior members' if getattr(result, 'method', '') == 'library-posterior' else 'best trials'}")
    lines.append(f"  end of life ({eol})  P10 {_number(forecast.eol_cycle_p10)}  "
                 f"P50 {_number(forecast.eol_cycle_p50)}  P90 {_number(forecast.eol_cycle_p90)}")
    if result.prior:
        lines.append(f"prior       {result.prior['source'] or 'given'} (learned from {result.prior['cells']} cells; "
                     f"noise {_number(result.prior['noise_sd'], 3)}): "
                     f"{'posterior over the library' if result.method == 'library-posterior' else 'MAP fit'}, "
                     "posterior band")
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
