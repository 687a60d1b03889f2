"""The Python API of calibration, behind `import twin`: synthetic datasets
(`simulate`), fitting the twin to lab data (`calibrate`) and the data readers.

Unlike `twin calibrate`, which keeps studies in `sqlite:///twin-studies.db` and logs to
MLflow, `calibrate` here keeps the study in memory and does not track unless asked
(`storage=`, `tracking_uri=`): a library call should not leave files behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from twin.calibration.data import CycleData
    from twin.calibration.search_space import Recipe
    from twin.calibration.study import CalibrationResult
    from twin.calibration.synthetic import SyntheticDataset
    from twin.design import CellDesign
    from twin.protocol import Protocol


def simulate(
    design: CellDesign | None = None,
    protocol: Protocol | None = None,
    cycles: int = 50,
    parameters: Mapping[str, float] | None = None,
    *,
    noise: float = 0.0,
    seed: int | None = None,
    cell_model: str = "spm",
    options: Mapping[str, str] | None = None,
) -> SyntheticDataset:
    """A synthetic cycling dataset from the twin (what `twin simulate` writes).

    Parameters
    ----------
    design : CellDesign, optional
        The cell; default `CellDesign()`.
    protocol : Protocol, optional
        How it is cycled; default `Protocol()` (10 min rests, as `twin simulate`).
    cycles : int
        Cycles to simulate (fewer if the cell dies first).
    parameters : mapping, optional
        Twin parameter values by full name (the "truth" a calibration should recover).
    noise : float
        Relative measurement noise on each step's capacity (0.005 = 0.5 %); voltage
        gets noise x 1 V.
    seed : int, optional
        Seed of the noise.
    cell_model : {"spm", "spme", "dfn"}
        PyBaMM cell model.
    options : mapping, optional
        Li-metal submodel options.

    Returns
    -------
    SyntheticDataset
        `time_series` (Battery Data Format columns: Test Time / s, Voltage / V,
        Current / A...), `cycles` (per-cycle capacities [mAh], CE), `write(ts, summary)`.
    """
    from twin.calibration.synthetic import simulate_dataset
    from twin.design import CellDesign
    from twin.protocol import Protocol

    return simulate_dataset(design if design is not None else CellDesign(), protocol or Protocol(), cycles,
                            dict(parameters or {}), noise=noise, seed=seed, cell_model=cell_model,
                            options=dict(options or {}))


def recipe_names() -> list[str]:
    """Names of the calibration recipes that ship with the package."""
    from twin.calibration.recipes import recipe_names as names

    return names()


@dataclass(frozen=True)
class CalibrationFit:
    """What `calibrate` found: the best parameters and the forecast of the rest of life.

    Attributes
    ----------
    result : twin.calibration.study.CalibrationResult
        The calibration's own record (`to_dict()` is the JSON of `twin calibrate`).
    data : CycleData
        The data fitted.
    """

    result: CalibrationResult
    data: CycleData

    @property
    def best_params(self) -> dict[str, Any]:
        """Fitted parameter values by name (units in the names)."""
        return dict(self.result.best_params)

    @property
    def loss(self) -> float:
        """RMS error of the normalized capacity at the best trial."""
        return self.result.loss

    @property
    def eol_cycle_p10(self) -> int | None:
        return self.result.forecast.eol_cycle_p10

    @property
    def eol_cycle_p50(self) -> int | None:
        """Median forecast end-of-life cycle (None if beyond the forecast)."""
        return self.result.forecast.eol_cycle_p50

    @property
    def eol_cycle_p90(self) -> int | None:
        return self.result.forecast.eol_cycle_p90

    @property
    def forecast(self) -> pd.DataFrame:
        """The forecast band per cycle: cycle, p10, p50, p90 (normalized capacity)."""
        import pandas as pd

        f = self.result.forecast
        return pd.DataFrame({"cycle": f.cycles, "p10": f.p10, "p50": f.p50, "p90": f.p90})

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `twin calibrate --format json`."""
        return self.result.to_dict()

    def plot(self) -> Figure:
        """P10-P90 band and P50 of the twin, the geometric baseline and the data."""
        from twin.calibration.figures import forecast_figure
        from twin.calibration.study import split_data

        target, unseen = split_data(self.data, self.result.fit_cycles)
        return forecast_figure(target, unseen, self.result.forecast, self.data)

    def save_plot(self, path: str | Path) -> Path:
        """Write `plot()` to `path` atomically (PNG, SVG or PDF by suffix)."""
        from twin.plots import save_figure

        save_figure(self.plot(), Path(path))
        return Path(path)


def calibrate(
    data: CycleData | str | Path,
    recipe: Recipe | str | Path | None = None,
    *,
    cell_id: str | None = None,
    data_format: str = "auto",
    fit_cycles: int | None = None,
    trials: int | None = None,
    seed: int | None = None,
    sampler: str | None = None,
    timeout_s: float | None = None,
    n_jobs: int = 1,
    storage: str | None = None,
    study_name: str | None = None,
    tracking_uri: str | None = None,
    experiment_name: str = "twin-calibration",
    progress: Callable[[], None] | None = None,
) -> CalibrationFit:
    """Fit the twin to lab cycling data with optuna and forecast the rest of life.

    Parameters
    ----------
    data : CycleData, str or Path
        Data read with `twin.read_cycling_data`, or a file to read (BDF CSV, per-cycle
        summary CSV, the anode-free table with `cell_id`, BioLogic .mpr, Arbin .res).
    recipe : Recipe, str or Path, optional
        What is fitted: a Recipe, a recipe name or TOML file; default by data format.
    cell_id : str, optional
        Cell of a multi-cell file (the anode-free table).
    data_format : str
        "auto" or a format of `twin.read_cycling_data`.
    fit_cycles : int, optional
        Fit cycles 1..N only and forecast the rest (errors on the unseen cycles).
    trials : int, optional
        Finished trials the study should hold; default from the recipe.
    seed : int, optional
        Sampler seed (reproducible with n_jobs 1).
    sampler : {"tpe", "cmaes", "random"}, optional
        Default from the recipe.
    timeout_s : float, optional
        Stop starting new trials after this many seconds [s].
    n_jobs : int
        Worker processes sharing the study (> 1 needs `storage`).
    storage : str, optional
        optuna storage URL (a study of `study_name` there resumes); None: in memory.
    study_name : str, optional
        Default: a new unique name.
    tracking_uri : str, optional
        MLflow tracking URI: one parent run per calibration, one nested run per
        trial; None: no tracking.
    experiment_name : str
        MLflow experiment.
    progress : callable, optional
        Called once after each finished trial.

    Returns
    -------
    CalibrationFit
        `best_params`, `loss`, end-of-life quantiles, the `forecast` DataFrame, `plot()`.
    """
    from twin.calibration.data import read_cycling_data
    from twin.calibration.recipes import load_named_recipe
    from twin.calibration.search_space import Recipe
    from twin.calibration.study import StudySettings, calibrate as run_calibration, check_calibration

    if isinstance(data, (str, Path)):
        data = read_cycling_data(data, cell_id=cell_id, format=data_format)
    if not isinstance(recipe, Recipe):
        recipe = load_named_recipe(recipe, data.meta.get("format"))
    settings = StudySettings(storage=storage, study_name=study_name, trials=trials, timeout_s=timeout_s,
                             n_jobs=n_jobs, seed=seed, sampler=sampler)
    check_calibration(data, recipe, fit_cycles, settings)
    tracker = None
    if tracking_uri is not None:
        from twin.calibration.tracking import CalibrationTracker

        tracker = CalibrationTracker(tracking_uri, experiment_name)
    callbacks = [lambda study, trial: progress()] if progress is not None else []
    result = run_calibration(data, recipe, fit_cycles, settings, tracker, callbacks=callbacks)
    return CalibrationFit(result, data)
