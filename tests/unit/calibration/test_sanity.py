"""Per-cycle plausibility: refused with one message naming the cycles or rows."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import optuna
import pytest
from click.testing import CliRunner

from twin.calibration.forecast import no_trial_message
from twin.calibration.readers import DataError, read_bdf_csv, read_cycling_data
from twin.calibration.readers.common import _cycle_table, CycleData
from twin.calibration.consistency import check_voltage_window
from twin.calibration.readers.sanity import check_cycle_capacities
from twin.design import CellDesign
from twin.protocol import Protocol
from twin.experiments.cli import main

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
HEADER = "Test Time / s,Voltage / V,Current / A,Cycle Count / 1\n"


def cycling_csv(path: Path, cycles: int = 3, current_A: float = 0.001) -> list[str]:
    """Rows of a simple CC cycling file: 1 h charge, 1 h discharge per cycle."""
    rows, t = [], 0.0
    for c in range(1, cycles + 1):
        for sign, volts in ((1, 3.9), (-1, 3.6)):
            for _ in range(2):
                rows.append([t, volts, sign * current_A, c])
                t += 1800.0
    return [",".join(str(v) for v in row) for row in rows]


def write(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def table(discharge: list[float], charge: list[float] | None = None) -> CycleData:
    cycles = np.arange(1, len(discharge) + 1)
    frame = _cycle_table(cycles, np.asarray(discharge), None if charge is None else np.asarray(charge))
    return CycleData(cycles=frame, source="cell.csv", cell_id=None, sha256="0")


def test_a_cycle_far_above_the_others_is_named() -> None:
    # the BioLogic noise split of the issue: normalized 1.00, 3.86, 0.99, 3.62
    with pytest.raises(DataError, match=r"cell.csv: 1 problem: cycles 2, 4 deliver 3\.86x, 3\.62x their neighbouring cycles"):
        check_cycle_capacities(table([1.0, 3.86, 0.99, 3.62, 1.0, 1.01]))
    with pytest.raises(DataError, match=r"cycle 3 deliver 378\.85x the nominal capacity \(mAh\)"):
        check_cycle_capacities(table([1.0, 0.99, 378.85, 0.98]), nominal_capacity_mAh=1.0)
    check_cycle_capacities(table([1.0, 0.99, 0.98, 0.97]))  # an ordinary fade passes
    # an anode-free cell losing most of its capacity by the second measured cycle passes
    check_cycle_capacities(table([0.96, 0.06, 0.05, 0.04, 0.03]))


def test_noise_cycles_are_named() -> None:
    data = table([1.0, 0.001, 0.99, 0.98], [1.01, 0.0005, 1.0, 0.99])
    with pytest.raises(DataError, match=r"cycle 2 hold under 2% of the median capacity .*rest-current noise"):
        check_cycle_capacities(data)


def test_voltages_outside_the_cathode_window(tmp_path: Path) -> None:
    data = read_cycling_data(VENDORS / "cellpy" / "maccor_three.txt")  # a sodium-ion cell cycled 1.3-3.8 V
    with pytest.raises(DataError, match=r"maccor_three\.txt: 1 problem: the data charge only to 3\.80 V but the "
                                        r"NMC811 window 2\.8-4\.2 V"):
        check_voltage_window(data, CellDesign(cathode="NMC811"), Protocol())
    check_voltage_window(data, CellDesign(cathode="LFP"), Protocol(v_min=1.3, v_max=3.8))  # as stated: accepted


def test_absurd_current_sample_is_named(tmp_path: Path) -> None:
    rows = cycling_csv(tmp_path)
    rows[4] = "7200.0,3.9,1e300,2"
    with pytest.raises(DataError, match=r"column 'Current / A' has 1 absurd value outside \[-1000, 1000\] A "
                                        r"\(row 6; worst 1e\+300\)"):
        read_bdf_csv(write(tmp_path / "c.csv", rows))


def test_cycle_counter_jump_to_1e12_is_refused_fast_and_small(tmp_path: Path) -> None:
    rows = cycling_csv(tmp_path)
    rows[-1] = rows[-1].rsplit(",", 1)[0] + ",1000000000000"
    tracemalloc.start()
    with pytest.raises(DataError, match=r"column 'Cycle Count / 1' has 1 absurd value .*worst 1e\+12"):
        read_bdf_csv(write(tmp_path / "c.csv", rows))
    assert tracemalloc.get_traced_memory()[1] < 50e6  # no table of 10^12 cycles
    tracemalloc.stop()


def test_frozen_clock_over_a_cycle_is_named(tmp_path: Path) -> None:
    rows = cycling_csv(tmp_path)
    frozen = [r.split(",") for r in rows]
    for row in frozen[4:8]:  # cycle 2: every sample at one time stamp
        row[0] = frozen[4][0]
    for row in frozen[8:]:
        row[0] = str(float(row[0]))
    with pytest.raises(DataError, match=r"the clock does not advance over cycle 2 .*frozen logger clock"):
        read_bdf_csv(write(tmp_path / "c.csv", [",".join(r) for r in frozen]))


def test_calibrate_refuses_a_file_outside_the_recipe_cathode(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["calibrate", str(VENDORS / "cellpy" / "maccor_three.txt"), "--in-memory", "--no-tracking"]
    )
    assert result.exit_code == 2, result.output
    assert "maccor_three.txt: 1 problem: the data charge only to 3.80 V but the NMC811 window 2.8-4.2 V" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_trial_message_names_the_real_cause() -> None:
    def failed(number: int, failure: str) -> optuna.trial.FrozenTrial:
        return optuna.trial.create_trial(value=10.0, params={}, distributions={}, user_attrs={"failure": failure})

    trials = [failed(0, "SolverError: IDA_BAD_K"), failed(1, "SolverError: IDA_BAD_K"), failed(2, "non-finite loss")]
    assert no_trial_message(trials) == (
        "no trial could run: 2 of 3 trials failed with SolverError: IDA_BAD_K; 1 other kind(s) of failure "
        "(check the recipe's design and protocol against the data)"
    )


def test_summary_with_absurd_cycle_or_capacity_is_named(tmp_path: Path) -> None:
    from twin.calibration.readers import read_cycle_summary_csv

    jump = tmp_path / "jump.csv"
    jump.write_text("cycle,discharge_capacity_mAh\n1,1.0\n2,0.99\n1e12,0.98\n")
    with pytest.raises(DataError, match=r"column 'cycle' has 1 absurd value above 1e\+06 \(row 4; worst 1e\+12\)"):
        read_cycle_summary_csv(jump)
    huge = tmp_path / "huge.csv"
    huge.write_text("cycle,discharge_capacity_mAh\n1,1.0\n2,1e300\n3,0.98\n")
    with pytest.raises(DataError, match=r"'discharge_capacity_mAh' has 1 absurd value above 1e\+07 mAh \(row 3"):
        read_cycle_summary_csv(huge)


def test_rest_noise_does_not_split_cycles() -> None:
    from twin.calibration.readers.common import detect_cycles, noise_rest_current_A

    rng = np.random.default_rng(0)
    # two cycles of +-1 mA with rests of +-2 uA noise between the half cycles
    rest = rng.normal(0.0, 2e-6, 50)
    current = np.concatenate([np.full(50, 1e-3), rest, np.full(50, -1e-3), rest, np.full(50, 1e-3), rest,
                              np.full(50, -1e-3), rest])
    assert detect_cycles(current).max() > 10  # splitting on the sign of noise: many 'cycles'
    assert detect_cycles(current, noise_rest_current_A(current)).max() == 2
