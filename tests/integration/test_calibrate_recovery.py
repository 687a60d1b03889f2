"""Synthetic recovery: data simulated from known parameters (0.5 % noise) are fitted back.

The design is short-lived on purpose (anode-free Cu||LFP with a high dead-Li
fraction), so a fit costs seconds. The fitted parameter is the one capacity and CE
identify on their own: the dead-Li fraction (the loss proportional to the lithium
stripped each cycle). A second loss per unit time (the SEI rate constant) is not
separable from it with C/2 cycling alone: in an anode-free cell both scale with the
capacity cycled, so the SEI stays at the twin's value here.
"""

from __future__ import annotations

import pytest

from twin.calibration.data import read_cycle_summary_csv
from twin.calibration.search_space import DEAD_LI_FRACTION, SEI_RATE, recipe_from_dict
from twin.calibration.study import StudySettings, calibrate
from twin.calibration.synthetic import simulate_dataset
from twin.design import CellDesign
from twin.protocol import Protocol
from twin.simulation import predict_cycle_life

pytestmark = pytest.mark.integration

TRUTH = {DEAD_LI_FRACTION: 0.006}
DESIGN = {"cathode": "LFP", "np_ratio": 0.0, "areal_capacity_mAh_cm2": 1.5, "electrode_area_cm2": 1.13,
          "layers": 1, "electrolyte_g_per_Ah": 35.0}
PROTOCOL = {"charge_rate_C": 0.5, "discharge_rate_C": 0.5, "rest_after_charge_min": 0.0,
            "rest_after_discharge_min": 0.0}
CYCLES = 32


def recipe():
    return recipe_from_dict({
        "name": "recovery", "cell_type": "anode-free", "design": DESIGN, "protocol": PROTOCOL,
        "model": {"options": {"dead lithium": "constant fraction", "surface roughening": "false"}},
        "parameters": {
            DEAD_LI_FRACTION: {"low": 1e-3, "high": 3e-2, "log": True, "default": 0.012},
            SEI_RATE: {"fit": False},
            "Li-metal surface area growth per cycled lithium [m2.mol-1]": {"fit": False},
            "Dead lithium layer Bruggeman exponent": {"fit": False},
        },
        "fit": {"trials": 24, "sampler": "tpe", "startup_trials": 6, "block_cycles": 16,
                "ensemble_size": 3, "ensemble_loss_ratio": 1.2, "forecast_max_cycles": 200},
    })


def test_known_parameters_and_cycle_life_are_recovered(tmp_path):
    options = {"dead lithium": "constant fraction", "surface roughening": "false"}
    dataset = simulate_dataset(CellDesign(**DESIGN), Protocol(**PROTOCOL), CYCLES, TRUTH, noise=0.005, seed=3,
                               options=options)
    dataset.write(tmp_path / "cell.csv", tmp_path / "cell.cycles.csv")
    data = read_cycle_summary_csv(tmp_path / "cell.cycles.csv")
    assert len(data.cycles) == CYCLES

    result = calibrate(data, recipe(), None, StudySettings(storage=None, seed=7), tracker=None, figures=False)

    for name, truth in TRUTH.items():
        fitted = result.best_params[name]
        assert abs(fitted / truth - 1) < 0.10, f"{name}: fitted {fitted:.4g}, truth {truth:.4g}"
    true_life = predict_cycle_life(CellDesign(**DESIGN), Protocol(**PROTOCOL), eol_fraction=0.8,
                                   max_cycles=200, options=options, overrides=TRUTH).cycle_life
    assert true_life is not None and true_life < CYCLES
    assert result.forecast.eol_cycle_p50 is not None
    assert abs(result.forecast.eol_cycle_p50 / true_life - 1) <= 0.05
