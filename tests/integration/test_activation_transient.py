"""The activation transient (twin.submodels.activation): a fresh electrode's Li||Cu CE
rises over its first cycles, settles sooner at a higher plated capacity (Adams et al.
2018), the CE anchors stay exact as the mean of cycles 4-20, and fast mode carries the
transient's clock."""

import numpy as np
import pytest

from twin.anchoring import ANCHOR_TOLERANCE, coin_cell_overrides, simulated_li_cu_ce
from twin.cycle_skipping import PLATED_SINCE_ASSEMBLY
from twin.design import CellDesign
from twin.fast import RepresentativeCycler
from twin.protocol import Protocol
from twin.strategies import prepare
from twin.test_cells import LiCuTest, mol_m2, run_li_cu

OFF = {"activation transient": "false"}


def _ces(capacity_mAh_cm2: float = 1.0, options=None, cycles: int = 20) -> np.ndarray:
    test = LiCuTest(current_density_mA_cm2=0.5, capacity_mAh_cm2=capacity_mAh_cm2, cycles=cycles)
    result = run_li_cu(test, coin_cell_overrides(None, 0.5), options=options)
    return result.cycles["coulombic_efficiency"].to_numpy()


def _settled_cycle(ces: np.ndarray, tolerance: float = 5e-4) -> int:
    """First cycle (1-based) from which every CE stays within `tolerance` of the last."""
    off = np.abs(ces - ces[-1]) > tolerance
    return int(np.nonzero(off)[0][-1]) + 2 if off.any() else 1


def test_li_cu_ce_rises_over_the_first_cycles_and_settles():
    ces = _ces()
    assert ces[1] < ces[3] < ces[8]  # cycles 2 < 4 < 9
    assert ces[8] - ces[1] > 5e-3  # more than half a point gained after the formation cycle
    assert abs(ces[-1] - ces[-2]) < 1e-4  # settled by cycle 20
    # without the transient the CE is flat from cycle 2 on: the rise is the transient's
    flat = _ces(options=OFF)
    assert np.ptp(flat[1:10]) < 2e-4


def test_a_higher_capacity_per_cycle_settles_in_fewer_cycles():
    # Adams et al. 2018: "higher cycling capacity accelerates stabilization"
    assert _settled_cycle(_ces(3.0)) < _settled_cycle(_ces(0.5))


def test_anchors_stay_exact_as_the_mean_of_cycles_4_to_20():
    combined = prepare(["lipf6-ec-dec-fec"])  # anchored at 95.0 % at 0.5 mA/cm2, 1 mAh/cm2
    reported = combined.strategies[0].anchor.coulombic_efficiency
    assert reported == 0.950
    assert simulated_li_cu_ce(combined, 0.5) == pytest.approx(reported, abs=ANCHOR_TOLERANCE)
    test = LiCuTest(current_density_mA_cm2=0.5, capacity_mAh_cm2=1.0)
    ces = run_li_cu(test, coin_cell_overrides(combined, 0.5)).cycles["coulombic_efficiency"].to_numpy()
    assert ces[3:].mean() == pytest.approx(reported, abs=ANCHOR_TOLERANCE)
    assert ces[-1] > reported  # the settled CE lies above the anchored mean


def test_fast_mode_carries_the_plated_lithium_clock():
    cycler = RepresentativeCycler(CellDesign(np_ratio=1.0), Protocol())
    assert cycler.initial_state[PLATED_SINCE_ASSEMBLY] == 0.0
    first = cycler.cycle(cycler.initial_state)
    second = cycler.cycle(first.end_state)
    plated_mol_m2 = mol_m2(first.row["charge_capacity_mAh_cm2"])
    # the clock counts the Li plated (the charge) and keeps counting from the state given
    assert first.end_state[PLATED_SINCE_ASSEMBLY] == pytest.approx(plated_mol_m2, rel=1e-3)
    assert second.end_state[PLATED_SINCE_ASSEMBLY] > 1.9 * first.end_state[PLATED_SINCE_ASSEMBLY]
