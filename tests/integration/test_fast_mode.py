"""Fast (cycle-skipping) prediction against the full model: same cycle life, same
capacity curve, exact end-of-life stop, every cycle reported; check-ups; dendrite stop."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from twin.experiments.cli import main
from twin.design import CellDesign
from twin.protocol import Protocol
from twin.simulation import SUMMARY_COLUMNS, predict_cycle_life

# A short-lived design: N:P 1 with the baseline anode dies of Li depletion in ~64 cycles.
DESIGN = CellDesign(np_ratio=1.0)


@pytest.fixture(scope="module")
def full():
    return predict_cycle_life(DESIGN, mode="full")


@pytest.fixture(scope="module")
def fast():
    return predict_cycle_life(DESIGN, mode="fast")


def assert_fast_agrees_with_full(full, fast) -> None:
    """The issue's agreement: cycle life within 2 % and the discharge-capacity curve within
    1 % of the initial capacity over the cycles both report."""
    assert abs(fast.cycle_life - full.cycle_life) <= 0.02 * full.cycle_life
    a = full.cycles.set_index("cycle")["discharge_capacity_mAh_cm2"]
    b = fast.cycles.set_index("cycle")["discharge_capacity_mAh_cm2"]
    common = a.index.intersection(b.index)
    assert np.max(np.abs(a[common] - b[common])) < 0.01 * full.initial_capacity_mAh_cm2


def test_fast_matches_full_cycle_life_and_capacity_curve(full, fast):
    assert full.cycle_life is not None and full.cycle_life > 40
    assert fast.end_of_life_reason == full.end_of_life_reason == "lithium_depleted"
    assert_fast_agrees_with_full(full, fast)
    # the first cycle is simulated from the same state in both modes
    row_full, row_fast = full.cycles.iloc[0], fast.cycles.iloc[0]
    for column in ("charge_capacity_mAh_cm2", "dead_li_mAh_cm2", "swelling_pct", "electrolyte_g_per_Ah"):
        assert row_fast[column] == pytest.approx(row_full[column], rel=1e-6)


def test_fast_mode_skips_cycles_and_reports_every_one(fast):
    cycles = fast.cycles
    assert list(cycles.columns) == SUMMARY_COLUMNS
    assert cycles["cycle"].tolist() == list(range(1, fast.cycle_life + 1))
    simulated = cycles["simulated"]
    assert simulated.dtype == bool
    assert 3 <= simulated.sum() < 0.5 * len(cycles)
    assert fast.extra["simulated_cycles"] >= simulated.sum()
    assert fast.mode == "fast"
    # skipped cycles conserve Li like simulated ones (interpolation keeps the total)
    total = cycles["total_li_mAh_cm2"].to_numpy()
    assert np.max(np.abs(total - total[0])) / total[0] < 1e-5


def test_fast_mode_stops_exactly_at_end_of_life(fast):
    cycles = fast.cycles.set_index("cycle")
    threshold = fast.eol_fraction * fast.initial_capacity_mAh_cm2
    life = fast.cycle_life
    # the end-of-life cycle and the one before are both simulated, on either side of
    # the threshold, and nothing is reported after it
    assert cycles.loc[life, "simulated"] and cycles.loc[life - 1, "simulated"]
    assert cycles.loc[life, "discharge_capacity_mAh_cm2"] < threshold
    assert (cycles.loc[:life - 1, "discharge_capacity_mAh_cm2"] >= threshold).all()
    assert cycles.index.max() == life


def test_fast_mode_stops_at_max_cycles():
    prediction = predict_cycle_life(DESIGN, max_cycles=25, mode="fast")
    assert prediction.cycle_life is None and prediction.end_of_life_reason == "max_cycles"
    assert prediction.cycles["cycle"].tolist() == list(range(1, 26))
    assert prediction.cycles["simulated"].iloc[-1]


def test_checkup_cycles_are_slow_marked_and_not_end_of_life():
    protocol = Protocol(checkup_every=10, checkup_rate_C=0.1)
    prediction = predict_cycle_life(DESIGN, protocol, mode="fast")
    cycles = prediction.cycles.set_index("cycle")
    checkups = cycles[cycles["checkup"]]
    assert checkups.index.tolist() == [k for k in range(10, prediction.cycle_life + 1, 10)]
    assert checkups["simulated"].all()
    # while the cathode limits the discharge, a C/10 cycle delivers more than 0.5C
    assert cycles.loc[10, "discharge_capacity_mAh_cm2"] > 1.02 * cycles.loc[9, "discharge_capacity_mAh_cm2"]
    assert not cycles.loc[prediction.cycle_life, "checkup"]


def test_stop_on_dendrite_risk_ends_a_flagged_design_at_cycle_one():
    # 4 mA/cm2 through a 100 um separator with a 0.025 M electrolyte: J* ~ 3.1 mA/cm2
    fast_charge = Protocol(charge_rate_C=1.0, discharge_rate_C=1.0)
    dilute = {"Initial concentration in electrolyte [mol.m-3]": 25.0}
    design = CellDesign(np_ratio=1.0, separator_thickness_um=100.0)
    flagged = predict_cycle_life(design, fast_charge, mode="fast", stop_on_dendrite_risk=True, overrides=dilute)
    assert flagged.extra["dendrite_risk"]["flag"]
    assert (flagged.cycle_life, flagged.end_of_life_reason) == (1, "dendrite_risk")
    assert len(flagged.cycles) == 1


def test_cli_json_reports_mode_elapsed_dendrite_risk_and_simulated_flags():
    result = CliRunner().invoke(main, ["predict", "--np-ratio", "1", "--max-cycles", "12",
                                       "--protocol", "standard", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "fast" and data["elapsed_s"] > 0
    assert data["inputs"]["protocol"]["name"] == "standard"
    assert set(data["dendrite_risk"]) >= {"limiting_current_density_mA_cm2", "sand_time_s",
                                          "charge_current_density_mA_cm2", "flag"}
    assert data["dendrite_risk"]["flag"] is False
    assert len(data["cycles"]) == 12
    assert all(isinstance(row["simulated"], bool) for row in data["cycles"])
    assert not all(row["simulated"] for row in data["cycles"])


def test_fast_matches_full_on_a_long_lived_design_reviving_its_dead_li():
    # the highest-CE preset revives dead Li within a cycle (a stiff cycle map unless dead
    # Li is classified as relaxing): anode-free, flooded, ~350 cycles
    design = CellDesign(np_ratio=0.0, areal_capacity_mAh_cm2=4.0, electrolyte_g_per_Ah=6.0)
    common = {"max_cycles": 1000, "strategies": ["iodine-carbon-host"]}
    full = predict_cycle_life(design, mode="full", **common)
    fast = predict_cycle_life(design, mode="fast", **common)
    assert full.cycle_life is not None and full.cycle_life >= 300
    assert_fast_agrees_with_full(full, fast)
    assert fast.extra["simulated_cycles"] < full.cycle_life / 10
    # an anode-free cell: each charge takes back what the discharge before put in, so a
    # skipped cycle's cell CE is Q_n / Q_(n-1), as a simulated one's is (to ~2e-4 here)
    cycles = fast.cycles
    q = cycles["discharge_capacity_mAh_cm2"].to_numpy()
    skipped = ~cycles["simulated"].to_numpy()[1:]
    assert skipped.sum() > 100
    ratio = q[1:][skipped] / q[:-1][skipped]
    assert np.abs(cycles["coulombic_efficiency"].to_numpy()[1:][skipped] - ratio).max() < 1e-4


def test_fast_matches_full_on_a_lean_design_that_dries_out():
    # 3 g/Ah: the electrolyte runs dry after ~160 cycles and the capacity falls off a
    # cliff over the last tens of cycles, where fast mode still skips cycles
    design = CellDesign(np_ratio=2.0, areal_capacity_mAh_cm2=4.0, electrolyte_g_per_Ah=3.0)
    full = predict_cycle_life(design, mode="full")
    fast = predict_cycle_life(design, mode="fast")
    assert full.end_of_life_reason == fast.end_of_life_reason == "electrolyte_dry_out"
    assert full.cycle_life is not None and full.cycle_life > 100
    assert_fast_agrees_with_full(full, fast)
    assert fast.extra["simulated_cycles"] < full.cycle_life / 3
    wetting = fast.cycles.set_index("cycle")["wetting_fraction"]
    drying = fast.cycles[(wetting < 0.9).to_numpy()]
    assert (~drying["simulated"]).sum() > 0.65 * len(drying)  # the cliff is skipped too (0.56 with steps of 1-2)


def test_fast_resolves_the_dry_out_cliff_of_a_long_lived_lean_design():
    # lean (3 g/Ah), highest-CE preset, LFP: ~580 cycles, then the electrolyte runs out
    # within one discharge and the capacity falls by ~20 % of the first in that cycle; how
    # far hangs on the electrolyte left to a hundredth of a cycle's consumption (fast mode
    # was 10 % of the first capacity off there before it tightened its control near dry-out)
    design = CellDesign(cathode="LFP", np_ratio=2.0, areal_capacity_mAh_cm2=4.0, electrolyte_g_per_Ah=3.0)
    common = {"max_cycles": 700, "strategies": ["iodine-carbon-host"]}
    full = predict_cycle_life(design, mode="full", **common)
    fast = predict_cycle_life(design, mode="fast", **common)
    assert full.end_of_life_reason == fast.end_of_life_reason == "electrolyte_dry_out"
    assert full.cycle_life is not None and full.cycle_life >= 300
    q = full.cycles["discharge_capacity_mAh_cm2"].to_numpy()
    assert q[-2] - q[-1] > 0.05 * full.initial_capacity_mAh_cm2  # the cliff: one cycle falls > 5 %
    assert_fast_agrees_with_full(full, fast)
    assert fast.extra["simulated_cycles"] < full.cycle_life / 4
    # What the cliff hangs on: the electrolyte left at the end of the cycle before it, to
    # 0.01 of a cycle's consumption (1 % of the first capacity at the cliff is ~0.005 of
    # a cycle's consumption; full mode itself at rtol 1e-7 is 0.0025 off rtol 1e-9 there;
    # before the dry-out control fast mode was ~0.07 off)
    electrolyte = full.cycles.set_index("cycle")["electrolyte_g_per_Ah"]
    before_cliff = full.cycle_life - 1
    consumption = electrolyte[before_cliff - 1] - electrolyte[before_cliff]
    fast_electrolyte = fast.cycles.set_index("cycle")["electrolyte_g_per_Ah"][before_cliff]
    assert abs(fast_electrolyte - electrolyte[before_cliff]) < 0.01 * consumption
