"""Unit conversions used across the twin (areal capacities and lithium amounts)."""

FARADAY_C_PER_MOL = 96485.33212
# 1 mAh/cm2 = 3.6 C per 1e-4 m2 = 36,000 C/m2
C_PER_M2_PER_MAH_PER_CM2 = 36_000.0
# 1 mA/cm2 = 10 A/m2; so a C-rate [1/h] times an areal capacity [mAh/cm2] is a current
# density [mA/cm2], times this factor [A/m2], and 1 mAh/cm2 = 10 Ah/m2.
A_M2_PER_MA_CM2 = 10.0
AH_M2_PER_MAH_CM2 = 10.0
MA_CM2_PER_A_M2 = 1.0 / A_M2_PER_MA_CM2
# 1 mol/m2 of Li carries this many mAh/cm2.
MAH_CM2_PER_MOL_M2 = FARADAY_C_PER_MOL / C_PER_M2_PER_MAH_PER_CM2
SECONDS_PER_HOUR = 3600.0
M2_PER_CM2 = 1e-4
LI_MOLAR_MASS_KG_PER_MOL = 6.94e-3
LI_DENSITY_KG_PER_M3 = 534.0
# 1.2996e-5 m3/mol: with it 1 mAh/cm2 of dense Li is 4.85 um (physics notes)
LI_MOLAR_VOLUME_M3_PER_MOL = LI_MOLAR_MASS_KG_PER_MOL / LI_DENSITY_KG_PER_M3


def mol_per_m2_from_mAh_per_cm2(capacity_mAh_cm2: float) -> float:
    """Lithium amount [mol/m2] that carries an areal capacity [mAh/cm2]."""
    return capacity_mAh_cm2 * C_PER_M2_PER_MAH_PER_CM2 / FARADAY_C_PER_MOL


def mAh_per_cm2_from_mol_per_m2(amount_mol_m2: float) -> float:
    """Areal capacity [mAh/cm2] carried by a lithium amount [mol/m2]."""
    return amount_mol_m2 * FARADAY_C_PER_MOL / C_PER_M2_PER_MAH_PER_CM2


def dense_li_thickness_m(capacity_mAh_cm2: float) -> float:
    """Thickness [m] of dense Li metal holding an areal capacity [mAh/cm2]."""
    return mol_per_m2_from_mAh_per_cm2(capacity_mAh_cm2) * LI_MOLAR_VOLUME_M3_PER_MOL
