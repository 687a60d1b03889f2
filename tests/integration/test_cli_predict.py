"""`twin predict` as a user runs it: exit codes, the JSON contract, one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from twin.experiments.cli import main

CYCLE_KEYS = {
    "cycle", "discharge_capacity_mAh_cm2", "coulombic_efficiency", "li_coulombic_efficiency",
    "active_li_mAh_cm2", "dead_li_mAh_cm2", "sei_li_mAh_cm2", "anode_thickness_um",
    "swelling_pct", "electrolyte_g_per_Ah",
}


def test_predict_json_reaches_end_of_life_on_the_baseline_set():
    result = CliRunner().invoke(main, ["predict", "--np-ratio", "2", "--areal-capacity", "4",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["cycle_life"] is not None
    assert out["end_of_life_reason"] in {"capacity_fade", "lithium_depleted", "electrolyte_dry_out"}
    assert out["inputs"]["design"]["np_ratio"] == 2.0
    assert CYCLE_KEYS <= set(out["cycles"][0])
    life = out["cycle_life"]
    assert out["cycles"][-1]["cycle"] == life
    q = [c["discharge_capacity_mAh_cm2"] for c in out["cycles"]]
    assert q[-1] < 0.8 * q[0] <= min(q[:-1])  # the first cycle below 80 %
    assert out["initial_capacity_mAh_cm2"] == pytest.approx(q[0])


@pytest.mark.parametrize(("args", "message"), [
    (["--np-ratio", "-1"], "Error: invalid design: np_ratio: must not be negative, got -1.0\n"),
    (["--np-ratio", "nan"], "Error: --np-ratio must be a finite number, got nan\n"),
    (["--areal-capacity", "0"], "Error: invalid design: areal_capacity_mAh_cm2: must be greater than zero\n"),
    (["--electrolyte-amount", "-3"], "Error: invalid design: electrolyte_g_per_Ah: must not be negative, got -3.0\n"),
    (["--charge-rate", "0"], "Error: invalid protocol: charge_rate_C: must be greater than zero, got 0.0\n"),
])
def test_bad_values_exit_2_with_one_line(args, message, tmp_path):
    out = tmp_path / "result.json"
    result = CliRunner().invoke(main, ["predict", *args, "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr == message
    assert not out.exists() and list(tmp_path.iterdir()) == []  # nothing half-written


def test_unknown_option_value_is_a_usage_error():
    result = CliRunner().invoke(main, ["predict", "--model", "p2d"])
    assert result.exit_code == 2
    assert "'p2d' is not one of 'spm', 'spme', 'dfn'" in result.stderr


def test_out_file_is_written_whole(tmp_path):
    out = tmp_path / "life.csv"
    result = CliRunner().invoke(main, ["predict", "--np-ratio", "0", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0].startswith("cycle,charge_capacity_mAh_cm2,discharge_capacity_mAh_cm2")
    assert len(lines) > 2
    assert [p.name for p in tmp_path.iterdir()] == ["life.csv"]


def test_help_does_not_import_pybamm():
    code = ("import sys; from twin.experiments.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'pybamm' not in sys.modules and 'optuna' not in sys.modules, 'heavy import'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "predict" in done.stdout


def test_pouch_cell_capacity_and_stack_thickness_come_out():
    result = CliRunner().invoke(main, ["predict", "--np-ratio", "1", "--electrode-area", "50", "--layers", "20",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    cell = out["cell"]
    assert cell["nominal_capacity_Ah"] == pytest.approx(4.0)  # 4 mAh/cm2 x 50 cm2 x 20
    growth = cell["stack_thickness_end_mm"] / cell["stack_thickness_initial_mm"] - 1
    assert growth * 100 == pytest.approx(out["cycles"][-1]["swelling_pct"], rel=1e-6)


@pytest.mark.parametrize(("args", "message"), [
    (["--eol", "nan"], "'nan' is not a number"),
    (["--protocol", "{toml}"], "invalid protocol: v_min: the NMC811 window would be 4.3 V to 4.2 V"),
    (["--np-ratio", "0", "--max-cycles", "2", "--out", "{missing}/x.json"], "cannot write {missing}"),
])
def test_more_bad_input_is_named(args, message, tmp_path):
    toml = tmp_path / "p.toml"
    toml.write_text("v_min = 4.3\n")
    missing = tmp_path / "file-not-folder"
    missing.write_text("")
    fill = {"toml": str(toml), "missing": str(missing)}
    result = CliRunner().invoke(main, ["predict", *[a.format(**fill) for a in args]])
    assert result.exit_code in (1, 2)
    assert message.format(**fill) in result.stderr
    assert "Traceback" not in result.stderr


def test_out_of_range_parameter_override_is_rejected():
    from twin.cell_parameters import parameter_values
    from twin.design import CellDesign
    from twin.errors import DesignError
    from twin.protocol import Protocol

    with pytest.raises(DesignError, match="is a fraction and must be below 1, got 5"):
        parameter_values(CellDesign(), Protocol(), {"Dead lithium fraction at reference current density": 5})
    with pytest.raises(DesignError, match="must be a finite, non-negative number, got -1"):
        parameter_values(CellDesign(), Protocol(), {"Li-metal SEI rate constant [mol.m-2.s-1]": -1})
