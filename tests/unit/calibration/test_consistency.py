"""Data that cannot be the stated cell are refused with one line naming the mismatch."""

import numpy as np
import pandas as pd
import pytest

from twin.calibration.consistency import CellMismatchError, check_data_matches_cell
from twin.calibration.data import NORMALIZED_TO_FIRST_CYCLE, NORMALIZED_TO_THEORETICAL, CycleData
from twin.design import CellDesign
from twin.protocol import Protocol


def data(capacity_mAh: float = 100.0, v_min: float | None = 2.8, v_max: float | None = 4.2,
         normalization: str = NORMALIZED_TO_FIRST_CYCLE, normalized: float = 1.0) -> CycleData:
    cycles = pd.DataFrame({"cycle": [1, 2], "discharge_capacity_mAh": [capacity_mAh, capacity_mAh * 0.99],
                           "charge_capacity_mAh": [np.nan, np.nan], "coulombic_efficiency": [np.nan, np.nan],
                           "normalized_capacity": [normalized, normalized * 0.99]})
    meta = {"normalization": normalization}
    if v_min is not None:
        meta.update(voltage_min_V=v_min, voltage_max_V=v_max)
    return CycleData(cycles, "cell.csv", None, "0" * 64, meta)


NMC = CellDesign(cathode="NMC811", areal_capacity_mAh_cm2=4.0, electrode_area_cm2=25.0, layers=1)


def test_lfp_data_told_to_be_nmc_are_refused():
    with pytest.raises(CellMismatchError) as err:
        check_data_matches_cell(data(v_min=2.5, v_max=3.6), NMC, Protocol())
    assert str(err.value) == ("the data charge only to 3.60 V but the NMC811 window 2.8-4.2 V charges to 4.2 V: "
                              "not a NMC811 cell as stated (give --cathode or a recipe for this chemistry)")


def test_nmc_data_told_to_be_lfp_are_refused():
    lfp = CellDesign(cathode="LFP", areal_capacity_mAh_cm2=4.0, electrode_area_cm2=25.0, layers=1)
    with pytest.raises(CellMismatchError, match=r"the data reach 4.20 V, above the LFP window 2.5-3.6 V"):
        check_data_matches_cell(data(), lfp, Protocol())


def test_a_capacity_far_from_the_stated_cell_is_refused():
    with pytest.raises(CellMismatchError, match=r"first discharge capacity 2 mAh is 0.02 x the stated cell's "
                                                r"nominal 100 mAh"):
        check_data_matches_cell(data(capacity_mAh=2.0), NMC, Protocol())


def test_a_capacity_above_the_theoretical_one_is_refused():
    with pytest.raises(CellMismatchError, match="reaches 1.50 x the cathode's theoretical capacity"):
        check_data_matches_cell(data(normalization=NORMALIZED_TO_THEORETICAL, normalized=1.5, v_min=None), NMC,
                                Protocol())


def test_matching_data_pass():
    check_data_matches_cell(data(capacity_mAh=95.0), NMC, Protocol())
    check_data_matches_cell(data(v_min=None), NMC, Protocol())  # a summary without voltages: capacity only
