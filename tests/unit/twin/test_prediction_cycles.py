"""twin.simulation.Prediction: cycles given as a CycleTable read as a DataFrame, and
its JSON is the same as the DataFrame's (no PyBaMM: hand-made rows)."""

from __future__ import annotations

import math

import pandas as pd

from twin.cycle_rows import SUMMARY_COLUMNS
from twin.cycle_table import CycleTable
from twin.design import CellDesign
from twin.protocol import Protocol
from twin.simulation import Prediction


def _table() -> CycleTable:
    rows = []
    for k in (1, 2, 3):
        row = {name: 1.0 + k / 10 for name in SUMMARY_COLUMNS}
        row.update(cycle=k, simulated=k != 2, checkup=False, discharge_capacity_mAh_cm2=4.0 - k / 10,
                   anode_thickness_um=40.0 + k)
        rows.append(row)
    rows[0]["coulombic_efficiency"] = math.nan
    return CycleTable.from_rows(rows)


def _prediction(cycles) -> Prediction:
    return Prediction(design=CellDesign(), protocol=Protocol(), cell_model="li_metal", eol_fraction=0.8,
                      max_cycles=3, cycles=cycles, cycle_life=None, end_of_life_reason="max_cycles",
                      elapsed_s=0.5, mode="fast", cathode_thickness_m=60e-6)


def test_a_table_is_read_as_a_dataframe_and_gives_the_dataframes_json():
    from_table, from_frame = _prediction(_table()), _prediction(_table().to_frame())
    assert from_table.initial_capacity_mAh_cm2 == 3.9
    assert from_table.cell_summary() == from_frame.cell_summary()
    table_json = from_table.to_dict()  # before any DataFrame was asked for
    assert table_json == from_frame.to_dict()
    assert table_json["cycles"][0]["coulombic_efficiency"] is None  # NaN -> null, as from pandas' rows
    assert type(table_json["cycles"][0]["cycle"]) is int and type(table_json["cycles"][0]["simulated"]) is bool
    assert isinstance(from_table.cycles, pd.DataFrame)
    pd.testing.assert_frame_equal(from_table.cycles, from_frame.cycles)
    assert from_table.to_dict() == table_json  # from the DataFrame now
