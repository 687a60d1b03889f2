"""Sweep grid expansion, validation, design keys and the resumable store (no solves)."""

import json
import math

import pytest
from click.testing import CliRunner

from twin.experiments import sweep
from twin.experiments.cli import main
from twin.experiments.options import InputError, parse_float_list, parse_parameter_overrides
from twin.experiments.sweep import (
    DesignCase, RunSettings, SweepError, case_from_spec, design_key, expand_grid, journal_path,
    load_finished, read_table, rows_to_table, run_sweep, write_table,
)
from twin.design import CellDesign
from twin.protocol import Protocol

BASE_DESIGN = CellDesign()
BASE_PROTOCOL = Protocol()


def grid(**axes):
    values = {"np_ratios": [0, 1, 2, 3], "areal_capacities_mAh_cm2": [2, 3, 4],
              "electrolyte_g_per_Ah": [3], "charge_rates_C": [0.3, 1.0]}
    values.update(axes)
    return expand_grid(BASE_DESIGN, BASE_PROTOCOL, **values)


def test_grid_has_every_combination_once_np_fastest():
    cases = grid()
    assert len(cases) == 24
    combos = {(c.design.np_ratio, c.design.areal_capacity_mAh_cm2, c.protocol.charge_rate_C) for c in cases}
    assert combos == {(n, q, r) for n in (0, 1, 2, 3) for q in (2, 3, 4) for r in (0.3, 1.0)}
    assert [c.design.np_ratio for c in cases[:4]] == [0, 1, 2, 3]
    assert {c.design.areal_capacity_mAh_cm2 for c in cases[:4]} == {2}
    settings = RunSettings(max_cycles=10)
    assert len({design_key(c, settings) for c in cases}) == 24
    # what is not swept comes from the base design and protocol
    assert {c.protocol.discharge_rate_C for c in cases} == {BASE_PROTOCOL.discharge_rate_C}
    assert {c.design.cathode for c in cases} == {"NMC811"}


def test_repeated_values_are_one_design():
    assert len(grid(np_ratios=[1, 1.0, 2], areal_capacities_mAh_cm2=[4], charge_rates_C=[1])) == 2


@pytest.mark.parametrize(("axes", "names"), [
    ({"np_ratios": [1, -1]}, ["np_ratio = -1", "must not be negative"]),
    ({"areal_capacities_mAh_cm2": [4, 0]}, ["areal_capacity_mAh_cm2 = 0", "greater than zero"]),
    ({"electrolyte_g_per_Ah": [3, 500]}, ["electrolyte_g_per_Ah = 500", "between 0.3 and 200"]),
    ({"charge_rates_C": [0.5, 0]}, ["charge_rate_C = 0", "greater than zero"]),
    ({"charge_rates_C": [math.nan]}, ["charge_rate_C", "nan"]),
    ({"np_ratios": []}, ["np_ratio", "at least one value"]),
])
def test_a_bad_axis_value_is_named(axes, names):
    with pytest.raises(SweepError) as err:
        grid(**axes)
    for name in names:
        assert name in str(err.value)


def test_np_ratio_too_thin_for_an_areal_capacity_names_both():
    # N:P 0.1 x 1 mAh/cm2 is a 0.5 um foil: fine at 4 mAh/cm2 (1.9 um), not at 1
    with pytest.raises(SweepError, match=r"np_ratio = 0.1 with areal_capacity_mAh_cm2 = 1.*foil"):
        grid(np_ratios=[0.1], areal_capacities_mAh_cm2=[4, 1])


def test_strategy_axis_and_combinations():
    cases = grid(np_ratios=[1], areal_capacities_mAh_cm2=[4], charge_rates_C=[1],
                 strategies=["none", "lhce", "lhce + host", "LHCE+host"])
    assert [c.strategy for c in cases] == ["none", "lhce", "lhce+host", "LHCE+host"]
    assert cases[2].strategies == ["lhce", "host"] and cases[0].strategies == []
    with pytest.raises(SweepError, match="empty name"):
        grid(strategies=["lhce+"])


def test_design_key_is_the_request_not_its_spelling():
    case = grid()[5]
    settings = RunSettings(max_cycles=10, overrides=(("Dead lithium fraction at reference current density", 0.05),))
    same = DesignCase(CellDesign(np_ratio=int(case.design.np_ratio),
                                 areal_capacity_mAh_cm2=case.design.areal_capacity_mAh_cm2),
                      Protocol(charge_rate_C=case.protocol.charge_rate_C), label="another label")
    assert design_key(same, settings) == design_key(case, settings)
    other_settings = [
        RunSettings(max_cycles=11, overrides=settings.overrides),
        RunSettings(max_cycles=10, overrides=settings.overrides, mode="fast"),
        RunSettings(max_cycles=10, overrides=settings.overrides, eol_fraction=0.7),
        RunSettings(max_cycles=10),
        RunSettings(max_cycles=10, overrides=settings.overrides, stop_on_dendrite_risk=True),
    ]
    keys = {design_key(case, s) for s in other_settings} | {design_key(case, settings)}
    assert len(keys) == len(other_settings) + 1
    assert design_key(DesignCase(case.design, case.protocol, "lhce"), settings) != design_key(case, settings)


def test_float_lists_name_the_option_and_the_bad_value():
    assert parse_float_list(" 0, 1,2.5 ", "--np-ratio") == [0.0, 1.0, 2.5]
    for text, fragment in (("1,abc", "'abc' is not a number"), ("1,,2", "empty value"),
                           ("1,inf", "not a finite number")):
        with pytest.raises(InputError) as err:
            parse_float_list(text, "--np-ratio")
        assert str(err.value).startswith("--np-ratio: ") and fragment in str(err.value)


def test_parameter_overrides_parse_and_name_a_bad_item():
    name = "Dead lithium fraction at reference current density"
    assert parse_parameter_overrides([f"{name}=0.05"]) == {name: 0.05}
    with pytest.raises(InputError, match="is not NAME=VALUE"):
        parse_parameter_overrides(["0.05"])
    with pytest.raises(InputError, match=f"'{name}': 'lots' is not a number"):
        parse_parameter_overrides([f"{name}=lots"])


def test_design_specs_for_compare():
    case = case_from_spec("np_ratio=0, areal-capacity=3,charge_rate=1,label=anode-free",
                          BASE_DESIGN, BASE_PROTOCOL)
    assert (case.design.np_ratio, case.design.areal_capacity_mAh_cm2) == (0, 3)
    assert case.protocol.charge_rate_C == 1 and case.label == "anode-free"
    assert case.design.electrolyte_g_per_Ah == BASE_DESIGN.electrolyte_g_per_Ah  # kept from the base
    assert case_from_spec("np_ratio=1", BASE_DESIGN, BASE_PROTOCOL).label == "np_ratio=1"
    for spec, fragment in (("np_ratio=1,thickness=3", "unknown key 'thickness'"),
                           ("np_ratio=two", "np_ratio: 'two' is not a number"),
                           ("np_ratio=1,np_ratio=2", "'np_ratio' given twice"),
                           ("np_ratio", "is not KEY=VALUE"),
                           ("electrolyte_amount=-1", "electrolyte_g_per_Ah: must not be negative")):
        with pytest.raises(SweepError, match=fragment):
            case_from_spec(spec, BASE_DESIGN, BASE_PROTOCOL)


@pytest.mark.parametrize(("args", "message"), [
    (["sweep", "--np-ratio", "1,abc"], "Error: --np-ratio: 'abc' is not a number\n"),
    (["sweep", "--charge-rate", "0.5,-1"], "--charge-rate: charge_rate_C = -1.0: invalid protocol"),
    (["sweep", "--areal-capacity", "4", "--out", "{tmp}/s.txt"], "Error: --out: output s.txt: use a .csv"),
    (["sweep", "--plot", "{tmp}/map.jpg"], "--plot: map.jpg: use a file name ending in .png"),
    (["sweep", "--set", "no equals sign"], "--set: 'no equals sign' is not NAME=VALUE"),
    (["compare", "--design", "np_ratio=1"], "Error: --design: give at least two designs"),
    (["compare", "--design", "np_ratio=1", "--design", "np=2"], "unknown key 'np'"),
])
def test_cli_input_errors_are_one_line_exit_2(args, message, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if args[0] == "sweep" and "--out" not in args:
        args += ["--out", str(tmp_path / "s.csv")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # nothing written


def fake_row(case, settings):
    """A stand-in worker: a row whose numbers depend on the inputs, no solve."""
    row = sweep.case_inputs(case, settings)
    life = int(10 * (1 + case.design.np_ratio) / case.design.areal_capacity_mAh_cm2)
    row.update({"cycle_life": life if life < settings.max_cycles else None,
                "end_of_life_reason": "lithium_depleted" if life < settings.max_cycles else "max_cycles",
                "initial_capacity_mAh_cm2": 0.94 * case.design.areal_capacity_mAh_cm2 + 1e-13,
                "retention_at_100": math.nan, "elapsed_s": 0.25, "error": ""})
    return row


@pytest.fixture
def counted_worker(monkeypatch):
    calls = []

    def worker(case, settings):
        calls.append(case)
        return fake_row(case, settings)

    monkeypatch.setattr(sweep, "run_case", worker)
    monkeypatch.setattr(sweep, "check_cases", lambda cases, settings: None)
    return calls


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_resume_skips_journaled_rows_and_survives_a_torn_line(counted_worker, tmp_path, suffix):
    cases = grid()
    settings = RunSettings(max_cycles=8)
    out = tmp_path / f"sweep{suffix}"
    journal = journal_path(out)
    # an earlier run finished 5 designs, and was killed while writing the 6th line
    lines = [json.dumps(sweep.plain_row(fake_row(c, settings))) for c in cases[:5]]
    journal.write_text("\n".join(lines) + "\n" + lines[0][:17])
    result = run_sweep(cases, settings, out, workers=1)
    assert (result.reused, result.computed) == (5, 19)
    assert counted_worker == cases[5:]
    assert not journal.exists()
    table = read_table(out)
    assert list(table["design_key"]) == [design_key(c, settings) for c in cases]  # grid order, no duplicate
    assert table["cycle_life"].isna().sum() == sum(fake_row(c, settings)["cycle_life"] is None for c in cases)
    assert table["initial_capacity_mAh_cm2"].iloc[0] == fake_row(cases[0], settings)["initial_capacity_mAh_cm2"]
    # a second run with the same output computes nothing and writes the same table
    counted_worker.clear()
    again = run_sweep(cases, settings, out, workers=1)
    assert (again.reused, again.computed, counted_worker) == (24, 0, [])
    assert read_table(out).equals(table)


def test_a_different_request_is_not_reused(counted_worker, tmp_path):
    out = tmp_path / "sweep.csv"
    run_sweep(grid(), RunSettings(max_cycles=8), out, workers=1)
    counted_worker.clear()
    result = run_sweep(grid(), RunSettings(max_cycles=9), out, workers=1, overwrite=True)
    assert result.computed == 24 and len(counted_worker) == 24
    assert result.dropped == 24  # the max_cycles=8 rows are not this sweep's
    assert set(read_table(out)["max_cycles"]) == {9}


def test_rows_round_trip_through_csv_and_parquet(tmp_path):
    settings = RunSettings(max_cycles=8)
    rows = [fake_row(c, settings) for c in grid()[:6]]
    rows[2]["dendrite_risk_flag"] = True
    table = rows_to_table(rows)
    for name in ("t.csv", "t.parquet"):
        write_table(tmp_path / name, table)
        back = load_finished(tmp_path / name)
        fresh = {r["design_key"]: sweep.plain_row(r) for r in rows}
        for key, row in fresh.items():
            for column in ("np_ratio", "cycle_life", "end_of_life_reason", "initial_capacity_mAh_cm2"):
                assert back[key][column] == row[column], (name, column)
            assert back[key]["retention_at_100"] is None


def test_other_output_files_are_not_overwritten(counted_worker, tmp_path):
    out = tmp_path / "results.csv"
    out.write_text("a,b\n1,2\n")
    with pytest.raises(SweepError, match="not a twin sweep table"):
        run_sweep(grid(), RunSettings(max_cycles=8), out, workers=1)
    assert out.read_text() == "a,b\n1,2\n" and counted_worker == []


def test_two_sweeps_cannot_write_one_output(tmp_path):
    out = tmp_path / "sweep.csv"
    with sweep.Journal(journal_path(out)):
        with pytest.raises(SweepError, match="another sweep is writing"):
            sweep.Journal(journal_path(out))


def test_any_numeric_design_or_protocol_field_is_a_sweep_axis():
    cases = expand_grid(BASE_DESIGN, BASE_PROTOCOL, np_ratios=[1.0, 2.0], areal_capacities_mAh_cm2=[4.0],
                        electrolyte_g_per_Ah=[3.0], charge_rates_C=[0.3],
                        axes={"separator_thickness_um": [12, 20], "layers": [5], "cv_cutoff_C": [0.05, 0.1]})
    assert len(cases) == 2 * 2 * 2
    # N:P varies fastest, the last extra axis slowest
    assert [(c.design.np_ratio, c.design.separator_thickness_um, c.protocol.cv_cutoff_C) for c in cases[:3]] == [
        (1.0, 12.0, 0.05), (2.0, 12.0, 0.05), (1.0, 20.0, 0.05)]
    assert all(c.design.layers == 5 and isinstance(c.design.layers, int) for c in cases)
    assert len({design_key(c, RunSettings()) for c in cases}) == len(cases)


@pytest.mark.parametrize(("axes", "message"), [
    ({"cathode": [1.0]}, "cathode: not a numeric design or protocol field"),
    ({"np_ratio": [1.0]}, "np_ratio: already a grid axis"),
    ({"separator_thickness_um": [500.0]}, "separator_thickness_um = 500.0: invalid design"),
    ({"layers": [2.5]}, "layers: 2.5 is not a whole number"),
])
def test_a_bad_extra_axis_is_named(axes, message):
    with pytest.raises(SweepError, match=f"^{message}"):
        expand_grid(BASE_DESIGN, BASE_PROTOCOL, np_ratios=[1.0], areal_capacities_mAh_cm2=[4.0],
                    electrolyte_g_per_Ah=[3.0], charge_rates_C=[0.3], axes=axes)


def test_vary_option_errors_name_the_option():
    from click.testing import CliRunner

    from twin.experiments.cli import main

    result = CliRunner().invoke(main, ["sweep", "--vary", "separator_thickness_um", "--out", "x.csv"])
    assert result.exit_code == 2 and "--vary: 'separator_thickness_um' is not FIELD=LIST" in result.output


def test_compare_designs_may_set_any_numeric_field_by_name():
    case = case_from_spec("np_ratio=1,separator_thickness_um=20,layers=4,cv_cutoff_C=0.1", BASE_DESIGN, BASE_PROTOCOL)
    assert (case.design.separator_thickness_um, case.design.layers, case.protocol.cv_cutoff_C) == (20.0, 4, 0.1)
    assert isinstance(case.design.layers, int)
    with pytest.raises(SweepError, match="layers: 2.5 is not a whole number"):
        case_from_spec("layers=2.5", BASE_DESIGN, BASE_PROTOCOL)
    # the design's temperature, not the protocol's test temperature
    assert case_from_spec("temperature_degC=40", BASE_DESIGN, BASE_PROTOCOL).design.temperature_degC == 40.0
