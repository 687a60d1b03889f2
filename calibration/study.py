"""Calibrate the twin to one cell's cycling data with optuna; track it; forecast life.

:func:`calibrate` is the plain API behind ``twin calibrate``:

1. split the data at ``fit_cycles`` (fit on the first cycles, keep the rest unseen);
2. open (or resume) an optuna study in ``storage`` (default: a SQLite file in the
   working directory, so a killed calibration resumes with the same ``study_name``
   and several processes or machines can share one study through a database);
3. enqueue the recipe's baseline parameters (new study) and a previous fit's best
   parameters (warm start), then run trials until the study holds ``trials``
   finished ones, or ``timeout_s`` passes; ``n_jobs`` > 1 runs that many worker
   processes on the same study (SQLite serialises their writes);
4. forecast with an ensemble of the best trials (``calibration.forecast``) and score
   it, and the geometric baseline, on the unseen cycles;
5. log everything to MLflow (``calibration.tracking``) when a tracker is given.

Samplers are seeded: with ``n_jobs`` = 1 the same seed, data and recipe give the
same trials. Worker k of a parallel run uses seed + k.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import multiprocessing
import random
import signal
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState

from twin.calibration.consistency import check_data_matches_cell
from twin.calibration.data import CycleData, DataError, select_cycles
from twin.calibration.readers.sanity import check_cycle_capacities
from twin.calibration.forecast import Forecast, forecast_from_trials
from twin.calibration.objective import (
    FAILED_SOLVE_LOSS, FitTarget, ObjectiveSpec, TwinModel, check_parameter_names, check_voltage_cycles,
    design_for_data,
)
from twin.calibration.prior import PopulationPrior, prior_covariates, prior_summary
from twin.calibration.quality import POOR_FIT_RATIO, fit_quality, quality_notes, unidentified_in_library
from twin.calibration.safety import die_with_parent, redact, redact_url, sqlite_locked_message
from twin.calibration.search_space import SAMPLERS, Recipe, RecipeError, SearchSpace
from twin.calibration.tracking import CalibrationTracker, code_version
from twin.design import CellDesign
from twin.errors import CalibrationError, interrupts_deferred  # noqa: F401 - CalibrationError importable from here as before
from twin.protocol import Protocol

DEFAULT_STORAGE = "sqlite:///twin-studies.db"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# A worker that died mid-trial stops beating; after the grace period its trial is
# marked failed and re-run once with the same parameters (none is lost).
HEARTBEAT_INTERVAL_S = 30
HEARTBEAT_GRACE_S = 90
# SQLite waits this long [s] for another process's write; a study file that stays locked
# longer than SQLITE_LOCK_WAIT_S when it opens is named in an error, not waited on for minutes.
SQLITE_BUSY_TIMEOUT_S = 10
SQLITE_LOCK_WAIT_S = 20
STORAGE_OPEN_ATTEMPTS = 6
# Local polish: population of the warm-started CMA-ES (small: a few generations fit).
POLISH_POPULATION = 4
# WS-CMA-ES estimates its start from the best 10 % of the trials: at least 10 of them.
POLISH_MIN_SOURCE_TRIALS = 10
# Fewer fitted points than this cannot constrain a fade curve.
MIN_FIT_POINTS = 2


@dataclass(frozen=True)
class StudySettings:
    """Where and how long optuna searches. ``storage`` None keeps the study in memory
    (nothing to resume). ``trials`` None takes the recipe's; it is the number of
    finished trials the study should hold, so a resumed study runs only the rest."""

    storage: str | None = DEFAULT_STORAGE
    study_name: str | None = None
    trials: int | None = None
    timeout_s: float | None = None
    n_jobs: int = 1
    seed: int | None = None
    sampler: str | None = None
    warm_start: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.trials is not None and (isinstance(self.trials, bool) or self.trials < 1):
            raise CalibrationError(f"trials must be at least 1, got {self.trials}")
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise CalibrationError(f"timeout must be positive, got {self.timeout_s}")
        if self.n_jobs < 1:
            raise CalibrationError(f"n_jobs must be at least 1, got {self.n_jobs}")
        if self.sampler is not None and self.sampler not in SAMPLERS:
            raise CalibrationError(f"unknown sampler {self.sampler!r} (known: {', '.join(SAMPLERS)})")
        if self.n_jobs > 1 and self.storage is None:
            raise CalibrationError("parallel workers (n_jobs > 1) share a study through a storage; give one")


def quiet_optuna_logs() -> None:
    """Only warnings from optuna (its INFO line per trial is noise on a terminal)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def make_storage(url: str | None) -> optuna.storages.BaseStorage | None:
    """An optuna storage for `url` (None: in memory). SQLite gets a long busy timeout
    so concurrent workers wait for each other instead of failing. A URL sqlalchemy
    cannot parse or has no driver for fails at once with one line."""
    if url is None:
        return None
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": min(SQLITE_BUSY_TIMEOUT_S, SQLITE_LOCK_WAIT_S)}}
    error: Exception | None = None
    start = time.monotonic()
    # Workers starting together on a new database race to create its tables: the
    # loser sees a lock or a duplicate row, waits and opens the tables the winner made.
    for attempt in range(STORAGE_OPEN_ATTEMPTS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            try:
                return RDBStorage(
                    url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_INTERVAL_S,
                    grace_period=HEARTBEAT_GRACE_S,
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
                )
            except (ArgumentError, NoSuchModuleError, ImportError) as err:
                error = err
                break  # a malformed URL or a missing driver: waiting does not help
            except Exception as err:  # noqa: BLE001
                waited = time.monotonic() - start
                if "database is locked" in str(err) and waited >= SQLITE_LOCK_WAIT_S:  # say who holds what
                    raise CalibrationError(sqlite_locked_message(url, round(waited))) from None
                error = err
        time.sleep(0.2 * (attempt + 1) + random.random() * 0.2)
    if error is not None and "database is locked" in str(error):
        raise CalibrationError(sqlite_locked_message(url, round(time.monotonic() - start)))
    raise CalibrationError(storage_message(url, error))


def storage_message(url: str, error: BaseException | None) -> str:
    """One line naming the option, the URL and the first line of the cause."""
    cause = (str(error).strip().splitlines() or [type(error).__name__])[0] if error is not None else ""
    return redact(f"--storage {url!r} is not a database URL optuna can open: {cause}")


def make_sampler(name: str, seed: int | None, startup_trials: int) -> optuna.samplers.BaseSampler:
    """TPE (default, multivariate: the fitted rates are correlated), CMA-ES or random."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "tpe":
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials, multivariate=True)
        if name == "cmaes":
            return optuna.samplers.CmaEsSampler(
                seed=seed, n_startup_trials=startup_trials,
                independent_sampler=optuna.samplers.RandomSampler(seed=seed), warn_independent_sampling=False,
            )
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
    raise CalibrationError(f"unknown sampler {name!r} (known: {', '.join(SAMPLERS)})")


def make_pruner(startup_trials: int) -> optuna.pruners.BasePruner:
    """Median pruning on the per-block partial loss, after the first trials."""
    return optuna.pruners.MedianPruner(n_startup_trials=max(startup_trials, 1), n_warmup_steps=0)


def finished_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=FINISHED)


def default_study_name(data: CycleData, fit_cycles: int | None) -> str:
    """A new, unique name: data file, cell, fit window and time."""
    stem = Path(data.source).stem
    cell = f"-{data.cell_id}" if data.cell_id else ""
    window = f"-fit{fit_cycles}" if fit_cycles else ""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return f"{stem}{cell}{window}-{stamp}"


def open_study(settings: StudySettings, study_name: str, space: SearchSpace, recipe: Recipe,
               seed_offset: int = 0) -> optuna.Study:
    """Create or load the study (load_if_exists) with the configured sampler and pruner."""
    sampler = make_sampler(settings.sampler or recipe.fit.sampler,
                           None if settings.seed is None else settings.seed + seed_offset,
                           recipe.fit.startup_trials)
    study = optuna.create_study(
        study_name=study_name, storage=make_storage(settings.storage), sampler=sampler,
        pruner=make_pruner(recipe.fit.startup_trials), direction="minimize", load_if_exists=True,
    )
    expected = sorted(space.parameter_names + [c.field for c in space.design_choices])
    for trial in finished_trials(study)[:1]:
        if sorted(trial.params) != expected:
            raise CalibrationError(
                f"study {study_name!r} fitted other parameters ({', '.join(sorted(trial.params))}); "
                "use another study_name for this recipe", argument="study_name")
    return study


# What a study was fitted to (its user_attrs): a study resumed with other data would
# report the old data's trials as this fit.
# The prior by its content hash (None: fitted without one): its MAP loss is another
# objective, so another prior (or none) must not resume the same study.
IDENTITY_KEYS = ("dataset_sha256", "cell_id", "fit_cycles", "recipe", "prior_sha256")


def study_identity(data: CycleData, recipe: Recipe, fit_cycles: int | None,
                   prior: PopulationPrior | None = None) -> dict[str, Any]:
    """The data, cell, fit window, recipe and prior a study fits (stored in its
    user_attrs); the recipe by its content (recipe_identity) and the prior by its
    content hash, so an edited recipe or prior of the same file name is another one."""
    content, digest = recipe_identity(recipe)
    return {"dataset_sha256": data.sha256, "data_file": data.source, "cell_id": data.cell_id,
            "fit_cycles": fit_cycles, "recipe": recipe.source or recipe.name,
            "recipe_sha256": digest, "recipe_content": content,
            "prior_sha256": None if prior is None else prior.content_hash(),
            "prior_source": None if prior is None else (prior.source or "in memory")}


# Recipe entries that set how long a search runs, not what it fits: editable on resume.
RECIPE_BUDGET_KEYS = ("trials",)


def recipe_identity(recipe: Recipe) -> tuple[str, str]:
    """(canonical JSON of what the recipe fits, its sha256): design, protocol, model,
    fixed values, search space and fit settings except the trial budget; not its name."""
    import hashlib
    import json

    content = recipe.to_dict()
    content.pop("name", None)
    content["fit"] = {k: v for k, v in content["fit"].items() if k not in RECIPE_BUDGET_KEYS}
    text = json.dumps(content, sort_keys=True, default=str)
    return text, hashlib.sha256(text.encode()).hexdigest()


def recipe_changes(stored: str | None, current: str) -> list[str]:
    """Top-level recipe sections ('design', 'space', ...) that differ."""
    import json

    try:
        before = json.loads(stored) if stored else {}
    except ValueError:
        before = {}
    after = json.loads(current)
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def _describe(key: str, values: Mapping[str, Any]) -> str:
    value = values.get(key)
    if key == "dataset_sha256":
        return f"data {values.get('data_file')} (sha256 {str(value)[:12]})"
    if key == "cell_id":
        return f"cell {value}" if value else "no cell"
    if key == "fit_cycles":
        return f"fit cycles {value if value is not None else 'all'}"
    if key == "prior_sha256":
        return "no prior" if value is None else f"prior {values.get('prior_source')} (sha256 {str(value)[:12]})"
    return f"recipe {value}"


def check_study_identity(study: optuna.Study, identity: Mapping[str, Any]) -> None:
    """Record `identity` in a study that has none; fail with one line when the study
    was fitted to other data, cell, fit window or recipe."""
    stored = study.user_attrs
    if not any(key in stored for key in IDENTITY_KEYS):
        for key, value in identity.items():
            study.set_user_attr(key, value)
        return
    if "recipe_sha256" not in stored:  # a study from before recipes were hashed: adopt this one
        for key in ("recipe_sha256", "recipe_content"):
            study.set_user_attr(key, identity.get(key))
        stored = {**stored, "recipe_sha256": identity.get("recipe_sha256"),
                  "recipe_content": identity.get("recipe_content")}
    if "prior_sha256" not in stored and "prior_sha256" in identity:  # from before priors were hashed: adopt
        for key in ("prior_sha256", "prior_source"):
            study.set_user_attr(key, identity.get(key))
        stored = {**stored, "prior_sha256": identity.get("prior_sha256"), "prior_source": identity.get("prior_source")}
    # only the keys already recorded: a worker that created the study a moment ago may
    # still be writing the rest (seen with two workers on PostgreSQL)
    differs = [key for key in IDENTITY_KEYS if key in stored and stored[key] != identity.get(key)]
    if not differs and stored.get("recipe_sha256") != identity.get("recipe_sha256"):
        changed = recipe_changes(stored.get("recipe_content"), identity["recipe_content"])
        raise CalibrationError(
            f"study {study.study_name!r} was fitted with another version of recipe {identity.get('recipe')} "
            f"(changed: {', '.join(changed) or 'content'}; sha256 {str(stored.get('recipe_sha256'))[:12]} -> "
            f"{str(identity.get('recipe_sha256'))[:12]}): use another --study name")
    if differs:
        was = f"{stored.get('data_file')}" + (f" cell {stored['cell_id']}" if stored.get("cell_id") else "")
        was += f" ({_describe('fit_cycles', stored)}, {_describe('recipe', stored)}"
        was += f", {_describe('prior_sha256', stored)})" if "prior_sha256" in differs else ")"
        asks = ", ".join(_describe(key, identity) for key in differs)
        raise CalibrationError(f"study {study.study_name!r} was fitted to {was}; this run asks for {asks}: "
                               "use another --study name")


def existing_trials(settings: StudySettings, study_name: str, identity: Mapping[str, Any]) -> set[int]:
    """Numbers of the trials an existing study of that name holds (checked against
    `identity`); empty for a new or in-memory study. Opens the storage, so a bad
    URL fails here, before anything runs."""
    if settings.storage is None:
        return set()
    storage = make_storage(settings.storage)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        return set()
    check_study_identity(study, identity)
    return {t.number for t in study.get_trials(deepcopy=False)}


def enqueue_starts(study: optuna.Study, space: SearchSpace, warm_start: Mapping[str, Any] | None,
                   prior_starts: Sequence[Mapping[str, Any]] = ()) -> None:
    """A new study starts from the baseline twin (and a fleet prior's fits of the
    cell's closest electrolytes); a warm start from a previous fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if warm_start:
            values = space.clip(warm_start)
            if values:
                study.enqueue_trial(values, skip_if_exists=True)
        if not study.get_trials(deepcopy=False):
            for start in prior_starts:
                study.enqueue_trial(space.clip(start), skip_if_exists=True)
            study.enqueue_trial(space.defaults(), skip_if_exists=True)


def polish_sampler(study: optuna.Study, space: SearchSpace, seed: int | None) -> optuna.samplers.BaseSampler:
    """Warm-started CMA-ES (WS-CMA-ES, Nomura et al., AAAI 2021): its initial mean and
    covariance are estimated from the best trials so far, so it searches locally
    where the global sampler found good fits, with a small population. Design
    choices stay at the best trial's values."""
    best = study.best_trial
    names = [p.name for p in space.parameters]
    # Source trials carry only the fitted parameters: with the fixed design choices
    # in them optuna finds no trial compatible with CMA-ES's search space.
    source = [
        optuna.trial.create_trial(params={k: t.params[k] for k in names},
                                  distributions={k: t.distributions[k] for k in names}, value=t.value)
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.value is not None and t.value < FAILED_SOLVE_LOSS and all(k in t.params for k in names)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler: optuna.samplers.BaseSampler = optuna.samplers.CmaEsSampler(
            popsize=POLISH_POPULATION, n_startup_trials=0, seed=seed, source_trials=source or None,
            independent_sampler=optuna.samplers.RandomSampler(seed=seed), warn_independent_sampling=False,
        )
        fixed = {c.field: best.params[c.field] for c in space.design_choices if c.field in best.params}
        if fixed:
            sampler = optuna.samplers.PartialFixedSampler(fixed, sampler)
    return sampler


def _run_until(study: optuna.Study, objective: Callable, target: int, deadline: float | None,
               callbacks: Sequence[Callable]) -> bool:
    """Run trials until `target` finished ones; False when the deadline passed."""
    remaining = target - len(finished_trials(study))
    if remaining <= 0:
        return True
    timeout = None if deadline is None else deadline - time.monotonic()
    if timeout is not None and timeout <= 0:
        return False
    stop = MaxTrialsCallback(target, states=FINISHED)
    study.optimize(objective, n_trials=remaining, timeout=timeout, callbacks=[stop, *callbacks],
                   catch=(), gc_after_trial=False)
    return deadline is None or time.monotonic() < deadline


def _optimize(study: optuna.Study, spec: ObjectiveSpec, target_trials: int, timeout_s: float | None,
              callbacks: Sequence[Callable] = (), sampler_name: str = "tpe", seed: int | None = None) -> None:
    """Global search (the study's sampler), then the recipe's polish trials (local
    CMA-ES around the best) when the global sampler is TPE or random."""
    if len(finished_trials(study)) >= target_trials:
        return
    space = spec.recipe.space
    polish = spec.recipe.fit.polish_trials if sampler_name in ("tpe", "random") and len(space.parameters) >= 2 else 0
    polish = min(polish, max(target_trials - spec.recipe.fit.startup_trials - 1, 0))
    built = spec.build()
    started: list[int] = []  # storage ids of the trials this process started

    def objective(trial: optuna.Trial) -> float:
        started.append(trial._trial_id)
        # The solve stops at once on a signal, and optuna marks the trial FAIL; a signal
        # the solver swallowed is raised as the block ends, with the same effect.
        with interrupts_deferred(False):
            return built(trial)

    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    try:
        # Between trials a signal waits for the next trial's start (or the study's end):
        # landing inside optuna creating a trial or telling its result, it would leave
        # the trial RUNNING, and a resumed study would count it as still being worked on.
        with interrupts_deferred():
            _optimize_in_stages(study, spec, objective, target_trials, polish, deadline, callbacks, seed)
    except KeyboardInterrupt:
        # a signal without our handler (another caller's) can still land anywhere:
        # never leave this process's trial RUNNING.
        for trial_id in started[-1:]:
            with contextlib.suppress(Exception):
                if study._storage.get_trial(trial_id).state == TrialState.RUNNING:
                    study._storage.set_trial_state_values(trial_id, TrialState.FAIL)
        raise


def _optimize_in_stages(study: optuna.Study, spec: ObjectiveSpec, objective: Callable, target_trials: int,
                        polish: int, deadline: float | None, callbacks: Sequence[Callable],
                        seed: int | None) -> None:
    space = spec.recipe.space
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if not _run_until(study, objective, target_trials - polish, deadline, callbacks) or polish == 0:
            return
        good = [t for t in finished_trials(study)
                if t.state == TrialState.COMPLETE and t.value is not None and t.value < FAILED_SOLVE_LOSS]
        if len(good) >= POLISH_MIN_SOURCE_TRIALS:
            study.sampler = polish_sampler(study, space, seed)
        _run_until(study, objective, target_trials, deadline, callbacks)


def _worker(spec: ObjectiveSpec, settings: StudySettings, study_name: str, target_trials: int,
            seed_offset: int) -> None:
    """One worker process of a parallel calibration."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    die_with_parent()  # a killed calibration leaves no worker running its study
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent ends the workers, no traceback each
    study = open_study(settings, study_name, spec.recipe.space, spec.recipe, seed_offset)
    seed = None if settings.seed is None else settings.seed + seed_offset
    _optimize(study, spec, target_trials, settings.timeout_s, (), settings.sampler or spec.recipe.fit.sampler, seed)


def fail_running_trials(study: optuna.Study) -> int:
    """Mark the study's RUNNING trials FAILED (their workers were stopped); returns how many."""
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in running:
        with contextlib.suppress(Exception):  # another process may have finished it meanwhile
            study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
    return len(running)


def run_study(spec: ObjectiveSpec, settings: StudySettings, study_name: str,
              callbacks: Sequence[Callable] = (), identity: Mapping[str, Any] | None = None) -> optuna.Study:
    """Open or resume the study and run trials until it holds the target number.
    `identity` (study_identity) is recorded in a new study and checked in an old one."""
    recipe = spec.recipe
    target = settings.trials or recipe.fit.trials
    study = open_study(settings, study_name, recipe.space, recipe)
    if identity is not None:
        check_study_identity(study, identity)
    starts = spec.prior.starting_points(spec.covariates or {}) if hasattr(spec.prior, "starting_points") else ()
    enqueue_starts(study, recipe.space, settings.warm_start, starts)
    if settings.n_jobs == 1:
        _optimize(study, spec, target, settings.timeout_s, callbacks, settings.sampler or recipe.fit.sampler,
                  settings.seed)
        return study
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_worker, args=(spec, settings, study_name, target, k), daemon=False)
               for k in range(settings.n_jobs)]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            worker.join()
    except BaseException:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(timeout=10)
        fail_running_trials(study)  # the trials the workers were running will never finish
        raise
    failed = [w.exitcode for w in workers if w.exitcode != 0]
    if failed:
        raise CalibrationError(f"{len(failed)} of {len(workers)} calibration workers failed "
                               f"(exit codes {failed})")
    return study


@dataclass
class CalibrationResult:
    """What a calibration found; ``to_dict`` is the JSON contract of ``twin calibrate``."""

    best_params: dict[str, Any]
    loss: float
    best_trial: int | None
    study: str
    storage: str | None
    mlflow_run_id: str | None
    forecast: Forecast
    trials: int
    fit_cycles: int | None
    fitted_points: int
    data: dict[str, Any]
    design: dict[str, Any]
    protocol: dict[str, Any]
    recipe: str
    capacity_scale: float
    tracking_uri: str | None = None
    notes: list[str] = field(default_factory=list)
    fit_quality: dict[str, Any] = field(default_factory=dict)
    prior: dict[str, Any] | None = None
    # which path ran: "optuna" (MAP / least squares by trials) or "library-posterior"
    # (calibrate_with_library, the cross-validated method); the library it used
    method: str = "optuna"
    library: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        from twin.provenance import provenance

        return {
            "provenance": provenance(),
            "best_params": {k: (float(v) if isinstance(v, (int, float)) else v) for k, v in self.best_params.items()},
            "loss": self.loss,
            "best_trial": self.best_trial,
            "capacity_scale": self.capacity_scale,
            "study": self.study,
            "storage": self.storage,
            "mlflow_run_id": self.mlflow_run_id,
            "tracking_uri": self.tracking_uri,
            "trials": self.trials,
            "fit_cycles": self.fit_cycles,
            "fitted_points": self.fitted_points,
            "recipe": self.recipe,
            "data": self.data,
            "design": self.design,
            "protocol": self.protocol,
            "forecast": self.forecast.to_dict(),
            "notes": list(self.notes),
            "fit_quality": dict(self.fit_quality),
            "prior": self.prior,
            "method": self.method,
            "library": self.library,
        }


def split_data(data: CycleData, fit_cycles: int | None) -> tuple[FitTarget, FitTarget | None]:
    """Fit target (cycles <= fit_cycles, or all) and unseen target (None when no split)."""
    if fit_cycles is None:
        fitted, unseen = data, None
    else:
        fitted, unseen = select_cycles(data, fit_cycles)
    target = FitTarget.from_cycle_data(fitted)
    if len(target.cycles) < MIN_FIT_POINTS:
        raise DataError(f"only {len(target.cycles)} measured cycle(s) to fit"
                        + (f" up to cycle {fit_cycles}" if fit_cycles else "")
                        + f"; a fit needs at least {MIN_FIT_POINTS}", source=data.source)
    unseen_target = FitTarget.from_cycle_data(unseen) if unseen is not None and len(unseen.cycles) else None
    return target, unseen_target


def _tags(data: CycleData, recipe: Recipe, study_name: str, settings: StudySettings) -> dict[str, Any]:
    version = code_version()
    tags = {
        "dataset_sha256": data.sha256, "data_file": data.source, "cell_id": data.cell_id or "",
        "recipe": recipe.source or recipe.name, "cell_type": recipe.cell_type, "study": study_name,
        "storage": redact_url(settings.storage) or "in-memory", "code_version": version["version"],
        "twin_version": version["version"], "pybamm_version": version["pybamm"],
        "python_version": version["python"],
    }
    if "git_commit" in version:
        tags["git_commit"] = version["git_commit"]
        tags["git_dirty"] = version.get("git_dirty", "")
    return tags


def _params(recipe: Recipe, settings: StudySettings, fit_cycles: int | None, design: Mapping[str, Any],
            target: int) -> dict[str, Any]:
    params: dict[str, Any] = {
        "fit_cycles": fit_cycles if fit_cycles is not None else "all", "trials": target,
        "sampler": settings.sampler or recipe.fit.sampler, "seed": settings.seed,
        "timeout_s": settings.timeout_s, "n_jobs": settings.n_jobs, "cell_model": recipe.cell_model,
        "ensemble_size": recipe.fit.ensemble_size, "eol_fraction": recipe.fit.eol_fraction,
        "fitted_parameters": ", ".join(recipe.space.parameter_names),
    }
    # design fields the study fits are logged at the end with the best trial's values
    fitted = {choice.field for choice in recipe.space.design_choices}
    params.update({f"design.{k}": v for k, v in design.items() if k not in fitted})
    if fitted:
        params["design_fitted"] = ", ".join(sorted(fitted))
    params.update({f"protocol.{k}": v for k, v in recipe.protocol.items()})
    params.update({f"option.{k}": v for k, v in recipe.options.items()})
    params.update({f"fixed.{k}": v for k, v in recipe.overrides.items()})
    return params


def _prepare(data: CycleData, recipe: Recipe, fit_cycles: int | None
             ) -> tuple[FitTarget, FitTarget | None, FitTarget, dict[str, Any], Protocol]:
    """Split the data and check the recipe (design, protocol, parameter names)."""
    target, unseen = split_data(data, fit_cycles)
    design = design_for_data(recipe, data.meta)
    cell = CellDesign(**design)  # a bad recipe design fails here, before any trial
    cathode = cell.cathode
    protocol = Protocol(**recipe.protocol)
    check_data_matches_cell(data, cell, protocol)  # LFP data told to be NMC: refused, one line
    check_parameter_names(recipe, design)
    # a file that cannot be one cell's cycling is refused before any trial runs
    check_cycle_capacities(data)
    twin_target = target.after_formation(recipe.fit.formation_cycles)
    if len(twin_target.cycles) < MIN_FIT_POINTS:
        raise DataError(f"only {len(twin_target.cycles)} measured cycle(s) after the "
                        f"{recipe.fit.formation_cycles} formation cycle(s) to fit; a fit needs at least "
                        f"{MIN_FIT_POINTS}", source=data.source)
    check_voltage_cycles(recipe, twin_target)
    return target, unseen, twin_target, design, protocol


def check_calibration(data: CycleData, recipe: Recipe, fit_cycles: int | None, settings: StudySettings,
                      prior: PopulationPrior | None = None) -> None:
    """Everything :func:`calibrate` checks before it runs (data split, recipe, storage
    URL, an existing study's data and prior): for a CLI to fail before it opens a tracker."""
    _prepare(data, recipe, fit_cycles)
    check_warm_start(settings.warm_start, recipe)
    if settings.study_name is not None:
        existing_trials(settings, settings.study_name, study_identity(data, recipe, fit_cycles, prior))
    else:
        make_storage(settings.storage)


def calibrate(
    data: CycleData,
    recipe: Recipe,
    fit_cycles: int | None = None,
    settings: StudySettings | None = None,
    tracker: CalibrationTracker | None = None,
    callbacks: Sequence[Callable] = (),
    forecast_mode: str = "auto",
    figures: bool = True,
    prior: PopulationPrior | None = None,
) -> CalibrationResult:
    """Fit `recipe`'s search space to `data`, forecast the rest of life, track it all.
    With a population `prior` (calibration.prior) the fit is MAP and the forecast
    band the posterior's (calibration.forecast)."""
    settings = settings or StudySettings()
    target, unseen, twin_target, design, protocol = _prepare(data, recipe, fit_cycles)
    study_name = settings.study_name or default_study_name(data, fit_cycles)
    identity = study_identity(data, recipe, fit_cycles, prior)
    prior_notes: list[str] = []
    if hasattr(prior, "without_cell") and data.cell_id in getattr(prior, "cells", ()):
        # the shipped fleet prior holds a full-life fit of every shared cell: calibrating
        # one of them must not lean on a fit that saw its unseen cycles
        prior_notes.append(f"the fleet prior holds a fit of cell {data.cell_id} itself: left out of its prior")
        prior = prior.without_cell(data.cell_id)
    before = existing_trials(settings, study_name, identity)
    spec = ObjectiveSpec(recipe, design, twin_target, prior, prior_covariates(prior, data.meta))
    target_trials = settings.trials or recipe.fit.trials
    run_id = None
    if tracker is not None:
        run_id = tracker.start(study_name, _tags(data, recipe, study_name, settings),
                               _params(recipe, settings, fit_cycles, design, target_trials))
    try:
        live = [tracker.callback] if tracker is not None and settings.n_jobs == 1 else []
        study = run_study(spec, settings, study_name, [*live, *callbacks], identity)
        trials = study.get_trials(deepcopy=False)
        if tracker is not None:
            tracker.log_trials(trials, before)
        best = study.best_trial
        model = TwinModel(recipe, design)
        forecast = forecast_from_trials(model, trials, target, unseen, FAILED_SOLVE_LOSS, forecast_mode,
                                        prior, len(twin_target.cycles), twin_target.last_cycle)
        quality = fit_quality(trials, best, recipe.space, len(twin_target.cycles), prior, FAILED_SOLVE_LOSS)
        notes = prior_notes + quality_notes(quality)
        if best.value is not None and best.value >= FAILED_SOLVE_LOSS:
            notes.append("every trial failed to solve: the best 'fit' is a penalty value")
        result = CalibrationResult(
            best_params=dict(best.params), loss=float(best.value), best_trial=best.number, study=study_name,
            storage=redact_url(settings.storage), mlflow_run_id=run_id, forecast=forecast,
            trials=len(finished_trials(study)), fit_cycles=fit_cycles, fitted_points=len(twin_target.cycles),
            data={"source": data.source, "cell_id": data.cell_id, "sha256": data.sha256,
                  "normalization": data.meta.get("normalization"), "last_cycle": int(data.cycle_numbers.max())},
            design=model.cell_design(best.params).to_dict(), protocol=protocol.to_dict(),
            recipe=recipe.source or recipe.name, capacity_scale=float(best.user_attrs.get("capacity_scale", 1.0)),
            tracking_uri=redact_url(tracker.tracking_uri) if tracker is not None else None, notes=notes,
            fit_quality=quality, prior=prior_summary(prior),
        )
        if tracker is not None:
            _log_result(tracker, result, recipe, data, target, unseen, study, figures, twin_target.cycles)
            tracker.finish("FINISHED")
        return result
    except KeyboardInterrupt:
        if tracker is not None:
            tracker.finish("KILLED")
        raise
    except BaseException:
        if tracker is not None:
            tracker.finish("FAILED")
        raise


def _log_result(tracker: CalibrationTracker, result: CalibrationResult, recipe: Recipe, data: CycleData,
                target: FitTarget, unseen: FitTarget | None, study: optuna.Study, figures: bool,
                twin_cycles: Any = None) -> None:
    forecast = result.forecast
    fitted = {choice.field for choice in recipe.space.design_choices}
    tracker.log_params({f"design.{k}": v for k, v in result.design.items() if k in fitted})
    tracker.log_metrics({
        "best_loss": result.loss, "trials": result.trials, "capacity_scale": result.capacity_scale,
        "eol_cycle_p10": forecast.eol_cycle_p10, "eol_cycle_p50": forecast.eol_cycle_p50,
        "eol_cycle_p90": forecast.eol_cycle_p90, "mae_unseen": forecast.mae_unseen,
        "baseline_mae_unseen": forecast.baseline_mae_unseen,
    })
    tracker.log_json({"best_params": result.best_params, "loss": result.loss, "trial": result.best_trial,
                      "study": result.study, "capacity_scale": result.capacity_scale,
                      "design": result.design, "protocol": result.protocol,
                      "fixed": dict(recipe.overrides), "options": dict(recipe.options)},
                     "best_params.json")
    tracker.log_json(result.to_dict(), "calibration.json")
    tracker.log_text(parameter_file(result, recipe, data), "calibrated_parameters.py")
    if figures:
        from twin.calibration import figures as plots

        for name, figure in (
            ("fit_vs_data.png", plots.fit_figure(target, unseen, forecast, data, twin_cycles)),
            ("forecast.png", plots.forecast_figure(target, unseen, forecast, data, twin_cycles)),
            ("optimisation_history.png", plots.history_figure(study)),
        ):
            tracker.log_bytes(plots.png_bytes(figure), name, "figures")


def parameter_file(result: CalibrationResult, recipe: Recipe, data: CycleData) -> str:
    """A PyBaMM-style parameter set (a .py file with get_parameter_values()) holding the
    calibrated values on top of the twin's set for the calibrated design."""
    fitted = {k: float(v) for k, v in result.best_params.items() if k in recipe.space.parameter_names}
    citations = ["Xu2019", "Prada2013" if result.design.get("cathode") == "LFP" else "Chen2020"]
    return f'''"""Calibrated Li-metal twin parameters (a PyBaMM parameter set).

Generated by `twin calibrate` on {_dt.date.today().isoformat()} from {data.source}
(sha256 {data.sha256}), cell {data.cell_id or "-"}, recipe {result.recipe},
study {result.study!r}, trial {result.best_trial}, loss {result.loss:.6g}.

Use: pybamm.ParameterValues(get_parameter_values()) with the twin's model
(twin.model.build_model(CELL_MODEL, OPTIONS)).
"""

from twin.cell_parameters import parameter_values
from twin.design import CellDesign
from twin.protocol import Protocol

CELL_MODEL = {recipe.cell_model!r}
OPTIONS = {dict(recipe.options)!r}
DESIGN = {dict(result.design)!r}
PROTOCOL = {dict(result.protocol)!r}
FIXED = {dict(recipe.overrides)!r}
CALIBRATED = {fitted!r}


def get_parameter_values():
    """Flat dictionary of dimensional parameter values, with "citations"."""
    values = parameter_values(CellDesign(**DESIGN), Protocol(**PROTOCOL), {{**FIXED, **CALIBRATED}})
    flat = {{key: values[key] for key in values.keys()}}
    flat["citations"] = {citations!r}
    return flat
'''


def check_warm_start(warm_start: Mapping[str, Any] | None, recipe: Recipe) -> None:
    """A warm start naming a parameter the recipe does not fit is a mistake (another
    recipe's fit, a typo): refused, never silently ignored."""
    if not warm_start:
        return
    known = [*recipe.space.parameter_names, *(c.field for c in recipe.space.design_choices)]
    unknown = sorted(set(warm_start) - set(known))
    if unknown:
        raise CalibrationError(f"--warm-start: {unknown[0]!r} is not a parameter recipe {recipe.name} fits "
                               f"(it fits: {', '.join(known)})")


def load_warm_start(path: str | Path) -> dict[str, Any]:
    """Best parameters of a previous fit: a `twin calibrate --format json` output or a
    best_params.json artifact."""
    import json

    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecipeError(f"warm-start file not found: {path}") from None
    except json.JSONDecodeError as err:
        raise RecipeError(f"warm-start file {path.name} is not JSON: {err}") from None
    params = document.get("best_params") if isinstance(document, dict) else None
    if not isinstance(params, dict) or not params:
        raise RecipeError(f"warm-start file {path.name} has no 'best_params' object")
    bad = [k for k, v in params.items() if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise RecipeError(f"warm-start file {path.name}: {bad[0]!r} is not finite")
    return params


def calibrate_with_library(data: CycleData, recipe: Recipe, fit_cycles: int | None, shipped: Any, prior: Any,
                           tracker: CalibrationTracker | None = None) -> CalibrationResult:
    """The cross-validated method (validation/real_cells.md): the posterior over the
    recipe's shipped library of twin curves with its fleet prior, the prior's noise x
    likelihood scale in the likelihood and its noise and band growth in the band
    (calibration.crossval.forecast_cell, exactly). No optuna trial runs; the JSON
    says ``method`` "library-posterior" and best_params is the library's MAP member."""
    import numpy as np

    from twin.calibration.crossval import Cell, forecast_cell
    from twin.calibration.forecast import Member, MemberCurve, build_forecast, score_unseen
    from twin.calibration.posterior import NEGLIGIBLE_WEIGHT, mixture_quantiles, predictive_sd, profiled_sse

    target, unseen, twin_target, design, protocol = _prepare(data, recipe, fit_cycles)
    notes: list[str] = []
    if hasattr(prior, "without_cell") and data.cell_id in getattr(prior, "cells", ()):
        notes.append(f"the fleet prior holds a fit of cell {data.cell_id} itself: left out of its prior")
        prior = prior.without_cell(data.cell_id)
    library = shipped.library
    formation = recipe.fit.formation_cycles
    cell = Cell(data.cell_id or "cell", np.asarray(data.cycle_numbers, dtype=np.int64),
                np.asarray(data.normalized_capacity, dtype=float), dict(data.meta))
    window = fit_cycles if fit_cycles is not None else int(data.cycle_numbers.max())
    noise, growth = prior.noise_sd, prior.discrepancy_per_cycle
    posterior = forecast_cell(library, cell, window, formation, prior, noise, growth)
    weights = posterior.weights
    keep = np.flatnonzero(weights >= NEGLIGIBLE_WEIGHT * weights.max())
    keep = keep[np.argsort(-weights[keep], kind="stable")]
    cycles = np.arange(1, library.horizon + 1)
    fit_n, fit_q = cell.fitted(window, formation)
    _, sse = profiled_sse(library.at(fit_n), fit_q)  # every member's data-only misfit (the posterior's scale)
    curves = []
    for i in keep:
        params = dict(zip(library.names, map(float, library.values[i]), strict=True))
        rms = float(np.sqrt(sse[i] / len(fit_q)))
        member = Member(int(i), rms, params, float(posterior.scale[i]), float(weights[i]))
        curves.append(MemberCurve(member, cycles, posterior.scale[i] * library.retention[i], None, "library"))
    last = posterior.last_fit_cycle

    def band(at: np.ndarray, stack: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(mixture_quantiles(stack, w / w.sum(), predictive_sd(at, last, noise, growth)))

    forecast = build_forecast(curves, recipe.fit.eol_fraction, recipe.fit.forecast_max_cycles, band)
    score_unseen(forecast, target, unseen, formation)
    best = curves[0].member
    settings = StudySettings(storage=None)
    library_info = {"key": library.key, "fingerprint": shipped.fingerprint, "size": int(len(library.values)),
                    "horizon": library.horizon, "effective_members": posterior.effective_members,
                    "map_member": best.trial_number, "likelihood_sd": prior.likelihood_sd,
                    "noise_sd": noise, "discrepancy_per_cycle": growth}
    # the MAP member's data-only RMS; "poor" beyond POOR_FIT_RATIO x the fleet's noise (a cell unlike the fleet)
    quality = {"loss": best.loss, "fit_loss": best.loss, "residual_rms": best.loss, "noise_sd": noise,
               "poor_fit": bool(not best.loss <= POOR_FIT_RATIO * noise),
               "poor_fit_threshold": POOR_FIT_RATIO * noise, "fit_points": int(len(fit_q)),
               "unidentified_parameters": unidentified_in_library(library.values, library.names, sse,
                                                                  recipe.space, noise),
               "effective_members": posterior.effective_members}
    notes += quality_notes(quality)
    result = CalibrationResult(
        best_params=dict(best.params), loss=best.loss, best_trial=None, study=None, storage=None,
        mlflow_run_id=None, forecast=forecast, trials=0, fit_cycles=fit_cycles,
        fitted_points=len(twin_target.cycles),
        data={"source": data.source, "cell_id": data.cell_id, "sha256": data.sha256,
              "normalization": data.meta.get("normalization"), "last_cycle": int(data.cycle_numbers.max())},
        design=dict(design), protocol=protocol.to_dict(), recipe=recipe.source or recipe.name,
        capacity_scale=best.capacity_scale, tracking_uri=redact_url(tracker.tracking_uri) if tracker else None,
        notes=notes, fit_quality=quality, prior=prior_summary(prior), method="library-posterior",
        library=library_info)
    if tracker is None:
        return result
    # the run starts once the fit is done, and never stays RUNNING when logging fails or is stopped
    params = _params(recipe, settings, fit_cycles, design, 0)
    params.update({"method": "library-posterior", "library_key": library.key})
    result.mlflow_run_id = tracker.start(default_study_name(data, fit_cycles),
                                         _tags(data, recipe, "library", settings), params)
    try:
        tracker.log_metrics({"best_loss": result.loss, "capacity_scale": result.capacity_scale,
                             "eol_cycle_p10": forecast.eol_cycle_p10, "eol_cycle_p50": forecast.eol_cycle_p50,
                             "eol_cycle_p90": forecast.eol_cycle_p90, "mae_unseen": forecast.mae_unseen,
                             "baseline_mae_unseen": forecast.baseline_mae_unseen,
                             "effective_members": posterior.effective_members})
        tracker.log_json(result.to_dict(), "calibration.json")
    except KeyboardInterrupt:
        tracker.finish("KILLED")
        raise
    except BaseException:
        tracker.finish("FAILED")
        raise
    tracker.finish("FINISHED")
    return result
