"""One fast-mode cycle solve: the end-of-cycle values read by twin.fast.end_of_solution
are PyBaMM's own, and a re-solve of the set-up simulation starts from its new inputs."""

import warnings

import numpy as np
import pytest

from twin.design import CellDesign
from twin.fast import END_OF_CYCLE_VARIABLES, STATE_NAMES, RepresentativeCycler, end_of_solution
from twin.protocol import Protocol

DESIGN = CellDesign(np_ratio=2.0, electrolyte_g_per_Ah=3.0)


@pytest.fixture(scope="module")
def cycler():
    return RepresentativeCycler(DESIGN, Protocol())


def test_end_of_cycle_values_are_those_of_pybamms_processed_variables(cycler):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        solution = cycler._simulation(1, 1).solve(save_at_cycles=10**9, calc_esoh=False,
                                                  inputs=cycler.state_inputs(cycler.initial_state))
    read = end_of_solution(solution, END_OF_CYCLE_VARIABLES)
    last = solution.last_state
    for name in END_OF_CYCLE_VARIABLES:
        assert read[name] == pytest.approx(float(last[name].entries.ravel()[-1]), rel=1e-12, abs=1e-300), name


def test_a_resolve_starts_from_its_own_inputs_as_a_fresh_simulation_does(cycler):
    first = cycler.cycle(cycler.initial_state)
    second = cycler.cycle(first.end_state)  # the same simulation, set up, re-solved
    fresh = RepresentativeCycler(DESIGN, Protocol()).cycle(first.end_state)
    electrolyte = STATE_NAMES.index("Electrolyte mass [kg.m-2]")
    assert second.end_state[electrolyte] < first.end_state[electrolyte]  # not the first cycle again
    np.testing.assert_allclose(second.end_state, fresh.end_state, rtol=1e-9, atol=1e-12)
