"""Neware files: the BTS CSV export (one header line: ``Cycle Index``, ``Cumulative
Time`` or ``Total Time``, ``Current(A)`` or ``Current(mA)``, ``Voltage(V)``) read here,
and the binary ``.nda``/``.ndax`` read through NewareNDA (BSD-3, the parser navani and
batterydf use; ``pip install 'twin[vendors]'``). See :mod:`.biologic` for the choice.
The older nested BTS export (cycle, step and record tables interleaved, rows starting
with empty cells) is refused with a message: export the record layer only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from twin.calibration.readers.common import (
    BDF_CURRENT,
    BDF_CYCLE_COUNT,
    BDF_TEST_TIME,
    BDF_VOLTAGE,
    CycleData,
    DataError,
    _normalize_name,
    _read_csv,
    _time_series_to_cycle_data,
    quiet_call,
    vendor_cycle_data,
    vendor_module,
)
from twin.calibration.readers.maccor import _seconds

NEWARE_TIME = ("cumulative_time", "total_time", "test_time")
NEWARE_CURRENT = {"current_a": 1.0, "current_ma": 1e-3}
NEWARE_VOLTAGE = {"voltage_v": 1.0, "voltage_mv": 1e-3}
NEWARE_CYCLE = ("cycle_index", "cycle_id", "cycle")


def looks_like_neware_csv(columns: list[str]) -> bool:
    """True for a Neware BTS record export header (``DataPoint`` and ``Current(A)``)."""
    keys = {_normalize_name(c) for c in columns}
    return "datapoint" in keys and bool(keys & set(NEWARE_CURRENT))


def read_neware_csv(path: Path, cell_id: str | None = None) -> CycleData:
    """Read a Neware BTS record CSV export and reduce it to cycles."""
    path = Path(path)
    problems: list[str] = []
    frame, sha256 = _read_csv(path, problems)
    if frame is None:
        raise DataError(problems, source=path.name)
    by_key = {_normalize_name(c): c for c in frame.columns}
    if frame.columns[0].strip() == "" or "step_index" in by_key and "datapoint" not in by_key:
        raise DataError(
            "a nested Neware export (cycle, step and record layers in one file): export the record layer only",
            source=path.name,
        )
    time = next((by_key[k] for k in NEWARE_TIME if k in by_key), None)
    current = next(((by_key[k], s) for k, s in NEWARE_CURRENT.items() if k in by_key), None)
    voltage = next(((by_key[k], s) for k, s in NEWARE_VOLTAGE.items() if k in by_key), None)
    cycle = next((by_key[k] for k in NEWARE_CYCLE if k in by_key), None)
    for label, found in (("Cumulative Time", time), ("Current(A)", current), ("Voltage(V)", voltage)):
        if found is None:
            problems.append(f"missing column {label!r} (columns found: {', '.join(frame.columns)})")
    if problems:
        raise DataError(problems, source=path.name)
    assert time and current and voltage

    def numbers(name: str) -> np.ndarray:
        return pd.to_numeric(frame[name].str.strip(), errors="coerce").to_numpy(dtype=float)

    out = pd.DataFrame(
        {
            BDF_TEST_TIME: _seconds(frame[time]),
            BDF_VOLTAGE: numbers(voltage[0]) * voltage[1],
            BDF_CURRENT: numbers(current[0]) * current[1],
        }
    )
    if cycle is not None:
        out[BDF_CYCLE_COUNT] = numbers(cycle)
    return _time_series_to_cycle_data(
        out,
        source=path.name,
        sha256=sha256,
        cell_id=cell_id,
        meta={"format": "neware-csv", "reader": "twin"},
        problems=[],
        rest_current_A=0.0,
        drop_rest_only_cycles=True,
    )


def read_neware_nda(path: Path, cell_id: str | None = None) -> CycleData:
    """Read a Neware ``.nda``/``.ndax`` through NewareNDA and reduce it to cycles.

    NewareNDA's ``Time`` restarts at each step; the test time is rebuilt as the sum
    of the within-step increments, so it does not depend on the 1 s ``Timestamp``.
    """
    path = Path(path)
    newarenda = vendor_module("NewareNDA", "NewareNDA", path.name, "Neware .nda/.ndax")
    try:
        raw = quiet_call(newarenda.read, str(path))
    except Exception as exc:  # NewareNDA raises many kinds on files it cannot parse
        raise DataError(f"NewareNDA could not read the file: {exc}", source=path.name) from exc
    step_time = raw["Time"].to_numpy(dtype=float)
    step = raw["Step"].to_numpy() if "Step" in raw else np.zeros(len(raw))
    same_step = np.concatenate([[False], step[1:] == step[:-1]])
    increments = np.where(same_step, np.diff(step_time, prepend=0.0), step_time)
    out = pd.DataFrame(
        {
            BDF_TEST_TIME: np.cumsum(increments),
            BDF_VOLTAGE: raw["Voltage"].to_numpy(dtype=float),
            BDF_CURRENT: raw["Current(mA)"].to_numpy(dtype=float) * 1e-3,
            BDF_CYCLE_COUNT: raw["Cycle"].to_numpy(dtype=float),
        }
    )
    return vendor_cycle_data(out, path, cell_id, {"format": "neware-nda", "reader": "NewareNDA"})
