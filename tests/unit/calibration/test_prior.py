"""Population prior: learned from known parameter sets, saved, loaded, refused when malformed."""

import json

import numpy as np
import pytest

from twin.calibration.prior import PriorError, learn_prior, load_prior

NAMES = ["rate", "fraction", "exponent"]
LOG = [True, True, False]


def fleet(n: int, seed: int = 0):
    """Parameters drawn from a known distribution: log10 rate ~ N(-7, 0.5), log10
    fraction ~ N(-2, 0.3), exponent ~ N(3, 0.4); rate and fraction correlated 0.6."""
    rng = np.random.default_rng(seed)
    cov = np.array([[0.25, 0.6 * 0.5 * 0.3, 0], [0.6 * 0.5 * 0.3, 0.09, 0], [0, 0, 0.16]])
    latent = rng.multivariate_normal([-7.0, -2.0, 3.0], cov, size=n)
    values = latent.copy()
    values[:, :2] = 10.0 ** latent[:, :2]
    return values, [f"C{i}" for i in range(n)]


def test_prior_recovers_the_fleet_mean_and_spread():
    values, cells = fleet(1000)
    prior = learn_prior(values, cells, NAMES, LOG, noise_sd=0.01, shrinkage=0.0, sd_floor=0.0)
    assert prior.mean == pytest.approx([-7.0, -2.0, 3.0], abs=0.06)
    assert prior.sd_latent() == pytest.approx([0.5, 0.3, 0.4], rel=0.1)
    correlation = prior.covariance[0, 1] / (prior.sd_latent()[0] * prior.sd_latent()[1])
    assert correlation == pytest.approx(0.6, abs=0.1)


def test_sd_floor_keeps_a_tight_fleet_from_forbidding_new_cells():
    values = np.array([[1e-7, 0.01, 3.0], [1.01e-7, 0.0101, 3.01], [0.99e-7, 0.0099, 2.99]])
    prior = learn_prior(values, ["a", "b", "c"], NAMES, LOG, noise_sd=0.01, sd_floor=0.15)
    assert np.all(prior.sd_latent() >= 0.15 - 1e-9)


def test_covariate_slope_is_learned():
    rng = np.random.default_rng(1)
    x = rng.uniform(1.0, 4.0, size=200)  # salt concentration [M]
    latent = np.column_stack([-7.0 + 0.5 * (x - 2.5) + rng.normal(0, 0.1, 200),
                              -2.0 + rng.normal(0, 0.1, 200), 3.0 + rng.normal(0, 0.1, 200)])
    values = latent.copy()
    values[:, :2] = 10.0 ** latent[:, :2]
    prior = learn_prior(values, [str(i) for i in range(200)], NAMES, LOG, 0.01, covariates=x[:, None],
                        covariate_names=["salt_conc_M"], ridge=0.01)
    assert prior.coefficients[0, 0] == pytest.approx(0.5, abs=0.05)
    assert prior.mean_for(np.array([4.0]))[0] == pytest.approx(-7.0 + 0.5 * 1.5, abs=0.1)


def test_saved_prior_loads_back_identically(tmp_path):
    values, cells = fleet(30)
    prior = learn_prior(values, cells, NAMES, LOG, noise_sd=0.02, discrepancy_per_cycle=1e-3)
    path = prior.save(tmp_path / "p.prior.json")
    again = load_prior(path)
    assert again.names == NAMES and again.cells == cells
    assert np.allclose(again.covariance, prior.covariance)
    row = np.array([[2e-7, 0.02, 3.5]])
    assert again.mahalanobis2(row)[0] == pytest.approx(prior.mahalanobis2(row)[0])


def test_a_cell_given_twice_is_refused():
    values, _ = fleet(3)
    with pytest.raises(PriorError, match="a cell appears twice"):
        learn_prior(values, ["a", "a", "b"], NAMES, LOG, 0.01)


def test_malformed_prior_files_are_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(PriorError, match=r"prior file bad.json: not a population prior"):
        load_prior(bad)
    values, cells = fleet(10)
    document = learn_prior(values, cells, NAMES, LOG, 0.01).to_dict()
    document["covariance"][0][0] = -1.0
    bad.write_text(json.dumps(document))
    with pytest.raises(PriorError, match="prior file bad.json: the covariance is not positive definite"):
        load_prior(bad)
