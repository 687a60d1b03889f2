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
    assert str(err.value) == ("cell.csv: 1 problem: the data charge only to 3.60 V but the NMC811 window 2.8-4.2 V charges to 4.2 V: "
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


def test_parameters_near_best_fits_disagree_on_are_named_as_unidentified():
    import optuna

    from twin.calibration.quality import fit_quality
    from twin.calibration.search_space import DesignChoice, ParameterSpec, SearchSpace

    space = SearchSpace((ParameterSpec("k", 1e-4, 1.0, log=True), ParameterSpec("b", 0.0, 1.0)),
                        (DesignChoice("np_ratio", (0.0, 1.0, 2.0)),))
    dist = {"k": optuna.distributions.FloatDistribution(1e-4, 1.0, log=True),
            "b": optuna.distributions.FloatDistribution(0.0, 1.0),
            "np_ratio": optuna.distributions.CategoricalDistribution((0.0, 1.0, 2.0))}
    # k spans four decades at the same loss (flat); b is pinned near 0.5 (the worse fits move it)
    rows = [(1e-4, 0.50, 0.0, 0.010), (1e-2, 0.51, 2.0, 0.010), (1.0, 0.49, 1.0, 0.011), (1e-3, 0.9, 0.0, 0.2)]
    trials = [optuna.trial.create_trial(params={"k": k, "b": b, "np_ratio": n}, distributions=dist, value=v)
              for k, b, n, v in rows]
    block = fit_quality(trials, trials[0], space, fit_points=10, prior=None, penalty=10.0)
    assert block["unidentified_parameters"] == ["k", "np_ratio"]
    assert block["poor_fit"] is False
    bad = fit_quality(trials, trials[3], space, fit_points=10, prior=None, penalty=10.0)
    assert bad["poor_fit"] is True
