"""Real vendor files (tests/fixtures/vendors, from the reader libraries' public test data)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.calibration.readers import DataError, detect_format, read_cycling_data

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"


def test_maccor_text_export_reads_sixteen_cycles_in_volts() -> None:
    data = read_cycling_data(VENDORS / "cellpy" / "maccor_three.txt")
    assert data.meta["format"] == "maccor-txt"
    assert data.meta["voltage_unit"].startswith("mV")
    table = data.cycles
    # Cyc# counts 0..14 in the file; the table counts from 1
    assert table["cycle"].tolist() == list(range(1, 16))
    # an 850 mAh cell losing a little capacity per cycle, CE near 0.99 after formation
    assert 800 < table["discharge_capacity_mAh"].iloc[0] < 900
    assert (table["coulombic_efficiency"].iloc[1:] > 0.98).all()
    curves = data.voltage_curves
    # a sodium-ion cell (SIMBA project) discharged from 3.74 V to 1.3 V
    assert curves is not None and 1.2 < curves[2].min() < curves[2].max() < 3.8


def test_neware_csv_export_matches_the_cyclers_own_step_capacities() -> None:
    path = VENDORS / "cellpy" / "neware_uio_every10th.csv"
    assert detect_format(path) == "neware-csv"
    data = read_cycling_data(path)
    raw = pd.read_csv(path)
    # Neware resets its capacity counter at each step: a cycle's capacity is the sum over steps
    steps = raw.groupby(["Cycle Index", "Step Index"])[["Chg. Cap.(Ah)", "DChg. Cap.(Ah)"]].max()
    neware_mAh = steps.groupby(level=0).sum() * 1000
    table = data.cycles.set_index("cycle")
    np.testing.assert_allclose(table["discharge_capacity_mAh"], neware_mAh["DChg. Cap.(Ah)"], rtol=0.03)
    np.testing.assert_allclose(table["charge_capacity_mAh"], neware_mAh["Chg. Cap.(Ah)"], rtol=0.03)


def test_neware_ndax_through_newarenda_matches_its_capacity_counters() -> None:
    pytest.importorskip("NewareNDA")
    data = read_cycling_data(VENDORS / "navani" / "test.ndax")
    assert data.meta["reader"] == "NewareNDA"
    row = data.cycles.iloc[0]
    # NewareNDA's own counters for this file: 0.5930 mAh charged, 0.6255 mAh discharged
    assert row["charge_capacity_mAh"] == pytest.approx(0.5930, rel=0.01)
    assert row["discharge_capacity_mAh"] == pytest.approx(0.6255, rel=0.01)


def test_arbin_res_through_galvani_and_mdbtools() -> None:
    pytest.importorskip("galvani")
    if shutil.which("mdb-export") is None:
        pytest.skip("mdbtools not installed")
    data = read_cycling_data(VENDORS / "navani" / "arbin_example.res")
    table = data.cycles
    # four full cycles of a ~0.47 mAh coin cell; the cycler's trailing rest-only cycle is left out
    assert table["cycle"].tolist() == [1, 2, 3, 4]
    assert data.meta["rest_only_cycles"] == [5]
    np.testing.assert_allclose(table["discharge_capacity_mAh"], 0.472, rtol=0.01)


def test_biologic_mpr_through_galvani() -> None:
    pytest.importorskip("galvani")
    data = read_cycling_data(VENDORS / "navani" / "00_test_02_MB_C01.mpr")
    # 11 samples of a -0.04 mA discharge: one cycle, no charge measured
    assert len(data.cycles) == 1
    assert np.isnan(data.cycles["charge_capacity_mAh"].iloc[0])
    assert data.cycles["discharge_capacity_mAh"].iloc[0] > 0


def test_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "NewareNDA", None)
    with pytest.raises(DataError, match=r"pip install 'twin\[vendors\]'"):
        read_cycling_data(VENDORS / "navani" / "test.ndax")


def test_binary_and_utf16_files_are_named(tmp_path: Path) -> None:
    utf16 = tmp_path / "export.csv"
    utf16.write_text("Test Time / s,Voltage / V,Current / A\n0,3.5,0.1\n", encoding="utf-16")
    with pytest.raises(DataError, match="export.csv is UTF-16 text: save it as UTF-8"):
        read_cycling_data(utf16)
    binary = tmp_path / "data.csv"
    binary.write_bytes(b"\x00\x01\x02garbage" * 10)
    with pytest.raises(DataError, match="data.csv is a binary file, not a text table"):
        read_cycling_data(binary)
