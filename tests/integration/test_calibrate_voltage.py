"""The optional voltage-curve term of the calibration objective (fit.voltage_cycles):
curves read from a synthetic BDF file, a term that vanishes at the true parameters
and grows away from them, and a clear error when the data have no voltages."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twin.calibration.data import VOLTAGE_CURVE_FRACTIONS, CycleData, read_bdf_csv, read_cycle_summary_csv
from twin.calibration.objective import CalibrationObjective, FitTarget, TwinModel
from twin.calibration.search_space import RecipeError, recipe_from_dict
from twin.calibration.synthetic import simulate_dataset
from twin.design import CellDesign
from twin.protocol import Protocol

pytestmark = pytest.mark.integration

DEAD_LI = "Dead lithium fraction at reference current density"
TRUE_DEAD_LI = 0.012
# The 12-cycle anode-free LFP recipe of the CLI tests (dead-Li fraction fitted).
RECIPE = tomllib.loads((Path(__file__).parents[1] / "fixtures" / "tiny_calibration_recipe.toml").read_text())


def recipe_document(**fit: Any) -> dict[str, Any]:
    return {**RECIPE, "fit": {**RECIPE["fit"], **fit}}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A noise-free 4-cycle BDF time series (and its summary) from the twin itself."""
    recipe = recipe_from_dict(RECIPE)
    dataset = simulate_dataset(CellDesign(**recipe.design), Protocol(**recipe.protocol), 4,
                               {DEAD_LI: TRUE_DEAD_LI}, options=recipe.options)
    folder = tmp_path_factory.mktemp("voltage")
    return dataset.write(folder / "cell_bdf.csv", folder / "cell_summary.csv")


def objective(data: CycleData, **fit: Any) -> CalibrationObjective:
    recipe = recipe_from_dict(recipe_document(**fit), name="tiny")
    return CalibrationObjective(TwinModel(recipe), FitTarget.from_cycle_data(data))


def test_bdf_reader_keeps_a_falling_discharge_curve_per_cycle(files):
    data = read_bdf_csv(files[0])
    assert data.voltage_curves is not None
    assert sorted(data.voltage_curves) == [1, 2, 3, 4]
    for curve in data.voltage_curves.values():
        assert curve.shape == VOLTAGE_CURVE_FRACTIONS.shape
        # LFP: a plateau near 3.4 V, then the voltage falls to the 2.5 V cut-off
        assert 3.3 < curve[len(curve) // 2] < 3.5
        assert curve[-1] == pytest.approx(2.5, abs=0.05)
        assert np.all(np.diff(curve[1:]) <= 1e-6)
    assert read_cycle_summary_csv(files[1]).voltage_curves is None


def test_voltage_term_vanishes_at_the_truth_and_grows_away_from_it(files):
    data = read_bdf_csv(files[0])
    fitted = objective(data, voltage_cycles=[1, 3], voltage_weight=2.0)
    truth = fitted.evaluate({DEAD_LI: TRUE_DEAD_LI})
    assert not truth.failure
    assert truth.voltage_loss < 0.005
    wrong = fitted.evaluate({DEAD_LI: 4 * TRUE_DEAD_LI})
    assert wrong.voltage_loss > max(2 * truth.voltage_loss, 1e-3)
    # the term is added to the capacity loss with its weight
    without = objective(data).evaluate({DEAD_LI: 4 * TRUE_DEAD_LI})
    assert without.voltage_loss == 0.0
    assert wrong.loss == pytest.approx(without.loss + 2.0 * wrong.voltage_loss, rel=1e-6)


def test_voltage_cycles_without_voltage_data_is_a_recipe_error(files):
    summary = read_cycle_summary_csv(files[1])
    with pytest.raises(RecipeError, match="voltage_cycles.*per-cycle summary"):
        objective(summary, voltage_cycles=[1])
    with pytest.raises(RecipeError, match=r"voltage_cycles \[9\]"):
        objective(read_bdf_csv(files[0]), voltage_cycles=[1, 9])


def test_voltage_settings_are_checked():
    with pytest.raises(RecipeError, match="fit.voltage_cycles"):
        recipe_from_dict(recipe_document(voltage_cycles=[0]))
    with pytest.raises(RecipeError, match="fit.voltage_weight"):
        recipe_from_dict(recipe_document(voltage_weight=-1.0))
    assert recipe_from_dict(recipe_document(voltage_cycles=[3, 1, 3])).fit.voltage_cycles == (1, 3)
    assert recipe_from_dict(RECIPE).fit.voltage_cycles == ()
