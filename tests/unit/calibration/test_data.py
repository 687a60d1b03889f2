"""Unit tests of calibration.data: readers, validation messages, writers."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.calibration import data
from twin.calibration.data import (
    CHARGE_CAPACITY_MAH,
    COULOMBIC_EFFICIENCY,
    CYCLE,
    CYCLE_COLUMNS,
    DISCHARGE_CAPACITY_MAH,
    NORMALIZED_CAPACITY,
    CycleData,
    DataError,
    list_anode_free_cells,
    per_cycle_capacities,
    read_anode_free_table,
    read_bdf_csv,
    read_cycle_summary_csv,
    read_cycling_data,
    select_cycles,
    write_bdf_csv,
    write_cycle_summary_csv,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ANODE_FREE = FIXTURES / "anode_free_cu_lfp_subset.csv"


# --- synthetic time series with known constant currents ----------------------------

# (charge current [A], charge time [s], discharge current [A], discharge time [s])
PROTOCOL = [(2e-3, 3600.0, -1.8e-3, 3600.0), (2e-3, 3600.0, -1.7e-3, 3600.0), (1e-3, 7200.0, -1.6e-3, 3600.0)]
EXPECTED_CHARGE_MAH = [2.0, 2.0, 2.0]
EXPECTED_DISCHARGE_MAH = [1.8, 1.7, 1.6]


def constant_current_series() -> dict[str, np.ndarray]:
    """Steps logged at start and end (a step change shows as two samples at one time)."""
    time, current, cycle, step = [], [], [], []
    t = 0.0
    for number, (i_charge, t_charge, i_discharge, t_discharge) in enumerate(PROTOCOL, start=1):
        for i, duration, step_number in ((i_charge, t_charge, 2 * number - 1), (i_discharge, t_discharge, 2 * number)):
            for tt in (t, t + duration / 2, t + duration):
                time.append(tt)
                current.append(i)
                cycle.append(number)
                step.append(step_number)
            t += duration
    n = len(time)
    return {
        "time_s": np.array(time),
        "voltage_V": np.linspace(3.0, 3.6, n),
        "current_A": np.array(current),
        "cycle": np.array(cycle),
        "step": np.array(step),
    }


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def cell_text(value: object) -> str:
    """Integers as integers, floats in shortest round-trip form, text as is."""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def bdf_text(header: str, rows: list[tuple]) -> str:
    return header + "\n" + "\n".join(",".join(cell_text(v) for v in row) for row in rows) + "\n"


def good_bdf_rows(n: int = 14) -> list[tuple]:
    """n samples: 1 mA charge then 1 mA discharge, one second apart, one cycle."""
    return [(float(k), 3.4, 1e-3 if k < n // 2 else -1e-3, 1) for k in range(n)]


def assert_problems(excinfo: pytest.ExceptionInfo[DataError], *expected: str) -> None:
    message = str(excinfo.value)
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"


# --- the anode-free table (real data) -----------------------------------------------


def test_anode_free_cycles_follow_the_column_rule_and_zeros_are_dropped() -> None:
    cell = read_anode_free_table(ANODE_FREE, "AF00")
    raw = pd.read_csv(ANODE_FREE).set_index("cell_id").loc["AF00"]
    # norm_capacity_1..8 are measured, 9..23 are 0 (cell stopped)
    assert cell.cycles[CYCLE].tolist() == [1, 10, 20, 30, 40, 50, 60, 70]
    assert cell.cycles[NORMALIZED_CAPACITY].tolist() == [raw[f"norm_capacity_{k}"] for k in range(1, 9)]
    assert (cell.cycles[NORMALIZED_CAPACITY] > 0).all()
    assert cell.meta["dropped_cycles"] == [10 * (k - 1) for k in range(9, 24)]
    assert cell.cycles[DISCHARGE_CAPACITY_MAH].isna().all()
    assert list(cell.cycles.columns) == list(CYCLE_COLUMNS)
    assert cell.meta["theoretical_capacity_mAh_g"] == 150.0
    assert cell.meta["salt_conc_M"] == 1.0
    assert cell.meta["normalization"] == data.NORMALIZED_TO_THEORETICAL
    assert cell.sha256 == hashlib.sha256(ANODE_FREE.read_bytes()).hexdigest()
    assert cell.cell_id == "AF00" and cell.source == ANODE_FREE.name


def test_anode_free_long_lived_cell_reaches_cycle_200() -> None:
    cell = read_anode_free_table(ANODE_FREE, "AF03")
    assert cell.cycles[CYCLE].iloc[-1] == 200  # norm_capacity_21; 22 and 23 are 0
    assert len(cell.cycles) == 21


def test_anode_free_lists_cells_and_replicates() -> None:
    assert list_anode_free_cells(ANODE_FREE) == ["AF00", "AF03", "AF22", "AF24", "AF25", "AF33"]
    assert read_anode_free_table(ANODE_FREE, "AF24").meta["replicate_cell_ids"] == ["AF22", "AF25"]
    # AF33 differs in cathode theoretical capacity (203 mAh/g): no replicate here
    assert read_anode_free_table(ANODE_FREE, "AF33").meta["replicate_cell_ids"] == []


def test_anode_free_unknown_cell_is_named_with_valid_ids() -> None:
    with pytest.raises(DataError) as excinfo:
        read_anode_free_table(ANODE_FREE, "AF99")
    assert_problems(excinfo, "unknown cell 'AF99'", "AF00, AF03, AF22")


def test_anode_free_without_cell_id_says_cell_is_required() -> None:
    with pytest.raises(DataError) as excinfo:
        read_cycling_data(ANODE_FREE)
    assert_problems(excinfo, "--cell is required", "6 cells")


def test_anode_free_single_cell_file_needs_no_cell_id(tmp_path: Path) -> None:
    lines = ANODE_FREE.read_text().splitlines()
    one = write_text(tmp_path / "one.csv", "\n".join(lines[:2]) + "\n")
    assert read_anode_free_table(one, None).cell_id == "AF00"


def test_anode_free_bad_cells_are_all_reported(tmp_path: Path) -> None:
    header = "cell_id,salt_conc_M,norm_capacity_1,norm_capacity_2,norm_capacity_3"
    path = write_text(tmp_path / "t.csv", f"{header}\nX1,1.0,0.9,abc,-0.2\n")
    with pytest.raises(DataError) as excinfo:
        read_anode_free_table(path, "X1")
    assert excinfo.value.problems == [
        "cell 'X1': 'norm_capacity_2' is not a number ('abc', row 2)",
        "cell 'X1': 'norm_capacity_3' is '-0.2', not a capacity >= 0 (row 2)",
    ]


# --- BDF time series ----------------------------------------------------------------


def test_bdf_constant_currents_give_exact_capacities_and_ce(tmp_path: Path) -> None:
    series = constant_current_series()
    rows = zip(series["time_s"], series["voltage_V"], series["current_A"], series["cycle"], strict=True)
    header = "Test Time / s,Voltage / V,Current / A,Cycle Count / 1"
    path = write_text(tmp_path / "cell.csv", bdf_text(header, list(rows)))
    cell = read_bdf_csv(path)
    table = cell.cycles
    assert table[CYCLE].tolist() == [1, 2, 3]
    np.testing.assert_allclose(table[CHARGE_CAPACITY_MAH], EXPECTED_CHARGE_MAH, rtol=1e-12)
    np.testing.assert_allclose(table[DISCHARGE_CAPACITY_MAH], EXPECTED_DISCHARGE_MAH, rtol=1e-12)
    np.testing.assert_allclose(table[COULOMBIC_EFFICIENCY], [0.9, 0.85, 0.8], rtol=1e-12)
    np.testing.assert_allclose(table[NORMALIZED_CAPACITY], [1.0, 1.7 / 1.8, 1.6 / 1.8], rtol=1e-12)
    assert cell.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert cell.meta["format"] == "bdf"


def test_bdf_cycles_are_detected_without_a_cycle_column(tmp_path: Path) -> None:
    series = constant_current_series()
    # machine-readable BDF names, in another case, and no cycle column
    header = "TEST_TIME_SECOND,voltage_volt,Current_Ampere"
    rows = zip(series["time_s"], series["voltage_V"], series["current_A"], strict=True)
    path = write_text(tmp_path / "cell.csv", bdf_text(header, list(rows)))
    table = read_bdf_csv(path).cycles
    assert table[CYCLE].tolist() == [1, 2, 3]
    np.testing.assert_allclose(table[DISCHARGE_CAPACITY_MAH], EXPECTED_DISCHARGE_MAH, rtol=1e-12)
    np.testing.assert_allclose(table[CHARGE_CAPACITY_MAH], EXPECTED_CHARGE_MAH, rtol=1e-12)


def test_bdf_milliampere_and_hour_units_are_converted(tmp_path: Path) -> None:
    # 2 mA for 1 h, then -1.5 mA for 1 h
    text = "Test Time / h,Voltage / V,Current / mA\n0,3.3,2\n1,3.5,2\n1,3.5,-1.5\n2,3.0,-1.5\n"
    table = read_bdf_csv(write_text(tmp_path / "c.csv", text)).cycles
    np.testing.assert_allclose(table[CHARGE_CAPACITY_MAH], [2.0], rtol=1e-12)
    np.testing.assert_allclose(table[DISCHARGE_CAPACITY_MAH], [1.5], rtol=1e-12)


def test_sign_change_between_samples_is_split_at_the_zero_crossing() -> None:
    # current ramps linearly from +1 A to -1 A over 2 s: 0.5 A s each way
    table = per_cycle_capacities([0.0, 2.0], [1.0, -1.0], [1, 1])
    assert table[CHARGE_CAPACITY_MAH].tolist() == [0.5 / 3.6]
    assert table[DISCHARGE_CAPACITY_MAH].tolist() == [0.5 / 3.6]


def test_cycles_counted_from_zero_are_shifted_to_one(tmp_path: Path) -> None:
    rows = [(r[0], r[1], r[2], 0) for r in good_bdf_rows()]
    path = write_text(tmp_path / "c.csv", bdf_text("Test Time / s,Voltage / V,Current / A,Cycle Count / 1", rows))
    cell = read_bdf_csv(path)
    assert cell.cycles[CYCLE].tolist() == [1]
    assert cell.meta["cycle_offset"] == 1


def test_bdf_every_problem_is_listed_in_one_message(tmp_path: Path) -> None:
    rows = [(float(k), 1e-3 if k < 7 else -1e-3) for k in range(14)]
    cells = [[cell_text(t), cell_text(i)] for t, i in rows]
    cells[3][1] = ""  # row 5 of the file (header is row 1)
    cells[7][1] = "nan"  # row 9
    cells[10][0] = "3.0"  # row 12: time goes back from 9.0 to 3.0
    text = "Test Time / s,Current / A\n" + "\n".join(",".join(c) for c in cells) + "\n"
    with pytest.raises(DataError) as excinfo:
        read_bdf_csv(write_text(tmp_path / "cycling.csv", text))
    assert str(excinfo.value) == (
        "cycling.csv: 3 problems: missing column 'Voltage / V'; "
        "column 'Current / A' has 2 NaN values (rows 5, 9); "
        "'Test Time / s' goes backwards at row 12"
    )
    assert len(excinfo.value.problems) == 3


def test_bdf_non_numeric_values_are_named_with_rows(tmp_path: Path) -> None:
    rows = good_bdf_rows()
    rows[1] = (1.0, "high", 1e-3, 1)
    rows[4] = (4.0, 3.4, "1,5", 1)
    text = bdf_text("Test Time / s,Voltage / V,Current / A,Cycle Count / 1", rows)
    text = text.replace("1,5,1", '"1,5",1')
    with pytest.raises(DataError) as excinfo:
        read_bdf_csv(write_text(tmp_path / "c.csv", text))
    assert_problems(
        excinfo,
        "2 problems",
        "column 'Voltage / V' has 1 non-numeric value (row 3: 'high')",
        "column 'Current / A' has 1 non-numeric value (row 6: '1,5')",
    )


def test_unitless_column_is_named_and_units_are_required(tmp_path: Path) -> None:
    text = bdf_text("Test Time / s,Voltage,Current / A", [r[:3] for r in good_bdf_rows()])
    with pytest.raises(DataError) as excinfo:
        read_bdf_csv(write_text(tmp_path / "c.csv", text))
    assert excinfo.value.problems == [
        "column 'Voltage' has no unit: units are required in column names (e.g. 'Voltage / V')"
    ]


def test_unknown_unit_is_named(tmp_path: Path) -> None:
    text = bdf_text("Test Time / s,Voltage / V,Current / uA", [r[:3] for r in good_bdf_rows()])
    with pytest.raises(DataError) as excinfo:
        read_bdf_csv(write_text(tmp_path / "c.csv", text))
    assert_problems(excinfo, "column 'Current / uA' has a unit the reader does not know ('uA')")


def test_empty_cycle_and_decreasing_cycle_count_are_reported(tmp_path: Path) -> None:
    rows = good_bdf_rows(8) + [(8.0, 3.4, 0.0, 2), (9.0, 3.4, 0.0, 2), (10.0, 3.4, 1e-3, 1)]
    with pytest.raises(DataError) as excinfo:
        read_bdf_csv(
            write_text(tmp_path / "c.csv", bdf_text("Test Time / s,Voltage / V,Current / A,Cycle Count / 1", rows))
        )
    assert_problems(excinfo, "'Cycle Count / 1' decreases at row 12", "cycle 2 has no current (rows 10-11)")


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    with pytest.raises(DataError) as excinfo:
        read_bdf_csv(write_text(tmp_path / "empty.csv", ""))
    assert str(excinfo.value) == "empty.csv: 1 problem: file is empty"
    with pytest.raises(DataError) as excinfo:
        read_bdf_csv(write_text(tmp_path / "header.csv", "Test Time / s,Voltage / V,Current / A\n"))
    assert_problems(excinfo, "file has a header but no data rows")


def test_duplicate_columns_for_one_quantity(tmp_path: Path) -> None:
    rows = [(*r[:3], r[2]) for r in good_bdf_rows()]
    with pytest.raises(DataError) as excinfo:
        read_bdf_csv(
            write_text(tmp_path / "c.csv", bdf_text("Test Time / s,Voltage / V,Current / A,current_ampere", rows))
        )
    assert_problems(excinfo, "columns 'Current / A' and 'current_ampere' both give 'Current / A'")


# --- per-cycle summaries --------------------------------------------------------------


def test_summary_in_ampere_hours_with_computed_ce(tmp_path: Path) -> None:
    text = "Cycle_Number,Discharge Capacity / Ah,charge_capacity_Ah\n1,0.0018,0.002\n2,0.0017,0.002\n"
    cell = read_cycle_summary_csv(write_text(tmp_path / "s.csv", text))
    np.testing.assert_allclose(cell.cycles[DISCHARGE_CAPACITY_MAH], [1.8, 1.7], rtol=1e-12)
    np.testing.assert_allclose(cell.cycles[COULOMBIC_EFFICIENCY], [0.9, 0.85], rtol=1e-12)
    np.testing.assert_allclose(cell.cycles[NORMALIZED_CAPACITY], [1.0, 1.7 / 1.8], rtol=1e-12)


def test_summary_with_normalized_capacity_only(tmp_path: Path) -> None:
    cell = read_cycle_summary_csv(write_text(tmp_path / "s.csv", "cycle,normalized_capacity\n1,1.0\n10,0.8\n"))
    assert cell.cycles[CYCLE].tolist() == [1, 10]
    assert cell.cycles[NORMALIZED_CAPACITY].tolist() == [1.0, 0.8]
    assert cell.cycles[DISCHARGE_CAPACITY_MAH].isna().all()


def test_summary_every_problem_is_listed(tmp_path: Path) -> None:
    text = (
        "cycle,discharge_capacity_mAh,coulombic_efficiency\n"
        "1,1.8,0.99\n"  # row 2
        "2,-0.1,0.98\n"  # row 3: negative capacity
        "2,1.7,1.5\n"  # row 4: duplicate cycle, CE > 1.2
        "4,,0.97\n"  # row 5: NaN capacity
        "3,1.6,0\n"  # row 6: decreasing cycle, CE = 0
    )
    with pytest.raises(DataError) as excinfo:
        read_cycle_summary_csv(write_text(tmp_path / "summary.csv", text))
    assert excinfo.value.problems == [
        "column 'discharge_capacity_mAh' has 1 NaN value (row 5)",
        "duplicate cycle numbers: 2 (rows 3, 4)",
        "cycle numbers are not increasing at row 6",
        "column 'discharge_capacity_mAh' has 1 negative value (row 3)",
        "column 'coulombic_efficiency' has 2 values outside (0, 1.2] (rows 4, 6)",
    ]
    assert str(excinfo.value).startswith("summary.csv: 5 problems: ")


def test_summary_percent_ce_gets_a_hint(tmp_path: Path) -> None:
    text = "cycle,discharge_capacity_mAh,coulombic_efficiency\n1,1.8,99.1\n2,1.7,98.9\n"
    with pytest.raises(DataError) as excinfo:
        read_cycle_summary_csv(write_text(tmp_path / "s.csv", text))
    assert_problems(excinfo, "they look like percent")
    # ... and the percent column is converted
    text = text.replace("coulombic_efficiency", "Coulombic Efficiency / %")
    cell = read_cycle_summary_csv(write_text(tmp_path / "s.csv", text))
    np.testing.assert_allclose(cell.cycles[COULOMBIC_EFFICIENCY], [0.991, 0.989], rtol=1e-12)


def test_summary_unitless_capacity_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError) as excinfo:
        read_cycle_summary_csv(write_text(tmp_path / "s.csv", "cycle,discharge_capacity\n1,1.8\n"))
    assert excinfo.value.problems == [
        "column 'discharge_capacity' has no unit: units are required in column names "
        "(e.g. 'discharge_capacity_mAh' or 'discharge_capacity_Ah')"
    ]


def test_summary_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(DataError) as excinfo:
        read_cycle_summary_csv(write_text(tmp_path / "s.csv", "step,voltage_V\n1,3.4\n"))
    assert_problems(excinfo, "missing column 'cycle'", "missing a capacity column", "found 'step', 'voltage_V'")


# --- dispatch -----------------------------------------------------------------------


def test_read_cycling_data_picks_the_reader_from_the_columns(tmp_path: Path) -> None:
    bdf = write_text(
        tmp_path / "a.csv", bdf_text("Test Time / s,Voltage / V,Current / A", [r[:3] for r in good_bdf_rows()])
    )
    summary = write_text(tmp_path / "b.csv", "cycle,discharge_capacity_mAh\n1,1.8\n2,1.7\n")
    assert read_cycling_data(bdf).meta["format"] == "bdf"
    assert read_cycling_data(summary).meta["format"] == "summary"
    assert read_cycling_data(ANODE_FREE, "AF22").meta["format"] == "anode-free-table"
    assert read_cycling_data(summary, format="summary").cycles[CYCLE].tolist() == [1, 2]


def test_read_cycling_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown format 'xlsx'"):
        read_cycling_data(ANODE_FREE, "AF00", format="xlsx")
    with pytest.raises(DataError, match="file not found"):
        read_cycling_data(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="cannot tell the format"):
        read_cycling_data(write_text(tmp_path / "x.csv", "a,b\n1,2\n"))


def test_vendor_file_without_galvani_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "galvani", None)  # import fails even if installed
    path = tmp_path / "run.mpr"
    path.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a")
    with pytest.raises(DataError) as excinfo:
        read_cycling_data(path)
    assert_problems(excinfo, "run.mpr: 1 problem:", "needs the 'galvani' package", "pip install galvani")


# --- selection ----------------------------------------------------------------------


def test_select_cycles_splits_fitted_and_unseen() -> None:
    cell = read_anode_free_table(ANODE_FREE, "AF00")
    fitted, unseen = select_cycles(cell, 30)
    assert fitted.cycles[CYCLE].tolist() == [1, 10, 20, 30]
    assert unseen.cycles[CYCLE].tolist() == [40, 50, 60, 70]
    assert fitted.sha256 == unseen.sha256 == cell.sha256
    assert fitted.meta["selection"] == "cycle <= 30"
    with pytest.raises(DataError, match="max_cycle must be an integer"):
        select_cycles(cell, 0)


# --- writers ------------------------------------------------------------------------


def test_bdf_writer_round_trip_gives_the_same_capacities(tmp_path: Path) -> None:
    series = constant_current_series()
    path = write_bdf_csv(
        tmp_path / "synthetic.csv",
        series["time_s"],
        series["voltage_V"],
        series["current_A"],
        series["cycle"],
        step=series["step"],
    )
    expected = per_cycle_capacities(series["time_s"], series["current_A"], series["cycle"])
    pd.testing.assert_frame_equal(read_bdf_csv(path).cycles, expected, check_exact=True)
    written = pd.read_csv(path)
    assert list(written.columns) == ["Test Time / s", "Voltage / V", "Current / A", "Cycle Count / 1", "Step Count / 1"]
    assert (written["Voltage / V"].to_numpy() == series["voltage_V"]).all()


def test_summary_writer_round_trip(tmp_path: Path) -> None:
    series = constant_current_series()
    table = per_cycle_capacities(series["time_s"], series["current_A"], series["cycle"])
    path = write_cycle_summary_csv(tmp_path / "summary.csv", table)
    pd.testing.assert_frame_equal(read_cycle_summary_csv(path).cycles, table, check_exact=True)
    # normalized-only data: the empty capacity columns are left out
    cell = read_anode_free_table(ANODE_FREE, "AF22")
    path = write_cycle_summary_csv(tmp_path / "af22.csv", cell)
    assert pd.read_csv(path).columns.tolist() == [CYCLE, NORMALIZED_CAPACITY]
    pd.testing.assert_frame_equal(read_cycle_summary_csv(path).cycles, cell.cycles, check_exact=True)


def test_writer_failure_mid_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "cell.csv"
    target.write_text("previous content\n")
    series = constant_current_series()

    def disk_full(fd: int) -> None:  # called after the rows went to the temporary file
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(data.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_bdf_csv(target, series["time_s"], series["voltage_V"], series["current_A"], series["cycle"])
    assert target.read_text() == "previous content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cell.csv"]


def test_writer_failure_at_rename_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: str, dst: str) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(data.os, "replace", refuse)
    table = pd.DataFrame({CYCLE: [1, 2], DISCHARGE_CAPACITY_MAH: [1.8, 1.7]})
    with pytest.raises(PermissionError):
        write_cycle_summary_csv(tmp_path / "s.csv", table)
    assert list(tmp_path.iterdir()) == []


def test_writers_refuse_bad_data_before_touching_the_disk(tmp_path: Path) -> None:
    with pytest.raises(DataError) as excinfo:
        write_bdf_csv(tmp_path / "c.csv", [0.0, 1.0, 2.0], [3.4, 3.4], [1e-3, np.nan, 1e-3], [1, 1, 1.5])
    assert_problems(
        excinfo,
        "'Current / A' has 1 non-finite value (sample 1)",
        "'Cycle Count / 1' has non-integer values",
        "columns have different lengths",
    )
    with pytest.raises(DataError, match="missing column 'cycle'"):
        write_cycle_summary_csv(tmp_path / "s.csv", pd.DataFrame({DISCHARGE_CAPACITY_MAH: [1.0]}))
    assert list(tmp_path.iterdir()) == []


def test_written_file_has_ordinary_permissions(tmp_path: Path) -> None:
    path = write_cycle_summary_csv(tmp_path / "s.csv", pd.DataFrame({CYCLE: [1], DISCHARGE_CAPACITY_MAH: [1.0]}))
    assert path.stat().st_mode & 0o777 == 0o644


# --- errors and layering --------------------------------------------------------------


def test_data_error_keeps_problems_and_pickles() -> None:
    import pickle

    err = DataError(["a", "b"], source="f.csv")
    assert str(err) == "f.csv: 2 problems: a; b"
    again = pickle.loads(pickle.dumps(err))
    assert again.problems == ["a", "b"] and str(again) == str(err)
    assert isinstance(err, ValueError)


def test_cycle_data_holds_canonical_columns() -> None:
    cell = read_anode_free_table(ANODE_FREE, "AF25")
    assert isinstance(cell, CycleData)
    assert cell.cycle_numbers.dtype == np.int64
    assert cell.cycles[CYCLE].dtype == np.int64


def test_data_layer_imports_no_heavy_or_upper_layer_package() -> None:
    code = (
        "import sys, twin.calibration.data, twin.calibration.baseline; "
        "bad = [m for m in ('pybamm', 'casadi', 'click', 'optuna', 'mlflow', 'twin.experiments') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
