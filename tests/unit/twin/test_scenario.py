"""A scenario is the one place where design, protocol, strategies and overrides become
parameter values and a dendrite threshold."""

import pytest

from twin.design import CellDesign
from twin.parameters.li_metal import LithiumMetalParameters as P
from twin.protocol import Protocol
from twin.scenario import Scenario
from twin.strategies import strategy_from_dict

# A separator without a CE anchor: no Li||Cu solve is needed to prepare it.
SEPARATOR = strategy_from_dict({"name": "test-separator", "family": "separator", "source": "test",
                                "dendrite_threshold_factor": 3.0, "multipliers": {"dead_li_fraction": 0.5}})


def test_the_protocol_temperature_replaces_the_design_temperature():
    scenario = Scenario.build(CellDesign(temperature_degC=25.0), Protocol(temperature_degC=45.0))
    assert scenario.design.temperature_degC == 45.0
    assert Scenario.build(CellDesign()).protocol == Protocol()


def test_explicit_overrides_win_over_the_strategy():
    plain = Scenario.build(CellDesign(), Protocol())
    protected = Scenario.build(CellDesign(), Protocol(), [SEPARATOR])
    base = plain.parameter_values()[P.dead_li_fraction]
    assert protected.parameter_values()[P.dead_li_fraction] == pytest.approx(0.5 * base)
    both = Scenario.build(CellDesign(), Protocol(), [SEPARATOR], overrides={P.dead_li_fraction: 0.2})
    assert both.parameter_values()[P.dead_li_fraction] == 0.2


def test_the_strategy_dendrite_threshold_scales_the_risk():
    protocol = Protocol(charge_rate_C=2.0)
    plain = Scenario.build(CellDesign(), protocol).dendrite_risk()
    protected = Scenario.build(CellDesign(), protocol, [SEPARATOR]).dendrite_risk()
    assert protected.limiting_current_density_mA_cm2 == pytest.approx(3.0 * plain.limiting_current_density_mA_cm2)
    assert protected.sand_time_s == pytest.approx(9.0 * plain.sand_time_s)
    assert protected.charge_current_density_mA_cm2 == plain.charge_current_density_mA_cm2 == pytest.approx(8.0)


def test_an_electrolyte_input_without_a_value_gives_no_risk():
    scenario = Scenario.build(CellDesign(), Protocol(),
                              overrides={"Initial concentration in electrolyte [mol.m-3]": "[input]"})
    assert scenario.dendrite_risk() is None
