"""Refuse data that cannot come from the cell a calibration is told it fits.

A fit of LFP data with an NMC811 twin, or of a 2 mAh coin cell as a 1 Ah pouch,
"succeeds" numerically (the capacity scale and the fade parameters absorb
everything) and forecasts nonsense. Two checks need nothing but the data and the
stated design:

* the voltage window the data cycled in (time-series data) against the cathode's
  window under the protocol: a charge that stops far below the cathode's upper
  cut-off, or voltages well outside the window, are another chemistry;
* the measured capacity against the design's nominal capacity (areal capacity x
  area x layers): the capacity scale a fit would need must be near 1 (a cell
  delivers 60-120 % of its nominal capacity early on); data normalized to a
  theoretical capacity must not exceed it.

Each failure raises :class:`CellMismatchError` with one line naming the mismatch.
"""

from __future__ import annotations

import math

import numpy as np

from twin.calibration.data import NORMALIZED_TO_THEORETICAL, CycleData, DataError
from twin.design import CellDesign
from twin.protocol import Protocol

# Beyond the window by more than this [V]: not the stated cathode (cycler noise and
# IR drop stay well inside it).
VOLTAGE_OVERSHOOT_V = 0.15
# A charge ending this far [V] below the cathode's upper cut-off is another chemistry
# (LFP tops at 3.6 V, NMC at 4.2 V).
VOLTAGE_SHORTFALL_V = 0.3
# Measured / nominal capacity outside these bounds cannot be the stated cell.
CAPACITY_SCALE_RANGE = (0.4, 1.6)
# Capacity over the cathode's theoretical capacity cannot exceed this.
MAX_NORMALIZED_TO_THEORETICAL = 1.1


class CellMismatchError(DataError):
    """The data cannot be the stated cell (the message names the file and the mismatch)."""


def check_voltage_window(data: CycleData, design: CellDesign, protocol: Protocol) -> None:
    """Time-series data only (summaries carry no voltage): see module docstring."""
    low, high = data.meta.get("voltage_min_V"), data.meta.get("voltage_max_V")
    if not isinstance(low, float) or not isinstance(high, float):
        return
    v_min, v_max = protocol.voltage_window(design.cathode)
    window = f"the {design.cathode} window {v_min:g}-{v_max:g} V"
    if high > v_max + VOLTAGE_OVERSHOOT_V:
        raise CellMismatchError(f"the data reach {high:.2f} V, above {window}: not a {design.cathode} cell as "
                                "stated (give --cathode or a recipe for this chemistry)", source=data.source)
    if high < v_max - VOLTAGE_SHORTFALL_V:
        raise CellMismatchError(f"the data charge only to {high:.2f} V but {window} charges to {v_max:g} V: "
                                f"not a {design.cathode} cell as stated (give --cathode or a recipe for this "
                                "chemistry)", source=data.source)
    if low < v_min - VOLTAGE_OVERSHOOT_V:
        raise CellMismatchError(f"the data discharge to {low:.2f} V, below {window}: not a {design.cathode} "
                                "cell as stated", source=data.source)


def check_capacity_scale(data: CycleData, design: CellDesign) -> None:
    """The measured capacity must be near the design's nominal capacity."""
    if data.meta.get("normalization") == NORMALIZED_TO_THEORETICAL:
        values = data.normalized_capacity
        values = values[np.isfinite(values)]
        if values.size and float(values.max()) > MAX_NORMALIZED_TO_THEORETICAL:
            raise CellMismatchError(
                f"the data's capacity reaches {float(values.max()):.2f} x the cathode's theoretical capacity: "
                "not a capacity normalized to this cathode", source=data.source)
        return
    if "discharge_capacity_mAh" not in data.cycles:
        return
    measured = data.cycles["discharge_capacity_mAh"].to_numpy(dtype=float)
    measured = measured[np.isfinite(measured) & (measured > 0)]
    if not measured.size:
        return
    nominal_mAh = design.nominal_capacity_Ah * 1000.0
    first = float(measured[0])
    scale = first / nominal_mAh
    low, high = CAPACITY_SCALE_RANGE
    if not (low <= scale <= high) or not math.isfinite(scale):
        raise CellMismatchError(
            f"the data's first discharge capacity {first:.4g} mAh is {scale:.2g} x the stated cell's nominal "
            f"{nominal_mAh:.4g} mAh ({design.areal_capacity_mAh_cm2:g} mAh/cm2 x {design.electrode_area_cm2:g} "
            f"cm2 x {design.layers} layers); a capacity scale outside {low:g}-{high:g} cannot be this cell "
            "(give --areal-capacity, --electrode-area, --layers)", source=data.source)


def check_data_matches_cell(data: CycleData, design: CellDesign, protocol: Protocol) -> None:
    """Both checks; CellMismatchError names the first mismatch."""
    check_voltage_window(data, design, protocol)
    check_capacity_scale(data, design)


__all__ = ["CellMismatchError", "check_capacity_scale", "check_data_matches_cell", "check_voltage_window"]
