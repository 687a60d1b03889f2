"""Figures for people: one prediction, designs compared, a sweep's cycle-life map.

The `*_figure` functions return a `matplotlib.figure.Figure` (shown inline in a
notebook, or saved with `save_figure`); the `plot_*` functions write one to a file.

matplotlib is imported only when a figure is drawn (never at `twin --help`), and only
through `matplotlib.figure.Figure`, which renders with the headless Agg canvas and
leaves pyplot's global state alone (safe in any process). Figures are written
atomically: `save_figure(figure, path)`.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from twin.simulation import Prediction

DPI = 130
# Li inventory components of `twin compare`: column(s) -> label, line style
INVENTORY_LINES = (
    (("cathode_li_mAh_cm2", "active_li_mAh_cm2"), "active Li (cathode + metal)", "-"),
    (("dead_li_mAh_cm2",), "dead Li", "--"),
    (("sei_li_mAh_cm2",), "SEI Li", ":"),
)
# Sweep columns that, when they vary, get one heatmap panel per value combination
PANEL_COLUMNS = {
    "strategy": ("strategy", ""),
    "charge_rate_C": ("charge", " C"),
    "electrolyte_g_per_Ah": ("electrolyte", " g/Ah"),
    "discharge_rate_C": ("discharge", " C"),
    "cathode": ("", ""),
    "temperature_degC": ("", " degC"),
    "cell_model": ("model", ""),
    "mode": ("mode", ""),
    "eol_fraction": ("EOL", ""),
    "max_cycles": ("max", " cycles"),
}


def new_figure(width_in: float, height_in: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")


def save_figure(figure: Figure, path: Path) -> None:
    """PNG (or SVG/PDF by extension) written to a temporary file, then renamed."""
    from twin.files import write_atomic

    path = Path(path)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=path.suffix.lstrip(".").lower() or "png", dpi=DPI)
    write_atomic(path, buffer.getvalue())


def _num(value: float) -> str:
    return f"{value:g}"


def design_title(prediction: Prediction) -> str:
    d, p = prediction.design, prediction.protocol
    return (f"{d.cathode}, {_num(d.areal_capacity_mAh_cm2)} mAh/cm2, N:P {_num(d.np_ratio)}, "
            f"{_num(d.electrolyte_g_per_Ah)} g/Ah, charge {_num(p.charge_rate_C)} C / "
            f"discharge {_num(p.discharge_rate_C)} C")


def life_text(prediction: Prediction) -> str:
    if prediction.cycle_life is None:
        return f"cycle life > {prediction.max_cycles} ({prediction.mode} mode)"
    reason = prediction.end_of_life_reason.replace("_", " ")
    return f"cycle life {prediction.cycle_life} ({reason}, {prediction.mode} mode)"


def _regular(cycles: pd.DataFrame) -> pd.DataFrame:
    """Cycles of the repeated protocol, without slow check-up cycles."""
    if "checkup" not in cycles.columns:
        return cycles
    return cycles[~cycles["checkup"].astype(bool)]


# ------------------------------------------------------------- one prediction

def prediction_figure(prediction: Prediction) -> Figure:
    """Capacity, Coulombic efficiency, Li inventory and thickness/swelling per cycle."""
    from matplotlib.ticker import MaxNLocator

    c = prediction.cycles
    cycle = c["cycle"].to_numpy()
    q0 = prediction.initial_capacity_mAh_cm2
    fig = new_figure(10, 7.2)
    (ax_q, ax_ce), (ax_li, ax_t) = fig.subplots(2, 2, sharex=True)
    fig.suptitle(f"{design_title(prediction)}\n{life_text(prediction)}", fontsize=10)

    regular = _regular(c)
    ax_q.plot(regular["cycle"], regular["discharge_capacity_mAh_cm2"], color="C0", label="discharge capacity")
    simulated = regular[regular["simulated"].astype(bool)]
    if len(simulated) < len(regular):  # fast mode: show which cycles the full model simulated
        ax_q.plot(simulated["cycle"], simulated["discharge_capacity_mAh_cm2"], "o", color="C0",
                  markersize=3, label="simulated by the full model")
    checkups = c.loc[c.index.difference(regular.index)]
    if len(checkups):
        ax_q.plot(checkups["cycle"], checkups["discharge_capacity_mAh_cm2"], "s", color="C2",
                  markersize=4, label="check-up cycles")
    ax_q.axhline(prediction.eol_fraction * q0, color="0.4", linestyle="--", linewidth=1,
                 label=f"end of life ({prediction.eol_fraction:.0%})")
    if prediction.cycle_life is not None:
        ax_q.axvline(prediction.cycle_life, color="C3", linestyle=":", linewidth=1)
    ax_q.set_ylabel("discharge capacity [mAh/cm2]")
    if q0 > 0:
        ax_q.secondary_yaxis("right", functions=(lambda q: 100 * q / q0, lambda r: r * q0 / 100)
                             ).set_ylabel("retention [%]")
    ax_q.legend(fontsize=8, loc="lower left")

    ax_ce.plot(regular["cycle"], 100 * regular["coulombic_efficiency"], color="C0",
               label="cell CE (discharge / charge)")
    ax_ce.plot(regular["cycle"], 100 * regular["li_coulombic_efficiency"], color="C1", linestyle="--",
               label="Li CE (1 - Li lost / Li plated)")
    if len(checkups):
        ax_ce.plot(checkups["cycle"], 100 * checkups["coulombic_efficiency"], "s", color="C2",
                   markersize=4, label="check-up cycles")
    ax_ce.set_ylabel("Coulombic efficiency [%]")
    ax_ce.legend(fontsize=8, loc="lower right")

    # the rest of the cell's Li is the salt in the electrolyte: the stack's top is all Li
    salt = (c["total_li_mAh_cm2"] - c["cathode_li_mAh_cm2"] - c["active_li_mAh_cm2"]
            - c["dead_li_mAh_cm2"] - c["sei_li_mAh_cm2"]).clip(lower=0)
    ax_li.stackplot(cycle, c["cathode_li_mAh_cm2"], c["active_li_mAh_cm2"], c["dead_li_mAh_cm2"],
                    c["sei_li_mAh_cm2"], salt, colors=["C0", "C2", "0.55", "C1", "C9"], alpha=0.85,
                    labels=["Li in cathode", "active Li metal", "dead Li", "SEI Li", "Li salt in electrolyte"])
    ax_li.set_ylabel("Li inventory at end of discharge [mAh/cm2]")
    ax_li.set_xlabel("cycle")
    ax_li.legend(fontsize=8, loc="lower left")

    ax_t.plot(cycle, c["anode_thickness_um"], color="C4", label="anode thickness")
    ax_t.set_ylabel("anode thickness [µm]", color="C4")
    ax_t.set_xlabel("cycle")
    ax_s = ax_t.twinx()
    ax_s.plot(cycle, c["swelling_pct"], color="C3", linestyle="--", label="cell swelling")
    ax_s.set_ylabel("cell swelling [%]", color="C3")
    ax_t.legend(handles=ax_t.lines + ax_s.lines, fontsize=8, loc="upper left")
    for ax in (ax_q, ax_ce, ax_li, ax_t):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    ax_q.set_xlim(cycle.min() - 0.5, cycle.max() + 0.5)
    return fig


def plot_prediction(prediction: Prediction, path: Path) -> None:
    save_figure(prediction_figure(prediction), path)


# ------------------------------------------------------------- designs compared

def comparison_figure(predictions: Sequence[Prediction], labels: Sequence[str]) -> Figure:
    """Capacity retention, Li inventory split (cyclable / dead / SEI) and swelling
    versus cycle for every design: one colour per design."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    fig = new_figure(15, 4.8)
    ax_r, ax_li, ax_s = fig.subplots(1, 3, sharex=True)
    eol = predictions[0].eol_fraction
    for i, (prediction, label) in enumerate(zip(predictions, labels)):
        c = prediction.cycles
        color = f"C{i % 10}"
        q0 = prediction.initial_capacity_mAh_cm2
        regular = _regular(c)  # check-up cycles would draw spikes
        ax_r.plot(regular["cycle"], 100 * regular["discharge_capacity_mAh_cm2"] / q0, color=color, label=label)
        for columns, _, style in INVENTORY_LINES:
            ax_li.plot(c["cycle"], sum(c[col] for col in columns), color=color, linestyle=style, label=label)
        ax_s.plot(c["cycle"], c["swelling_pct"], color=color, label=label)
        if prediction.cycle_life is not None:
            ax_r.plot([prediction.cycle_life], [100 * regular["discharge_capacity_mAh_cm2"].iloc[-1] / q0],
                      marker="x", color=color, linestyle="none", label="_end of life")
    ax_r.axhline(100 * eol, color="0.4", linestyle="--", linewidth=1, label="_eol")
    ax_r.set_ylabel("capacity retention [%]")
    ax_r.set_title(f"capacity (x: end of life at {eol:.0%})", fontsize=10)
    ax_r.legend(fontsize=8, loc="best")
    ax_li.set_ylabel("Li inventory at end of discharge [mAh/cm2]")
    ax_li.set_title("Li inventory split", fontsize=10)
    ax_li.legend(handles=[Line2D([], [], color="0.2", linestyle=style, label=name)
                          for _, name, style in INVENTORY_LINES], fontsize=8, loc="center right")
    ax_s.set_ylabel("cell swelling [%]")
    ax_s.set_title("swelling", fontsize=10)
    for ax in (ax_r, ax_li, ax_s):
        ax.set_xlabel("cycle")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    return fig


def plot_comparison(predictions: Sequence[Prediction], labels: Sequence[str], path: Path) -> None:
    save_figure(comparison_figure(predictions, labels), path)


# ------------------------------------------------------------- sweep heatmap

def _panel_title(values: dict[str, Any]) -> str:
    parts = []
    for column, value in values.items():
        name, unit = PANEL_COLUMNS[column]
        shown = _num(value) if isinstance(value, float) else str(value)
        parts.append(f"{name} {shown}{unit}".strip())
    return ", ".join(parts)


def _draw_heatmap(ax: Axes, panel: pd.DataFrame, np_values: list[float], capacity_values: list[float],
                  cmap: Any, norm: Any) -> Any:
    import numpy as np
    from matplotlib.patches import Rectangle

    life = np.full((len(capacity_values), len(np_values)), np.nan)
    text = [["" for _ in np_values] for _ in capacity_values]
    for row in panel.itertuples(index=False):
        i = capacity_values.index(row.areal_capacity_mAh_cm2)
        j = np_values.index(row.np_ratio)
        if isinstance(row.error, str) and row.error:
            text[i][j] = "failed"
        elif math.isnan(row.cycle_life):  # the cycle limit came first
            life[i, j] = row.max_cycles
            text[i][j] = f">{row.max_cycles}"
        else:
            life[i, j] = int(row.cycle_life)
            text[i][j] = str(int(row.cycle_life))
    image = ax.imshow(np.ma.masked_invalid(life), origin="lower", cmap=cmap, norm=norm, aspect="auto")
    for i in range(len(capacity_values)):
        for j in range(len(np_values)):
            value = life[i, j]
            shade = cmap(norm(value)) if not np.isnan(value) else (0.8, 0.8, 0.8, 1)
            luminance = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=9,
                    color="black" if luminance > 0.5 else "white")
            if text[i][j].startswith(">"):  # still alive at the cycle limit
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//",
                                       edgecolor=(0, 0, 0, 0.25), linewidth=0))
    ax.set_xticks(range(len(np_values)), [_num(v) for v in np_values])
    ax.set_yticks(range(len(capacity_values)), [_num(v) for v in capacity_values])
    ax.set_xlabel("N:P")
    ax.set_ylabel("areal capacity [mAh/cm2]")
    return image


def sweep_heatmap_figure(table: pd.DataFrame) -> Figure:
    """Cycle life over N:P (x) by areal capacity (y); one panel per combination of
    the other columns that vary (strategy, charge rate, electrolyte, ...). Cells that
    reached the cycle limit read '>N'; failed solves are grey."""
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    table = table.copy()
    table["cycle_life"] = table["cycle_life"].astype("Float64").astype(float)
    table["error"] = table["error"].fillna("").astype(str) if "error" in table else ""
    np_values = sorted(float(v) for v in table["np_ratio"].unique())
    capacity_values = sorted(float(v) for v in table["areal_capacity_mAh_cm2"].unique())
    panel_columns = [col for col in PANEL_COLUMNS if col in table and table[col].nunique(dropna=False) > 1]
    fixed = [col for col in PANEL_COLUMNS if col in table and table[col].nunique(dropna=False) == 1]
    # panels in the order of the grid
    groups = list(table.groupby(panel_columns, sort=False)) if panel_columns else [((), table)]

    shown_life = np.where(table["cycle_life"].isna(), table["max_cycles"], table["cycle_life"])
    shown_life = shown_life[table["error"] == ""]
    lo, hi = (float(np.min(shown_life)), float(np.max(shown_life))) if len(shown_life) else (0.0, 1.0)
    norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
    cmap = colormaps["viridis"].with_extremes(bad="0.8")

    ncols = min(len(groups), 3)
    nrows = math.ceil(len(groups) / ncols)
    fig = new_figure(1.0 + 4.0 * ncols, 0.8 + 3.4 * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    image = None
    for ax, (values, panel) in zip(axes, groups):
        values = values if isinstance(values, tuple) else (values,)
        image = _draw_heatmap(ax, panel, np_values, capacity_values, cmap, norm)
        if panel_columns:
            ax.set_title(_panel_title(dict(zip(panel_columns, values))), fontsize=10)
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    fixed_values = {col: table[col].iloc[0] for col in fixed}
    if fixed_values.get("strategy") == "none":
        del fixed_values["strategy"]
    # about 11 characters of 9 pt text per inch of figure: wrap inside the figure's width
    fixed_text = textwrap.fill(_panel_title(fixed_values), width=int(11 * fig.get_figwidth()))
    fig.suptitle(f"cycle life [cycles]\n{fixed_text}", fontsize=9)
    if image is not None:
        fig.colorbar(image, ax=list(axes[:len(groups)]), label="cycle life [cycles]", shrink=0.9)
    return fig


def plot_sweep_heatmap(table: pd.DataFrame, path: Path) -> None:
    save_figure(sweep_heatmap_figure(table), path)


# ------------------------------------------------------------- lab test cells

def lab_cell_figure(cycles: pd.DataFrame | None, cell: str, title: str = "") -> Figure:
    """Li||Cu: Coulombic efficiency [%] and Li inventory [mAh/cm2] per cycle; Li||Li:
    stripping and plating overpotentials [mV] and Li inventory per cycle. The reservoir
    protocol reports totals only (`cycles` None): a figure saying so."""
    fig = new_figure(9, 3.8)
    if cycles is None or cycles.empty:
        ax = fig.subplots()
        ax.text(0.5, 0.5, "the reservoir protocol reports totals, not cycles", ha="center", va="center")
        ax.set_axis_off()
        return fig
    ax_main, ax_li = fig.subplots(1, 2, sharex=True)
    fig.suptitle(title, fontsize=10)
    cycle = cycles["cycle"]
    if cell == "li-li":
        ax_main.plot(cycle, cycles["overpotential_strip_mV"], color="C0", label="stripping")
        ax_main.plot(cycle, cycles["overpotential_plate_mV"], color="C1", linestyle="--", label="plating")
        ax_main.set_ylabel("overpotential at end of half-cycle [mV]")
    else:
        ax_main.plot(cycle, 100 * cycles["coulombic_efficiency"], "o-", color="C0", markersize=3,
                     label="Li||Cu CE (stripped / plated)")
        ax_main.set_ylabel("Coulombic efficiency [%]")
    for column, label, style in (("active_li_mAh_cm2", "active Li", "-"), ("dead_li_mAh_cm2", "dead Li", "--"),
                                 ("sei_li_mAh_cm2", "SEI Li", ":")):
        if column in cycles.columns:
            ax_li.plot(cycle, cycles[column], style, label=label)
    ax_li.set_ylabel("Li inventory [mAh/cm2]")
    for ax in (ax_main, ax_li):
        ax.set_xlabel("cycle")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return fig
