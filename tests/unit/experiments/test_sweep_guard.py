"""A sweep never loses finished rows (twin.experiments.sweep_guard), no solves."""

import json
import math

import pytest

from twin.design import CellDesign
from twin.experiments import sweep
from twin.experiments.sweep import RunSettings, expand_grid, journal_path, read_table, run_sweep
from twin.experiments.sweep_guard import SweepDataError
from twin.protocol import Protocol


def grid(np_ratios=(0, 1, 2)):
    return expand_grid(CellDesign(), Protocol(), np_ratios=list(np_ratios), areal_capacities_mAh_cm2=[4],
                       electrolyte_g_per_Ah=[3], charge_rates_C=[0.3])


def fake_row(case, settings):
    row = sweep.case_inputs(case, settings)
    row.update({"cycle_life": 50, "end_of_life_reason": "lithium_depleted", "initial_capacity_mAh_cm2": 3.8,
                "retention_at_100": math.nan, "elapsed_s": 0.1, "error": ""})
    return row


@pytest.fixture(autouse=True)
def no_solves(monkeypatch):
    monkeypatch.setattr(sweep, "run_case", fake_row)
    monkeypatch.setattr(sweep, "check_cases", lambda cases, settings: None)


def test_a_rerun_with_other_settings_is_refused_and_changes_nothing(tmp_path):
    out = tmp_path / "s.csv"
    run_sweep(grid(), RunSettings(max_cycles=300), out, workers=1)
    before = out.read_bytes()
    with pytest.raises(SweepDataError, match=r"holds 3 finished row\(s\) of another sweep \(max_cycles 300 "
                                             r"\(this run: 3\)\)"):
        run_sweep(grid(), RunSettings(max_cycles=3), out, workers=1)
    assert out.read_bytes() == before and not journal_path(out).exists()


def test_an_interrupted_sweeps_journal_survives_a_rerun_with_other_settings(tmp_path):
    out = tmp_path / "s.csv"
    journal = journal_path(out)
    rows = [fake_row(c, RunSettings(max_cycles=300)) for c in grid()[:2]]
    journal.write_text("".join(json.dumps(sweep.plain_row(r)) + "\n" for r in rows))
    before = journal.read_bytes()
    with pytest.raises(SweepDataError, match="its journal holds 2 finished row"):
        run_sweep(grid(), RunSettings(max_cycles=3), out, workers=1)
    assert journal.read_bytes() == before and not out.exists()


def test_overwrite_replaces_the_other_sweep(tmp_path):
    out = tmp_path / "s.csv"
    run_sweep(grid(), RunSettings(max_cycles=300), out, workers=1)
    result = run_sweep(grid((1, 2)), RunSettings(max_cycles=3), out, workers=1, overwrite=True)
    assert result.dropped == 3 and set(read_table(out)["max_cycles"]) == {3}


def test_a_smaller_grid_is_refused_naming_the_missing_values(tmp_path):
    out = tmp_path / "s.csv"
    run_sweep(grid(), RunSettings(max_cycles=8), out, workers=1)
    with pytest.raises(SweepDataError, match=r"np_ratio 0 \(this run: 1, 2\)"):
        run_sweep(grid((1, 2)), RunSettings(max_cycles=8), out, workers=1)


@pytest.mark.parametrize("column", ["max_cycles", "mode", "eol_fraction"])
def test_a_table_with_a_column_removed_is_refused_not_rewritten(tmp_path, column):
    out = tmp_path / "s.csv"
    run_sweep(grid(), RunSettings(max_cycles=8), out, workers=1)
    table = read_table(out).drop(columns=[column])
    out.write_text(table.to_csv(index=False))
    before = out.read_bytes()
    with pytest.raises(SweepDataError, match=f"lacks the sweep column\\(s\\) {column} \\(edited\\?\\)"):
        run_sweep(grid(), RunSettings(max_cycles=8), out, workers=1)
    assert out.read_bytes() == before
