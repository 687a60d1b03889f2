"""Plausibility of a per-cycle table, checked before a fit spends any trial on it.

A reader accepts what a file says; these checks ask whether it can be one cell's
cycling: a cycle far above the others (a cycle counter split on noise, two discharges
in one 'cycle', a unit mistake), cycles of next to no charge (rest-current noise taken
as cycles), and voltages outside the stated cathode's window (wrong recipe or wrong
file). Each raises one :class:`DataError` naming the cycles.
"""

from __future__ import annotations

import numpy as np

from twin.calibration.readers.common import (
    CHARGE_CAPACITY_MAH,
    CYCLE,
    DISCHARGE_CAPACITY_MAH,
    CycleData,
    DataError,
    _rows_text,
)

FAR_ABOVE_NEIGHBOURS = 1.5
"""A cycle delivering more than this times both neighbouring cycles (or the nominal
capacity) is refused. Neighbours, not the median: a real anode-free cell can lose most
of its capacity between cycle 1 and cycle 10, so its first cycles sit far above the
median; a cycle counter split on noise gives isolated spikes."""
NOISE_FRACTION = 0.02
"""An isolated cycle (neighbours above it) whose charge and discharge are both below this
fraction of the median is noise; a run of such cycles is a dead cell, not noise."""
MIN_CYCLES_FOR_MEDIAN = 3
"""Fewer cycles with a capacity than this: no median to compare with, no check."""


def check_cycle_capacities(data: CycleData, nominal_capacity_mAh: float | None = None) -> None:
    """Refuse cycles far above their neighbours (or `nominal_capacity_mAh`) and noise cycles.

    Uses the measured capacities [mAh] when the file has them (time series, summary
    files with capacities); a table of normalized capacities only is checked on those.
    """
    table = data.cycles
    discharge = table[DISCHARGE_CAPACITY_MAH].to_numpy(dtype=float)
    charge = table[CHARGE_CAPACITY_MAH].to_numpy(dtype=float)
    unit = "mAh"
    if not np.isfinite(discharge).any():
        discharge = table["normalized_capacity"].to_numpy(dtype=float)
        charge = np.full(len(discharge), np.nan)
        unit = "(normalized)"
    cycles = table[CYCLE].to_numpy()
    measured = np.isfinite(discharge) & (discharge > 0)
    problems: list[str] = []
    if measured.sum() >= MIN_CYCLES_FOR_MEDIAN:
        median = float(np.median(discharge[measured]))
        index = np.flatnonzero(measured)
        values = discharge[index]
        if nominal_capacity_mAh is not None and unit == "mAh":
            reference = np.full(len(values), float(nominal_capacity_mAh))
            what = "the nominal capacity"
        else:  # the larger neighbour; the first and last cycles have one neighbour only: not judged
            reference = np.full(len(values), np.inf)
            reference[1:-1] = np.maximum(values[:-2], values[2:])
            what = "their neighbouring cycles"
        high = values > FAR_ABOVE_NEIGHBOURS * reference
        if high.any():
            ratios = ", ".join(f"{r:.2f}x" for r in (values[high] / reference[high])[:5])
            problems.append(
                f"{_rows_text([int(c) for c in cycles[index[high]]], 'cycle')} deliver {ratios} {what} "
                f"({unit}): a cycle counter split on noise, two discharges in one cycle, or a unit mistake"
            )
        low = (np.nan_to_num(discharge) < NOISE_FRACTION * median) & (np.nan_to_num(charge) < NOISE_FRACTION * median)
        isolated = low.copy()
        isolated[1:] &= ~low[:-1]
        isolated[:-1] &= ~low[1:]
        if isolated.any() and unit == "mAh":
            problems.append(
                f"{_rows_text([int(c) for c in cycles[isolated]], 'cycle')} hold under {NOISE_FRACTION:.0%} of the "
                f"median capacity ({median:.4g} mAh): rest-current noise counted as cycles"
            )
    if problems:
        raise DataError(problems, source=data.source)
