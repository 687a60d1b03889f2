"""Typed results of the Python API: what `twin.predict`, `twin.li_cu`, `twin.li_li`,
`twin.compare` and `twin.sweep` return.

Every result holds its per-cycle (or per-design) data as a pandas DataFrame, has
`to_dict()` (the CLI's JSON contract) and `plot()`, which returns a
`matplotlib.figure.Figure` (shown inline in a notebook; `save_plot(path)` writes it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from twin.design import CellDesign
    from twin.protocol import Protocol
    from twin.simulation import Prediction


class _Plottable:
    """`save_plot(path)`: the figure of `plot()` written atomically (PNG, SVG or PDF)."""

    def plot(self) -> Figure:  # pragma: no cover - every result overrides it
        raise NotImplementedError

    def save_plot(self, path: str | Path) -> Path:
        """Write `plot()` to `path` (format from the suffix) atomically; returns the path."""
        from twin.plots import save_figure

        save_figure(self.plot(), Path(path))
        return Path(path)


@dataclass(frozen=True)
class PredictionResult(_Plottable):
    """Cycle-life forecast of one design (`twin.predict`).

    Attributes
    ----------
    prediction : twin.simulation.Prediction
        The simulation's own record (kept for code written against it).
    """

    prediction: Prediction

    @property
    def design(self) -> CellDesign:
        """The design cycled (a protocol temperature replaces the design's)."""
        return self.prediction.design

    @property
    def protocol(self) -> Protocol:
        return self.prediction.protocol

    @property
    def cycle_life(self) -> int | None:
        """First cycle below `eol_fraction` of the first discharge capacity, or the cycle
        the cell shorts; None when not reached within `max_cycles`."""
        return self.prediction.cycle_life

    @property
    def end_of_life_reason(self) -> str:
        """"lithium_depleted", "electrolyte_dry_out", "capacity_fade", "short",
        "dendrite_risk" or "max_cycles"."""
        return self.prediction.end_of_life_reason

    @property
    def cycles(self) -> pd.DataFrame:
        """One row per cycle: capacities [mAh/cm2], Coulombic efficiencies, Li
        inventory (active / dead / SEI) [mAh/cm2], swelling [%], electrolyte [g/Ah], ...;
        in fast mode the column `simulated` says which cycles were solved."""
        return self.prediction.cycles

    @property
    def initial_capacity_mAh_cm2(self) -> float:
        """Discharge capacity of the first cycle [mAh/cm2]."""
        return self.prediction.initial_capacity_mAh_cm2

    @property
    def mode(self) -> str:
        """"fast" (cycle-skipping) or "full" (every cycle solved)."""
        return self.prediction.mode

    @property
    def eol_fraction(self) -> float:
        return self.prediction.eol_fraction

    @property
    def max_cycles(self) -> int:
        return self.prediction.max_cycles

    @property
    def elapsed_s(self) -> float:
        """Wall time of the prediction [s]."""
        return self.prediction.elapsed_s

    @property
    def dendrite_risk(self) -> dict[str, Any] | None:
        """The Chazalviel assessment of the CC charge (None when it cannot be made)."""
        return self.prediction.extra.get("dendrite_risk")

    @property
    def strategies(self) -> dict[str, Any] | None:
        """The combined protection strategies (names, loss factor...), None without."""
        return self.prediction.extra.get("strategies")

    @property
    def notes(self) -> list[str]:
        return list(self.prediction.notes)

    def cell(self) -> dict[str, float]:
        """The pouch cell: nominal and delivered capacity [Ah], stack thickness [mm]."""
        return self.prediction.cell_summary()

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `twin predict --format json`."""
        return self.prediction.to_dict()

    def plot(self) -> Figure:
        """Capacity, Coulombic efficiency, Li inventory and thickness versus cycle."""
        from twin.plots import prediction_figure

        return prediction_figure(self.prediction)


@dataclass(frozen=True)
class LabCellResult(_Plottable):
    """A Li||Cu or Li||Li test (`twin.li_cu`, `twin.li_li`).

    Attributes
    ----------
    result : LiCuResult, ReservoirResult or SymmetricResult
        The test's own record (`twin.test_cells`).
    strategies : dict or None
        The combined protection strategies; None for the unprotected cell.
    """

    result: Any
    strategies: dict[str, Any] | None = None

    @property
    def cell(self) -> str:
        """"li-cu" or "li-li"."""
        return self.result.to_dict()["cell"]

    @property
    def cycles(self) -> pd.DataFrame | None:
        """One row per cycle (None for the reservoir protocol, which reports totals)."""
        return getattr(self.result, "cycles", None)

    @property
    def coulombic_efficiency(self) -> float | None:
        """Li||Cu: the average CE a lab would report (fraction); None for Li||Li."""
        return getattr(self.result, "average_coulombic_efficiency", None)

    @property
    def lifespan_h(self) -> float | None:
        """Li||Li: hours until the overpotential passed the limit (None if it did not)."""
        return getattr(self.result, "lifespan_h", None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `twin predict --cell li-cu|li-li --format json`."""
        return self.result.to_dict() | {"strategies": self.strategies}

    def plot(self) -> Figure:
        """Li||Cu: CE and Li inventory per cycle; Li||Li: overpotentials per cycle."""
        from twin.plots import lab_cell_figure

        return lab_cell_figure(self.cycles, self.cell, title=self._title())

    def _title(self) -> str:
        names = " + ".join(self.strategies["names"]) if self.strategies else "no strategy"
        test = self.result.test
        return f"{self.cell}, {test.current_density_mA_cm2:g} mA/cm2, {names}"


@dataclass(frozen=True)
class Comparison(_Plottable):
    """Designs side by side (`twin.compare`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per design: inputs, cycle life, end-of-life reason, capacity [mAh/cm2],
        swelling [%], dead and SEI Li at end of life [mAh/cm2].
    predictions : list of PredictionResult
        Each design's full forecast, in the order of `table`.
    """

    table: pd.DataFrame
    predictions: list[PredictionResult] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return list(self.table["label"])

    def plot(self) -> Figure:
        """Capacity retention, Li inventory split and swelling of every design."""
        from twin.plots import comparison_figure

        return comparison_figure([p.prediction for p in self.predictions], self.labels)


@dataclass(frozen=True)
class SweepTable(_Plottable):
    """A design sweep (`twin.sweep`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per design (see `twin.experiments.sweep.ROW_COLUMNS`).
    path : Path or None
        The table file written (None when the sweep was kept in memory).
    reused, computed : int
        Designs read back from an earlier run of the same file, and computed now.
    """

    table: pd.DataFrame
    path: Path | None = None
    reused: int = 0
    computed: int = 0

    def plot(self) -> Figure:
        """Cycle-life heatmap: N:P by areal capacity, one panel per other axis value."""
        from twin.plots import sweep_heatmap_figure

        return sweep_heatmap_figure(self.table)


def predictions_of(predictions: Sequence[Prediction]) -> list[PredictionResult]:
    """Wrap raw `Prediction`s."""
    return [PredictionResult(p) for p in predictions]
