"""The lean stepper (twin.stepper) against PyBaMM's experiment solve: the same cycle from
the same state gives the same numbers, and a cycle it does not support falls back."""

import numpy as np
import pytest

from twin.design import CellDesign
from twin.fast import ACTIVE, CATHODE, RepresentativeCycler
from twin.protocol import Protocol
from twin.stepper import LeanUnsupported, lean_cycle


def _pybamm_cycle(cycler: RepresentativeCycler, state: np.ndarray):
    """The cycle through Simulation.solve (the lean path switched off)."""
    lean, cycler._lean_cycle = cycler._lean_cycle, lambda *args: None
    try:
        return cycler.cycle(state)
    finally:
        cycler._lean_cycle = lean


def test_lean_cycles_equal_pybamm_experiment_cycles():
    cycler = RepresentativeCycler(CellDesign(np_ratio=1.0), Protocol())
    reference = _pybamm_cycle(cycler, cycler.initial_state)  # sets up PyBaMM's step solvers
    state = cycler.initial_state
    for _ in range(3):
        expected = _pybamm_cycle(cycler, state)
        lean = cycler._lean_cycle(cycler._simulation(1, 1), state, False)
        assert lean is not None  # the ordinary cycle is driven by the lean stepper
        np.testing.assert_allclose(lean.end_state, expected.end_state, rtol=1e-12, atol=0)
        assert lean.duration_s == pytest.approx(expected.duration_s, rel=1e-12)
        for column, value in expected.row.items():
            assert lean.row[column] == pytest.approx(value, rel=1e-12, nan_ok=True), column
        state = lean.end_state
    assert reference.row["discharge_capacity_mAh_cm2"] > 0


def test_unset_simulation_and_dead_cell_fall_back_to_pybamm():
    cycler = RepresentativeCycler(CellDesign(np_ratio=1.0), Protocol())
    sim = cycler._simulation(1, 1)
    with pytest.raises(LeanUnsupported, match="not built"):  # before PyBaMM built the step solvers
        lean_cycle(sim, cycler.state_inputs(cycler.initial_state))
    cycler.cycle(cycler.initial_state)
    # no active Li and an empty cathode: the charge's cut-off is crossed at its start,
    # which PyBaMM handles by skipping the step; the lean stepper hands such a cycle back
    dead = cycler.initial_state.copy()
    dead[ACTIVE] = 0.0
    dead[CATHODE] = 1e-9 * cycler.cathode_full_mol_m2
    with pytest.raises(LeanUnsupported):
        lean_cycle(sim, cycler.state_inputs(dead))
    fallback, expected = cycler.cycle(dead), _pybamm_cycle(cycler, dead)
    assert fallback.row["charge_capacity_mAh_cm2"] == 0.0  # the charge was skipped, as in PyBaMM
    np.testing.assert_array_equal(fallback.end_state, expected.end_state)
