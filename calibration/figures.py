"""Figures of a calibration (matplotlib, imported only when drawn).

Figures are `matplotlib.figure.Figure` objects made without pyplot: no backend is
switched and no global figure state is touched, so a notebook's inline plots keep
working and any process can save them (the Agg canvas renders `savefig`).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import optuna

    from twin.calibration.data import CycleData
    from twin.calibration.forecast import Forecast
    from twin.calibration.objective import FitTarget


def _figure_and_axes(width_in: float = 6.4, height_in: float = 4.2) -> tuple[Any, Any]:
    """A new Figure with one Axes, outside pyplot (no backend switch, no global state)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in))
    return figure, figure.add_subplot()


def png_bytes(figure: Any) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
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
    figure, ax = _figure_and_axes()
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
    figure, ax = _figure_and_axes()
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

    figure, ax = _figure_and_axes()
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
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # trial numbers are whole
    ax.set_xlabel("trial")
    ax.set_ylabel("loss (RMS error)")
    ax.set_title(f"optimisation history: {study.study_name}", fontsize=10)
    ax.legend(fontsize=8)
    return figure


def dataset_figure(time_series: Any, cycles: Any, title: str = "") -> Any:
    """A cycling dataset: voltage [V] versus time [h] (Battery Data Format columns), and
    normalized discharge capacity and Coulombic efficiency [%] per cycle."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 3.8), layout="constrained")
    ax_v, ax_q = figure.subplots(1, 2)
    ax_v.plot(time_series["Test Time / s"] / 3600, time_series["Voltage / V"], lw=0.8)
    ax_v.set_xlabel("time [h]")
    ax_v.set_ylabel("voltage [V]")
    ax_q.plot(cycles["cycle"], cycles["normalized_capacity"], "o-", color="black", ms=3,
              label="normalized discharge capacity")
    ax_q.set_xlabel("cycle")
    ax_q.set_ylabel("normalized discharge capacity")
    ax_ce = ax_q.twinx()
    ax_ce.plot(cycles["cycle"], 100 * cycles["coulombic_efficiency"], "s--", color="tab:red", ms=3,
               label="Coulombic efficiency")
    ax_ce.set_ylabel("Coulombic efficiency [%]", color="tab:red")
    figure.suptitle(title, fontsize=10)
    return figure
