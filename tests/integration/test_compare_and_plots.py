"""`twin compare` and the figures of compare, predict and sweep, on short-lived designs
(dead-Li fraction raised 4x, at most 20 cycles)."""

import json

import matplotlib.image
import pytest
from click.testing import CliRunner

from twin.experiments.cli import main
from twin.experiments.plots import DPI, comparison_figure, prediction_figure
from twin.experiments.sweep import DesignCase, RunSettings, predict_cases
from twin.design import CellDesign
from twin.protocol import Protocol

DEAD_LI = "Dead lithium fraction at reference current density"
SHORT = ["--areal-capacity", "3", "--max-cycles", "20", "--set", f"{DEAD_LI}=0.05", "--workers", "1"]
SPECS = ["np_ratio=0,label=anode-free", "np_ratio=0.5", "np_ratio=1,areal_capacity=2"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path, figure_size_in):
    assert path.read_bytes()[:8] == PNG_MAGIC
    height, width, channels = matplotlib.image.imread(path).shape
    assert (width, height) == (round(figure_size_in[0] * DPI), round(figure_size_in[1] * DPI))
    assert channels in (3, 4)


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    plot = folder / "compare.png"
    args = ["compare", *[a for spec in SPECS for a in ("--design", spec)], *SHORT, "--format", "json",
            "--plot", str(plot), "--curves", str(folder / "curves.csv")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["designs"], plot, result


def test_compare_reports_each_design_side_by_side(compared):
    designs, _, _ = compared
    assert [d["label"] for d in designs] == ["anode-free", "np_ratio=0.5", "np_ratio=1, areal_capacity=2"]
    assert [d["np_ratio"] for d in designs] == [0.0, 0.5, 1.0]
    assert [d["areal_capacity_mAh_cm2"] for d in designs] == [3.0, 3.0, 2.0]
    anode_free, thin_li, more_li = designs
    # Li excess buys cycles: anode-free dies first, N:P 1 at 2 mAh/cm2 outlives N:P 0.5 at 3
    assert anode_free["cycle_life"] < thin_li["cycle_life"]
    assert more_li["cycle_life"] is None or more_li["cycle_life"] > thin_li["cycle_life"]
    for d in designs:
        assert d["initial_capacity_mAh_cm2"] == pytest.approx(0.94 * d["areal_capacity_mAh_cm2"], rel=0.05)
        assert d["dead_li_at_eol_mAh_cm2"] > d["sei_li_at_eol_mAh_cm2"] > 0
        assert d["swelling_at_eol_pct"] > 0
        assert d["mode"] in ("fast", "full")
    # the more Li lost before end of life, the more the cell swelled
    assert thin_li["dead_li_at_eol_mAh_cm2"] > anode_free["dead_li_at_eol_mAh_cm2"]
    assert thin_li["swelling_at_eol_pct"] > anode_free["swelling_at_eol_pct"]


def test_compare_curves_are_long_format_per_design_and_cycle(compared):
    import pandas as pd

    designs, plot, result = compared
    curves = pd.read_csv(plot.parent / "curves.csv")
    assert list(curves["label"].unique()) == [d["label"] for d in designs]
    for design in designs:
        one = curves[curves["label"] == design["label"]]
        # every simulated cycle, in order, for each design
        assert one["cycle"].tolist() == list(range(1, len(one) + 1))
        assert len(one) >= min(design["cycles_simulated"], 20)
    assert json.loads(result.stdout)["provenance"]["pybamm"]


def test_compare_plot_is_a_png(compared):
    _, plot, result = compared
    assert f"wrote {plot}" in result.stderr
    assert_png(plot, (15, 4.8))


def test_compare_table_names_every_design(tmp_path):
    out = tmp_path / "table.txt"
    result = CliRunner().invoke(main, ["compare", "--design", "np_ratio=0", "--design", "np_ratio=0.5",
                                       "--areal-capacity", "3", "--max-cycles", "3", "--workers", "1",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0].split() == ["np_ratio=0", "np_ratio=0.5"]
    rows = {line[:27].strip(): line[27:].split() for line in lines[1:]}
    assert rows["cycle life"][1] == ">3"  # N:P 0.5 outlives 3 cycles
    assert set(rows) >= {"end of life", "initial capacity [mAh/cm2]", "swelling at EOL [%]",
                         "dead Li at EOL [mAh/cm2]", "SEI Li at EOL [mAh/cm2]"}


def test_comparison_figure_draws_every_design_in_every_panel():
    cases = [DesignCase(CellDesign(np_ratio=n, areal_capacity_mAh_cm2=3), Protocol(), label=f"N:P {n}")
             for n in (0, 0.5)]
    settings = RunSettings(max_cycles=12, overrides=((DEAD_LI, 0.05),))
    predictions = predict_cases(cases, settings, workers=1)
    labels = [c.label for c in cases]
    figure = comparison_figure(predictions, labels)
    retention, inventory, swelling = figure.axes[:3]

    def design_lines(ax):
        return [line for line in ax.get_lines() if line.get_label() in labels]

    assert len(design_lines(retention)) == 2
    assert len(design_lines(inventory)) == 3 * 2  # active, dead, SEI per design
    assert len(design_lines(swelling)) == 2
    # the retention curve of a dead design ends below the end-of-life line
    anode_free = design_lines(retention)[0].get_ydata()
    assert anode_free[0] == pytest.approx(100) and anode_free[-1] < 80
    # the inventory lines are the twin's numbers: dead Li of design 2 at its last cycle
    dead = [line for line in design_lines(inventory) if line.get_linestyle() == "--"][1].get_ydata()
    assert dead[-1] == pytest.approx(predictions[1].cycles["dead_li_mAh_cm2"].iloc[-1])


def test_predict_plot(tmp_path):
    plot = tmp_path / "predict.png"
    result = CliRunner().invoke(main, ["predict", "--np-ratio", "0.5", "--areal-capacity", "3",
                                       "--max-cycles", "4", "--plot", str(plot), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert_png(plot, (10, 7.2))
    from twin.simulation import predict_cycle_life

    prediction = predict_cycle_life(CellDesign(np_ratio=0, areal_capacity_mAh_cm2=3), max_cycles=12,
                                    overrides={DEAD_LI: 0.05})
    figure = prediction_figure(prediction)
    capacity, efficiency, inventory, thickness = figure.axes[:4]
    assert capacity.get_lines()[0].get_ydata()[-1] < 0.8 * capacity.get_lines()[0].get_ydata()[0]
    assert {line.get_label() for line in efficiency.get_lines()} == {
        "cell CE (discharge / charge)", "Li CE (1 - Li lost / Li plated)"}
    # the stacked inventory adds up to all Li in the cell, which is conserved
    layers = inventory.collections
    assert [layer.get_label() for layer in layers] == [
        "Li in cathode", "active Li metal", "dead Li", "SEI Li", "Li salt in electrolyte"]
    total = prediction.cycles["total_li_mAh_cm2"].iloc[0]
    outline = layers[-1].get_paths()[0].vertices[:, 1]  # top edge, then bottom edge
    on_top = abs(outline - total) < 1e-6 * total
    assert on_top.sum() >= len(prediction.cycles) and outline.max() <= total * (1 + 1e-6)
    dead_band = layers[2].get_paths()[0].vertices[:, 1]
    assert dead_band.max() - dead_band.min() > 0
    assert [line.get_label() for line in thickness.get_lines()] == ["anode thickness"]
    assert thickness.get_ylabel() == "anode thickness [µm]"
