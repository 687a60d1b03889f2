"""Which parameters become PyBaMM inputs when designs share one simulation
(twin.cycling.shared_setup); no solving here."""

from __future__ import annotations

import pybamm

from twin.cell_parameters import parameter_values
from twin.cycling import EXPERIMENT_CONTROLLED, split_inputs
from twin.scenario import varying_parameters
from twin.design import CellDesign
from twin.protocol import Protocol


def test_the_parameters_that_differ_between_designs_vary_and_no_others():
    thin = parameter_values(CellDesign(areal_capacity_mAh_cm2=2.0), Protocol())
    thick = parameter_values(CellDesign(areal_capacity_mAh_cm2=4.0), Protocol())
    varying = varying_parameters([thin, thick], also=["Dead lithium revival rate [s-1]"])
    assert "Positive electrode thickness [m]" in varying
    assert "Separator thickness [m]" not in varying  # the same in both designs
    assert "Positive electrode OCP [V]" not in varying  # a law, never an input
    assert "Dead lithium revival rate [s-1]" in varying
    assert varying_parameters([thin, thin]) == frozenset()


def test_named_numbers_become_inputs_but_experiment_controls_stay_values():
    values = parameter_values(CellDesign(temperature_degC=40.0), Protocol())
    names = {"Positive electrode thickness [m]", "Ambient temperature [K]", "Positive electrode OCP [V]"}
    template, inputs = split_inputs(values, names)
    assert inputs == {"Positive electrode thickness [m]": values["Positive electrode thickness [m]"]}
    assert isinstance(template["Positive electrode thickness [m]"], pybamm.InputParameter)
    assert "Ambient temperature [K]" in EXPERIMENT_CONTROLLED
    assert template["Ambient temperature [K]"] == values["Ambient temperature [K]"] == 313.15
    assert not isinstance(values["Positive electrode thickness [m]"], pybamm.InputParameter)  # a copy was changed


def test_what_differs_between_cathodes_only_is_no_input():
    from twin.scenario import shared_input_parameters

    nmc, lfp = CellDesign(cathode="NMC811"), CellDesign(cathode="LFP")
    assert shared_input_parameters([(nmc, Protocol()), (lfp, Protocol())]) == frozenset()
    names = shared_input_parameters([(nmc, Protocol()), (lfp, Protocol()),
                                     (CellDesign(cathode="LFP", np_ratio=1.0), Protocol())])
    assert names == {"Initial active lithium metal [mol.m-2]", "Negative electrode thickness [m]"}
