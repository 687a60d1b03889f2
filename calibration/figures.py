"""Figures of a calibration (matplotlib, headless Agg, imported only when drawn)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import optuna

    from twin.calibration.data import CycleData
    from twin.calibration.forecast import Forecast
    from twin.calibration.objective import FitTarget


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_bytes(figure: Any) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _title(data: CycleData) -> str:
    cell = f" cell {data.cell_id}" if data.cell_id else ""
    return f"{data.source}{cell}"


def _data_points(ax: Any, target: FitTarget, unseen: FitTarget | None,
                 twin_cycles: np.ndarray | None = None) -> None:
    fitted = np.ones(len(target.cycles), dtype=bool) if twin_cycles is None else np.isin(target.cycles, twin_cycles)
    ax.plot(target.cycles[fitted], target.normalized_capacity[fitted], "o", color="black",
            label="measured, fitted")
    if not fitted.all():
        ax.plot(target.cycles[~fitted], target.normalized_capacity[~fitted], "s", color="grey",
                label="formation (not fitted)")
    if unseen is not None and len(unseen.cycles):
        ax.plot(unseen.cycles, unseen.normalized_capacity, "o", mfc="white", color="black",
                label="measured, unseen")
    ax.axvline(target.last_cycle + 0.5, color="grey", lw=0.8, ls=":")


def fit_figure(target: FitTarget, unseen: FitTarget | None, forecast: Forecast, data: CycleData,
               twin_cycles: np.ndarray | None = None) -> Any:
    """Every ensemble member and the baseline against the data over the fitted cycles."""
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(6.4, 4.2))
    last = target.last_cycle
    for i, curve in enumerate(forecast.members):
        inside = curve.cycles <= max(last, 2)
        ax.plot(curve.cycles[inside], curve.normalized_capacity[inside], color="tab:red",
                lw=2.0 if i == 0 else 0.8, alpha=1.0 if i == 0 else 0.5,
                label="best trial" if i == 0 else ("other ensemble members" if i == 1 else None))
    if forecast.baseline:
        cycles = np.arange(1, last + 1)
        baseline = forecast.baseline["first_cycle_capacity"] * forecast.baseline["ce"] ** (cycles - 1.0)
        ax.plot(cycles, baseline, "--", color="tab:blue", label="geometric baseline")
    _data_points(ax, target, None, twin_cycles)
    ax.set_xlim(0, last + 1)
    ax.set_xlabel("cycle")
    ax.set_ylabel("normalized discharge capacity")
    ax.set_title(f"fit: {_title(data)}")
    ax.legend(fontsize=8)
    return figure


def forecast_figure(target: FitTarget, unseen: FitTarget | None, forecast: Forecast, data: CycleData,
                    twin_cycles: np.ndarray | None = None) -> Any:
    """P10-P90 band and P50 of the twin, the baseline, the data and the end of life."""
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.fill_between(forecast.cycles, forecast.p10, forecast.p90, color="tab:red", alpha=0.25,
                    label="twin P10-P90")
    ax.plot(forecast.cycles, forecast.p50, color="tab:red", label="twin P50")
    if forecast.baseline:
        c = forecast.cycles
        ax.plot(c, forecast.baseline["first_cycle_capacity"] * forecast.baseline["ce"] ** (c - 1.0), "--",
                color="tab:blue", label="geometric baseline")
    _data_points(ax, target, unseen, twin_cycles)
    if forecast.eol_cycle_p50 is not None:
        ax.axvline(forecast.eol_cycle_p50, color="tab:red", lw=0.8, ls="--",
                   label=f"end of life P50: cycle {forecast.eol_cycle_p50:.0f}")
    text = []
    if forecast.mae_unseen is not None:
        text.append(f"MAE unseen: twin {forecast.mae_unseen:.3f}")
    if forecast.baseline_mae_unseen is not None:
        text.append(f"baseline {forecast.baseline_mae_unseen:.3f}")
    ax.set_title(f"forecast: {_title(data)}" + (f"\n{', '.join(text)}" if text else ""), fontsize=10)
    ax.set_xlabel("cycle")
    ax.set_ylabel("normalized discharge capacity")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    return figure


def history_figure(study: optuna.Study) -> Any:
    """Loss of every finished trial and the best loss so far."""
    import optuna

    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(6.4, 4.2))
    done = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    pruned = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.PRUNED]
    if done:
        numbers = np.array([t.number for t in done])
        values = np.array([t.value for t in done], dtype=float)
        ax.plot(numbers, values, "o", color="tab:grey", ms=4, label="complete trial")
        ax.set_yscale("log")
        ax.step(numbers, np.minimum.accumulate(values), where="post", color="tab:red", label="best so far")
    if pruned:
        ax.plot([t.number for t in pruned],
                [t.intermediate_values[max(t.intermediate_values)] if t.intermediate_values else np.nan
                 for t in pruned], "x", color="tab:orange", ms=4, label="pruned (last partial loss)")
    ax.set_xlabel("trial")
    ax.set_ylabel("loss (RMS error)")
    ax.set_title(f"optimisation history: {study.study_name}", fontsize=10)
    ax.legend(fontsize=8)
    return figure
