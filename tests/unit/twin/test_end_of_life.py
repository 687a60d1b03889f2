"""End of life: one rule for every run, on hand-made cycle tables (no PyBaMM)."""

import pandas as pd
import pytest

from twin.end_of_life import LifeOutcome, end_of_life_reason, first_cycle_below, judge_end_of_life

CATHODE_MAH_CM2 = 4.0


def table(capacities, active=2.0, wetting=1.0, checkup=None):
    n = len(capacities)
    return pd.DataFrame({
        "cycle": range(1, n + 1), "discharge_capacity_mAh_cm2": capacities,
        "active_li_mAh_cm2": [active] * n if isinstance(active, float) else active,
        "wetting_fraction": [wetting] * n if isinstance(wetting, float) else wetting,
        "checkup": checkup or [False] * n,
    })


def test_first_cycle_below_compares_with_the_first_cycle_and_skips_check_ups():
    cycles = table([4.0, 3.9, 4.5, 3.1, 3.0], checkup=[False, False, True, False, False])
    assert first_cycle_below(cycles, 0.8) == 4  # 3.1 < 3.2; the check-up's 4.5 takes no part
    assert first_cycle_below(cycles, 0.7) is None
    assert first_cycle_below(cycles.iloc[:0], 0.8) is None


@pytest.mark.parametrize(("active", "wetting", "reason"), [
    (2.0, 1.0, "capacity_fade"),            # Li left, electrolyte left: resistance fade
    (0.01, 1.0, "lithium_depleted"),        # anode-limited (below 2 % of 4 mAh/cm2)
    (2.0, 0.9, "electrolyte_dry_out"),      # a wetting deficit with Li left
    (0.01, 0.9, "lithium_depleted"),        # Li ran out first, electrolyte mostly there
    (0.01, 0.4, "electrolyte_dry_out"),     # severe dry-out wins even when Li ran out
])
def test_end_of_life_reason_from_the_state_of_the_last_cycle(active, wetting, reason):
    row = pd.Series({"active_li_mAh_cm2": active, "wetting_fraction": wetting})
    assert end_of_life_reason(row, CATHODE_MAH_CM2) == reason


def test_a_cycle_below_the_threshold_ends_life_there_and_drops_later_cycles():
    outcome = LifeOutcome(table([4.0, 3.5, 3.1, 3.0], active=0.01), below_cycle=3, notes=["run note"])
    verdict = judge_end_of_life(outcome, CATHODE_MAH_CM2, extra_notes=["strategy note"])
    assert (verdict.cycle_life, verdict.reason) == (3, "lithium_depleted")
    assert verdict.cycles["cycle"].tolist() == [1, 2, 3]
    assert verdict.notes == ["run note", "strategy note"]


def test_a_cycle_the_cell_could_not_complete_is_its_end_of_life():
    outcome = LifeOutcome(table([4.0, 3.9], wetting=0.6), below_cycle=None, failed_cycle=3)
    verdict = judge_end_of_life(outcome, CATHODE_MAH_CM2)
    assert (verdict.cycle_life, verdict.reason) == (3, "electrolyte_dry_out")
    assert len(verdict.cycles) == 2


def test_alive_at_the_last_cycle_is_max_cycles():
    verdict = judge_end_of_life(LifeOutcome(table([4.0, 3.9]), below_cycle=None), CATHODE_MAH_CM2)
    assert (verdict.cycle_life, verdict.reason) == (None, "max_cycles")


def test_a_dendrite_stop_ends_life_at_cycle_1_whatever_the_run_found():
    outcome = LifeOutcome(table([4.0, 3.0]), below_cycle=2, notes=["fast mode: 2 cycles"])
    verdict = judge_end_of_life(outcome, CATHODE_MAH_CM2, dendrite_stop="Sand's time shorter than the CC charge")
    assert (verdict.cycle_life, verdict.reason) == (1, "dendrite_risk")
    assert len(verdict.cycles) == 1
    assert verdict.notes == ["fast mode: 2 cycles", "dendrite risk: Sand's time shorter than the CC charge"]


@pytest.mark.parametrize(("outcome", "life", "reason"), [
    (LifeOutcome(table([4.0, 3.5, 3.1, 3.0], active=0.01), below_cycle=3), 3, "lithium_depleted"),
    (LifeOutcome(table([4.0, 3.9], wetting=0.6), below_cycle=None, failed_cycle=3), 3, "electrolyte_dry_out"),
    (LifeOutcome(table([4.0, 3.9]), below_cycle=None), None, "max_cycles"),
])
def test_a_cycle_table_gets_the_verdict_of_its_dataframe(outcome, life, reason):
    """Fast mode's CycleTable (no pandas) is judged as the DataFrame of the same rows, and
    the verdict's cycles stay a CycleTable."""
    from dataclasses import replace

    from twin.cycle_table import CycleTable

    as_table = replace(outcome, cycles=CycleTable.from_frame(outcome.cycles))
    verdict = judge_end_of_life(as_table, CATHODE_MAH_CM2)
    assert (verdict.cycle_life, verdict.reason) == (life, reason)
    assert isinstance(verdict.cycles, CycleTable)
    expected = judge_end_of_life(outcome, CATHODE_MAH_CM2).cycles
    pd.testing.assert_frame_equal(verdict.cycles.to_frame(), expected, check_dtype=False)
    assert first_cycle_below(as_table.cycles, 0.8) == first_cycle_below(outcome.cycles, 0.8)
