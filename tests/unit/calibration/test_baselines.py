"""Empirical baselines: each recovers its own model exactly and extrapolates physically."""

import numpy as np
import pytest

from twin.calibration.baselines import (
    fit_baselines, fit_drifting_ce, fit_geometric, fit_linear, fit_power, fit_sqrt,
)

CYCLES = np.array([10.0, 20.0, 30.0, 40.0])


def test_each_baseline_recovers_its_own_curve():
    n = np.array([10.0, 20.0, 30.0])
    later = np.array([60.0, 100.0])
    cases = [
        (fit_linear, lambda x: 0.9 - 0.004 * x),
        (fit_sqrt, lambda x: 0.95 - 0.05 * np.sqrt(x)),
        (fit_power, lambda x: 0.9 * x ** -0.1),
        (fit_geometric, lambda x: 0.9 * 0.99 ** (x - 1)),
        (fit_drifting_ce, lambda x: np.exp(-0.1 - 0.002 * x - 0.0001 * x * x)),
    ]
    for fitter, truth in cases:
        fit = fitter(n, truth(n))
        assert np.allclose(fit.predict(later), truth(later), rtol=1e-6), fit.name


def test_linear_fade_stops_at_zero_capacity():
    fit = fit_linear([10, 20, 30], [0.5, 0.4, 0.3])
    assert fit.predict([60, 100]).tolist() == [0.0, 0.0]


def test_drifting_ce_never_gains_capacity_when_extrapolated():
    # ln Q curving upwards (CE rising above 1 later): capped at CE = 1 after the fit
    n = np.array([10.0, 20.0, 30.0])
    q = np.exp(-0.01 * n + 0.0004 * n * n)
    fit = fit_drifting_ce(n, q)
    ahead = fit.predict(np.arange(30, 200))
    assert np.all(np.diff(ahead) <= 1e-12)


def test_drifting_ce_needs_three_cycles_and_is_left_out_with_two():
    with pytest.raises(ValueError, match="drifting-ce baseline needs capacities > 0 at 3 or more"):
        fit_drifting_ce([10, 20], [0.9, 0.8])
    assert sorted(fit_baselines([10, 20], [0.9, 0.8])) == ["geometric", "linear", "power", "sqrt"]


def test_missing_and_zero_capacities_are_left_out():
    fit = fit_geometric([10, 20, 30, 40], [0.9, np.nan, 0.0, 0.9 * 0.99 ** 30])
    assert fit.points == 2
    assert fit.predict([20])[0] == pytest.approx(0.9 * 0.99 ** 10)
