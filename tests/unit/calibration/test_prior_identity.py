"""A study's identity holds its prior's content: another prior never resumes it."""

from types import SimpleNamespace

import numpy as np
import optuna
import pytest

from twin.calibration.prior import learn_prior, load_prior
from twin.calibration.search_space import load_recipe
from twin.calibration.study import CalibrationError, check_study_identity, study_identity

RECIPE = "tests/fixtures/tiny_calibration_recipe.toml"
DATA = SimpleNamespace(sha256="ab" * 32, source="cells.csv", cell_id="AF46")


def prior(shift: float = 0.0):
    fits = np.array([[1e-3, 0.2], [2e-3, 0.25], [4e-3, 0.3], [3e-3, 0.22]]) * [1.0, 1.0 + shift]
    return learn_prior(fits, ["a", "b", "c", "d"], ["k [1/s]", "f"], [True, False], noise_sd=0.01)


def test_the_same_prior_resumes_even_from_a_file_and_another_is_refused(tmp_path) -> None:
    recipe = load_recipe(RECIPE)
    first = prior()
    saved = load_prior(first.save(tmp_path / "fleet.prior.json"))
    study = optuna.create_study()
    check_study_identity(study, study_identity(DATA, recipe, 30, first))
    check_study_identity(study, study_identity(DATA, recipe, 30, saved))  # same content, read back: resumes
    with pytest.raises(CalibrationError, match=r"was fitted to cells.csv cell AF46 \(fit cycles 30, recipe "
                                               r".*, prior in memory \(sha256 [0-9a-f]{12}\)\); this run asks for "
                                               r"prior fleet.prior.json \(sha256 [0-9a-f]{12}\): use another --study"):
        check_study_identity(study, study_identity(DATA, recipe, 30, load_prior(prior(shift=0.5).save(
            tmp_path / "fleet.prior.json"))))
    with pytest.raises(CalibrationError, match=r"this run asks for no prior: use another --study name"):
        check_study_identity(study, study_identity(DATA, recipe, 30, None))


def test_a_prior_hash_is_its_content_not_its_file_name(tmp_path) -> None:
    one = load_prior(prior().save(tmp_path / "one.json"))
    two = load_prior(prior().save(tmp_path / "two.json"))
    assert one.content_hash() == two.content_hash() != prior(shift=0.1).content_hash()


def test_a_study_made_without_a_prior_refuses_one() -> None:
    recipe = load_recipe(RECIPE)
    study = optuna.create_study()
    check_study_identity(study, study_identity(DATA, recipe, 30, None))
    with pytest.raises(CalibrationError, match=r"no prior\); this run asks for prior in memory"):
        check_study_identity(study, study_identity(DATA, recipe, 30, prior()))
