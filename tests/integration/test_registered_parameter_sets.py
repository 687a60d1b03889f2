"""The registered PyBaMM parameter sets are complete for the twin's own model."""

from __future__ import annotations

import pybamm
import pytest

from twin.design import CellDesign
from twin.model import build_model

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("name", "cathode"), [("LithiumMetal_NMC811_Twin2026", "NMC811"),
                                                ("LithiumMetal_LFP_Twin2026", "LFP")])
def test_registered_set_solves_the_twin_model(name: str, cathode: str) -> None:
    values = pybamm.ParameterValues(name)
    # the design-dependent values a bare set used to miss (KeyError before)
    assert values["Initial plated lithium deposit [mol.m-2]"] == 0.0
    assert values["Wetted pore volume excluding anode [m3.m-2]"] > 0
    window = {"NMC811": (3.0, 4.2), "LFP": (2.5, 3.65)}[cathode]
    experiment = pybamm.Experiment([(f"Discharge at C/2 until {window[0]} V",
                                     f"Charge at C/2 until {window[1]} V")])
    solution = pybamm.Simulation(build_model("spm"), parameter_values=values,
                                 experiment=experiment).solve()
    discharged_Ah = solution.cycles[0].steps[0]["Discharge capacity [A.h]"].entries[-1]
    # the default design's cell: 4 mAh/cm2 x 25 cm2 x 10 layers = 1 Ah; starting
    # discharged at the bottom of the window, the first discharge gives little
    assert 0 <= discharged_Ah < 0.1 * CellDesign(cathode=cathode).nominal_capacity_Ah
    charged_Ah = -solution.cycles[0].steps[1]["Discharge capacity [A.h]"].entries[-1] + discharged_Ah
    # a C/2 CC charge (no CV) fills most of the cathode, never more than its capacity
    nominal_Ah = CellDesign(cathode=cathode).nominal_capacity_Ah
    assert 0.8 * nominal_Ah < charged_Ah <= 1.01 * nominal_Ah
