"""Unit conversions shared by the whole twin."""

import math

from twin.units import (
    A_M2_PER_MA_CM2, AH_M2_PER_MAH_CM2, MAH_CM2_PER_MOL_M2, dense_li_thickness_m, mAh_per_cm2_from_mol_per_m2,
    mol_per_m2_from_mAh_per_cm2,
)


def test_areal_conversions():
    # 1 mA/cm2 = 10 A/m2; 1 mAh/cm2 = 10 Ah/m2 = 36,000 C/m2 = 0.373 mol/m2 of Li
    assert A_M2_PER_MA_CM2 == AH_M2_PER_MAH_CM2 == 10.0
    assert math.isclose(mol_per_m2_from_mAh_per_cm2(1.0), 36_000 / 96485.33212)
    assert math.isclose(mAh_per_cm2_from_mol_per_m2(mol_per_m2_from_mAh_per_cm2(4.0)), 4.0)
    assert math.isclose(MAH_CM2_PER_MOL_M2 * mol_per_m2_from_mAh_per_cm2(2.5), 2.5)


def test_dense_li_is_4_85_um_per_mAh_cm2():
    assert math.isclose(dense_li_thickness_m(1.0) * 1e6, 4.85, rel_tol=1e-3)
