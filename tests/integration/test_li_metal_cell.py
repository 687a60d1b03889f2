"""The Li-metal cell twin solved: conservation, volume change, inventory arithmetic,
monotonic design trends and the excess-Li knee (issue: the lithium-metal cell twin)."""

import numpy as np
import pybamm
import pytest

from twin.cell_parameters import parameter_values
from twin.design import CellDesign
from twin.model import build_model
from twin.protocol import Protocol
from twin.simulation import CellSimulator, predict_cycle_life

FLOODED = 20.0  # g/Ah: enough electrolyte that dry-out never interferes
# A slower-dying anode so that an anode-free cell completes 100 cycles.
GENTLE = {"Dead lithium fraction at reference current density": 0.002,
          "Li-metal SEI rate constant [mol.m-2.s-1]": 2e-8}


@pytest.fixture(scope="module")
def lives_by_np():
    return {np_ratio: predict_cycle_life(CellDesign(np_ratio=np_ratio, electrolyte_g_per_Ah=FLOODED),
                                         max_cycles=400)
            for np_ratio in (0.0, 1.0, 2.0, 3.0)}


@pytest.mark.parametrize("np_ratio", [0.0, 2.0])
def test_lithium_is_conserved_over_100_cycles(np_ratio):
    simulator = CellSimulator(CellDesign(np_ratio=np_ratio, electrolyte_g_per_Ah=FLOODED),
                              Protocol(), overrides=GENTLE)
    summary = simulator.run(100).summary
    assert len(summary) == 100
    total = summary["total_li_mAh_cm2"].to_numpy()
    assert np.max(np.abs(total - total[0])) / total[0] < 1e-6
    # and the parts really moved: Li was lost to dead Li and SEI
    assert summary["dead_li_mAh_cm2"].iloc[-1] > 0.1
    assert summary["sei_li_mAh_cm2"].iloc[-1] > 0.01


def test_plating_one_mAh_cm2_of_dense_li_thickens_the_anode_by_485_um():
    model = build_model("spm", {"SEI on lithium metal": "none", "dead lithium": "none",
                                "surface roughening": "false", "electrolyte consumption": "false"})
    design = CellDesign(np_ratio=0.0, areal_capacity_mAh_cm2=4.0)
    values = parameter_values(design, Protocol())
    values["Plated lithium deposit porosity"] = 0.0  # dense deposit
    area_cm2 = design.electrode_area_cm2 * design.layers
    experiment = pybamm.Experiment([f"Charge at {area_cm2 * 1e-3} A for 1 hour"])  # 1 mA/cm2
    solution = pybamm.Simulation(model, parameter_values=values, experiment=experiment,
                                 solver=pybamm.IDAKLUSolver()).solve()
    thickness = solution["Anode thickness [m]"].entries
    assert (thickness[-1] - thickness[0]) * 1e6 == pytest.approx(4.85, rel=0.01)


def test_anode_free_capacity_ratio_equals_coulombic_efficiency(lives_by_np):
    cycles = lives_by_np[0.0].cycles
    q = cycles["discharge_capacity_mAh_cm2"].to_numpy()
    ce = cycles["coulombic_efficiency"].to_numpy()
    assert len(q) >= 10
    np.testing.assert_allclose(q[1:] / q[:-1], ce[1:], rtol=2e-3)
    # anode-free: every cycle loses Li, no reservoir after the first ones
    assert q[-1] < 0.8 * q[0]


def test_cycle_life_strictly_increases_with_np_ratio(lives_by_np):
    lives = [lives_by_np[n].cycle_life for n in (0.0, 1.0, 2.0, 3.0)]
    assert all(life is not None for life in lives)
    assert lives == sorted(lives) and len(set(lives)) == 4, lives


@pytest.mark.parametrize("np_ratio", [1.0, 2.0, 3.0])
def test_excess_lithium_knee_matches_inventory_arithmetic(lives_by_np, np_ratio):
    cycles = lives_by_np[np_ratio].cycles
    q = cycles["discharge_capacity_mAh_cm2"].to_numpy()
    # capacity holds (but for the gradual cathode fade, ~0.01 %/cycle at 4.2 V), then falls
    knee = int(np.nonzero(q < 0.98 * q[0])[0][0]) + 1
    assert np.all(q[: knee - 1] > 0.98 * q[0])
    mean_li_ce = cycles["li_coulombic_efficiency"].iloc[: knee - 1].mean()
    expected = np_ratio / (1 - mean_li_ce)  # physics notes: n_knee ~ N:P / (1 - CE)
    assert knee == pytest.approx(expected, rel=0.15)


def test_more_electrolyte_never_shortens_life():
    predictions = [predict_cycle_life(CellDesign(np_ratio=3.0, electrolyte_g_per_Ah=amount), max_cycles=300)
                   for amount in (1.5, 3.0, 6.0)]
    lives = [p.cycle_life for p in predictions]
    assert lives[0] <= lives[1] <= lives[2], lives
    assert lives[0] < lives[2]  # lean electrolyte dries out first
    assert predictions[0].end_of_life_reason == "electrolyte_dry_out"
    assert predictions[2].end_of_life_reason == "lithium_depleted"


@pytest.mark.parametrize(("name", "low", "high"), [
    ("Dead lithium fraction at reference current density", 0.01, 0.03),
    ("Li-metal SEI rate constant [mol.m-2.s-1]", 1e-7, 1e-6),
])
def test_faster_degradation_never_lengthens_life(name, low, high):
    design = CellDesign(np_ratio=1.0, electrolyte_g_per_Ah=FLOODED)
    slow = predict_cycle_life(design, overrides={name: low}, max_cycles=300).cycle_life
    fast = predict_cycle_life(design, overrides={name: high}, max_cycles=300).cycle_life
    assert fast < slow


def test_li_depleted_discharge_ends_at_the_cut_off_without_negative_inventory():
    simulator = CellSimulator(CellDesign(np_ratio=0.0, electrolyte_g_per_Ah=FLOODED), Protocol())
    run = simulator.run(5, keep_time_series=True)
    series = run.time_series
    assert not run.stopped_early
    assert series["active_li_mol_m2"].min() > -1e-6
    # the discharge ended on the voltage cut-off (2.8 V), reached by the anode running out
    last = series[series["cycle"] == 5]
    discharging = last[last["current_A"] > 0]
    assert discharging["voltage_V"].iloc[-1] == pytest.approx(2.8, abs=1e-3)
    assert run.summary["active_li_mAh_cm2"].iloc[-1] < 1e-3


@pytest.mark.parametrize("cathode", ["NMC811", "LFP"])
def test_slow_rate_capacity_matches_requested_areal_capacity(cathode):
    design = CellDesign(cathode=cathode, np_ratio=5.0, areal_capacity_mAh_cm2=3.0, electrolyte_g_per_Ah=FLOODED)
    protocol = Protocol(charge_rate_C=0.05, discharge_rate_C=0.05)
    options = {"SEI on lithium metal": "none", "dead lithium": "none"}
    summary = CellSimulator(design, protocol, options=options).run(1).summary
    assert summary["discharge_capacity_mAh_cm2"].iloc[0] == pytest.approx(3.0, rel=0.03)


def test_a_full_cell_cycled_over_its_foil_orphans_less_per_stripped_mAh_than_an_anode_free_one():
    # The fine nucleation stage (Pei et al. 2017) forms on bare Cu: an anode-free cell
    # strips to bare Cu every discharge and pays f a n_nuc ln(1 + Q / n_nuc) on top of
    # f Q (a = 3, n_nuc = 0.1 mAh/cm2, Q = 4 mAh/cm2: +28 %); a cell with a Li foil
    # under its deposit never does.
    def dead_per_stripped(np_ratio: float) -> float:
        summary = CellSimulator(CellDesign(np_ratio=np_ratio, electrolyte_g_per_Ah=FLOODED), Protocol(),
                                options={"activation transient": "false"}).run(3).summary
        dead = summary["dead_li_mAh_cm2"].to_numpy()
        return (dead[2] - dead[1]) / summary["discharge_capacity_mAh_cm2"].iloc[2]

    nucleation_share = 3.0 * 0.1 * np.log(1 + 4.0 / 0.1) / 4.0
    ratio = dead_per_stripped(0.0) / dead_per_stripped(2.0)
    assert 1 + 0.75 * nucleation_share < ratio < 1 + 1.25 * nucleation_share
