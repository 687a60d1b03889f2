"""Per-cycle curves of several designs in long format: one row per design and cycle.

`twin compare --curves FILE` writes them (CSV or Parquet by the file's extension), so
the curves its figure draws can be re-plotted or analysed without re-running.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

CURVE_SUFFIXES = (".csv", ".parquet", ".pq")


def check_curves_path(path: Path | None) -> None:
    """A curves file must be .csv or .parquet (checked before any work)."""
    from twin.experiments.options import InputError

    if path is not None and path.suffix.lower() not in CURVE_SUFFIXES:
        raise InputError(f"--curves: {path.name}: use a .csv or .parquet file name")


def curves_table(labels: Sequence[str], predictions: Sequence[Any]) -> pd.DataFrame:
    """Long table: ``label`` then every per-cycle column of each prediction (``cycle``,
    capacities [mAh/cm2], normalized capacity, Li inventory, thickness [µm], ...)."""
    frames = []
    for label, prediction in zip(labels, predictions, strict=True):
        frame = prediction.cycles.copy()
        frame.insert(0, "label", label)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"label": []})


def write_curves(path: Path, table: pd.DataFrame) -> None:
    """CSV or Parquet by extension, atomically (Parquet carries the provenance)."""
    from twin.experiments.sweep import write_table

    write_table(path, table)


# columns of a sweep row that identify a design in the curves file
SWEEP_CURVE_ID_COLUMNS = ("design_key", "label", "cathode", "np_ratio", "areal_capacity_mAh_cm2",
                          "electrolyte_g_per_Ah", "charge_rate_C", "discharge_rate_C", "temperature_degC",
                          "strategy")


def read_curves_by_key(path: Path) -> dict[str, pd.DataFrame]:
    """Curves of an earlier run of the same sweep, by design key ({} if none)."""
    from twin.experiments.sweep import KEY_COLUMN, table_format

    if not path.is_file():
        return {}
    table = pd.read_csv(path, dtype={KEY_COLUMN: str}) if table_format(path) == "csv" else pd.read_parquet(path)
    if KEY_COLUMN not in table.columns:
        return {}
    return {str(key): group for key, group in table.groupby(KEY_COLUMN, sort=False)}


def sweep_curves_table(rows: Sequence[dict[str, Any]], earlier: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Long table of a sweep: the design's identifying columns, then its per-cycle
    columns, one row per design and cycle, in grid order. A design that failed to
    solve has no rows."""
    from twin.experiments.sweep import CURVE_KEY, KEY_COLUMN

    frames = []
    for row in rows:
        if CURVE_KEY in row:
            frame = pd.DataFrame(row[CURVE_KEY])
            for position, name in enumerate(c for c in SWEEP_CURVE_ID_COLUMNS if c in row):
                # a design input that also varies per cycle (electrolyte left) keeps both
                frame.insert(position, f"design_{name}" if name in frame.columns else name, row[name])
        elif str(row[KEY_COLUMN]) in earlier:
            frame = earlier[str(row[KEY_COLUMN])]
        else:
            continue
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({KEY_COLUMN: []})
