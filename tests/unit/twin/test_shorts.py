"""The short criterion (twin.dendrite) and the "short" end of life (twin.end_of_life)."""

import math

import pandas as pd
import pytest

from twin.dendrite import separator_short_threshold, short_dead_li_mAh_cm2, short_layer_thickness_m
from twin.end_of_life import END_OF_LIFE_REASONS, LifeOutcome, judge_end_of_life


def test_thinner_or_uncoated_separator_shorts_at_a_thinner_layer():
    coated = short_layer_thickness_m(25e-6, 0.39, 10.0, 1000.0, coating_factor=2.0)
    uncoated = short_layer_thickness_m(25e-6, 0.39, 10.0, 1000.0)
    thinner = short_layer_thickness_m(12e-6, 0.39, 10.0, 1000.0)
    more_porous = short_layer_thickness_m(25e-6, 0.6, 10.0, 1000.0)
    assert thinner < uncoated < coated
    assert more_porous < uncoated
    assert coated == pytest.approx(2 * uncoated)


def test_the_layer_that_shorts_shrinks_towards_the_limiting_current_and_vanishes_above_it():
    layers = [short_layer_thickness_m(25e-6, 0.39, j, 100.0) for j in (1.0, 50.0, 99.0, 100.0, 150.0)]
    assert layers[0] > layers[1] > layers[2] > 0
    assert layers[3] == 0 and layers[4] == 0


def test_dead_li_of_a_layer_is_its_dense_share():
    # 1 mAh/cm2 of dense Li is 4.85 um; a 50 % porous layer of 9.7 um holds it
    assert short_dead_li_mAh_cm2(2 * 4.85e-6, 0.5, 1.2996e-5) == pytest.approx(1.0, rel=2e-3)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="separator_porosity"):
        short_layer_thickness_m(25e-6, 1.0, 10.0, 100.0)
    with pytest.raises(ValueError, match="coating_factor"):
        short_layer_thickness_m(25e-6, 0.4, 10.0, 100.0, coating_factor=math.nan)


def _cycles(dead_li: list[float], capacity: list[float]) -> pd.DataFrame:
    n = len(dead_li)
    return pd.DataFrame({"cycle": range(1, n + 1), "discharge_capacity_mAh_cm2": capacity, "dead_li_mAh_cm2": dead_li,
                         "active_li_mAh_cm2": [5.0] * n, "wetting_fraction": [1.0] * n})


def test_a_short_before_the_capacity_end_of_life_ends_life_with_reason_short():
    cycles = _cycles([0.1, 0.2, 0.3, 0.4, 0.5], [4.0, 4.0, 3.9, 3.1, 3.0])
    verdict = judge_end_of_life(LifeOutcome(cycles, below_cycle=4), 4.0, short_dead_li_mAh_cm2=0.25)
    assert "short" in END_OF_LIFE_REASONS
    assert (verdict.cycle_life, verdict.reason) == (3, "short")
    assert list(verdict.cycles["cycle"]) == [1, 2, 3]
    assert any(note.startswith("short:") for note in verdict.notes)


def test_a_short_after_the_capacity_end_of_life_changes_nothing():
    cycles = _cycles([0.1, 0.2, 0.3, 0.4, 0.5], [4.0, 4.0, 3.1, 3.0, 3.0])
    verdict = judge_end_of_life(LifeOutcome(cycles, below_cycle=3), 4.0, short_dead_li_mAh_cm2=0.45)
    assert (verdict.cycle_life, verdict.reason) == (3, "capacity_fade")


# --- one short rule for full cells and Li||Li cells -----------------------------------


def test_a_coating_raises_the_limiting_current_and_scales_the_layer_in_one_rule():
    bare = separator_short_threshold(25e-6, 0.39, 15.0, 10.0)  # 1.5 mA/cm2 above J* = 1 mA/cm2
    coated = separator_short_threshold(25e-6, 0.39, 15.0, 10.0, coating_factor=2.0)
    assert bare.hard and bare.layer_thickness_m == 0  # dendrites from Sand's time on
    assert not coated.hard and coated.limiting_current_density_A_m2 == pytest.approx(20.0)
    # below the coated J* the layer is the thickness rule at f J*, times f
    assert coated.layer_thickness_m == pytest.approx(short_layer_thickness_m(25e-6, 0.39, 15.0, 20.0, 2.0))
    assert coated.layer_thickness_m > 0


def test_the_full_cell_short_uses_the_same_rule_as_the_li_li_cell():
    from twin.cell_parameters import parameter_values
    from twin.design import CellDesign
    from twin.dendrite import assess_dendrite_risk, short_dead_li_limit_mAh_cm2
    from twin.parameters.li_metal import LithiumMetalParameters as P
    from twin.protocol import Protocol

    design, protocol = CellDesign(areal_capacity_mAh_cm2=4.0, separator_thickness_um=100.0), Protocol(charge_rate_C=0.5)
    values = parameter_values(design, protocol, {"Initial concentration in electrolyte [mol.m-3]": 15.0})
    bare = assess_dendrite_risk(design, protocol, values)
    coated = bare.with_threshold_factor(3.0)
    assert bare.flag and not coated.flag
    # the coated risk carries its factor, so it is applied once in J* and once in the layer
    assert coated.electrolyte_limiting_current_density_mA_cm2 == pytest.approx(bare.limiting_current_density_mA_cm2)
    rule = separator_short_threshold(100e-6, design.separator_porosity, 20.0,
                                     bare.limiting_current_density_mA_cm2 * 10.0, 3.0)
    expected = short_dead_li_mAh_cm2(rule.layer_thickness_m, values[P.dead_li_layer_porosity],
                                     values[P.li_partial_molar_volume])
    assert short_dead_li_limit_mAh_cm2(design, coated, values) == pytest.approx(expected)
    assert short_dead_li_limit_mAh_cm2(design, bare, values) == 0  # above the bare J*: a hard short
