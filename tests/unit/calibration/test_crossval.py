"""Cross-validation by cell on a synthetic fleet with a known parameter distribution.

The "twin" here is an analytic fade curve r(n) = exp(-a (n - 1)^c) on a library of
Sobol points, so the fleet's truth is known and the test needs no solver."""

import numpy as np
import pytest
from scipy.stats import qmc

from twin.calibration import crossval
from twin.calibration.crossval import Cell, Variant, cross_validate, fleet_fit, forecast_cell, prior_from_fits
from twin.calibration.library import SimulationLibrary
from twin.calibration.prior import learn_prior

HORIZON = 150
LOG = [True, False]
MEASURED = np.array([1] + list(range(10, HORIZON + 1, 10)))


def curve(a: float, c: float, n: np.ndarray) -> np.ndarray:
    return np.exp(-a * (np.asarray(n, dtype=float) - 1.0) ** c)


@pytest.fixture(scope="module")
def library() -> SimulationLibrary:
    unit = qmc.Sobol(d=2, scramble=True, seed=3).random(1024)
    values = np.column_stack([10.0 ** (-3.0 + 2.0 * unit[:, 0]), 0.6 + 0.8 * unit[:, 1]])
    n = np.arange(1, HORIZON + 1)
    retention = np.vstack([curve(a, c, n) for a, c in values])
    return SimulationLibrary(["a", "c"], values, retention, "synthetic")


def synthetic_fleet(size: int, seed: int = 0, noise: float = 0.005) -> tuple[list[Cell], np.ndarray]:
    """log10 a ~ N(-2, 0.2), c ~ N(1, 0.1), capacity scale ~ U(0.6, 0.9), noise 0.5 %."""
    rng = np.random.default_rng(seed)
    truth = np.column_stack([rng.normal(-2.0, 0.2, size), rng.normal(1.0, 0.1, size)])
    cells = []
    for i, (log_a, c) in enumerate(truth):
        q = rng.uniform(0.6, 0.9) * curve(10.0 ** log_a, c, MEASURED) + rng.normal(0, noise, len(MEASURED))
        cells.append(Cell(f"S{i:02d}", MEASURED.copy(), np.clip(q, 1e-4, None), {"salt_conc_M": 1.0}))
    return cells, truth


def test_prior_learned_from_fleet_fits_recovers_the_known_distribution(library):
    cells, truth = synthetic_fleet(60)
    fits = [fleet_fit(library, cell, formation_cycles=1) for cell in cells]
    prior = prior_from_fits(fits, library, LOG)
    assert prior.mean[0] == pytest.approx(truth[:, 0].mean(), abs=0.05)
    assert prior.mean[1] == pytest.approx(truth[:, 1].mean(), abs=0.04)
    assert prior.sd_latent()[0] == pytest.approx(truth[:, 0].std(), rel=0.35)
    assert prior.noise_sd == pytest.approx(0.005, rel=0.5)


def test_the_test_cell_never_reaches_the_prior_it_is_forecast_with(library):
    # Only LEAK is eligible at fit window 30 (the others end before 3 unseen points),
    # so every prior learned in the run belongs to LEAK's fold.
    cells, _ = synthetic_fleet(12, seed=1)
    short = [Cell(c.cell_id, c.cycles[c.cycles <= 40], c.capacity[c.cycles <= 40], c.meta) for c in cells[1:]]
    leak = Cell("LEAK", cells[0].cycles, cells[0].capacity, cells[0].meta)
    fleet = [leak, *short]
    fits = {c.cell_id: fleet_fit(library, c, 1) for c in fleet}
    seen: list[list[str]] = []

    def spy(values, ids, *args, **kwargs):
        seen.append(list(ids))
        return learn_prior(values, ids, *args, **kwargs)

    rows = cross_validate(library, fleet, fits, 30, 1, LOG, 0.8, Variant("twin", True), learn=spy)
    assert [r["cell_id"] for r in rows] == ["LEAK"]
    assert seen, "the prior learner was never called"
    assert all("LEAK" not in ids for ids in seen)
    assert any(len(ids) == len(short) for ids in seen)  # the fold prior: every training cell


def test_cross_validated_band_holds_about_eighty_percent_and_reaches_the_horizon(library):
    cells, _ = synthetic_fleet(14, seed=2)
    fits = {c.cell_id: fleet_fit(library, c, 1) for c in cells}
    rows = cross_validate(library, cells, fits, 30, 1, LOG, 0.8, Variant("twin", True))
    covered = sum(r["covered_points"] for r in rows) / sum(r["unseen_points"] for r in rows)
    assert 0.6 <= covered <= 0.97
    assert all(len(r["band"]["p90"]) == HORIZON for r in rows)
    # the prior helps a 3-point fit: the twin beats its no-prior self on mean MAE
    flat = cross_validate(library, cells, fits, 30, 1, LOG, 0.8, Variant("twin-no-prior", False))
    assert np.mean([r["mae"]["twin"] for r in rows]) <= np.mean([r["mae"]["twin"] for r in flat])


def test_with_many_fitted_cycles_the_forecast_follows_the_cell_not_the_prior(library):
    cells, _ = synthetic_fleet(30, seed=4)
    fits = [fleet_fit(library, c, 1) for c in cells]
    prior = prior_from_fits(fits, library, LOG)
    # a cell far from the fleet (fades 5x faster than the fleet's median)
    odd = Cell("ODD", MEASURED, 0.8 * curve(0.05, 1.0, MEASURED), {})
    short = forecast_cell(library, odd, 20, 1, prior, prior.noise_sd, 1e-4)
    long = forecast_cell(library, odd, 100, 1, prior, prior.noise_sd, 1e-4)
    truth = 0.8 * curve(0.05, 1.0, np.arange(1, HORIZON + 1))
    assert abs(long.p50[119] - truth[119]) < abs(short.p50[119] - truth[119]) + 1e-9
    assert abs(long.p50[119] - truth[119]) < 0.01


def test_eol_error_is_zero_inside_the_measured_interval_and_counts_cycles_outside():
    assert crossval.eol_error(45, (40, 50), 200) == 0.0
    assert crossval.eol_error(30, (40, 50), 200) == 11.0
    assert crossval.eol_error(None, (40, 50), 200) == 150.0
