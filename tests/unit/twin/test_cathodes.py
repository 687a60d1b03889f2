"""The cathodes (NMC811, NMC622, NMC532, LFP), their cut-off windows and the cathode
fade's parameters, without solving (tests/integration/test_cathode_fade.py solves)."""

from __future__ import annotations

import math

import pybamm
import pytest

from twin.cell_parameters import PARAMETER_SETS, cathode_thickness_m, parameter_values, stoichiometry_window
from twin.design import CATHODES, CellDesign
from twin.errors import ProtocolError
from twin.field_specs import field_specs
from twin.parameters.cathode_fade import CathodeFadeParameters
from twin.protocol import DEFAULT_VOLTAGE_WINDOW_V, UPPER_CUTOFF_RANGE_V, Protocol

NEW = ("NMC622", "NMC532")


def test_every_cathode_has_a_parameter_set_a_window_and_an_upper_cutoff_range():
    assert set(NEW) <= set(CATHODES)
    assert set(CATHODES) == set(PARAMETER_SETS) == set(DEFAULT_VOLTAGE_WINDOW_V) == set(UPPER_CUTOFF_RANGE_V)
    # the design's --cathode choices are generated from the same table
    assert field_specs(CellDesign)["cathode"].choices == tuple(CATHODES)
    for cathode, (lo, hi) in UPPER_CUTOFF_RANGE_V.items():
        assert lo <= DEFAULT_VOLTAGE_WINDOW_V[cathode][1] <= hi


@pytest.mark.parametrize("cathode", NEW)
def test_new_cathodes_give_complete_parameter_values(cathode):
    values = parameter_values(CellDesign(cathode=cathode), Protocol())
    for name in CathodeFadeParameters.names().values():
        assert math.isfinite(values[name])
    assert values[CathodeFadeParameters.rate_at_onset] > 0
    assert 0 < values["Positive electrode thickness [m]"] < 250e-6


@pytest.mark.parametrize(("cathode", "v_max", "message"), [
    ("NMC811", 4.6, "invalid protocol: v_max: 4.6 V is outside the NMC811 upper cut-off range 3.9 to 4.5 V"),
    ("NMC532", 4.4, "invalid protocol: v_max: 4.4 V is outside the NMC532 upper cut-off range 3.9 to 4.3 V"),
    ("LFP", 4.2, "invalid protocol: v_max: 4.2 V is outside the LFP upper cut-off range 3.45 to 3.9 V"),
])
def test_an_upper_cutoff_outside_the_cathodes_range_is_named(cathode, v_max, message):
    with pytest.raises(ProtocolError) as err:
        Protocol(v_max=v_max).voltage_window(cathode)
    assert str(err.value) == message


def test_a_nan_upper_cutoff_is_rejected():
    with pytest.raises(ProtocolError, match=r"^invalid protocol: v_max: must lie between 1.0 and 5.0 V, got nan$"):
        Protocol(v_max=math.nan)


def test_a_higher_cutoff_reaches_more_of_the_same_cathode():
    design = CellDesign(cathode="NMC811")
    # the areal capacity is the rated one: the cathode does not change with the protocol
    assert cathode_thickness_m(design, Protocol(v_max=4.4)) == cathode_thickness_m(design, Protocol())
    x_42, bottom = stoichiometry_window("NMC811", 2.8, 4.2)
    x_44, _ = stoichiometry_window("NMC811", 2.8, 4.4)
    assert x_44 < x_42  # more Li taken out at 4.4 V
    assert (bottom - x_44) / (bottom - x_42) == pytest.approx(1.12, abs=0.05)


def test_nmc622_gives_up_less_lithium_than_nmc811_at_one_potential():
    # Noh et al. 2013: 187 vs 203 mAh/g from 4.3 V; the composed OCP reproduces the ratio
    top_811, _ = stoichiometry_window("NMC811", 3.0, 4.3)
    top_622, _ = stoichiometry_window("NMC622", 3.0, 4.3)
    ocp_811 = PARAMETER_SETS["NMC811"]()["Positive electrode OCP [V]"]
    full_811 = 1 - top_811
    full_622 = 1 - top_622
    assert full_622 / full_811 == pytest.approx((187 / 276.5) / (203 / 275.5), rel=0.02)
    # same curve at full lithiation (the stretch leaves x = 1 in place)
    ocp_622 = PARAMETER_SETS["NMC622"]()["Positive electrode OCP [V]"]
    one = pybamm.Scalar(1.0)
    assert ocp_622(one).evaluate() == pytest.approx(ocp_811(one).evaluate())


def test_lower_nickel_cathodes_start_fading_at_higher_potentials():
    onset = {c: PARAMETER_SETS[c]()[CathodeFadeParameters.onset_potential] for c in ("NMC811", "NMC622", "NMC532")}
    assert onset["NMC811"] < onset["NMC622"] < onset["NMC532"]
    assert PARAMETER_SETS["LFP"]()[CathodeFadeParameters.rate_at_onset] == 0.0


def test_fade_parameter_names_and_symbols():
    assert CathodeFadeParameters.potential_scale == "Positive electrode LAM potential scale [V]"
    assert isinstance(CathodeFadeParameters().potential_scale, pybamm.Parameter)
    with pytest.raises(AttributeError, match="no cathode fade parameter 'rate'"):
        _ = CathodeFadeParameters().rate
