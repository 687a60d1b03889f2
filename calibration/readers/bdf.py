"""Battery Data Format (BDF, Battery Data Alliance) time-series CSV: reader and writer.

Read here rather than through batterydf (the Alliance's package): its loader renames
columns and warns, but does not collect every problem of a file into one message with
row numbers, nor convert units given in column names (mA, ms, h) the way the twin's
variable map does; and it changes ``warnings.formatwarning`` for the whole process.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.calibration.readers.common import (
    BDF_CURRENT,
    BDF_CYCLE_COUNT,
    BDF_STEP_COUNT,
    BDF_TEST_TIME,
    BDF_VOLTAGE,
    CycleData,
    DataError,
    PathLike,
    _existing_file,
    _plural,
    _read_csv,
    _rows_text,
    _time_series_to_cycle_data,
    _write_atomically,
)

# --- readers -----------------------------------------------------------------------


def read_bdf_csv(path: PathLike, cell_id: str | None = None, *, rest_current_A: float = 0.0) -> CycleData:
    """Read a Battery Data Format time-series CSV and reduce it to cycles.

    Required columns: ``Test Time / s``, ``Voltage / V``, ``Current / A`` (positive
    current charges). Recommended: ``Cycle Count / 1`` (without it cycles are
    detected: a new one starts where charging follows discharging),
    ``Step Count / 1``, ``Ambient Temperature / degC``. Names match case-insensitively,
    as the BDF machine-readable names (``test_time_second``, ``voltage_volt``,
    ``current_ampere``, ``cycle_count``, ...) and with ms/min/h, mV and mA units
    (converted). A column without a unit (``Voltage``) is a problem: units are
    required. Per-cycle capacities [mAh] come from :func:`per_cycle_capacities`;
    ``rest_current_A`` [A] is the largest |current| counted as rest.
    Raises :class:`DataError` listing every problem (missing columns,
    non-numeric or NaN cells, time going backwards, cycles with no current, ...).
    """
    path = _existing_file(path)
    problems: list[str] = []
    frame, sha256 = _read_csv(path, problems)
    if frame is None:
        raise DataError(problems, source=path.name)
    return _time_series_to_cycle_data(
        frame,
        source=path.name,
        sha256=sha256,
        cell_id=cell_id,
        meta={"format": "bdf"},
        problems=problems,
        rest_current_A=rest_current_A,
    )



def write_bdf_csv(
    path: PathLike,
    time_s: Sequence[float] | np.ndarray,
    voltage_V: Sequence[float] | np.ndarray,
    current_A: Sequence[float] | np.ndarray,
    cycle: Sequence[int] | np.ndarray,
    step: Sequence[int] | np.ndarray | None = None,
) -> Path:
    """Write a BDF time-series CSV atomically; returns the path.

    Columns: ``Test Time / s`` [s], ``Voltage / V`` [V], ``Current / A`` [A, positive
    charges], ``Cycle Count / 1`` and, when given, ``Step Count / 1``. Floats are
    written in shortest round-trip form, so :func:`read_bdf_csv` gets the same
    numbers back. Raises :class:`DataError` (and writes nothing) for arrays of
    different lengths, non-finite values or non-integer cycle/step numbers.
    """
    path = Path(path)
    columns: dict[str, Any] = {
        BDF_TEST_TIME: time_s,
        BDF_VOLTAGE: voltage_V,
        BDF_CURRENT: current_A,
        BDF_CYCLE_COUNT: cycle,
    }
    if step is not None:
        columns[BDF_STEP_COUNT] = step
    problems: list[str] = []
    arrays: dict[str, np.ndarray] = {}
    for name, raw in columns.items():
        try:
            array = np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            problems.append(f"{name!r} is not numeric")
            continue
        if array.ndim != 1:
            problems.append(f"{name!r} must be 1-D (got shape {array.shape})")
            continue
        bad = ~np.isfinite(array)
        if bad.any():
            samples = _rows_text([int(i) for i in np.flatnonzero(bad)], "sample")
            problems.append(f"{name!r} has {_plural(int(bad.sum()), 'non-finite value')} ({samples})")
        if name in (BDF_CYCLE_COUNT, BDF_STEP_COUNT) and np.any(np.isfinite(array) & (array != np.round(array))):
            problems.append(f"{name!r} has non-integer values")
        arrays[name] = array
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        problems.append("columns have different lengths: " + ", ".join(f"{n!r} {k}" for n, k in lengths.items()))
    elif lengths and next(iter(lengths.values())) == 0:
        problems.append("no samples to write")
    if problems:
        raise DataError(problems, source=path.name)
    frame = pd.DataFrame(arrays)
    for counter in (BDF_CYCLE_COUNT, BDF_STEP_COUNT):
        if counter in frame:
            frame[counter] = frame[counter].astype(np.int64)
    return _write_atomically(path, lambda stream: frame.to_csv(stream, index=False, lineterminator="\n"))
