"""The per-cycle row: one builder for full and fast runs, on scalars and arrays."""

import math

import numpy as np

from twin.cycle_rows import SUMMARY_COLUMNS, cycle_rows
from twin.units import mol_per_m2_from_mAh_per_cm2

Q = mol_per_m2_from_mAh_per_cm2(4.0)  # mol/m2 of a 4 mAh/cm2 cathode


def rows(plated, stripped, lost, **over):
    values = dict(areal_capacity_mAh_cm2=4.0, plated_mol_m2=plated, stripped_mol_m2=stripped, lost_mol_m2=lost,
                  active_li_mol_m2=Q, dead_li_mol_m2=0.01 * Q, sei_li_mol_m2=0.005 * Q, cathode_li_mol_m2=Q,
                  total_li_mol_m2=2.015 * Q, anode_thickness_m=20e-6, swelling_pct=1.5, electrolyte_kg_m2=0.12,
                  wetting_fraction=1.0, surface_area_factor=1.2)
    values.update(over)
    return cycle_rows(**values)


def test_capacities_and_efficiencies_of_one_cycle():
    row = rows(Q, 0.99 * Q, 0.01 * Q)
    assert math.isclose(row["charge_capacity_mAh_cm2"], 4.0)
    assert math.isclose(row["discharge_capacity_mAh_cm2"], 3.96)
    assert math.isclose(row["coulombic_efficiency"], 0.99)
    assert math.isclose(row["li_coulombic_efficiency"], 0.99)
    assert math.isclose(row["anode_thickness_um"], 20.0)
    # 0.12 kg/m2 over 40 Ah/m2 (4 mAh/cm2) = 3 g/Ah
    assert math.isclose(row["electrolyte_g_per_Ah"], 3.0)
    assert set(row) == set(SUMMARY_COLUMNS) - {"cycle", "simulated", "checkup"}
    assert all(isinstance(v, float) for v in row.values())


def test_a_cycle_that_plated_nothing_has_no_efficiency():
    row = rows(0.0, 0.0, 0.0)
    assert math.isnan(row["coulombic_efficiency"]) and math.isnan(row["li_coulombic_efficiency"])


def test_arrays_give_one_entry_per_cycle_like_scalars():
    plated = np.array([Q, Q, 0.0])
    table = rows(plated, 0.98 * plated, 0.02 * plated)
    for k in range(2):
        one = rows(float(plated[k]), 0.98 * float(plated[k]), 0.02 * float(plated[k]))
        assert math.isclose(table["coulombic_efficiency"][k], one["coulombic_efficiency"])
    assert np.isnan(table["coulombic_efficiency"][2])
