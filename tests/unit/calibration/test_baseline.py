"""Unit tests of calibration.baseline: the constant-CE geometric forecast."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from twin.calibration.baseline import GeometricFit, fit_geometric_baseline, mean_absolute_error
from twin.calibration.data import read_anode_free_table, select_cycles

ANODE_FREE = Path(__file__).resolve().parents[2] / "fixtures" / "anode_free_cu_lfp_subset.csv"


def test_fit_recovers_a_known_ce_from_exact_geometric_data() -> None:
    cycles = np.array([1, 10, 20, 30, 40, 50, 60, 70, 80])
    capacity = 1.95 * 0.993 ** (cycles - 1)
    fit = fit_geometric_baseline(cycles, capacity)
    assert fit.ce == pytest.approx(0.993, abs=1e-9)
    assert fit.first_cycle_capacity == pytest.approx(1.95, abs=1e-9)
    assert fit.points == 9
    np.testing.assert_allclose(fit.predict([100, 200]), 1.95 * 0.993 ** np.array([99, 199]), rtol=1e-9)


def test_cycles_to_fraction_matches_the_closed_form() -> None:
    fit = GeometricFit(first_cycle_capacity=2.0, ce=0.995, points=2)
    for fraction in (0.8, 0.5, 0.1):
        n = fit.cycles_to_fraction(fraction)
        assert n == pytest.approx(math.log(fraction) / math.log(0.995) + 1, rel=1e-15)
        assert fit.predict(n) == pytest.approx(fraction * 2.0, rel=1e-12)
    assert GeometricFit(2.0, 1.0, 2).cycles_to_fraction(0.8) == math.inf
    assert GeometricFit(2.0, 1.001, 2).cycles_to_fraction(0.8) == math.inf
    with pytest.raises(ValueError, match="fraction"):
        fit.cycles_to_fraction(1.2)


def test_fit_leaves_out_nan_and_zero_capacity() -> None:
    cycles = np.array([1, 2, 3, 4, 5])
    capacity = np.array([1.0, np.nan, 0.98**2, 0.0, 0.98**4])
    fit = fit_geometric_baseline(cycles, capacity)
    assert fit.points == 3
    assert fit.ce == pytest.approx(0.98, abs=1e-12)
    with pytest.raises(ValueError, match="two or more"):
        fit_geometric_baseline([1, 2], [1.0, 0.0])


def test_fit_on_real_anode_free_cell_forecasts_fade() -> None:
    fitted, unseen = select_cycles(read_anode_free_table(ANODE_FREE, "AF22"), 80)
    fit = fit_geometric_baseline(fitted.cycles["cycle"], fitted.normalized_capacity)
    assert 0.98 < fit.ce < 1.0  # fades by about 1 % of what is left per cycle
    error = mean_absolute_error(fit.predict(unseen.cycles["cycle"]), unseen.normalized_capacity)
    assert 0.0 < error < 0.2


def test_mean_absolute_error_ignores_nan() -> None:
    assert mean_absolute_error([1.0, np.nan, 3.0, 4.0], [2.0, 5.0, np.nan, 3.5]) == pytest.approx(0.75)
    assert math.isnan(mean_absolute_error([np.nan], [1.0]))
    with pytest.raises(ValueError, match="one shape"):
        mean_absolute_error([1.0, 2.0], [1.0])
