"""Set-up paid once per process: designs that differ only in parameters passed to PyBaMM
as inputs share one discretised simulation (twin.cycling.shared_setup), and give the
results a simulation of their own gives."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from twin.cycling import clear_shared_simulations, shared_setup, shared_simulations_held
from twin.design import CellDesign
from twin.experiments.sweep import DesignCase, RunSettings, with_shared_inputs
from twin.protocol import Protocol
from twin.scenario import shared_input_parameters
from twin.simulation import predict_cycle_life

pytestmark = pytest.mark.integration

TWIN = [sys.executable, "-m", "twin.experiments.cli"]
# Two short-lived designs (anode-free and thin Li) with different cathode thickness,
# Li inventory and electrolyte: the mesh and the initial state both follow inputs.
ANODE_FREE = CellDesign(np_ratio=0.0, areal_capacity_mAh_cm2=3.0)
THIN_LI = CellDesign(np_ratio=0.5, areal_capacity_mAh_cm2=2.0, electrolyte_g_per_Ah=6.0)
MAX_CYCLES = 200


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_shared_simulations()
    yield
    clear_shared_simulations()


def predict(design: CellDesign):
    return predict_cycle_life(design, Protocol(), mode="fast", max_cycles=MAX_CYCLES)


def test_one_simulation_serves_two_designs_and_matches_fresh_ones():
    names = shared_input_parameters([(ANODE_FREE, Protocol()), (THIN_LI, Protocol())])
    assert {"Positive electrode thickness [m]", "Initial active lithium metal [mol.m-2]",
            "Initial electrolyte mass [kg.m-2]"} <= names
    with shared_setup(names):
        anode_free = predict(ANODE_FREE)
        thin_li = predict(THIN_LI)  # reuses the simulation the first design built
        assert shared_simulations_held() == 1
        clear_shared_simulations()
        thin_li_fresh = predict(THIN_LI)  # the same simulation, built anew
    assert thin_li.cycles.equals(thin_li_fresh.cycles)
    assert anode_free.cycle_life != thin_li.cycle_life  # the inputs did reach the model
    # and what a simulation with every value fixed (no inputs) gives, to solver tolerance
    plain = predict(THIN_LI)
    assert plain.cycle_life == thin_li.cycle_life
    np.testing.assert_allclose(thin_li.cycles["discharge_capacity_mAh_cm2"],
                               plain.cycles["discharge_capacity_mAh_cm2"], rtol=1e-6)


def test_a_value_that_is_not_an_input_or_other_options_get_their_own_simulation():
    warm = dataclasses.replace(THIN_LI, temperature_degC=40.0)  # PyBaMM refuses temperature as an input
    names = shared_input_parameters([(THIN_LI, Protocol()), (warm, Protocol())])
    with shared_setup(names):
        cold_life = predict(THIN_LI).cycle_life
        warm_life = predict(warm).cycle_life
        assert shared_simulations_held() == 2
        no_dead_li = predict_cycle_life(THIN_LI, Protocol(), mode="fast", max_cycles=MAX_CYCLES,
                                        options={"dead lithium": "none"})
        assert shared_simulations_held() == 3  # another model, never the cached one
    assert warm_life != cold_life
    assert no_dead_li.cycle_life is None or no_dead_li.cycle_life > cold_life


def test_sweeps_share_set_up_in_fast_mode_only():
    cases = [DesignCase(ANODE_FREE, Protocol()), DesignCase(THIN_LI, Protocol(), "lifsi-dme")]
    shared = with_shared_inputs(cases, RunSettings(mode="fast"))
    assert "Positive electrode thickness [m]" in shared.shared_inputs
    assert "Dead lithium fraction at reference current density" in shared.shared_inputs  # a strategy's knob
    assert with_shared_inputs(cases, RunSettings(mode="full")).shared_inputs == ()


def test_compare_on_a_dask_scheduler_gives_the_local_result(dask_cluster, child_env):
    args = [*TWIN, "compare", "--design", "np_ratio=0", "--design", "np_ratio=0.5,electrolyte_amount=6",
            "--areal-capacity", "2", "--max-cycles", "8", "--mode", "full", "--format", "json"]
    on_cluster = subprocess.run([*args, "--scheduler", dask_cluster.address], env=child_env(),
                                capture_output=True, text=True, timeout=300)
    assert on_cluster.returncode == 0, on_cluster.stderr
    local = subprocess.run([*args, "--workers", "1"], env=child_env(DASK_SCHEDULER_ADDRESS=""),
                           capture_output=True, text=True, timeout=300)
    assert local.returncode == 0, local.stderr
    remote_rows, local_rows = (json.loads(r.stdout)["designs"] for r in (on_cluster, local))
    assert [r["label"] for r in remote_rows] == [r["label"] for r in local_rows]
    for remote, here in zip(remote_rows, local_rows):
        assert remote["cycle_life"] == here["cycle_life"]
        assert remote["initial_capacity_mAh_cm2"] == pytest.approx(here["initial_capacity_mAh_cm2"], rel=1e-9)


def test_compare_refuses_a_malformed_scheduler_address(child_env):
    result = subprocess.run([*TWIN, "compare", "--design", "np_ratio=0", "--design", "np_ratio=1",
                             "--scheduler", "not an address"], env=child_env(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert "--scheduler 'not an address': not a scheduler address (use tcp://HOST:PORT)" in result.stderr
