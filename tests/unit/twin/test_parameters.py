"""Parameter sets: registered with PyBaMM, cited, and turned into the requested design."""

import pybamm
import pytest

from twin.cell_parameters import parameter_values
from twin.design import CellDesign
from twin.errors import DesignError
from twin.protocol import Protocol
from twin.units import mol_per_m2_from_mAh_per_cm2


@pytest.mark.parametrize("name", ["LithiumMetal_NMC811_Twin2026", "LithiumMetal_LFP_Twin2026"])
def test_sets_are_registered_through_the_entry_point(name):
    values = pybamm.ParameterValues(name)
    assert values["Lithium metal partial molar volume [m3.mol-1]"] == pytest.approx(1.2996e-5, rel=1e-3)
    assert "Xu2019" in pybamm.parameter_sets[name]["citations"]


def test_design_sets_inventory_electrolyte_and_plating_current():
    design = CellDesign(np_ratio=2, areal_capacity_mAh_cm2=4, electrolyte_g_per_Ah=3)
    values = parameter_values(design, Protocol(charge_rate_C=0.5))
    q = mol_per_m2_from_mAh_per_cm2(4)
    assert values["Initial active lithium metal [mol.m-2]"] == pytest.approx(2 * q)
    # 3 g/Ah x 40 Ah/m2 = 120 g/m2
    assert values["Initial electrolyte mass [kg.m-2]"] == pytest.approx(0.12)
    # 0.5 C of 4 mAh/cm2 = 2 mA/cm2 = 20 A/m2
    assert values["Plating current density [A.m-2]"] == pytest.approx(20.0)


def test_thicker_cathode_for_more_capacity_and_a_limit():
    thin = parameter_values(CellDesign(areal_capacity_mAh_cm2=2), Protocol())
    thick = parameter_values(CellDesign(areal_capacity_mAh_cm2=4), Protocol())
    assert thick["Positive electrode thickness [m]"] == pytest.approx(
        2 * thin["Positive electrode thickness [m]"])
    with pytest.raises(DesignError, match="areal_capacity_mAh_cm2: 8 mAh/cm2 needs a 356 um LFP cathode, thicker than the 250 um"):
        parameter_values(CellDesign(cathode="LFP", areal_capacity_mAh_cm2=8), Protocol())


def test_unknown_override_is_named():
    with pytest.raises(DesignError, match="unknown parameter 'Dead Li fraction'"):
        parameter_values(CellDesign(), Protocol(), {"Dead Li fraction": 0.1})
