"""`twin sweep` as a user runs it: 24 designs in parallel processes, a second run that
recomputes nothing, and a sweep killed midway that resumes to the same 24 rows.

Designs are made short-lived (dead-Li fraction raised 12x, at most 10 cycles) so the
whole file takes seconds per sweep."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from twin.experiments.plots import sweep_heatmap_figure
from twin.experiments.sweep import journal_path, read_table

NP_RATIOS = [0.0, 0.5, 1.0, 1.5]
AREAL_CAPACITIES = [1.0, 2.0, 3.0]
CHARGE_RATES = [0.5, 1.0]
MAX_CYCLES = 10
GRID_ARGS = [
    "--np-ratio", ",".join(map(str, NP_RATIOS)),
    "--areal-capacity", ",".join(map(str, AREAL_CAPACITIES)),
    "--charge-rate", ",".join(map(str, CHARGE_RATES)),
    "--max-cycles", str(MAX_CYCLES),
    "--set", "Dead lithium fraction at reference current density=0.15",
    "--workers", "2",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def sweep_command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "twin.experiments.cli", "sweep", *GRID_ARGS, "--out", str(out), *extra]


def run_sweep_cli(out: Path, *extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run(sweep_command(out, *extra), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted sweep: its table, stderr and heatmap."""
    folder = tmp_path_factory.mktemp("reference")
    out, plot = folder / "sweep.csv", folder / "life.png"
    result = run_sweep_cli(out, "--plot", str(plot))
    return out, plot, result


def test_sweep_writes_one_row_per_design(reference):
    out, plot, result = reference
    table = read_table(out)
    assert len(table) == 24 and table["design_key"].is_unique
    combos = set(zip(table["np_ratio"], table["areal_capacity_mAh_cm2"], table["charge_rate_C"]))
    assert combos == {(n, q, r) for n in NP_RATIOS for q in AREAL_CAPACITIES for r in CHARGE_RATES}
    assert not journal_path(out).exists()  # the journal goes once the table is whole
    assert "24 designs to compute" in result.stderr
    assert (table["error"] == "").all()
    # physics: a larger Li excess lives longer; a cell still alive at the limit has no life yet
    life = table["cycle_life"].astype("Float64").fillna(MAX_CYCLES + 1).astype(float)
    for _, group in table.assign(life=life).groupby(["areal_capacity_mAh_cm2", "charge_rate_C"]):
        lives = group.sort_values("np_ratio")["life"].to_numpy()
        assert (lives[1:] >= lives[:-1]).all(), group
        assert lives[0] < lives[-1]
    alive = table["cycle_life"].isna()
    assert (table.loc[alive, "end_of_life_reason"] == "max_cycles").all()
    assert (table.loc[~alive, "end_of_life_reason"] == "lithium_depleted").all()
    # every dead cell lost Li to both dead Li and SEI; dead Li dominates (Fang 2019)
    dead = table.loc[~alive]
    assert (dead["dead_li_at_eol_mAh_cm2"] > dead["sei_li_at_eol_mAh_cm2"]).all()
    assert (dead["sei_li_at_eol_mAh_cm2"] > 0).all()
    assert (table["swelling_at_eol_pct"] > 0).all()
    assert table["retention_at_100"].isna().all()  # no design reaches cycle 100
    assert (table["elapsed_s"] > 0).all()


def test_sweep_heatmap_has_a_panel_per_charge_rate(reference):
    out, plot, _ = reference
    assert plot.read_bytes()[:8] == PNG_MAGIC and plot.stat().st_size > 10_000
    figure = sweep_heatmap_figure(read_table(out))
    panels = [ax for ax in figure.axes if ax.images and ax.get_visible()]
    assert sorted(ax.get_title() for ax in panels) == ["charge 0.5 C", "charge 1 C"]
    for ax in panels:
        assert ax.images[0].get_array().shape == (len(AREAL_CAPACITIES), len(NP_RATIOS))


def test_second_run_recomputes_nothing(reference, tmp_path):
    out, _, _ = reference
    copy = tmp_path / "sweep.csv"
    copy.write_bytes(out.read_bytes())
    result = run_sweep_cli(copy)
    assert "24 of 24 designs already done" in result.stderr
    assert "(24 reused, 0 computed)" in result.stderr
    # same bytes: every row, including the first run's elapsed_s, was reused
    assert copy.read_bytes() == out.read_bytes()


def complete_lines(journal: Path) -> list[dict]:
    rows = []
    for line in journal.read_text().splitlines() if journal.exists() else []:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return rows


def test_killed_sweep_resumes_to_the_same_rows(reference, tmp_path):
    out = tmp_path / "sweep.csv"
    journal = journal_path(out)
    process = subprocess.Popen(sweep_command(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while len(complete_lines(journal)) < 4 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the sweep and its workers, at once
        process.wait(timeout=30)
    journaled = complete_lines(journal)
    assert not out.exists(), "the sweep finished before it could be killed"
    assert 4 <= len(journaled) < 24

    result = run_sweep_cli(out)
    assert f"{len(journaled)} of 24 designs already done" in result.stderr
    assert f"({len(journaled)} reused, {24 - len(journaled)} computed)" in result.stderr
    assert not journal.exists()
    resumed, uninterrupted = read_table(out), read_table(reference[0])
    assert resumed["design_key"].is_unique and len(resumed) == 24
    pd.testing.assert_frame_equal(resumed.drop(columns="elapsed_s"), uninterrupted.drop(columns="elapsed_s"),
                                  check_exact=False, rtol=1e-9)
    # the designs finished before the kill were not recomputed
    elapsed = dict(zip(resumed["design_key"], resumed["elapsed_s"]))
    for row in journaled:
        assert elapsed[row["design_key"]] == row["elapsed_s"]


def test_vary_sweeps_any_design_field_and_reports_it(tmp_path):
    from click.testing import CliRunner

    from twin.experiments.cli import main

    out = tmp_path / "vary.csv"
    result = CliRunner().invoke(main, [
        "sweep", "--np-ratio", "1", "--max-cycles", "3", "--workers", "1", "--model", "spme",
        "--vary", "separator_thickness_um=12,40", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = read_table(out)
    assert sorted(table["separator_thickness_um"]) == [12.0, 40.0]
    assert table["design_key"].nunique() == 2
    # the thicker separator's ionic resistance (SPMe resolves the electrolyte; SPM has no
    # electrolyte drop) costs discharge capacity at the same rate
    thin, thick = (table.set_index("separator_thickness_um").loc[t, "initial_capacity_mAh_cm2"] for t in (12.0, 40.0))
    assert thick < thin


def test_sweep_curves_long_format_and_resume(tmp_path):
    out, curves = tmp_path / "sweep.csv", tmp_path / "curves.parquet"
    small = [sys.executable, "-m", "twin.experiments.cli", "sweep", "--np-ratio", "0,0.5", "--areal-capacity", "1",
             "--charge-rate", "1", "--max-cycles", str(MAX_CYCLES), "--set",
             "Dead lithium fraction at reference current density=0.15", "--workers", "1", "--out", str(out),
             "--curves", str(curves)]
    first = subprocess.run(small, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    table = read_table(out)
    long = pd.read_parquet(curves)
    assert list(long["design_key"].unique()) == list(table["design_key"])  # grid order
    for _, row in table.iterrows():
        one = long[long["design_key"] == row["design_key"]]
        assert one["cycle"].tolist() == list(range(1, row["last_cycle"] + 1))
        assert (one["np_ratio"] == row["np_ratio"]).all()
        # the electrolyte varies per cycle; the design's amount sits beside it
        assert (one["design_electrolyte_g_per_Ah"] == row["electrolyte_g_per_Ah"]).all()
    # a second run reuses every design and its curves
    second = subprocess.run(small, capture_output=True, text=True, timeout=300)
    assert "(2 reused, 0 computed)" in second.stderr, second.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(curves), long)
