"""Salt and solvent consumed apart, salt depletion, and how Li||Li cells end."""

import numpy as np
import pybamm
import pytest

from twin.cell_parameters import parameter_values
from twin.design import CellDesign
from twin.model import build_model
from twin.parameters.li_metal import LithiumMetalParameters as P
from twin.protocol import Protocol
from twin.simulation import predict_cycle_life
from twin.test_cells import SymmetricTest, run_symmetric
from twin.test_cells.runs import SYMMETRIC_END_REASONS


@pytest.fixture(scope="module")
def lean_run():
    design = CellDesign(areal_capacity_mAh_cm2=4.0, np_ratio=1.0, electrolyte_g_per_Ah=2.0)
    return predict_cycle_life(design, Protocol(), max_cycles=12, mode="full", keep_time_series=True)


def test_salt_and_solvent_both_fall_and_li_is_conserved(lean_run):
    ts = lean_run.time_series
    design = CellDesign(areal_capacity_mAh_cm2=4.0, np_ratio=1.0, electrolyte_g_per_Ah=2.0)
    model = build_model()
    values = parameter_values(design, Protocol())
    values["Current function [A]"] = -0.5 * design.nominal_capacity_Ah
    sim = pybamm.Simulation(model, parameter_values=values)
    solution = sim.solve([0, 3600])  # a C/2 charge: plates Li, forms SEI
    salt = solution["Electrolyte salt [mol.m-2]"].entries.ravel()
    solvent = solution["Electrolyte solvent mass [kg.m-2]"].entries.ravel()
    total = solution["Total lithium [mol.m-2]"].entries.ravel()
    assert salt[-1] < salt[0] and solvent[-1] < solvent[0]
    assert np.all(np.diff(salt) <= 1e-15) and np.all(np.diff(solvent) <= 1e-15)
    assert np.max(np.abs(total - total[0])) < 1e-6
    # over cycles, too
    li = lean_run.cycles["total_li_mAh_cm2"].to_numpy()
    assert np.max(np.abs(li - li[0])) < 1e-6
    assert ts is not None


def test_less_salt_more_polarisation():
    """The Li-metal interface's film polarisation (porous layer, salt-depleted separator
    and salt transport) rises monotonically as the salt runs out, and so does the
    charge voltage."""
    design = CellDesign(areal_capacity_mAh_cm2=4.0, np_ratio=1.0)
    values = parameter_values(design, Protocol(), {P.initial_salt: "[input]"})
    values["Current function [A]"] = -0.5 * design.nominal_capacity_Ah  # a C/2 charge (the cell starts discharged)
    fresh = float(parameter_values(design, Protocol()).evaluate(pybamm.Parameter(P.initial_salt)))
    sim = pybamm.Simulation(build_model(), parameter_values=values)
    polarisation, voltage = [], []
    for fraction in (1.0, 0.5, 0.2, 0.05, 0.01):
        solution = sim.solve([0, 60], inputs={P.initial_salt: fraction * fresh})
        polarisation.append(abs(float(solution["Lithium metal porous layer overpotential [V]"].entries.ravel()[-1])))
        voltage.append(float(solution["Voltage [V]"].entries.ravel()[-1]))
    assert all(b > a for a, b in zip(polarisation, polarisation[1:])), polarisation
    assert all(b > a for a, b in zip(voltage, voltage[1:])), voltage  # on charge


def test_li_li_ends_by_overpotential_and_lives_shorter_at_higher_current():
    lives = {}
    for j in (2.0, 4.0):
        # flooded (100 uL/cm2) so that the porous layers, not dry-out, end it
        result = run_symmetric(SymmetricTest(current_density_mA_cm2=j, capacity_mAh_cm2=1.0, foil_thickness_um=250.0,
                                             electrolyte_uL_cm2=100.0, overpotential_limit_V=1.0, max_cycles=2000))
        assert result.end_reason == "porous_layer_transport"
        assert result.end_reason in SYMMETRIC_END_REASONS
        lives[j] = result.lifespan_h
    assert lives[4.0] < lives[2.0]


def test_thin_uncoated_separator_shorts_earlier_than_a_coated_one():
    test = SymmetricTest(current_density_mA_cm2=1.0, capacity_mAh_cm2=1.0, foil_thickness_um=250.0,
                         overpotential_limit_V=1.0, max_cycles=2000)
    thin = {"Separator thickness [m]": 8e-6, P.dead_li_fraction: 0.05}
    uncoated = run_symmetric(test, thin)
    coated = run_symmetric(test, thin, separator_coating_factor=3.0)
    assert uncoated.end_reason == "short"
    assert uncoated.lifespan_h < coated.lifespan_h


def test_a_coated_separator_lifts_the_li_li_hard_short_as_it_lifts_the_full_cells_dendrite_flag():
    # the dilute cell of the full-cell separator test (0.015 M, 100 um: J* ~ 1.9 mA/cm2)
    # cycled at 2 mA/cm2: above the bare J*, below 3x it (the LLZTO coating's factor)
    dilute = {"Initial concentration in electrolyte [mol.m-3]": 15.0, "Separator thickness [m]": 100e-6}
    test = SymmetricTest(current_density_mA_cm2=2.0, capacity_mAh_cm2=1.0, foil_thickness_um=250.0,
                         overpotential_limit_V=5.0, max_cycles=3)
    bare = run_symmetric(test, dilute)
    coated = run_symmetric(test, dilute, separator_coating_factor=3.0)
    assert bare.end_reason == "short" and bare.cycles_completed == 0  # dendrites at Sand's time, cycle 1
    assert coated.end_reason == "max_cycles"
    assert coated.cycles["short_layer_um"].iloc[-1] > 0


@pytest.mark.parametrize("value, message", [
    ("-1", "Error: invalid test cell: overpotential_limit_V: must lie in (0, 5.0], got -1.0"),
    ("nan", "Error: --overpotential-limit must be a finite number, got nan"),
])
def test_a_bad_overpotential_limit_is_one_line_and_exit_2(value, message):
    from click.testing import CliRunner

    from twin.experiments.cli import main

    result = CliRunner().invoke(main, ["predict", "--cell", "li-li", "--overpotential-limit", value])
    assert result.exit_code == 2
    assert result.output.strip() == message


def test_fast_mode_carries_the_salt_and_agrees_with_full_mode_on_a_lean_cell():
    design = CellDesign(areal_capacity_mAh_cm2=4.0, np_ratio=1.0, electrolyte_g_per_Ah=2.0)
    # 300: with its N:P 1 foil the cell skips the bare-Cu nucleation stage and lives ~210 cycles
    full = predict_cycle_life(design, Protocol(), max_cycles=300, mode="full", strategies=["lhce"])
    fast = predict_cycle_life(design, Protocol(), max_cycles=300, mode="fast", strategies=["lhce"])
    assert full.cycle_life is not None
    assert abs(fast.cycle_life - full.cycle_life) <= 0.02 * full.cycle_life
