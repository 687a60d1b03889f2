"""Chazalviel's limiting current and Sand's time against hand-computed numbers
(Chazalviel, Phys. Rev. A 42, 7355, 1990)."""

import math

import pytest

from twin.cell_parameters import parameter_values
from twin.dendrite import (
    DendriteRisk,
    anion_transference_number,
    assess_dendrite_risk,
    dendrite_risk,
    limiting_current_density_A_m2,
    sands_time_s,
)
from twin.design import CellDesign
from twin.protocol import Protocol

F = 96485.33212  # C/mol


def test_limiting_current_density_by_hand():
    # 2 F C0 D / (t_a L) = 2 x 96485.33 C/mol x 1000 mol/m3 x 1e-10 m2/s / (0.5 x 1e-5 m)
    #                    = 0.04 x 96485.33 = 3859.41 A/m2 (386 mA/cm2)
    j_star = limiting_current_density_A_m2(1000.0, 1e-10, 0.5, 10e-6)
    assert j_star == pytest.approx(3859.4133, rel=1e-7)


def test_sands_time_by_hand():
    # pi D (z C0 F)^2 / (4 (J t_a)^2) = pi x 1e-10 x (9.648533e7 C/m3)^2 / (4 x (10 x 0.5)^2)
    #   = pi x 1e-10 x 9.309420e15 / 100 = pi x 9309.420 = 29246.4 s
    assert sands_time_s(1000.0, 1e-10, 0.5, 10.0) == pytest.approx(29246.4, rel=1e-5)


def test_divalent_cation_quadruples_sands_time_and_doubles_the_limit():
    assert sands_time_s(1000.0, 1e-10, 0.5, 10.0, charge_number=2) == pytest.approx(
        4 * sands_time_s(1000.0, 1e-10, 0.5, 10.0))
    assert limiting_current_density_A_m2(1000.0, 1e-10, 0.5, 10e-6, charge_number=2) == pytest.approx(
        2 * limiting_current_density_A_m2(1000.0, 1e-10, 0.5, 10e-6))


def test_sands_time_falls_with_the_square_of_the_current():
    t1 = sands_time_s(1000.0, 3e-10, 0.7, 5.0)
    assert sands_time_s(1000.0, 3e-10, 0.7, 10.0) == pytest.approx(t1 / 4)
    assert sands_time_s(1000.0, 3e-10, 0.7, 0.0) == math.inf


def test_limiting_current_falls_with_distance_and_rises_with_concentration():
    base = limiting_current_density_A_m2(1000.0, 3e-10, 0.7, 20e-6)
    assert limiting_current_density_A_m2(1000.0, 3e-10, 0.7, 40e-6) == pytest.approx(base / 2)
    assert limiting_current_density_A_m2(2000.0, 3e-10, 0.7, 20e-6) == pytest.approx(base * 2)


def test_anion_transference_number_is_one_minus_cation():
    assert anion_transference_number(0.2594) == pytest.approx(0.7406)
    with pytest.raises(ValueError, match="cation transference number must lie in"):
        anion_transference_number(1.2)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_non_physical_inputs_are_rejected(bad):
    with pytest.raises(ValueError, match="concentration_mol_m3 must be a positive finite number"):
        limiting_current_density_A_m2(bad, 1e-10, 0.5, 1e-5)


def test_flag_above_the_limiting_current():
    # J* = 3859 A/m2 here; 5000 A/m2 is above it
    risk = dendrite_risk(1000.0, 1e-10, 0.5, 10e-6, charge_current_density_A_m2=5000.0, charge_time_s=1.0)
    assert risk.flag and risk.reason == "charge current density above the limiting current density"
    assert risk.limiting_current_density_mA_cm2 == pytest.approx(385.94133, rel=1e-6)
    assert risk.charge_current_density_mA_cm2 == pytest.approx(500.0)


def test_no_flag_below_the_limiting_current_even_past_sands_time():
    # t+ = 0.5 -> t_a = 0.5; at 10 A/m2 Sand's time is 29246 s, J* = 3859 A/m2: below J*
    # a finite cell reaches a steady profile, so a charge outlasting Sand's time is no risk
    long_charge = dendrite_risk(1000.0, 1e-10, 0.5, 10e-6, 10.0, charge_time_s=30_000.0)
    assert long_charge.sand_time_s < long_charge.charge_time_s
    assert not long_charge.flag and long_charge.reason == ""


def test_an_ordinary_2_mA_cm2_charge_is_not_flagged():
    design, protocol = CellDesign(areal_capacity_mAh_cm2=4.0), Protocol(charge_rate_C=0.5)
    risk = assess_dendrite_risk(design, protocol, parameter_values(design, protocol))
    assert risk.charge_current_density_mA_cm2 == pytest.approx(2.0)
    assert not risk.flag


def test_json_form_has_no_infinity():
    risk = DendriteRisk(384.0, math.inf, 0.0, math.inf, False, "")
    assert risk.to_dict()["sand_time_s"] is None


def test_design_assessment_reads_the_nmc811_electrolyte():
    """LiPF6 EC:EMC of Chen2020: C0 = 1000 mol/m3, Nyman2008 D(1 M) = 1.7694e-10 m2/s,
    t+ = 0.2594; separator 12 um. By hand: J* = 2 F 1000 1.7694e-10 / (0.7406 x 12e-6)
    = 3842 A/m2; at 0.3C of 4 mAh/cm2 (12 A/m2) Sand's time is
    pi 1.7694e-10 (9.6485e7)^2 / (4 (12 x 0.7406)^2) = 16380 s, longer than the 12000 s
    charge; at 1C (40 A/m2) it is 1474 s, shorter than the 3600 s charge, but 4 mA/cm2
    is far below J*, so neither is flagged (Sand's time applies only above J*)."""
    design = CellDesign()
    slow, fast = Protocol(charge_rate_C=0.3), Protocol(charge_rate_C=1.0)
    slow_risk = assess_dendrite_risk(design, slow, parameter_values(design, slow))
    fast_risk = assess_dendrite_risk(design, fast, parameter_values(design, fast))
    assert slow_risk.limiting_current_density_mA_cm2 == pytest.approx(384.2, rel=1e-3)
    assert slow_risk.sand_time_s == pytest.approx(16380, rel=1e-3)
    assert slow_risk.charge_current_density_mA_cm2 == pytest.approx(1.2)
    assert not slow_risk.flag
    assert fast_risk.sand_time_s == pytest.approx(1474, rel=1e-3)
    assert not fast_risk.flag


def test_thicker_separator_lowers_the_limiting_current():
    thin, thick = CellDesign(separator_thickness_um=12.0), CellDesign(separator_thickness_um=24.0)
    protocol = Protocol()
    j_thin = assess_dendrite_risk(thin, protocol, parameter_values(thin, protocol)).limiting_current_density_mA_cm2
    j_thick = assess_dendrite_risk(thick, protocol, parameter_values(thick, protocol)).limiting_current_density_mA_cm2
    assert j_thick == pytest.approx(j_thin / 2)
