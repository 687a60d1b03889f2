"""The Python API gives what the CLI gives: same defaults, typed results, figures."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from matplotlib.figure import Figure

import twin

pytestmark = pytest.mark.integration


def test_predict_defaults_to_fast_mode_like_the_cli() -> None:
    result = twin.predict(max_cycles=6)
    assert isinstance(result, twin.PredictionResult)
    assert result.mode == "fast"
    assert result.design == twin.CellDesign()
    assert isinstance(result.cycles, pd.DataFrame) and list(result.cycles["cycle"]) == list(range(1, 7))
    assert result.cycle_life is None and result.end_of_life_reason == "max_cycles"
    # the CLI prints the same numbers for the same design
    out = subprocess.run([sys.executable, "-m", "twin.experiments.cli", "predict", "--max-cycles", "6",
                          "--format", "json"], capture_output=True, text=True, check=True)
    cli = json.loads(out.stdout)
    assert cli["mode"] == "fast"
    assert cli["initial_capacity_mAh_cm2"] == pytest.approx(result.initial_capacity_mAh_cm2, rel=1e-9)
    figure = result.plot()
    assert isinstance(figure, Figure) and len(figure.axes) >= 4


def test_named_protocol_and_strategy_reach_the_prediction() -> None:
    name = twin.strategy_names()[0]
    result = twin.predict(twin.CellDesign(np_ratio=1), "fast-charge", strategies=name, max_cycles=3, mode="full")
    assert result.protocol.charge_rate_C == 1.0
    assert result.strategies["names"] == [name]
    assert result.to_dict()["strategies"]["names"] == [name]


def test_lab_cells() -> None:
    li_cu = twin.li_cu(cycles=4)
    assert li_cu.cell == "li-cu"
    assert 0.5 < li_cu.coulombic_efficiency < 1.0
    assert len(li_cu.cycles) == 4 and li_cu.cycles["coulombic_efficiency"].between(0, 1).all()
    assert li_cu.result.test.current_density_mA_cm2 == 0.5  # the lab default
    assert isinstance(li_cu.plot(), Figure)
    li_li = twin.li_li(max_cycles=3)
    assert li_li.cell == "li-li" and li_li.result.test.current_density_mA_cm2 == 1.0
    assert len(li_li.cycles) == 3 and (li_li.cycles["overpotential_strip_mV"] > 0).all()
    # the API passes the temperature on as the CLI does: a warm Li||Cu test is more efficient
    warm = twin.li_cu(cycles=4, temperature_degC=60.0)
    assert warm.coulombic_efficiency > li_cu.coulombic_efficiency
    with pytest.raises(twin.TwinError, match="temperature"):
        twin.li_cu(cycles=4, temperature_degC=200.0)


def test_compare_and_sweep_in_memory(tmp_path) -> None:
    designs = [twin.CellDesign(np_ratio=0), twin.CellDesign(np_ratio=2)]
    comparison = twin.compare(designs, max_cycles=5, workers=1)
    assert list(comparison.table["np_ratio"]) == [0.0, 2.0]
    assert comparison.labels == ["N:P 0, 4 mAh/cm2, 3 g/Ah", "N:P 2, 4 mAh/cm2, 3 g/Ah"]
    # anode-free loses Li faster: less capacity left after the same cycles
    q = [p.cycles["discharge_capacity_mAh_cm2"].iloc[-1] / p.initial_capacity_mAh_cm2
         for p in comparison.predictions]
    assert q[0] < q[1]
    assert isinstance(comparison.plot(), Figure)
    with pytest.raises(ValueError, match="designs: give at least two designs to compare"):
        twin.compare(designs[:1])
    swept = twin.sweep(np_ratios=[0, 2], max_cycles=5, workers=1)
    assert swept.path is None and len(swept.table) == 2
    assert list(swept.table["cycles_simulated"] > 0) == [True, True]
    assert isinstance(swept.plot(), Figure)
    on_disk = twin.sweep(np_ratios=[0, 2], max_cycles=5, workers=1, out=tmp_path / "s.csv")
    assert on_disk.computed == 2 and (tmp_path / "s.csv").exists()
    again = twin.sweep(np_ratios=[0, 2], max_cycles=5, workers=1, out=tmp_path / "s.csv")
    assert (again.reused, again.computed) == (2, 0)


def test_simulated_dataset_is_typed_and_plots() -> None:
    design = twin.CellDesign(cathode="LFP", np_ratio=0, areal_capacity_mAh_cm2=1.5, electrode_area_cm2=1.13,
                             layers=1, electrolyte_g_per_Ah=35)
    protocol = twin.Protocol(charge_rate_C=0.5, discharge_rate_C=0.5, rest_after_charge_min=0,
                             rest_after_discharge_min=0)
    dataset = twin.simulate(design, protocol, 3)
    assert isinstance(dataset, twin.SyntheticDataset)
    assert list(dataset.cycles["cycle"]) == [1, 2, 3]
    assert dataset.cycles["normalized_capacity"].iloc[0] == pytest.approx(1.0)
    # anode-free: every cycle loses Li, so capacity falls
    assert dataset.cycles["discharge_capacity_mAh"].is_monotonic_decreasing
    figure = dataset.plot()
    assert isinstance(figure, Figure) and len(figure.axes) == 3
