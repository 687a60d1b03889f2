"""twin.cycle_table.CycleTable: fast mode's per-cycle rows without pandas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from twin.cycle_rows import SUMMARY_COLUMNS
from twin.cycle_table import CycleTable


def _rows(count: int) -> list[dict]:
    rows = []
    for k in range(1, count + 1):
        row = {name: float(k) + i / 100 for i, name in enumerate(SUMMARY_COLUMNS)}
        row.update(cycle=k, simulated=k % 2 == 1, checkup=k == 3)
        rows.append(row)
    rows[0]["coulombic_efficiency"] = math.nan  # nothing plated in cycle 1
    return rows


def test_frame_round_trip_keeps_columns_values_and_dtypes():
    table = CycleTable.from_rows(_rows(4))
    frame = table.to_frame()
    assert list(frame.columns) == SUMMARY_COLUMNS
    assert frame["cycle"].dtype == np.int64
    assert frame["simulated"].dtype == bool and frame["checkup"].dtype == bool
    assert all(frame[name].dtype == np.float64 for name in SUMMARY_COLUMNS
               if name not in ("cycle", "simulated", "checkup"))
    assert frame["checkup"].tolist() == [False, False, True, False]
    back = CycleTable.from_frame(frame)
    assert back.columns == SUMMARY_COLUMNS
    pd.testing.assert_frame_equal(back.to_frame(), frame)


def test_records_are_plain_python_values_with_nan_as_float_nan():
    table = CycleTable.from_rows(_rows(2))
    records = table.records()
    assert len(records) == 2 and list(records[0]) == SUMMARY_COLUMNS
    first = records[0]
    assert type(first["cycle"]) is int and type(first["simulated"]) is bool
    assert type(first["discharge_capacity_mAh_cm2"]) is float
    assert type(first["coulombic_efficiency"]) is float and math.isnan(first["coulombic_efficiency"])
    # the values and types pandas' records give for the same table (NaN aside: nan != nan)
    expected = table.to_frame().to_dict(orient="records")
    expected[0]["coulombic_efficiency"] = records[0]["coulombic_efficiency"]
    assert records == expected
    assert [[type(v) for v in r.values()] for r in records] == [[type(v) for v in r.values()] for r in expected]


def test_rows_last_row_and_rows_up_to_a_cycle():
    table = CycleTable.from_rows(_rows(5))
    assert len(table) == 5 and "cycle" in table and "missing" not in table
    assert table.last()["cycle"] == 5 and table.row(1)["cycle"] == 2
    up_to = table.up_to_cycle(3)
    assert len(up_to) == 3 and up_to["cycle"].tolist() == [1, 2, 3]
    assert table.head(1)["cycle"].tolist() == [1]


def test_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match=r"columns of different lengths: \[2, 3\]"):
        CycleTable({"cycle": [1, 2], "discharge_capacity_mAh_cm2": [1.0, 2.0, 3.0]})
