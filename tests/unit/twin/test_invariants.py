"""Physical invariants of a simulated cycle table (twin.invariants)."""

import math

import pandas as pd
import pytest

from twin.errors import SimulationError
from twin.invariants import check_cycles


def table(**changes: list) -> pd.DataFrame:
    """Three physical cycles of a cell with 12 mAh/cm2 of Li in total."""
    rows = {
        "cycle": [1, 2, 3],
        "charge_capacity_mAh_cm2": [4.0, 3.9, 3.8],
        "discharge_capacity_mAh_cm2": [3.9, 3.8, 3.7],
        "li_coulombic_efficiency": [0.99, 0.99, 0.99],
        "active_li_mAh_cm2": [8.0, 7.9, 7.8],
        "dead_li_mAh_cm2": [0.0, 0.05, 0.1],
        "sei_li_mAh_cm2": [0.0, 0.05, 0.1],
        "cathode_li_mAh_cm2": [4.0, 4.0, 4.0],
        "total_li_mAh_cm2": [12.0, 12.0, 12.0],
        "anode_thickness_um": [40.0, 40.5, 41.0],
        "electrolyte_g_per_Ah": [3.0, 2.9, 2.8],
    }
    rows.update(changes)
    return pd.DataFrame(rows)


def test_a_physical_table_passes_unchanged() -> None:
    summary = table()
    assert check_cycles(summary) is summary


@pytest.mark.parametrize(("changes", "message"), [
    ({"electrolyte_g_per_Ah": [3.0, 2.9, -3.69]}, "cycle 3: electrolyte_g_per_Ah = -3.69 is negative"),
    ({"li_coulombic_efficiency": [0.99, -2.02, 0.99]}, "cycle 2: anode Li Coulombic efficiency -2.02 lies outside [0, 1]"),
    ({"li_coulombic_efficiency": [1.2, 0.99, 0.99]}, "cycle 1: anode Li Coulombic efficiency 1.2 lies outside [0, 1]"),
    ({"charge_capacity_mAh_cm2": [4.0, math.inf, 3.8]}, "cycle 2: charge_capacity_mAh_cm2 is inf, not a finite number"),
    ({"active_li_mAh_cm2": [8.0, math.nan, 7.8]}, "cycle 2: active_li_mAh_cm2 is nan"),
    ({"total_li_mAh_cm2": [12.0, 12.0, 12.5]}, "cycle 3: total Li 12.5 mAh/cm2 differs from cycle 1's 12 mAh/cm2"),
])
def test_an_unphysical_cycle_is_an_error_naming_it(changes: dict, message: str) -> None:
    with pytest.raises(SimulationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_cycles(table(**changes))


def test_solver_overshoot_at_dry_out_is_tolerated_but_not_more() -> None:
    check_cycles(table(electrolyte_g_per_Ah=[3.0, 1.0, -0.001]))  # 0.03 % of cycle 1's
    with pytest.raises(SimulationError, match="cycle 3: electrolyte"):
        check_cycles(table(electrolyte_g_per_Ah=[3.0, 1.0, -0.01]))


def test_no_plating_means_no_efficiency() -> None:
    check_cycles(table(charge_capacity_mAh_cm2=[0.0, 3.9, 3.8], li_coulombic_efficiency=[math.nan, 0.99, 0.99]))


def test_revived_dead_li_may_lift_the_li_ce_above_1_but_only_by_what_there_was() -> None:
    # cycle 3 plates 3.8 mAh/cm2; 0.05 mAh/cm2 of dead Li at its start can come back
    check_cycles(table(li_coulombic_efficiency=[0.99, 0.99, 1 + 0.04 / 3.8], dead_li_mAh_cm2=[0.0, 0.05, 0.01]))
    with pytest.raises(SimulationError, match=r"cycle 3: anode Li Coulombic efficiency 1.01579 lies outside \[0, 1.01316\]"):
        check_cycles(table(li_coulombic_efficiency=[0.99, 0.99, 1 + 0.06 / 3.8], dead_li_mAh_cm2=[0.0, 0.05, 0.0]))


@pytest.mark.parametrize(("changes", "message"), [
    ({"electrolyte_g_per_Ah": [3.0, 2.9, -3.69]}, "cycle 3: electrolyte_g_per_Ah = -3.69 is negative"),
    ({"li_coulombic_efficiency": [1.2, 0.99, 0.99]}, "cycle 1: anode Li Coulombic efficiency 1.2 lies outside"),
    ({"total_li_mAh_cm2": [12.0, 12.0, 12.5]}, "cycle 3: total Li 12.5 mAh/cm2 differs from cycle 1's 12 mAh/cm2"),
])
def test_a_cycle_table_is_checked_as_its_dataframe(changes: dict, message: str) -> None:
    """Fast mode's CycleTable (no pandas): the same errors; a physical one comes back unchanged."""
    from twin.cycle_table import CycleTable

    physical = CycleTable.from_frame(table())
    assert check_cycles(physical) is physical
    with pytest.raises(SimulationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_cycles(CycleTable.from_frame(table(**changes)))
