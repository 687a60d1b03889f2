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
